/**
 * Unknown URLs do not grow the disk (SPEC §11): 10,000 requests for slugs that do not exist
 * (the loader reads its data through `cache()`, finds nothing and calls `notFound()`) leave
 * no new file in the cache folder. The 404 page is kept briefly in memory only, and so is the
 * data read during a render that ends in `notFound()`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock } from '../helpers/clock.js'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { runLoad } from '../faults/helpers.js'

const UNKNOWN = 10_000

/** Entry files under `cacheDir`, by the kind their header names (`page`, `data`). */
function entryFiles(cacheDir: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const name of readdirSync(join(cacheDir, 'entries'), { recursive: true })) {
    if (!String(name).endsWith('.entry')) continue
    const data = readFileSync(join(cacheDir, 'entries', String(name)))
    const header = JSON.parse(data.toString('utf8', 13, 13 + data.readUInt32BE(5))) as { kind: string; key: string }
    files.set(String(name), `${header.kind} ${header.key}`)
  }
  return files
}

describe('disk growth from unknown URLs', () => {
  let server: TestServer | undefined
  let cache: ReturnType<typeof tempCacheDir> | undefined
  afterEach(async () => {
    await server?.close()
    cache?.remove()
  })

  it(`leaves no new file on disk after ${UNKNOWN.toLocaleString('en')} requests for unknown slugs whose loader reads through cache()`, { timeout: 240_000 }, async () => {
    resetDataSource()
    cache = tempCacheDir()
    server = await startServer({ distDir: DATA_DIST, cacheDir: cache.dir, now: createClock(afterBuild(DATA_DIST)).now, mode: 'fast-path' })
    expect((await server.get('/posts/1')).status).toBe(200)
    const before = entryFiles(cache.dir)

    const load = await runLoad({
      url: server.url,
      concurrency: 32,
      total: UNKNOWN,
      path: (i) => `/posts/no-such-post-${i}`,
      check: (_path, res) => (res.status === 404 ? undefined : `status ${res.status}`),
    })
    const after = entryFiles(cache.dir)
    const added = [...after].filter(([name]) => !before.has(name)).map(([, what]) => what)
    const kinds: Record<string, number> = {}
    for (const what of added) kinds[what.split(' ')[0]] = (kinds[what.split(' ')[0]] ?? 0) + 1
    console.log(`files on disk after ${load.requests.toLocaleString('en')} unknown slugs: ${added.length} new (${JSON.stringify(kinds)}), ${before.size} before; answers ${JSON.stringify(load.statuses)}`)
    expect(load.problems).toEqual([])
    expect(load.statuses).toEqual({ 404: UNKNOWN })
    expect(added).toEqual([])
  })
})
