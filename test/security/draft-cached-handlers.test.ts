/**
 * SPEC §10: a request with a valid draft cookie renders per request, `private, no-store`, and
 * stores nothing. A cached route handler (`revalidate` export) and the metadata routes
 * (`app/sitemap.ts`, `app/robots.ts`) are rendered per request too: their own GET is called
 * with fresh data, never the page renderer (which cannot render a route module at all).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { HANDLERS_DIST, resetHandlerSource } from '../helpers/handler-source.js'
import { useFixtureServer, type ServeMode, type TestServer } from '../helpers/server.js'
import type { HandlerSource } from '../fixtures/handlers/server/source.js'

const SECRET = 'draft-secret-for-tests-0123456789abcdef'
const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

/** Draft mode turned on by the fixture's route handler; the cookie pair to send back. */
async function enableDraft(server: TestServer): Promise<string> {
  const res = await server.get('/api/draft')
  expect(res.status).toBe(204)
  const pair = /^(__prerender_bypass=[^;]+);/.exec(res.headers.getSetCookie()[0] ?? '')?.[1]
  expect(pair).toBeDefined()
  return pair!
}

describe.each<ServeMode>(['fast-path', 'middleware'])('draft mode on cached route handlers (%s)', (mode) => {
  let source: HandlerSource
  beforeEach(() => {
    source = resetHandlerSource()
  })
  const t = useFixtureServer({ distDir: HANDLERS_DIST, draftModeSecret: SECRET, mode })

  it('calls a cached GET on every draft request and answers it BYPASS, private, no-store, with its own headers', async () => {
    const cookie = await enableDraft(t.server)
    for (const call of [1, 2]) {
      const res = await t.server.get('/feed.xml', { headers: { cookie } })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-isr-cache')).toBe('BYPASS')
      expect(res.headers.get('cache-control')).toBe(NO_STORE)
      expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8')
      expect(res.headers.get('x-feed-render')).toBe(String(call))
      expect(await res.text()).toContain('<title>First post</title>')
    }
    const head = await t.server.get('/feed.xml', { method: 'HEAD', headers: { cookie } })
    expect(head.status).toBe(200)
    expect(head.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(await head.text()).toBe('')
  })

  it('gives a draft request fresh data and leaves the cached answer to every other visitor until a revalidation', async () => {
    const cookie = await enableDraft(t.server)
    source.posts['1'].title = 'Edited in the CMS'
    const draft = await t.server.get('/feed.xml', { headers: { cookie } })
    expect(await draft.text()).toContain('<title>Edited in the CMS</title>')
    const visitor = await t.server.get('/feed.xml')
    expect(visitor.headers.get('x-isr-cache')).toBe('HIT')
    expect(visitor.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(await visitor.text()).toContain('<title>First post</title>')
  })

  it('answers the sitemap and robots.txt of a draft request with their files, per request', async () => {
    const cookie = await enableDraft(t.server)
    const sitemap = await t.server.get('/sitemap.xml', { headers: { cookie } })
    expect(sitemap.status).toBe(200)
    expect(sitemap.headers.get('content-type')).toBe('application/xml')
    expect(sitemap.headers.get('cache-control')).toBe(NO_STORE)
    expect(await sitemap.text()).toContain('<loc>https://example.com/posts/1</loc>')
    expect(source.calls['render:sitemap']).toBe(1)
    const robots = await t.server.get('/robots.txt', { headers: { cookie } })
    expect(robots.status).toBe(200)
    expect(robots.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(await robots.text()).toContain('User-Agent: BadBot\nDisallow: /\n')
    expect(t.server.logs.join('\n')).not.toContain('error')
  })

  it('ignores a forged draft cookie: the cached answer is served', async () => {
    const res = await t.server.get('/feed.xml', { headers: { cookie: '__prerender_bypass=9999999999.forged' } })
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(source.calls['render:feed']).toBeUndefined()
  })
})
