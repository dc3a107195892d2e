import { describe, expect, it } from 'vitest'
import { type ServeMode, useFixtureServer } from '../helpers/server.js'

const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

// The same behaviour through the Express middleware and through the wrap() fast path.
describe.each<ServeMode>(['middleware', 'fast-path'])('serving pages (%s)', (mode) => {
  const t = useFixtureServer({ mode })

  it('serves a prerendered ISR page from the cache as a HIT with Next.js headers', async () => {
    const res = await t.server.get('/blog/1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(res.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('etag')).toMatch(/^"[\w-]+"$/)
    const html = await res.text()
    expect(html).toContain('<h1>First post</h1>')
    expect(html).toContain('<title>First post</title>')
    expect(html).toContain('data-layout="blog"')
    // prerendered at build: the loader did not run in this process
    expect(t.db.renders['/blog/1']).toBeUndefined()
  })

  it('serves a page with revalidate = false with s-maxage of one year', async () => {
    const res = await t.server.get('/static')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(res.headers.get('cache-control')).toBe('s-maxage=31536000')
  })

  it('serves the stale page past its window and regenerates it in the background', async () => {
    t.clock.advance(61_000)
    t.db.posts['1'].title = 'First post, edited'
    const stale = await t.server.get('/blog/1')
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    const staleHtml = await stale.text()
    expect(staleHtml).toContain('<h1>First post</h1>')
    await expect.poll(() => t.db.renders['/blog/1']).toBe(1)
    await expect.poll(async () => (await t.server.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
    const fresh = await t.server.get('/blog/1')
    expect(await fresh.text()).toContain('First post, edited')
    expect(t.db.renders['/blog/1']).toBe(1)
  })

  it('renders a path that was not prerendered on its first request (MISS), then serves it from the cache', async () => {
    const first = await t.server.get('/blog/3')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    expect(first.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(await first.text()).toContain('Third post')
    const second = await t.server.get('/blog/3')
    expect(second.headers.get('x-isr-cache')).toBe('HIT')
    expect(t.db.renders['/blog/3']).toBe(1)
  })

  it('renders revalidate = 0 pages on every request and never caches them (BYPASS)', async () => {
    const a = await t.server.get('/now', { headers: { 'user-agent': 'isr-test' } })
    const b = await t.server.get('/now')
    expect(a.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(b.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(a.headers.get('cache-control')).toBe(NO_STORE)
    expect(await b.text()).toContain('render <!-- -->2')
    expect(t.db.renders['/now']).toBe(2)
  })

  it('answers 404 with the not-found page for params outside generateStaticParams when dynamicParams = false', async () => {
    const listed = await t.server.get('/fixed/a')
    expect(listed.status).toBe(200)
    const unlisted = await t.server.get('/fixed/b')
    expect(unlisted.status).toBe(404)
    expect(await unlisted.text()).toContain('This page could not be found.')
    expect(unlisted.headers.get('cache-control')).toBe(NO_STORE)
  })

  it('answers 404 with the not-found page when a loader calls notFound(), and keeps that 404 briefly', async () => {
    const res = await t.server.get('/blog/404')
    expect(res.status).toBe(404)
    expect(await res.text()).toContain('This page could not be found.')
    expect(res.headers.get('cache-control')).toBe(NO_STORE)
    await t.server.get('/blog/404')
    expect(t.db.renders['/blog/404']).toBe(1)
    t.clock.advance(11_000)
    await t.server.get('/blog/404')
    await expect.poll(() => t.db.renders['/blog/404']).toBe(2)
  })

  it('turns a cached 404 into a 200 once the content exists and the path is revalidated', async () => {
    expect((await t.server.get('/blog/9')).status).toBe(404)
    t.db.posts['9'] = { title: 'Ninth post', body: 'Now it exists.' }
    t.clock.advance(1)
    const revalidated = await t.server.get('/api/revalidate?path=/blog/9', { method: 'POST' })
    expect(revalidated.status).toBe(200)
    t.clock.advance(1)
    const res = await t.server.get('/blog/9')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Ninth post')
  })

  it('renders catch-all and optional catch-all routes with array params', async () => {
    expect(await (await t.server.get('/docs/a/b/c')).text()).toContain('docs a|b|c')
    expect((await t.server.get('/docs')).status).toBe(404)
    expect(await (await t.server.get('/shop')).text()).toContain('shop index')
    expect(await (await t.server.get('/shop/shoes/red')).text()).toContain('shop shoes|red')
  })

  it('answers a redirect() from a loader with its status and Location, cached like a page', async () => {
    const res = await t.server.get('/redirect-me')
    expect(res.status).toBe(308)
    expect(res.headers.get('location')).toBe('/static')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
  })

  it('makes an empty generateStaticParams an ISR route generated on first request', async () => {
    const first = await t.server.get('/empty-params/x')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    expect(first.headers.get('cache-control')).toBe('s-maxage=30, stale-while-revalidate=31535970')
    expect((await t.server.get('/empty-params/x')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('ignores the query string for the cache key', async () => {
    await t.server.get('/blog/3?utm=a')
    const res = await t.server.get('/blog/3?utm=b&x=1')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(t.db.renders['/blog/3']).toBe(1)
  })
})
