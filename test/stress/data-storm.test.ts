/**
 * At run time: many pages rendering at once that read one data entry (`fetch` with
 * `cache: 'force-cache'`) reach the origin once, with the loaders, the origin and the
 * store's reads and writes delayed at random.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { createFileSystemCacheHandler } from 'vite-isr/runtime'
import { copyFixture, viteBuild } from '../helpers/build.js'
import { createClock } from '../helpers/clock.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type TestServer } from '../helpers/server.js'
import { withRandomDelays } from './delaying-handler.js'
import { randomInt, RUNS, tally } from './runs.js'
import { startCountingUpstream, type CountingUpstream } from './upstream.js'

let upstream: CountingUpstream
let dist: string

beforeAll(async () => {
  upstream = await startCountingUpstream()
  process.env.DEDUPE_UPSTREAM = upstream.url
  // A copy of its own: the build test rebuilds the fixture's own folder meanwhile.
  const dir = copyFixture('dedupe', 'dedupe-data-storm')
  const result = await viteBuild(dir, { DEDUPE_UPSTREAM: upstream.url })
  expect(result.code, result.output).toBe(0)
  dist = join(dir, 'dist')
})
afterAll(async () => {
  delete process.env.DEDUPE_UPSTREAM
  delete process.env.DEDUPE_LOADER_DELAY_MS
  await upstream?.close()
})

describe.each<ServeMode>(['middleware', 'fast-path'])('one data entry read by many pages at once (%s)', (mode) => {
  let server: TestServer
  let cache: ReturnType<typeof tempCacheDir>
  let storeDelay = 0

  beforeAll(async () => {
    cache = tempCacheDir()
    const handler = withRandomDelays(await createFileSystemCacheHandler({ dir: cache.dir }), () => storeDelay)
    server = await startServer({ mode, distDir: dist, cacheHandler: handler, now: createClock().now })
  })
  afterAll(async () => {
    await server.close()
    cache.remove()
  })

  it('pages of one group rendering at the same time fetch their shared data from the origin once, every run', async () => {
    const counts = tally(`${mode}: data entry read by many pages at once`)
    for (let run = 0; run < RUNS; run++) {
      const group = `${mode}-${run}`
      const pages = randomInt(3, 12)
      upstream.maxDelayMs = randomInt(0, 15)
      storeDelay = randomInt(0, 8)
      process.env.DEDUPE_LOADER_DELAY_MS = String(randomInt(0, 15))
      const responses = await Promise.all(Array.from({ length: pages }, (_, n) => server.get(`/g/${group}/${n}`)))
      const bodies = await Promise.all(responses.map((r) => r.text()))
      expect(responses.map((r) => r.status).every((s) => s === 200)).toBe(true)
      expect(new Set(bodies.map((b) => /<p id="data">\d+ ([^<]*)</.exec(b)?.[1])).size).toBe(1)
      counts.add(upstream.hits.get(`/group/${group}`) ?? 0, 1, `(${pages} pages, loader ${process.env.DEDUPE_LOADER_DELAY_MS}ms, origin ${upstream.maxDelayMs}ms, store ${storeDelay}ms)`)
    }
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 1_000)
})
