/**
 * SPEC §11: data cached while a render ends in `notFound()`, a redirect or an error stays
 * in memory only. A crawler asking for unknown slugs, whose loader reads `cache()` before
 * it calls `notFound()`, must not leave one file per slug on disk; a page that renders
 * (200) still keeps its data on disk.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock } from '../helpers/clock.js'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type TestServer } from '../helpers/server.js'

const UNKNOWN_SLUGS = 10_000
const CONCURRENCY = 32

/** Entry files on disk holding data (`cache()` results), told by the key written in each. */
function dataFileCount(cacheDir: string): number {
  const marker = Buffer.from('"key":"data:')
  let count = 0
  for (const dirent of readdirSync(join(cacheDir, 'entries'), { withFileTypes: true, recursive: true })) {
    if (dirent.isFile() && dirent.name.endsWith('.entry') && readFileSync(join(dirent.parentPath, dirent.name)).includes(marker)) count++
  }
  return count
}

/** `total` GETs of `path(i)`, `CONCURRENCY` at a time; the count of each status. */
async function load(server: TestServer, total: number, path: (i: number) => string): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {}
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        const res = await server.get(path(next++))
        await res.arrayBuffer()
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
      }
    }),
  )
  return statuses
}

describe.each<ServeMode>(['fast-path', 'middleware'])('data read by a render that does not end in a page (%s)', (mode) => {
  let cache: ReturnType<typeof tempCacheDir>
  let server: TestServer

  beforeEach(async () => {
    resetDataSource()
    cache = tempCacheDir()
    server = await startServer({ distDir: DATA_DIST, cacheDir: cache.dir, now: createClock(afterBuild(DATA_DIST)).now, mode })
  })
  afterEach(async () => {
    await server.close()
    cache.remove()
  })

  // The long run once, on the fast path; the middleware gets a shorter one.
  const slugs = mode === 'fast-path' ? UNKNOWN_SLUGS : 1_000

  it(`leaves no data file on disk after ${slugs} unknown slugs whose loader calls cache() then notFound()`, async () => {
    const before = dataFileCount(cache.dir)
    const statuses = await load(server, slugs, (i) => `/posts/no-such-post-${i}`)
    const added = dataFileCount(cache.dir) - before
    console.log(`[security] data files on disk after ${slugs} unknown slugs (${mode}): ${added}`)
    expect(statuses).toEqual({ 404: slugs })
    expect(added).toBe(0)
  })

  it('leaves no data file on disk for loaders that redirect or throw', async () => {
    const before = dataFileCount(cache.dir)
    const statuses = await load(server, 400, (i) => (i % 2 ? `/lookup/moved-${i}` : `/lookup/broken-${i}`))
    const added = dataFileCount(cache.dir) - before
    console.log(`[security] data files on disk after 200 redirects and 200 failed renders (${mode}): ${added}`)
    expect(statuses).toEqual({ 307: 200, 500: 200 })
    expect(added).toBe(0)
  })

  it('still writes to disk the data of a page that renders', async () => {
    const before = dataFileCount(cache.dir)
    const res = await server.get('/posts/2') // not prerendered: the page and its two cache() reads are new
    expect(res.status).toBe(200)
    await expect.poll(() => dataFileCount(cache.dir) - before).toBe(2) // getPost('2'), getAuthor('ada')
  })
})
