/**
 * The basic fixture's "database" lives on globalThis (see test/fixtures/basic/server/db.ts),
 * so a test in the same process as the server can change its data, count renders and
 * inject failures into the real loaders.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FIXTURES } from './build.js'

export interface FixtureDb {
  posts: Record<string, { title: string; body: string }>
  renders: Record<string, number>
  fail: false | 'throw' | 'hang'
  delayMs: number
}

const g = globalThis as { __fixtureDb?: FixtureDb }

/** Reset the fixture's data to its defaults and return the live object. */
export function resetDb(): FixtureDb {
  const fresh: FixtureDb = {
    posts: {
      '1': { title: 'First post', body: 'Hello from the first post.' },
      '2': { title: 'Second post', body: 'Second body </script><script>alert(1)</script>' },
      '3': { title: 'Third post', body: 'Only rendered on demand.' },
    },
    renders: {},
    fail: false,
    delayMs: 0,
  }
  g.__fixtureDb = Object.assign(g.__fixtureDb ?? fresh, fresh)
  return g.__fixtureDb
}

export const BASIC_DIST = join(FIXTURES, 'basic/dist')

/** A fresh cache folder per server, so tests never share cached state. */
export function tempCacheDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vite-isr-cache-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
