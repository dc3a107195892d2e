import { describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { useFixtureServer, type FixtureServer } from '../helpers/server.js'

const payloadUrl = (t: FixtureServer, path: string) => `/_isr/data/${t.server.isr.buildId}${path === '/' ? '/index' : path}.json`

/** The loader data of the HTML's hydration script. */
function htmlData(html: string): unknown {
  const json = /<script id="__ISR_DATA__" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1]
  if (!json) throw new Error('no hydration data in the page')
  return JSON.parse(json).data
}

const SHARED_HEADERS = ['x-isr-cache', 'cache-control', 'last-modified']

for (const mode of ['middleware', 'fast-path'] as const) {
  describe(`the page data payload (${mode})`, () => {
    const t = useFixtureServer({ mode })

    it('comes from the same entry as the HTML: one render, the same data, the same cache headers', async () => {
      const html = await t.server.get('/blog/1')
      const payload = await t.server.get(payloadUrl(t, '/blog/1'))
      expect(payload.status).toBe(200)
      expect(payload.headers.get('content-type')).toBe('application/json; charset=utf-8')
      for (const name of SHARED_HEADERS) expect(payload.headers.get(name), name).toBe(html.headers.get(name))
      expect(payload.headers.get('x-isr-cache')).toBe('HIT')
      const body = await payload.json()
      expect(body).toMatchObject({ kind: 'page', page: 'app/blog/[id]/page.tsx', layouts: ['app/layout.tsx', 'app/blog/layout.tsx'], params: { id: '1' } })
      expect(body.head.title).toBe('First post')
      expect(body.head.meta).toContainEqual(['name', 'description', 'Post: First post'])
      expect(body.scripts.length).toBeGreaterThan(0)
      expect(body.scripts.every((url: string) => url.startsWith('/assets/'))).toBe(true)
      expect(body.data).toEqual(htmlData(await html.text()))
      // Prerendered at build: neither request rendered.
      expect(t.db.renders['/blog/1']).toBeUndefined()
    })

    it('renders once for a path never generated, whichever of HTML and payload is asked first', async () => {
      t.db.posts['7'] = { title: 'Seventh', body: 'new' }
      const payloads = await Promise.all(Array.from({ length: 5 }, () => t.server.get(payloadUrl(t, '/blog/7'))))
      expect(payloads.map((r) => r.headers.get('x-isr-cache'))).toContain('MISS')
      const html = await t.server.get('/blog/7')
      expect(html.headers.get('x-isr-cache')).toBe('HIT')
      expect(t.db.renders['/blog/7']).toBe(1)
      expect((await payloads[0].json()).data).toEqual(htmlData(await html.text()))
    })

    it('has an ETag of its own and answers 304 to it', async () => {
      const html = await t.server.get('/blog/1')
      const payload = await t.server.get(payloadUrl(t, '/blog/1'))
      const etag = payload.headers.get('etag')!
      expect(etag).toMatch(/^"[^"]+"$/)
      expect(etag).not.toBe(html.headers.get('etag'))
      const again = await t.server.get(payloadUrl(t, '/blog/1'), { headers: { 'if-none-match': etag } })
      expect(again.status).toBe(304)
      expect(again.headers.get('x-isr-cache')).toBe('HIT')
    })

    it('is refreshed together with the HTML by revalidatePath', async () => {
      await t.server.get(payloadUrl(t, '/blog/2'))
      t.db.posts['2'].title = 'Edited'
      t.clock.advance(1)
      await revalidatePath('/blog/2')
      t.clock.advance(1)
      const payload = await t.server.get(payloadUrl(t, '/blog/2'))
      expect(payload.headers.get('x-isr-cache')).toBe('MISS')
      const html = await t.server.get('/blog/2')
      expect(html.headers.get('x-isr-cache')).toBe('HIT')
      const body = await payload.json()
      expect(body.data.title).toBe('Edited')
      expect(body.head.title).toBe('Edited')
      expect(body.data).toEqual(htmlData(await html.text()))
      expect(t.db.renders['/blog/2']).toBe(1)
    })

    it('serves the stale payload past the window, as the HTML, with one regeneration', async () => {
      t.db.posts['1'].title = 'Later'
      t.clock.advance(61_000)
      const stale = await t.server.get(payloadUrl(t, '/blog/1'))
      expect(stale.headers.get('x-isr-cache')).toBe('STALE')
      expect((await stale.json()).data.title).toBe('First post')
      await expect.poll(async () => (await (await t.server.get('/blog/1')).text()).includes('<h1>Later</h1>')).toBe(true)
      expect((await (await t.server.get(payloadUrl(t, '/blog/1'))).json()).data.title).toBe('Later')
      expect(t.db.renders['/blog/1']).toBe(1)
    })

    it('is compressed when the client accepts it, with its own ETag per encoding', async () => {
      t.db.posts['8'] = { title: 'Long', body: 'word '.repeat(2000) }
      await t.server.get('/blog/8')
      const br = await t.server.get(payloadUrl(t, '/blog/8'), { headers: { 'accept-encoding': 'br' } })
      expect(br.headers.get('content-encoding')).toBe('br')
      expect(br.headers.get('etag')).toMatch(/-br"$/)
      expect(Number(br.headers.get('content-length'))).toBeLessThan(2000)
      expect((await br.json()).data.body).toBe('word '.repeat(2000))
    })

    it('answers 404, never cached, for another build id or a path that is no page', async () => {
      for (const url of ['/_isr/data/another-build/blog/1.json', `/_isr/data/${t.server.isr.buildId}/api/body.json`, `/_isr/data/${t.server.isr.buildId}/blog/1`]) {
        const res = await t.server.get(url)
        expect(res.status, url).toBe(404)
        expect(res.headers.get('cache-control'), url).toBe('no-store')
        expect(res.headers.get('x-isr-cache'), url).toBeNull()
      }
    })

    it('describes a redirect() as a 200 naming it, and a notFound() as a 404, with the page\'s cache headers', async () => {
      const redirectHtml = await t.server.get('/redirect-me')
      const redirect = await t.server.get(payloadUrl(t, '/redirect-me'))
      expect(redirect.status).toBe(200)
      expect(await redirect.json()).toEqual({ kind: 'redirect', location: '/static', status: 308 })
      expect(redirect.headers.get('cache-control')).toBe(redirectHtml.headers.get('cache-control'))
      expect(redirect.headers.get('location')).toBeNull()

      const missing = await t.server.get(payloadUrl(t, '/blog/404'))
      const missingHtml = await t.server.get('/blog/404')
      expect(missing.status).toBe(404)
      expect(await missing.json()).toEqual({ kind: 'not-found' })
      expect(missing.headers.get('cache-control')).toBe(missingHtml.headers.get('cache-control'))
      expect(missing.headers.get('etag')).toBeNull()
    })

    it("ignores the query on a cached page's payload, as on its HTML: any ?x= is the one entry, a HIT", async () => {
      const plain = await t.server.get(payloadUrl(t, '/blog/1'))
      const body = await plain.text()
      for (let i = 0; i < 3; i++) {
        const res = await t.server.get(`${payloadUrl(t, '/blog/1')}?x=${randomUUID()}`)
        expect(res.status).toBe(200)
        expect(res.headers.get('x-isr-cache')).toBe('HIT')
        expect(res.headers.get('etag')).toBe(plain.headers.get('etag'))
        expect(res.headers.get('cache-control')).toBe(plain.headers.get('cache-control'))
        expect(await res.text()).toBe(body)
      }
      // A path never generated, first asked with a query: one render, one entry, whatever comes next.
      t.db.posts['7'] = { title: 'Seventh', body: 'new' }
      const first = await t.server.get(`${payloadUrl(t, '/blog/7')}?x=${randomUUID()}`)
      expect(first.headers.get('x-isr-cache')).toBe('MISS')
      const again = await t.server.get(`${payloadUrl(t, '/blog/7')}?x=${randomUUID()}`)
      expect(again.headers.get('x-isr-cache')).toBe('HIT')
      expect(await again.text()).toBe(await first.text())
      expect((await t.server.get(`/blog/7?x=${randomUUID()}`)).headers.get('x-isr-cache')).toBe('HIT')
      expect((await t.server.get(payloadUrl(t, '/blog/7'))).headers.get('x-isr-cache')).toBe('HIT')
      expect(t.db.renders['/blog/7']).toBe(1)
    })

    it('maps the index page to index.json', async () => {
      const res = await t.server.get(payloadUrl(t, '/'))
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ kind: 'page', page: 'app/page.tsx', head: { title: 'Home' } })
    })
  })
}

