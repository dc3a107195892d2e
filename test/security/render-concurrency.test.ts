/**
 * SPEC §11, nothing grows without a bound: page renders running at once are bounded by
 * `renderConcurrency`, requests past it wait in a bounded queue (`renderQueueSize`), and past
 * that get 503 with `Retry-After`; background regenerations take slots but never answer 503.
 * Renders are held open by the basic fixture's loader gate, and counted by its loader
 * counters, so nothing here depends on timing except the wait bound, which is the point.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir, type FixtureDb } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type ServerOptions, type TestServer } from '../helpers/server.js'

/** Hold every loader until the returned function is called. */
function holdLoaders(db: FixtureDb): () => void {
  let open!: () => void
  db.gate = new Promise<void>((resolve) => (open = resolve))
  return () => {
    db.gate = undefined
    open()
  }
}

interface Answer {
  path: string
  status: number
  headers: Headers
  body: string
}

describe.each<ServeMode>(['middleware', 'fast-path'])('a bound on concurrent renders (%s)', (mode) => {
  let server: TestServer | undefined
  let release: (() => void) | undefined
  let removeCache: (() => void) | undefined
  let db: FixtureDb
  let clock: TestClock

  async function serve(options: ServerOptions): Promise<TestServer> {
    db = resetDb()
    clock = createClock(afterBuild(BASIC_DIST))
    const cache = tempCacheDir()
    removeCache = cache.remove
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now, mode, ...options })
    return server
  }

  afterEach(async () => {
    release?.()
    await server?.close()
    removeCache?.()
    server = release = removeCache = undefined
  })

  /** New posts the fixture's loader knows, so their pages render 200 on demand. */
  function addPosts(ids: number[]): string[] {
    for (const id of ids) db.posts[id] = { title: `Post ${id}`, body: `Body of post ${id}.` }
    return ids.map((id) => `/blog/${id}`)
  }

  /** A GET; a connection closed by a failing test's teardown answers status 0. */
  function request(s: TestServer, path: string, settled?: Answer[]): Promise<Answer> {
    return s.get(path).then(async (res) => {
      const answer = { path, status: res.status, headers: res.headers, body: await res.text() }
      settled?.push(answer)
      return answer
    }, () => ({ path, status: 0, headers: new Headers(), body: 'connection closed' }))
  }

  it('runs at most 2 renders at once; 3 requests wait and succeed, the rest get 503 with Retry-After and no-store, and none of those is stored', async () => {
    const s = await serve({ renderConcurrency: 2, renderQueueSize: 3 })
    const paths = addPosts([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    release = holdLoaders(db)
    const settled: Answer[] = []
    const all = paths.map((path) => request(s, path, settled))

    // 2 render, 3 wait: the other 5 are answered at once.
    await expect.poll(() => settled.length, { timeout: 20_000 }).toBe(5)
    // The two admitted renders reach their loaders once their page modules are loaded.
    await expect.poll(() => db.running, { timeout: 20_000 }).toBe(2)
    const refused = [...settled]
    for (const answer of refused) {
      expect(answer.status).toBe(503)
      expect(answer.headers.get('retry-after')).toBe('2')
      expect(answer.headers.get('cache-control')).toBe('private, no-store')
      expect(answer.headers.get('x-isr-cache')).toBe('MISS')
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(answer.body).toContain('Service Unavailable')
      expect(answer.body).not.toMatch(/vite-isr|Error|renderConcurrency|\/blog|node_modules|\bat /)
      // Never started: its loader did not run.
      expect(db.renders[answer.path]).toBeUndefined()
    }
    // One warning for the storm, not one per request.
    expect(s.logs.filter((line) => line.includes('answered 503'))).toEqual([expect.stringMatching(/^\[vite-isr\] warning: 1 request\(s\) answered 503 since .*: every render slot was taken/)])

    release()
    const answers = await Promise.all(all)
    const served = answers.filter((a) => a.status !== 503)
    expect(served.map((a) => [a.status, a.headers.get('x-isr-cache')])).toEqual(Array(5).fill([200, 'MISS']))
    expect(db.maxRunning).toBe(2)

    // After the storm every path renders normally; the refused ones were never stored.
    for (const answer of refused) {
      const again = await request(s, answer.path)
      expect([again.status, again.headers.get('x-isr-cache')]).toEqual([200, 'MISS'])
      expect(again.body).toContain(`Body of post ${answer.path.slice('/blog/'.length)}.`)
    }
    for (const path of paths) expect((await s.get(path)).headers.get('x-isr-cache')).toBe('HIT')
    // A refused render is not a failed one: nothing logged as an error.
    expect(s.logs.filter((line) => line.includes('error:'))).toEqual([])
  })

  it('answers an expired page’s last good copy when no slot is free, and renders it on the next request once one is', async () => {
    const s = await serve({ renderConcurrency: 1, renderQueueSize: 0 })
    const [expired, held] = addPosts([60, 61])
    expect((await s.get(expired)).headers.get('x-isr-cache')).toBe('MISS')
    db.posts[60].body = 'Changed body.'
    await s.isr.revalidatePath(expired)
    release = holdLoaders(db)
    const holding = request(s, held)
    await expect.poll(() => db.running, { timeout: 20_000 }).toBe(1)

    const lastGood = await request(s, expired)
    expect([lastGood.status, lastGood.headers.get('x-isr-cache')]).toEqual([200, 'STALE'])
    expect(lastGood.body).toContain('Body of post 60.')

    release()
    expect((await holding).status).toBe(200)
    const renewed = await request(s, expired)
    expect([renewed.status, renewed.headers.get('x-isr-cache')]).toEqual([200, 'MISS'])
    expect(renewed.body).toContain('Changed body.')
  })

  it('answers 503 to a request that waited renderTimeout for a slot, and renders the next in line', async () => {
    const s = await serve({ renderConcurrency: 1, renderQueueSize: 2, renderTimeout: 1_500, debug: true })
    const [first, ...queued] = addPosts([20, 21, 22])
    release = holdLoaders(db)
    const settled: Answer[] = []
    const holding = request(s, first)
    await expect.poll(() => db.running, { timeout: 20_000 }).toBe(1)
    const waiting = queued.map((path) => request(s, path, settled))

    // The held render times out (its slot passes to the first in line); the second in line
    // has waited as long, and is refused.
    await expect.poll(() => settled.length, { timeout: 20_000 }).toBe(1)
    release()
    const [refused] = settled
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('2')
    expect(s.logs).toContain(`[vite-isr] busy ${refused.path} status=503 reason=wait-timeout`)
    expect((await holding).status).toBe(500)
    const next = (await Promise.all(waiting)).find((a) => a.path !== refused.path)!
    expect([next.status, next.headers.get('x-isr-cache')]).toEqual([200, 'MISS'])
  })

  it('serves a storm of stale pages past the bound without a 503, starting the regenerations a slot frees for', async () => {
    const s = await serve({ renderConcurrency: 1, renderQueueSize: 0, debug: true })
    const paths = addPosts([30, 31, 32, 33, 34, 35])
    for (const path of paths) expect((await s.get(path)).headers.get('x-isr-cache')).toBe('MISS')
    clock.advance(61_000)
    db.maxRunning = 0
    release = holdLoaders(db)

    const answers = await Promise.all(paths.flatMap((path) => [request(s, path), request(s, path)]))
    expect(answers.map((a) => [a.status, a.headers.get('x-isr-cache')])).toEqual(Array(12).fill([200, 'STALE']))
    // One regeneration holds the one slot; the others were not started.
    await expect.poll(() => db.running, { timeout: 20_000 }).toBe(1)
    expect(s.logs.filter((line) => line.includes('regenerate:deferred') && line.includes('reason=background')).length).toBeGreaterThanOrEqual(5)
    // The slot is taken: a page nobody has cached cannot render now.
    const [fresh] = addPosts([39])
    expect((await request(s, fresh)).status).toBe(503)

    release()
    expect(db.maxRunning).toBe(1)
    // Each stale page regenerates on a later request once a slot is free.
    for (const path of paths) await expect.poll(async () => (await s.get(path)).headers.get('x-isr-cache'), { timeout: 20_000 }).toBe('HIT')
    expect(db.maxRunning).toBe(1)
  })

  it('shares one render among 50 concurrent requests for one new page with renderConcurrency 1 and no queue', async () => {
    const s = await serve({ renderConcurrency: 1, renderQueueSize: 0, debug: true })
    const [path] = addPosts([40])
    release = holdLoaders(db)
    const all = Array.from({ length: 50 }, () => request(s, path))
    await expect.poll(() => s.logs.filter((line) => line === `[vite-isr] miss ${path}`).length, { timeout: 20_000 }).toBe(50)
    release()
    const answers = await Promise.all(all)
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200))
    expect(new Set(answers.map((a) => a.body)).size).toBe(1)
    expect(db.renders[path]).toBe(1)
  })

  it('does not count route handlers, which are the app’s own code', async () => {
    const s = await serve({ renderConcurrency: 1, renderQueueSize: 0 })
    const [held, other] = addPosts([50, 51])
    release = holdLoaders(db)
    const holding = request(s, held)
    await expect.poll(() => db.running, { timeout: 20_000 }).toBe(1)
    expect((await request(s, other)).status).toBe(503)
    const echo = await s.get('/echo/abc')
    expect([echo.status, echo.headers.get('x-echo')]).toEqual([200, 'abc'])
    release()
    expect((await holding).status).toBe(200)
  })
})

