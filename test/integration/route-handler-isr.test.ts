import { beforeEach, describe, expect, it } from 'vitest'
import { readManifest } from '../helpers/build.js'
import { createClock, afterBuild } from '../helpers/clock.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { HANDLERS_DIST, resetHandlerSource, useHandlersServer } from '../helpers/handler-source.js'
import { startServer } from '../helpers/server.js'

const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

describe('route handlers cached as ISR', () => {
  const t = useHandlersServer()
  const { source } = t

  it('serves a prerendered GET as a HIT with its own status and headers and the window as Cache-Control', async () => {
    const res = await t.server.get('/api/status')
    expect(res.status).toBe(203)
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(res.headers.get('x-custom')).toBe('kept')
    // The handler's own `max-age=5` is not what goes out: the window decides, as for pages.
    expect(res.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(await res.text()).toBe('status render 1')
    // Prerendered at build: the handler has not run in this process.
    expect(source.calls['render:status']).toBeUndefined()
  })

  it('serves the stored answer STALE after its window, then the regenerated one as a HIT', async () => {
    t.clock.advance(61_000)
    const stale = await t.server.get('/api/status')
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    expect(await stale.text()).toBe('status render 1')
    await expect.poll(async () => (await t.server.get('/api/status')).headers.get('x-isr-cache')).toBe('HIT')
    const fresh = await t.server.get('/api/status')
    expect(await fresh.text()).toBe('status render 1')
    expect(fresh.status).toBe(203)
    expect(source.calls['render:status']).toBe(1)
  })

  it('renders a dynamic path on its first request (MISS) and serves it from the cache after (HIT)', async () => {
    const miss = await t.server.get('/api/posts/2')
    expect(miss.headers.get('x-isr-cache')).toBe('MISS')
    expect(miss.headers.get('content-type')).toBe('application/json')
    expect(await miss.json()).toEqual({ id: '2', title: 'Fish & <chips>', render: 1 })
    const hit = await t.server.get('/api/posts/2')
    expect(hit.headers.get('x-isr-cache')).toBe('HIT')
    expect(hit.headers.get('cache-control')).toBe('s-maxage=31536000')
    expect(await hit.json()).toEqual({ id: '2', title: 'Fish & <chips>', render: 1 })
    expect(source.calls['render:post:2']).toBe(1)
  })

  it('answers 304 to a matching If-None-Match and HEAD without a body', async () => {
    const first = await t.server.get('/feed.xml')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"/)
    // Rendered during the build: Last-Modified is the prerender's time, not the request's.
    const modified = Date.parse(first.headers.get('last-modified') ?? '')
    expect(modified).toBeLessThanOrEqual(readManifest(HANDLERS_DIST).builtAt)
    expect(modified).toBeGreaterThan(readManifest(HANDLERS_DIST).builtAt - 120_000)
    const conditional = await t.server.get('/feed.xml', { headers: { 'if-none-match': etag, 'accept-encoding': 'identity' } })
    expect(conditional.status).toBe(304)
    expect(await conditional.text()).toBe('')
    const head = await t.server.get('/feed.xml', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('x-isr-cache')).toBe('HIT')
    expect(head.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8')
    expect(await head.text()).toBe('')
  })

  it('carries the tags of the data it read, so revalidateTag refreshes it', async () => {
    expect(readManifest(HANDLERS_DIST).routes['/feed.xml'].tags).toEqual(['posts'])
    source.posts['3'] = { title: 'Third post', url: 'https://example.com/posts/3' }
    expect(await (await t.server.get('/feed.xml')).text()).not.toContain('Third post')
    await t.server.isr.revalidateTag('posts')
    t.clock.advance(1)
    const miss = await t.server.get('/feed.xml')
    expect(miss.headers.get('x-isr-cache')).toBe('MISS')
    expect(await miss.text()).toContain('<title>Third post</title>')
    expect((await t.server.get('/feed.xml')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('is refreshed by revalidatePath on its path', async () => {
    source.posts['1'].title = 'First post, edited'
    expect((await (await t.server.get('/api/posts/1')).json()).title).toBe('First post')
    await t.server.isr.revalidatePath('/api/posts/1')
    t.clock.advance(1)
    const miss = await t.server.get('/api/posts/1')
    expect(miss.headers.get('x-isr-cache')).toBe('MISS')
    expect((await miss.json()).title).toBe('First post, edited')
  })

  it('renders once for many concurrent requests of an invalidated key', async () => {
    source.delayMs = 100
    await t.server.isr.revalidatePath('/api/counter')
    t.clock.advance(1)
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.server.get('/api/counter').then((r) => r.json())))
    expect(source.calls['render:counter']).toBe(1)
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify({ counter: 0, render: 1 })]))
  })

  it('never caches other methods: each POST runs the handler, and the cached GET stays as it was', async () => {
    const a = await t.server.get('/api/counter', { method: 'POST' })
    const b = await t.server.get('/api/counter', { method: 'POST' })
    expect(a.headers.get('x-isr-cache')).toBeNull()
    expect(await a.json()).toEqual({ counter: 1, render: 1 })
    expect(await b.json()).toEqual({ counter: 2, render: 2 })
    const get = await t.server.get('/api/counter')
    expect(get.headers.get('x-isr-cache')).toBe('HIT')
    expect((await get.json()).counter).toBe(0)
  })

  it('sends an answer that set a cookie without the cookie, uncached, and warns once', async () => {
    const a = await t.server.get('/api/cookie')
    const b = await t.server.get('/api/cookie')
    expect(a.headers.get('set-cookie')).toBeNull()
    expect(a.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(a.headers.get('cache-control')).toBe(NO_STORE)
    expect(await a.text()).toBe('cookie render 1')
    expect(await b.text()).toBe('cookie render 2')
    expect(t.server.logs.filter((line) => line.includes('app/api/cookie/route.ts: GET set a cookie'))).toHaveLength(1)
  })

  it('sends a 500 the handler answers without storing it, logged as a warning: the next request runs the handler again', async () => {
    const first = await t.server.get('/api/posts/boom')
    expect(first.status).toBe(500)
    expect(first.headers.get('cache-control')).toBe(NO_STORE)
    expect(await first.text()).toBe('upstream down')
    expect((await t.server.get('/api/posts/boom')).status).toBe(500)
    expect(source.calls['render:post:boom']).toBe(2)
    expect(t.server.logs.filter((l) => l.includes('boom'))).toEqual(['[vite-isr] warning: GET /api/posts/boom answered 500; not caching it (attempt 1)', '[vite-isr] warning: GET /api/posts/boom answered 500; not caching it (attempt 2)'])
  })

  it('keeps serving the last good answer when a regeneration answers 503, and logs it as a warning with the path and status, not as a crash', async () => {
    source.status = 503
    t.clock.advance(61_000)
    expect((await t.server.get('/api/status')).headers.get('x-isr-cache')).toBe('STALE')
    await expect.poll(() => source.calls['render:status']).toBe(1)
    const after = await t.server.get('/api/status')
    expect(after.status).toBe(203)
    expect(await after.text()).toBe('status render 1')
    await expect.poll(() => t.server.logs.filter((line) => line.includes('answered 503'))).toHaveLength(1)
    const [line] = t.server.logs.filter((l) => l.includes('answered 503'))
    expect(line).toBe('[vite-isr] warning: regenerating /api/status: GET /api/status answered 503; not caching it; the last good copy keeps being served (attempt 1; next try in 2s or later)')
    expect(t.server.logs.filter((l) => l.startsWith('[vite-isr] error:'))).toEqual([])
    // Backed off as any failure: the next stale read does not run the handler again at once.
    await t.server.get('/api/status')
    expect(source.calls['render:status']).toBe(1)
  })

  it('passes the handler a request with none of the visitor’s headers, cookies or query', async () => {
    await t.server.isr.revalidatePath('/api/echo')
    t.clock.advance(1)
    const res = await t.server.get('/api/echo?secret=1', { headers: { cookie: 'session=abc', authorization: 'Bearer x' } })
    expect(res.headers.get('x-isr-cache')).toBe('MISS')
    expect(await res.json()).toEqual({ url: 'http://localhost/api/echo', cookie: null, authorization: null })
  })

  it('leaves route handlers without segment config uncached', async () => {
    const a = await t.server.get('/api/plain')
    const b = await t.server.get('/api/plain')
    expect(a.headers.get('x-isr-cache')).toBeNull()
    expect(await a.text()).toBe('plain 1')
    expect(await b.text()).toBe('plain 2')
  })

  it('answers 405 with Allow to a GET of a cached route that has no GET handler', async () => {
    const res = await t.server.get('/api/no-get')
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
    expect(await (await t.server.get('/api/no-get', { method: 'POST' })).text()).toBe('posted')
  })

  it('lists prerendered handlers in the manifest, without a data route and with their headers', () => {
    const manifest = readManifest(HANDLERS_DIST)
    expect(manifest.routes['/api/posts/1']).toMatchObject({ srcRoute: '/api/posts/[id]', initialStatus: 200, initialRevalidateSeconds: false, dataRoute: null, initialHeaders: { 'content-type': 'application/json' } })
    expect(manifest.routes['/api/status']).toMatchObject({ initialStatus: 203, initialRevalidateSeconds: 60, initialHeaders: { 'x-custom': 'kept' } })
    expect(manifest.routes['/api/counter'].initialRevalidateSeconds).toBe(false)
    expect(manifest.dynamicRoutes['/api/posts/[id]']).toMatchObject({ fallback: null })
    expect(Object.keys(manifest.routes)).not.toContain('/api/cookie')
    expect(Object.keys(manifest.routes)).not.toContain('/api/plain')
    expect(Object.keys(manifest.routes)).not.toContain('/api/posts/2')
  })
})

describe('route handlers cached as ISR, across servers and bounds', () => {
  beforeEach(() => {
    resetHandlerSource()
  })

  it('serves the stored answer as a HIT with its headers from a second server on the same cache folder', async () => {
    const cache = tempCacheDir()
    const clock = createClock(afterBuild(HANDLERS_DIST))
    try {
      const first = await startServer({ distDir: HANDLERS_DIST, cacheDir: cache.dir, now: clock.now })
      const miss = await first.get('/api/posts/2')
      expect(miss.headers.get('x-isr-cache')).toBe('MISS')
      const body = await miss.text()
      await first.close()
      const second = await startServer({ distDir: HANDLERS_DIST, cacheDir: cache.dir, now: clock.now })
      try {
        const hit = await second.get('/api/posts/2')
        expect(hit.headers.get('x-isr-cache')).toBe('HIT')
        expect(hit.headers.get('content-type')).toBe('application/json')
        expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'))
        expect(await hit.text()).toBe(body)
      } finally {
        await second.close()
      }
    } finally {
      cache.remove()
    }
  })

  it('answers a cached GET from the fast path before the app runs', async () => {
    const cache = tempCacheDir()
    let appCalls = 0
    const server = await startServer({ distDir: HANDLERS_DIST, cacheDir: cache.dir, mode: 'fast-path', configure: (app) => app.use((_req, _res, next) => (appCalls++, next())) })
    try {
      expect((await server.get('/feed.xml')).headers.get('x-isr-cache')).toBe('HIT')
      const calls = appCalls
      const hit = await server.get('/feed.xml')
      expect(hit.headers.get('x-isr-cache')).toBe('HIT')
      expect(await hit.text()).toContain('<title>First post</title>')
      expect(appCalls).toBe(calls)
      // Answered before Express, whose setHeader would hide a doubled header: the handler's own
      // Cache-Control is not stored, so only the window's goes out.
      await server.get('/api/status')
      const status = await server.get('/api/status')
      expect(status.headers.get('x-isr-cache')).toBe('HIT')
      expect(status.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
      expect(appCalls).toBe(calls + 1)
    } finally {
      await server.close()
      cache.remove()
    }
  })

  it('does not store an answer over maxBodySize', async () => {
    const cache = tempCacheDir()
    const server = await startServer({ distDir: HANDLERS_DIST, cacheDir: cache.dir, maxBodySize: 10 })
    try {
      const res = await server.get('/api/posts/2')
      expect(res.status).toBe(500)
      expect(res.headers.get('cache-control')).toBe(NO_STORE)
      expect(server.logs.join('\n')).toContain('over maxBodySize (10 bytes)')
      expect((await server.get('/api/posts/2')).status).toBe(500)
    } finally {
      await server.close()
      cache.remove()
    }
  })
})
