/**
 * One render per key, under storms of concurrent requests with randomised timing: loaders
 * that take a random time, a store whose reads and writes are delayed at random, and an
 * injected clock nudged across the end of the window while a storm is arriving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFileSystemCacheHandler, revalidatePath } from 'vite-isr/runtime'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir, type FixtureDb } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type TestServer } from '../helpers/server.js'
import { withRandomDelays } from './delaying-handler.js'
import { randomInt, RUNS, tally } from './runs.js'

const WINDOW = 60_000 // /blog/[id] has revalidate = 60
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.each<ServeMode>(['middleware', 'fast-path'])('storms through the %s', (mode) => {
  let server: TestServer
  let clock: TestClock
  let db: FixtureDb
  let cache: ReturnType<typeof tempCacheDir>
  let storeDelay = 0

  beforeAll(async () => {
    db = resetDb()
    clock = createClock(afterBuild(BASIC_DIST))
    cache = tempCacheDir()
    const handler = withRandomDelays(await createFileSystemCacheHandler({ dir: cache.dir }), () => storeDelay)
    server = await startServer({ mode, distDir: BASIC_DIST, cacheHandler: handler, now: clock.now })
  })
  afterAll(async () => {
    await server.close()
    cache.remove()
  })

  const renders = (path: string) => db.renders[path] ?? 0

  /** `size` requests at once, a random pause (and, if `nudge`, one clock millisecond) every few. */
  async function storm(path: string, size: number, nudge?: () => void): Promise<Response[]> {
    const sent: Promise<Response>[] = []
    for (let i = 0; i < size; i++) {
      sent.push(server.get(path))
      if (i % 4 === 3) {
        nudge?.()
        await pause(randomInt(0, 2))
      }
    }
    const responses = await Promise.all(sent)
    await Promise.all(responses.map((r) => r.arrayBuffer()))
    return responses
  }

  /** Wait until no render of `path` runs any more: the page answers HIT. */
  async function settled(path: string): Promise<void> {
    await expect.poll(async () => (await server.get(path)).headers.get('x-isr-cache'), { timeout: 10_000, interval: 20 }).toBe('HIT')
  }

  it('a storm of concurrent first requests for a new path renders it once, every run', async () => {
    const counts = tally(`${mode}: MISS storm`)
    for (let run = 0; run < RUNS; run++) {
      const path = `/blog/miss-${mode}-${run}`
      db.posts[`miss-${mode}-${run}`] = { title: `Post ${run}`, body: 'storm' }
      db.delayMs = randomInt(0, 15)
      storeDelay = randomInt(0, 8)
      const responses = await storm(path, randomInt(10, 40))
      expect(responses.map((r) => r.status).every((s) => s === 200)).toBe(true)
      await settled(path)
      counts.add(renders(path), 1, `(loader ${db.delayMs}ms, store ${storeDelay}ms)`)
    }
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 1_000)

  it('a storm of requests for a page going stale as the clock crosses the end of its window regenerates it once, every run', async () => {
    const path = '/blog/2'
    // One regeneration at a known time first: its start is the window the runs below cross.
    db.delayMs = 0
    clock.advance(WINDOW + 1_000)
    await server.get(path)
    await settled(path)
    let low = clock.now()
    let high = clock.now()
    const counts = tally(`${mode}: stale storm across the window edge`)
    for (let run = 0; run < RUNS; run++) {
      const before = renders(path)
      db.delayMs = randomInt(0, 15)
      storeDelay = randomInt(0, 8)
      // From a few ms before the earliest the entry can turn stale to past the latest.
      clock.set(low + WINDOW - randomInt(1, 4))
      const end = high + WINDOW + randomInt(1, 4)
      await storm(path, randomInt(10, 40), () => clock.set(Math.min(end, clock.now() + 1)))
      clock.set(Math.max(clock.now(), end))
      low = low + WINDOW
      high = clock.now()
      await settled(path)
      counts.add(renders(path) - before, 1, `(loader ${db.delayMs}ms, store ${storeDelay}ms)`)
    }
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 1_000)

  it('revalidatePath landing while the page renders is not answered by that render, and exactly one more render follows, every run', async () => {
    const counts = tally(`${mode}: revalidatePath during a render`)
    let stale = 0
    for (let run = 0; run < RUNS; run++) {
      const id = `inv-${mode}-${run}`
      const path = `/blog/${id}`
      db.posts[id] = { title: `Before ${run}`, body: 'old' }
      db.delayMs = randomInt(20, 40)
      storeDelay = randomInt(0, 8)
      const first = server.get(path)
      await expect.poll(() => renders(path), { interval: 1 }).toBe(1)
      // The render has read its data; the data changes and the path is invalidated mid-render.
      db.posts[id] = { title: `After ${run}`, body: 'new' }
      await pause(randomInt(0, 10))
      await revalidatePath(path)
      // A render starting in the invalidation's millisecond counts as older than it: let one pass.
      clock.advance(1)
      await (await first).arrayBuffer()
      const after = await server.get(path)
      const body = await after.text()
      if (!body.includes(`After ${run}`)) {
        // Served from the in-flight render: it must be marked stale and regenerate.
        expect(after.headers.get('x-isr-cache')).toBe('STALE')
        stale++
      }
      await settled(path)
      expect(await (await server.get(path)).text()).toContain(`After ${run}`)
      counts.add(renders(path), 2, `(loader ${db.delayMs}ms, store ${storeDelay}ms)`)
    }
    console.log(`${mode}: answers after the invalidation that came from the old render (marked STALE): ${stale} of ${RUNS}`)
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 2_000)

  it('revalidatePath with regenerate: true racing requests for the same page renders it once, every run', async () => {
    const counts = tally(`${mode}: regenerate: true against a request storm`)
    const path = '/blog/1'
    for (let run = 0; run < RUNS; run++) {
      await settled(path)
      const before = renders(path)
      db.delayMs = randomInt(0, 15)
      storeDelay = randomInt(0, 8)
      const regenerating = revalidatePath(path, { regenerate: true })
      clock.advance(1)
      await pause(randomInt(0, 3))
      await storm(path, randomInt(5, 20))
      await regenerating
      await settled(path)
      counts.add(renders(path) - before, 1, `(loader ${db.delayMs}ms, store ${storeDelay}ms)`)
    }
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 1_000)
})
