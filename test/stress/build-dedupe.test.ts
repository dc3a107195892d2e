/**
 * Build: identical `fetch(..., { cache: 'force-cache' })` and `cache()` calls across the
 * prerendered pages reach the origin once per build, and `generateStaticParams` runs once
 * per route, however loaders, the origin and the prerender pool are timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { FIXTURES, viteBuild } from '../helpers/build.js'
import { prerender } from '../../dist/plugin/prerender.js'
import { startCountingUpstream, type CountingUpstream } from './upstream.js'
import { BUILDS, randomInt, RUNS, tally } from './runs.js'

const DIR = join(FIXTURES, 'dedupe')
const DIST = join(DIR, 'dist')
let upstream: CountingUpstream

const counts = () => ({ shared: upstream.hits.get('/shared') ?? 0, cached: upstream.hits.get('/cached') ?? 0, params: upstream.hits.get('/params') ?? 0 })

describe('build-time dedupe under randomised timing', () => {
  beforeAll(async () => {
    upstream = await startCountingUpstream()
    process.env.DEDUPE_UPSTREAM = upstream.url
  })
  afterAll(async () => {
    delete process.env.DEDUPE_UPSTREAM
    delete process.env.DEDUPE_LOADER_DELAY_MS
    await upstream.close()
  })

  it('every real vite build sends the shared fetch, the cache() call and generateStaticParams to the origin once each', async () => {
    const fetches = tally(`vite build: fetch force-cache shared by 8 pages`)
    const cached = tally(`vite build: cache() shared by 8 pages`)
    const params = tally(`vite build: generateStaticParams of one route`)
    for (let i = 0; i < BUILDS; i++) {
      upstream.reset()
      upstream.maxDelayMs = randomInt(0, 30)
      const result = await viteBuild(DIR, { DEDUPE_UPSTREAM: upstream.url, DEDUPE_LOADER_DELAY_MS: String(randomInt(0, 30)) })
      expect(result.code, result.output).toBe(0)
      const c = counts()
      fetches.add(c.shared, 1)
      cached.add(c.cached, 1)
      params.add(c.params, 1)
    }
    expect([...fetches.report(), ...cached.report(), ...params.report()]).toEqual([])
  }, 60_000 + BUILDS * 30_000)

  it('the prerender pool of a build, run again and again at varied concurrency, sends each shared call to the origin once per run', async () => {
    const fetches = tally('prerender: fetch force-cache shared by 8 pages')
    const cached = tally('prerender: cache() shared by 8 pages')
    const params = tally('prerender: generateStaticParams of one route')
    for (let i = 0; i < RUNS; i++) {
      upstream.reset()
      upstream.maxDelayMs = randomInt(0, 20)
      process.env.DEDUPE_LOADER_DELAY_MS = String(randomInt(0, 20))
      const concurrency = randomInt(1, 10)
      await prerender({ distDir: DIST, base: '/', assetsDir: 'assets', concurrency, expireTime: 31_536_000 })
      const c = counts()
      fetches.add(c.shared, 1, `(concurrency ${concurrency})`)
      cached.add(c.cached, 1, `(concurrency ${concurrency})`)
      params.add(c.params, 1, `(concurrency ${concurrency})`)
    }
    expect([...fetches.report(), ...cached.report(), ...params.report()]).toEqual([])
  }, 60_000 + RUNS * 2_000)
})
