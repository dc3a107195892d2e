import { describe, expect, it } from 'vitest'
import { readManifest } from '../helpers/build.js'
import { HANDLERS_DIST, useHandlersServer } from '../helpers/handler-source.js'

describe('metadata routes', () => {
  const t = useHandlersServer()
  const { source } = t

  it('answers /sitemap.xml from app/sitemap.ts as a sitemap in application/xml, values escaped', async () => {
    const res = await t.server.get('/sitemap.xml')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/xml')
    expect(await res.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' +
        '<url>\n<loc>https://example.com/</loc>\n<lastmod>2026-01-02T00:00:00.000Z</lastmod>\n<changefreq>daily</changefreq>\n<priority>1</priority>\n</url>\n' +
        '<url>\n<loc>https://example.com/posts/1</loc>\n<changefreq>weekly</changefreq>\n<priority>0.5</priority>\n</url>\n' +
        '<url>\n<loc>https://example.com/posts/2?a=1&amp;b=&quot;2&quot;</loc>\n<changefreq>weekly</changefreq>\n<priority>0.5</priority>\n</url>\n' +
        '</urlset>\n',
    )
  })

  it('answers /robots.txt from app/robots.ts in text/plain, one directive per line whatever the values hold', async () => {
    const res = await t.server.get('/robots.txt')
    expect(res.headers.get('content-type')).toBe('text/plain')
    const text = await res.text()
    expect(text).toBe(
      'User-Agent: *\nAllow: /\nDisallow: /api/\nDisallow: /private Allow: /secret\n\n' +
        'User-Agent: BadBot\nDisallow: /\nCrawl-delay: 10\n\n' +
        'Host: https://example.com\nSitemap: https://example.com/sitemap.xml\n',
    )
    expect(text.split('\n')).not.toContain('Allow: /secret')
  })

  it('caches the sitemap until revalidated (static by default) and the robots file for its own revalidate', async () => {
    const sitemap = await t.server.get('/sitemap.xml')
    expect(sitemap.headers.get('x-isr-cache')).toBe('HIT')
    expect(sitemap.headers.get('cache-control')).toBe('s-maxage=31536000')
    const robots = await t.server.get('/robots.txt')
    expect(robots.headers.get('x-isr-cache')).toBe('HIT')
    expect(robots.headers.get('cache-control')).toBe('s-maxage=3600, stale-while-revalidate=31532400')
    t.clock.advance(3_601_000)
    expect((await t.server.get('/robots.txt')).headers.get('x-isr-cache')).toBe('STALE')
    expect((await t.server.get('/sitemap.xml')).headers.get('x-isr-cache')).toBe('HIT')
    // Prerendered at build: neither ran in this process before its window passed.
    expect(source.calls['render:sitemap']).toBeUndefined()
  })

  it('lists the posts anew after revalidateTag of the tag its data carries', async () => {
    source.posts['3'] = { title: 'Third', url: 'https://example.com/posts/3' }
    expect(await (await t.server.get('/sitemap.xml')).text()).not.toContain('/posts/3')
    await t.server.isr.revalidateTag('posts')
    t.clock.advance(1)
    const miss = await t.server.get('/sitemap.xml')
    expect(miss.headers.get('x-isr-cache')).toBe('MISS')
    expect(await miss.text()).toContain('<loc>https://example.com/posts/3</loc>')
    const hit = await t.server.get('/sitemap.xml')
    expect(hit.headers.get('x-isr-cache')).toBe('HIT')
    expect(source.calls['render:sitemap']).toBe(1)
  })

  it('prerenders both at build and lists them in the manifest with their tags and content types', () => {
    const { routes } = readManifest(HANDLERS_DIST)
    expect(routes['/sitemap.xml']).toMatchObject({ srcRoute: '/sitemap.xml', initialRevalidateSeconds: false, tags: ['posts'], dataRoute: null, initialHeaders: { 'content-type': 'application/xml' } })
    expect(routes['/robots.txt']).toMatchObject({ initialRevalidateSeconds: 3600, initialHeaders: { 'content-type': 'text/plain' } })
  })
})