describe('the page data payload and revalidateTag', () => {
  const t = useFixtureServer({ distDir: DATA_DIST })

  it('refreshes the HTML and the payload at once', async () => {
    const source = resetDataSource()
    await t.server.get(payloadUrl(t, '/posts/1'))
    source.posts['1'].title = 'Tagged edit'
    t.clock.advance(1)
    await revalidateTag('posts')
    t.clock.advance(1)
    const payload = await t.server.get(payloadUrl(t, '/posts/1'))
    expect(payload.headers.get('x-isr-cache')).toBe('MISS')
    const html = await t.server.get('/posts/1')
    expect(html.headers.get('x-isr-cache')).toBe('HIT')
    expect((await payload.json()).data.title).toBe('Tagged edit')
    expect(await html.text()).toContain('<h1>Tagged edit</h1>')
  })
})

for (const mode of ['middleware', 'fast-path'] as const) {
  describe(`the payload of a page rendered per request (${mode})`, () => {
    const t = useFixtureServer({ distDir: DATA_DIST, mode })
    const asked = { headers: { cookie: 'session=abc; theme=dark', 'x-from-test': 'yes', 'user-agent': 'payload-test/1.0', 'accept-language': 'fr' } }

    it('gives the loader the page URL with its query, headers and cookies, exactly as a full load of the page does', async () => {
      const query = '?q=2&q=a%20b&empty='
      const html = await t.server.get(`/request-echo${query}`, asked)
      const payload = await t.server.get(`${payloadUrl(t, '/request-echo')}${query}`, asked)
      expect(payload.status).toBe(200)
      expect(payload.headers.get('x-isr-cache')).toBe('BYPASS')
      expect(payload.headers.get('cache-control')).toBe(html.headers.get('cache-control'))
      expect(payload.headers.get('cache-control')).toMatch(/\bprivate\b.*\bno-store\b/)
      const data = (await payload.json()).data
      expect(data).toEqual(htmlData(await html.text()))
      expect(data).toMatchObject({ url: `${t.server.url}/request-echo${query}`, pathname: '/request-echo', search: query, q: ['2', 'a b'] })
      expect(data.headers).toMatchObject({ cookie: 'session=abc; theme=dark', 'x-from-test': 'yes', 'user-agent': 'payload-test/1.0', 'accept-language': 'fr' })
    })

    it('answers each query with its own render, and no query with none', async () => {
      const one = (await (await t.server.get(`${payloadUrl(t, '/request-echo')}?q=1`)).json()).data
      const two = (await (await t.server.get(`${payloadUrl(t, '/request-echo')}?q=2`)).json()).data
      const none = (await (await t.server.get(payloadUrl(t, '/request-echo'))).json()).data
      expect([one.url, two.url, none.url]).toEqual([`${t.server.url}/request-echo?q=1`, `${t.server.url}/request-echo?q=2`, `${t.server.url}/request-echo`])
      expect([one.q, two.q, none.q]).toEqual([['1'], ['2'], []])
    })
  })
}
