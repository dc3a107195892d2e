/**
 * A failing origin never turns a cached page into an error (nginx's proxy_cache_use_stale,
 * Varnish's grace): loaders that throw, reject or hang during a window of real load, with
 * the injected clock running so pages go stale and their regenerations keep failing.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { seedPosts } from '../fixtures/basic/server/db.js'
import { useFixtureServer, type FixtureServer, type ServeMode } from '../helpers/server.js'
import { copyBasicDist, countWhere, figure, runLoad } from './helpers.js'

/** The pages that have a good copy before the fault, with text only that copy contains. */
const PAGES: Record<string, string> = { '/blog/1': 'First post', '/blog/2': 'Second post', '/blog/3': 'Third post' }
const PATHS = Object.keys(PAGES)
const BACKOFF = { min: 1_000, max: 4_000 }
const STALE_IF_ERROR = 120
/** Real time of each fault window. */
const WINDOW_MS = 1_500
/** The injected clock runs 20 times faster than real time during a window. */
const TICK = { everyMs: 25, advanceMs: 500 }
const CONCURRENCY = 16
/** Ends the hung loaders; long enough that a good render on a busy machine is never cut short. */
const RENDER_TIMEOUT_MS = 500

type Fault = 'throws' | 'rejects' | 'hangs'

/**
 * throws: the loader throws an Error (the fixture's `fail: 'throw'`);
 * rejects: the loader's promise rejects with a value that is not an Error (as some clients do);
 * hangs: the loader never settles (the fixture's `fail: 'hang'`), ended by `renderTimeout`.
 */
function inject(t: FixtureServer, fault: Fault): void {
  if (fault === 'throws') t.db.fail = 'throw'
  else if (fault === 'hangs') t.db.fail = 'hang'
  else {
    t.db.posts = new Proxy({} as FixtureServer['db']['posts'], {
      get() {
        throw { status: 503, reason: 'upstream unavailable' }
      },
    })
  }
}

function heal(t: FixtureServer): void {
  t.db.fail = false
  t.db.posts = seedPosts()
}

const totalRenders = (t: FixtureServer) => PATHS.reduce((n, path) => n + (t.db.renders[path] ?? 0), 0)

/** The most render attempts one page can make in `ms` of clock time with the back-off doubling from min to max. */
function maxAttempts(ms: number): number {
  let attempts = 1
  let waited = 0
  for (let i = 0; ; i++) {
    const wait = Math.min(BACKOFF.max, BACKOFF.min * 2 ** i)
    if (waited + wait > ms) return attempts
    waited += wait
    attempts++
  }
}

function goodCopy(path: string, res: Response, body: string): string | undefined {
  if (res.status !== 200) return `status ${res.status}`
  if (!body.includes(PAGES[path])) return 'not the page'
  if (!body.trimEnd().endsWith('</html>')) return 'cut short'
  return undefined
}