describe('renderConcurrency and renderQueueSize options', () => {
  it('are checked when the handler is made', async () => {
    const { createISRHandler } = await import('vite-isr/runtime')
    await expect(createISRHandler({ distDir: BASIC_DIST, renderConcurrency: 0 })).rejects.toThrow(/^\[vite-isr\] createISRHandler: renderConcurrency must be a positive integer number of renders or Infinity \(got 0\)$/)
    await expect(createISRHandler({ distDir: BASIC_DIST, renderConcurrency: 1.5 })).rejects.toThrow(TypeError)
    await expect(createISRHandler({ distDir: BASIC_DIST, renderQueueSize: -1 })).rejects.toThrow(/^\[vite-isr\] createISRHandler: renderQueueSize must be an integer number of requests >= 0 or Infinity \(got -1\)$/)
    await expect(createISRHandler({ distDir: BASIC_DIST, renderQueueSize: '3' as unknown as number })).rejects.toThrow(TypeError)
  })
})

describe('memory under a storm of distinct MISSes', () => {
  const PAGES = 60
  const BODY_BYTES = 2_500_000 // the body is in the page twice (HTML and its data): ~5 MB pages

  interface Run {
    growthMb: number
    maxRunning: number
    pageMb: number
  }

  /** A server process of its own; 60 concurrent first requests; its peak RSS over the RSS before them. */
  async function storm(renderConcurrency: number): Promise<Run> {
    const cache = tempCacheDir()
    const ids = Array.from({ length: PAGES + 1 }, (_, i) => 1_000 + i)
    const config = { distDir: BASIC_DIST, cacheDir: cache.dir, renderConcurrency, renderQueueSize: PAGES, posts: ids, bodyBytes: BODY_BYTES }
    const child = spawn(process.execPath, [join(import.meta.dirname, 'render-memory-child.mjs'), JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      let stdout = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
      await expect.poll(() => /ready (\d+)\n/.exec(stdout), { timeout: 30_000 }).not.toBeNull()
      const url = `http://127.0.0.1:${/ready (\d+)\n/.exec(stdout)![1]}`
      const memory = async () => (await (await fetch(`${url}/__memory`)).json()) as { rss: number; maxRss: number; maxRunning: number }
      // One render first, so modules and React are loaded before the baseline.
      const warm = await fetch(`${url}/blog/${ids[PAGES]}`)
      const pageMb = (await warm.arrayBuffer()).byteLength / 2 ** 20
      expect(warm.status).toBe(200)
      const before = await memory()
      await fetch(`${url}/__hold?until=${PAGES}`, { method: 'POST' })
      const answers = await Promise.all(ids.slice(0, PAGES).map(async (id) => {
        const res = await fetch(`${url}/blog/${id}`)
        await res.arrayBuffer()
        return res.status
      }))
      expect(answers).toEqual(Array(PAGES).fill(200))
      const after = await memory()
      expect(stdout).not.toContain('FATAL')
      return { growthMb: (after.maxRss - before.rss) / 2 ** 20, maxRunning: after.maxRunning, pageMb }
    } finally {
      child.stdin.end()
      await new Promise((resolve) => child.once('exit', resolve))
      cache.remove()
    }
  }

  it('grows far less with renderConcurrency 4 than with no bound', async () => {
    const unbounded = await storm(1_000_000)
    const bounded = await storm(4)
    console.log(
      `RSS growth, ${PAGES} concurrent MISSes of distinct ${bounded.pageMb.toFixed(1)} MB pages: ` +
        `before the bound (renderConcurrency 1000000, ${unbounded.maxRunning} loaders at once) ${unbounded.growthMb.toFixed(0)} MB; ` +
        `renderConcurrency=4 (${bounded.maxRunning} at once) ${bounded.growthMb.toFixed(0)} MB`,
    )
    expect(unbounded.maxRunning).toBe(PAGES)
    expect(bounded.maxRunning).toBe(4)
    expect(bounded.growthMb).toBeLessThan(unbounded.growthMb / 2)
  }, 300_000)
})
