/**
 * The basic fixture's "database" lives on globalThis (see test/fixtures/basic/server/db.ts),
 * so a test in the same process as the server can change its data, count renders and
 * inject failures into the real loaders.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { seedPosts, type FixtureDb } from '../fixtures/basic/server/db.js'
import { FIXTURES } from './build.js'

export type { FixtureDb }

const g = globalThis as { __fixtureDb?: FixtureDb }

/** Reset the fixture's data to its seed and return the live object the loaders read. */
export function resetDb(): FixtureDb {
  const fresh: FixtureDb = { posts: seedPosts(), renders: {}, fail: false, delayMs: 0, running: 0, maxRunning: 0, gate: undefined }
  g.__fixtureDb = Object.assign(g.__fixtureDb ?? fresh, fresh)
  return g.__fixtureDb
}

export const BASIC_DIST = join(FIXTURES, 'basic/dist')

/** A fresh cache folder per server, so tests never share cached state. */
export function tempCacheDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vite-isr-cache-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