describe.each<ServeMode>(['middleware', 'fast-path'])('a failing origin (%s)', (mode) => {
  // A private copy of the build: another test run rebuilding the fixture cannot pull it away.
  const dist = copyBasicDist('faults-origin')
  afterAll(() => dist.remove())
  const t = useFixtureServer({ distDir: dist.dir, mode, renderTimeout: RENDER_TIMEOUT_MS, retryBackoff: BACKOFF, staleIfError: STALE_IF_ERROR })

  it.each<Fault>(['throws', 'rejects', 'hangs'])(
    'a loader that %s: pages with a good copy answer 200 under load, retries back off, the page recovers by itself',
    async (fault) => {
      const { server, clock, db } = t
      // A good copy of each: /blog/1 and /blog/2 are prerendered, /blog/3 renders now.
      for (const path of PATHS) expect((await server.get(path)).status).toBe(200)

      inject(t, fault)
      clock.advance(61_000) // every page is past its 60 s window
      const rendersBefore = totalRenders(t)
      const clockStart = clock.now()
      const ticker = setInterval(() => clock.advance(TICK.advanceMs), TICK.everyMs)
      try {
        const load = await runLoad({ url: server.url, concurrency: CONCURRENCY, durationMs: WINDOW_MS, path: (i) => PATHS[i % PATHS.length], check: goodCopy })
        const clockElapsed = clock.now() - clockStart
        const renders = totalRenders(t) - rendersBefore
        const nonOk = countWhere(load.statuses, (s) => s < 200 || s > 299) + load.errors
        const bound = PATHS.length * maxAttempts(clockElapsed)
        figure(
          `failing origin (${mode}, loader ${fault}): ${load.requests} requests in ${WINDOW_MS} ms real / ${Math.round(clockElapsed / 1000)} s of clock, ` +
            `${nonOk} non-2xx, states ${JSON.stringify(load.states)}, ${renders} render attempts (back-off allows <= ${bound}), max latency ${Math.round(load.maxLatencyMs)} ms`,
        )
        expect(nonOk).toBe(0)
        expect(load.problems).toEqual([])
        // Every answer was the stale good copy: nothing rendered fine, nothing failed through.
        expect(Object.keys(load.states)).toEqual(['STALE'])
        // Retries back off: no more renders than the back-off allows.
        expect(renders).toBeGreaterThan(0)
        expect(renders).toBeLessThanOrEqual(bound)
        // Each failure is logged with the path.
        expect(server.logs.some((line) => line.includes('regenerating /blog/1 failed'))).toBe(true)
        if (fault === 'hangs') expect(server.logs.some((line) => line.includes(`timed out after ${RENDER_TIMEOUT_MS}ms`))).toBe(true)

        // The fault goes away: each page comes back by itself, with its new content.
        heal(t)
        for (const path of PATHS) db.posts[path.slice('/blog/'.length)].title = `Recovered ${path}`
        const recovering = Date.now()
        await expect
          .poll(
            async () => {
              const bodies = await Promise.all(PATHS.map(async (path) => (await server.get(path)).text()))
              return PATHS.filter((path, i) => !bodies[i].includes(`Recovered ${path}`))
            },
            { timeout: 15_000, interval: 50 },
          )
          .toEqual([])
        figure(`failing origin (${mode}, loader ${fault}): recovered ${Date.now() - recovering} ms after the fault ended`)
      } finally {
        clearInterval(ticker)
      }
    },
  )

  it('serves a page expired by revalidatePath from its old copy while younger than staleIfError, the error page once older, and recovers', async () => {
    const { server, clock, db } = t
    const made = await server.get('/blog/3')
    expect(made.headers.get('x-isr-cache')).toBe('MISS')
    const madeAt = clock.now()

    t.db.fail = 'throw'
    clock.advance(1_000)
    expect((await server.get('/api/revalidate?path=/blog/3', { method: 'POST' })).status).toBe(200)
    clock.advance(1_000)

    // The entry expired and its fresh render fails: under load, every answer is the old copy.
    const rendersBefore = db.renders['/blog/3']
    const load = await runLoad({
      url: server.url,
      concurrency: CONCURRENCY,
      total: 400,
      path: () => '/blog/3',
      check: (path, res, body) => goodCopy(path, res, body) ?? (res.headers.get('x-isr-cache') === 'STALE' ? undefined : `state ${res.headers.get('x-isr-cache')}`),
    })
    const renders = db.renders['/blog/3'] - rendersBefore
    const nonOk = countWhere(load.statuses, (s) => s < 200 || s > 299) + load.errors
    figure(`stale-if-error (${mode}): expired page, render failing: ${load.requests} requests, ${nonOk} non-2xx, ${renders} render attempts`)
    expect(nonOk).toBe(0)
    expect(load.problems).toEqual([])
    // The clock stood still: one attempt, then the back-off held every other request.
    expect(renders).toBe(1)

    // Older than staleIfError: the failure is the answer (the error page, never cached).
    clock.set(madeAt + STALE_IF_ERROR * 1000 + 1)
    for (let i = 0; i < 2; i++) {
      const res = await server.get('/blog/3')
      expect(res.status).toBe(500)
      expect(res.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
      const html = await res.text()
      expect(html).toContain('Something went wrong')
      expect(html).not.toContain('Third post')
    }
    figure(`stale-if-error (${mode}): ${STALE_IF_ERROR + 0.001} s after its render, the expired page answers 500`)

    // The fault goes away: the page comes back by itself once the back-off has passed.
    db.fail = false
    db.posts['3'].title = 'Third post, again'
    await expect
      .poll(
        async () => {
          clock.advance(1_000)
          const res = await server.get('/blog/3')
          return res.status === 200 && (await res.text()).includes('Third post, again')
        },
        { timeout: 15_000, interval: 20 },
      )
      .toBe(true)
  })
})
