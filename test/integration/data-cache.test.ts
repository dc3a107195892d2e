import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cache, revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { readManifest } from '../helpers/build.js'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { useFixtureServer } from '../helpers/server.js'
import type { DataSource } from '../fixtures/data/server/source.js'

/** A real HTTP origin for fetch(): counts requests per item, serves a version number. */
function startOrigin() {
  const hits: Record<string, number> = {}
  const versions: Record<string, number> = {}
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '').split('/').pop()!
    hits[name] = (hits[name] ?? 0) + 1
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ name, version: versions[name] ?? 1 }))
  })
  return { server, hits, versions }
}

describe('the data cache', () => {
  const origin = startOrigin()
  let originUrl: string
  let source: DataSource
  beforeAll(async () => {
    await new Promise<void>((resolve) => origin.server.listen(0, '127.0.0.1', resolve))
    originUrl = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => origin.server.close(() => resolve())))
  beforeEach(() => {
    source = resetDataSource(originUrl)
    for (const key of Object.keys(origin.hits)) delete origin.hits[key]
    for (const key of Object.keys(origin.versions)) delete origin.versions[key]
  })
  const t = useFixtureServer({ distDir: DATA_DIST, debug: true })

  it('records the tags a page used through cache() in the manifest', () => {
    const manifest = readManifest(DATA_DIST)
    expect(manifest.routes['/posts/1'].tags.sort()).toEqual(['authors', 'posts'])
    expect(manifest.routes['/posts'].tags).toEqual(['posts'])
  })

  it('gives a page the lowest revalidate of its segment config and its data', async () => {
    const res = await t.server.get('/posts')
    expect(res.headers.get('cache-control')).toBe('s-maxage=120, stale-while-revalidate=31535880')
  })

  it('renders a page per request when its data has revalidate: 0', async () => {
    const a = await t.server.get('/live')
    const b = await t.server.get('/live')
    expect(a.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(b.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
    expect(await b.text()).toContain('live 2')
  })

  it("keeps a force-static page cached whatever its data says", async () => {
    expect((await t.server.get('/forced')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it("refuses to render a dynamic = 'error' page whose data is dynamic", async () => {
    const res = await t.server.get('/strict/1')
    expect(res.status).toBe(500)
    expect(t.server.logs.join('\n')).toContain("has `dynamic = 'error'` but its data has revalidate 0")
  })

  it('refreshes a page after revalidateTag and reuses the data entries the tag did not touch', async () => {
    const first = await t.server.get('/posts/2')
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    expect(source.calls).toMatchObject({ 'post:2': 1, 'author:ada': 1 })
    source.posts['2'].title = 'Post two, edited'
    t.clock.advance(1)
    await revalidateTag('posts')
    t.clock.advance(1)
    const next = await t.server.get('/posts/2')
    expect(next.headers.get('x-isr-cache')).toBe('MISS')
    expect(await next.text()).toContain('Post two, edited')
    expect(source.calls['post:2']).toBe(2)
    // the author entry carries only the `authors` tag: still fresh, not fetched again
    expect(source.calls['author:ada']).toBe(1)
  })

  it('refreshes the data a page used when the page is revalidated by path, as Next.js does', async () => {
    await t.server.get('/posts/2')
    source.authors.ada = 'Countess of Lovelace'
    t.clock.advance(1)
    await revalidatePath('/posts/2')
    t.clock.advance(1)
    expect(await (await t.server.get('/posts/2')).text()).toContain('by Countess of Lovelace')
    expect(source.calls['author:ada']).toBe(2)
  })

  it('reuses fresh data when a page regenerates because its own window passed', async () => {
    await t.server.get('/posts/2')
    t.clock.advance(61_000) // the page (60 s) is stale; its data (no revalidate) is not
    expect((await t.server.get('/posts/2')).headers.get('x-isr-cache')).toBe('STALE')
    await expect.poll(() => t.server.logs.filter((l) => l.startsWith('[vite-isr] regenerate:done /posts/2')).length).toBe(2)
    expect(source.calls['post:2']).toBe(1)
    expect(source.calls['author:ada']).toBe(1)
  })

  it('caches fetch() responses with next.revalidate and tags, and revalidates them by tag', async () => {
    const first = await t.server.get('/remote/widget')
    expect(await first.text()).toContain('widget v1')
    expect(origin.hits.widget).toBe(1)
    // another page asking for the same URL reuses the cached response
    await t.server.get('/remote/widget?again')
    expect(origin.hits.widget).toBe(1)
    origin.versions.widget = 2
    t.clock.advance(1)
    await revalidateTag('items')
    t.clock.advance(1)
    expect(await (await t.server.get('/remote/widget')).text()).toContain('widget v2')
    expect(origin.hits.widget).toBe(2)
    const log = t.server.logs.join('\n')
    expect(log).toContain(`miss fetch GET ${originUrl}/items/widget`)
    expect(log).toMatch(/revalidateTag items mode=expire/)
  })

  it("refreshes a page's stale fetch data inside its background regeneration, so the new page has new data", async () => {
    await t.server.get('/remote/gadget')
    origin.versions.gadget = 2
    t.clock.advance(31_000) // the fetch (30 s) is stale; the page has no window of its own but inherits 30 s
    const stale = await t.server.get('/remote/gadget')
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    // the page's regeneration refreshed its stale fetch before rendering: one regeneration, new data
    await expect.poll(async () => (await t.server.get('/remote/gadget')).headers.get('x-isr-cache')).toBe('HIT')
    expect(await (await t.server.get('/remote/gadget')).text()).toContain('gadget v2')
    expect(origin.hits.gadget).toBe(2)
    expect(t.server.logs.join('\n')).toContain(`stale fetch GET ${originUrl}/items/gadget refresh=inline`)
  })

  it('works outside a render too, e.g. in a script or a route handler', async () => {
    let calls = 0
    const cached = cache(async (n: number) => ({ n, calls: ++calls }), ['outside'], { tags: ['outside'] })
    expect(await cached(1)).toEqual({ n: 1, calls: 1 })
    expect(await cached(1)).toEqual({ n: 1, calls: 1 })
    expect(await cached(2)).toEqual({ n: 2, calls: 2 })
    t.clock.advance(1)
    await revalidateTag('outside')
    t.clock.advance(1)
    expect(await cached(1)).toEqual({ n: 1, calls: 3 })
  })

  it('rejects invalid options with a TypeError that says what is wrong', () => {
    expect(() => cache(async () => 1, ['x'], { revalidate: -1 })).toThrow(new TypeError('[vite-isr] cache(): revalidate must be false or a number of seconds >= 0 (got -1)'))
    expect(() => cache(async () => 1, ['x'], { tags: ['a'.repeat(257)] })).toThrow(/each tag must be a string of 1 to 256 characters/)
    expect(() => cache(async () => 1, 'x' as never)).toThrow(/keyParts must be an array of strings/)
  })
})
