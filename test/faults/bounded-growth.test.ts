/**
 * Bounded growth: a crawler asking for random URLs cannot make the cache grow without
 * bound. 404s from `notFound()` are kept briefly and only in memory; memory stays under
 * `cacheMaxMemorySize`; disk use stays under `cacheMaxDiskSize` (least recently used
 * entries are evicted).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { MemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import type { TieredCacheHandler } from '../../runtime/cache/handlers/tiered.js'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { collectGarbage, copyBasicDist, countWhere, diffTrees, diskUse, figure, kb, listTree, mb, memory, runLoad } from './helpers.js'

/**
 * The issue asks for 100,000; this machine (2 cores, shared) renders 650 to 1,500 404 pages
 * a second, so the flood is 20,000 to keep `npm run test:faults` under 2.5 minutes.
 * Raise it with FAULTS_404_FLOOD=100000.
 */
const NOT_FOUND_FLOOD = Number(process.env.FAULTS_404_FLOOD ?? 20_000)
const PAGE_FLOOD = 2_000
const CONCURRENCY = 50
const MEMORY_LIMIT = 2 * 1024 * 1024
const DISK_LIMIT = 1024 * 1024

const random = () => randomBytes(12).toString('base64url')

describe('bounded growth', () => {
  // A private copy of the build: another test run rebuilding the fixture cannot pull it away.
  const dist = copyBasicDist('faults-growth')
  afterAll(() => dist.remove())
  let server: TestServer | undefined
  let cache: ReturnType<typeof tempCacheDir> | undefined
  let clock: TestClock
  afterEach(async () => {
    await server?.close()
    server = undefined
    cache?.remove()
  })

  async function start(options: { cacheMaxDiskSize?: number } = {}): Promise<{ s: TestServer; cacheDir: string }> {
    resetDb()
    cache = tempCacheDir()
    clock = createClock(afterBuild(dist.dir))
    server = await startServer({ distDir: dist.dir, cacheDir: cache.dir, now: clock.now, mode: 'fast-path', cacheMaxMemorySize: MEMORY_LIMIT, ...options })
    return { s: server, cacheDir: cache.dir }
  }

  /** The memory tier in front of the store (what `cacheMaxMemorySize` bounds). */
  const memoryTier = (s: TestServer) => (s.isr.cache as TieredCacheHandler).memory as MemoryCacheHandler

  /** Bytes the memory tier really holds: live memory with it full, minus live memory once it is emptied. */
  function heldByMemoryTier(mem: MemoryCacheHandler): number {
    collectGarbage()
    const full = memory().live
    mem.clear()
    collectGarbage()
    return full - memory().live
  }

  it(`${NOT_FOUND_FLOOD} distinct unknown paths (notFound()): nothing written to disk, memory bounded, 404s kept briefly`, async () => {
    const { s, cacheDir } = await start()
    const db = resetDb()
    const mem = memoryTier(s)
    const filesBefore = listTree(cacheDir)
    const rssBefore = memory().rss

    let maxHeld = 0
    let maxEntries = 0
    const flood = (total: number) =>
      runLoad({
        url: s.url,
        concurrency: CONCURRENCY,
        total,
        path: () => `/blog/${random()}`,
        check: (_path, res, body) => (res.status !== 404 ? `status ${res.status}` : body.includes('This page could not be found') ? undefined : 'not the 404 page'),
        onResponse() {
          maxHeld = Math.max(maxHeld, mem.calculatedSize)
          maxEntries = Math.max(maxEntries, mem.size)
        },
      })
    // A first fifth fills the memory tier (and warms the process up); the rest must not grow it.
    const warm = Math.round(NOT_FOUND_FLOOD / 5)
    const first = await flood(warm)
    db.renders = {} // the fixture's own render counter is the test's, not the server's
    collectGarbage()
    const live1 = memory().live
    const rest = await flood(NOT_FOUND_FLOOD - warm)
    db.renders = {}
    collectGarbage()
    const live2 = memory().live
    const rssAfter = memory().rss
    const requests = first.requests + rest.requests
    const notFound = countWhere(first.statuses, (st) => st === 404) + countWhere(rest.statuses, (st) => st === 404)
    const filesAfter = listTree(cacheDir)
    const disk = diskUse(join(cacheDir, 'entries'))
    figure(
      `404 flood: ${requests} distinct unknown paths, ${notFound} answered 404; files in cacheDir ${filesBefore.size} before, ${filesAfter.size} after (entries: ${disk.files} files, ${kb(disk.bytes)}); ` +
        `memory tier at most ${mb(maxHeld)} counted / ${mb(MEMORY_LIMIT)} (${maxEntries} entries); RSS ${mb(rssBefore)} -> ${mb(rssAfter)}; ` +
        `live heap+external after GC ${mb(live1)} after ${warm} paths -> ${mb(live2)} after ${requests}`,
    )
    expect([...first.problems, ...rest.problems]).toEqual([])
    expect(notFound).toBe(NOT_FOUND_FLOOD)
    // Nothing of the flood reached the disk.
    expect(diffTrees(filesBefore, filesAfter)).toEqual([])
    // The 404s were kept in memory (the bound was reached, not avoided), and never past it.
    expect(maxHeld).toBeGreaterThan(MEMORY_LIMIT / 2)
    expect(maxHeld).toBeLessThanOrEqual(MEMORY_LIMIT)
    // Memory does not grow with the number of paths seen: four times as many paths again
    // leave what is alive about where it was. The slack is for the per-path lookups the
    // server keeps (10,000 at most); 16,000 more 404 pages kept would be ~40 MB.
    expect(live2 - live1).toBeLessThan(12 * 1024 * 1024)

    // Kept briefly: a second request is answered from memory; 10 s later it renders again.
    const path = `/blog/${random()}`
    expect((await s.get(path)).headers.get('x-isr-cache')).toBe('MISS')
    const again = await s.get(path)
    expect(again.status).toBe(404)
    expect(again.headers.get('x-isr-cache')).toBe('HIT')
    expect(again.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
    expect(db.renders[path]).toBe(1)
    clock.advance(10_001)
    expect((await s.get(path)).status).toBe(404)
    await expect.poll(() => db.renders[path]).toBe(2)
    // and it never reached the disk either
    expect(diffTrees(filesBefore, listTree(cacheDir))).toEqual([])
    figure(`404 flood: the memory tier full of 404 pages really holds ${mb(heldByMemoryTier(mem))} (counted ${mb(maxHeld)})`)
  }, 180_000) // 20,000 renders: a bound on storage, not a speed test (npm run bench measures speed)

  /** Long segments make entries of ~3 kB, so a flood writes several times the disk limit. */
  const pagePath = (i: number) => `/docs/${i}-${'a'.repeat(200)}/${random()}-${'b'.repeat(200)}/${'c'.repeat(200)}`
  const isDocsPage = (path: string, res: Response, body: string) =>
    res.status !== 200 ? `status ${res.status}` : body.includes(`docs ${path.slice('/docs/'.length).split('/').join('|')}`) ? undefined : 'another page'

  it(`${PAGE_FLOOD} distinct 200 pages: disk use stays under cacheMaxDiskSize (LRU eviction), memory bounded`, async () => {
    const { s, cacheDir } = await start({ cacheMaxDiskSize: DISK_LIMIT })
    const mem = memoryTier(s)
    const entries = join(cacheDir, 'entries')
    const diskBefore = diskUse(entries)
    const rssBefore = memory().rss
    const sent: string[] = []
    let maxDisk = 0
    let maxHeld = 0
    const flood = (total: number, offset: number) =>
      runLoad({
        url: s.url,
        concurrency: CONCURRENCY,
        total,
        path: (i) => (sent[offset + i] = pagePath(offset + i)),
        check: isDocsPage,
        onResponse(i) {
          maxHeld = Math.max(maxHeld, mem.calculatedSize)
          if (i % 250 === 0) maxDisk = Math.max(maxDisk, diskUse(entries).bytes)
        },
      })
    const warm = Math.round(PAGE_FLOOD / 3)
    const first = await flood(warm, 0)
    collectGarbage()
    const live1 = memory().live
    const rest = await flood(PAGE_FLOOD - warm, warm)
    collectGarbage()
    const live2 = memory().live
    const rssAfter = memory().rss
    // Evictions delete their files without being awaited: let the last ones land.
    await expect.poll(() => diskUse(entries).bytes, { timeout: 5_000 }).toBeLessThanOrEqual(DISK_LIMIT)
    const diskAfter = diskUse(entries)
    let entrySize = 0
    for (const [, info] of listTree(entries)) entrySize = Math.max(entrySize, info.size)
    const requests = first.requests + rest.requests
    figure(
      `page flood: ${requests} distinct 200 pages (~${kb(entrySize)} each, ${mb(requests * entrySize)} written); disk ${kb(diskBefore.bytes)} (${diskBefore.files} files) -> ${kb(diskAfter.bytes)} (${diskAfter.files} files), ` +
        `at most ${kb(maxDisk)} seen during the flood, limit ${kb(DISK_LIMIT)}; memory tier at most ${mb(maxHeld)} counted; RSS ${mb(rssBefore)} -> ${mb(rssAfter)}; ` +
        `live after GC ${mb(live1)} after ${warm} pages -> ${mb(live2)} after ${requests}`,
    )
    expect([...first.problems, ...rest.problems]).toEqual([])
    expect(countWhere(first.statuses, (st) => st === 200) + countWhere(rest.statuses, (st) => st === 200)).toBe(PAGE_FLOOD)
    expect(diskAfter.bytes).toBeLessThanOrEqual(DISK_LIMIT)
    // The flood wrote several times the limit, so eviction, not a small flood, kept it there.
    expect(requests * entrySize).toBeGreaterThan(4 * DISK_LIMIT)
    expect(diskAfter.bytes).toBeGreaterThan(DISK_LIMIT / 2)
    // During the flood, beyond the limit only by the writes in flight (one entry per request).
    expect(maxDisk).toBeLessThanOrEqual(DISK_LIMIT + 2 * CONCURRENCY * entrySize)
    expect(maxHeld).toBeLessThanOrEqual(MEMORY_LIMIT)
    // As above: 1,333 more pages kept (with their compressed answers) would be ~18 MB.
    expect(live2 - live1).toBeLessThan(12 * 1024 * 1024)

    // The first page was evicted from disk and memory; it is not lost: it renders again on demand.
    const again = await s.get(sent[0])
    expect(again.headers.get('x-isr-cache')).toBe('MISS')
    expect(isDocsPage(sent[0], again, await again.text())).toBeUndefined()
  })

  // runtime/handler.ts remembers request URLs found to be pages, to skip their checks; a
  // URL with a query string (or a long one) must not be remembered: that memo is outside
  // cacheMaxMemorySize, and the query string creates no cache entry.
  it('a flood of distinct query strings on one cached page keeps no memory (the query string creates nothing)', async () => {
    const { s } = await start()
    const query = 'q'.repeat(8_000)
    const flood = (total: number) =>
      runLoad({ url: s.url, concurrency: CONCURRENCY, total, path: () => `/blog/1?${random()}${query}`, check: (_p, res) => (res.status === 200 ? undefined : `status ${res.status}`) })
    const first = await flood(1_500)
    collectGarbage()
    const live1 = memory().live
    const rest = await flood(4_500)
    collectGarbage()
    const live2 = memory().live
    figure(`query flood: ${first.requests + rest.requests} requests for /blog/1 with distinct 8 kB query strings (${JSON.stringify(rest.states)}): live after GC ${mb(live1)} -> ${mb(live2)}`)
    expect([...first.problems, ...rest.problems]).toEqual([])
    expect(live2 - live1).toBeLessThan(8 * 1024 * 1024)
  })

  // The memory tier must count what it really keeps alive: the gzip and brotli copies a
  // served page keeps beside its body (charged as room for them), in buffers of their own
  // size (not slices of a zlib chunk or of Node's shared Buffer pool).
  it('memory the memory tier really holds stays within 2 x cacheMaxMemorySize (compressed answers included)', async () => {
    const { s } = await start()
    const mem = memoryTier(s)
    const load = await runLoad({ url: s.url, concurrency: CONCURRENCY, total: 1_000, path: pagePath, check: isDocsPage })
    expect(load.problems).toEqual([])
    expect(mem.calculatedSize).toBeGreaterThan(MEMORY_LIMIT / 2)
    const held = heldByMemoryTier(mem)
    figure(`memory tier: ${mb(held)} really held for ${mb(MEMORY_LIMIT)} of cacheMaxMemorySize (gzip and br answers cached beside ${load.requests} pages)`)
    expect(held).toBeLessThanOrEqual(2 * MEMORY_LIMIT)
  })
})
