/**
 * SPEC §11: a tampered entry is never served. One byte-for-byte-length edit of an entry
 * file's metadata (its status, a header, a tag) must make it a miss, like an edit of its
 * body: the page is rendered anew instead of answering a cached 500, a cached UTF-7
 * page, or a page that a revalidation of its own path no longer reaches.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir, type FixtureDb } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type TestServer } from '../helpers/server.js'

/** The entry file holding `key`, found by its content (the file's name is the handler's business). */
function fileHolding(cacheDir: string, key: string): string {
  const marker = Buffer.from(`"key":${JSON.stringify(key)}`)
  const dir = join(cacheDir, 'entries')
  for (const dirent of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!dirent.isFile() || !dirent.name.endsWith('.entry')) continue
    const file = join(dirent.parentPath, dirent.name)
    if (readFileSync(file).includes(marker)) return file
  }
  throw new Error(`no entry file holds ${key}`)
}

function edit(file: string, from: string, to: string): void {
  expect(to.length).toBe(from.length)
  const data = readFileSync(file)
  const at = data.indexOf(from)
  expect(at).toBeGreaterThan(0)
  data.write(to, at, 'latin1')
  writeFileSync(file, data)
}

const TAMPERING: [string, string, string][] = [
  ['its status', '"status":200', '"status":500'],
  ['a header', 'text/html; charset=utf-8', 'text/html; charset=utf-7'],
  ['a tag', '"_isr_path:/blog/1"', '"_isr_path:/blog/9"'],
]

describe.each<ServeMode>(['middleware', 'fast-path'])('an entry file edited on disk (%s)', (mode) => {
  let cache: ReturnType<typeof tempCacheDir>
  let db: FixtureDb
  let server: TestServer | undefined
  const clock = createClock(afterBuild(BASIC_DIST))
  const start = async () => (server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now, mode }))

  beforeEach(() => {
    db = resetDb()
    cache = tempCacheDir()
  })
  afterEach(async () => {
    await server?.close()
    cache.remove()
  })

  it.each(TAMPERING)('is rendered anew, not served, when %s is changed', async (_, from, to) => {
    const first = await start()
    const key = `page:${first.isr.buildId}:/blog/1`
    expect((await first.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT') // the prerendered copy
    await first.close()
    server = undefined

    edit(fileHolding(cache.dir, key), from, to)
    const rendersBefore = db.renders['/blog/1'] ?? 0
    const second = await start()
    const res = await second.get('/blog/1')
    console.log(`entry with ${from} -> ${to}: answered ${res.status} ${res.headers.get('x-isr-cache')}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-isr-cache')).toBe('MISS')
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await res.text()).toContain('<h1>First post</h1>')
    expect(db.renders['/blog/1']).toBe(rendersBefore + 1)
  })
})
