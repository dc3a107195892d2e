/**
 * A response that carries `Set-Cookie` is never marked cacheable by a shared cache (SPEC §11,
 * issue 12 item 10): a CDN that kept it would hand one visitor's cookie to the next.
 */
import type { Express } from 'express'
import { describe, expect, it } from 'vitest'
import { useFixtureServer, type ServeMode } from '../helpers/server.js'

const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

/** Session middleware in front of vite-isr: a cookie for every visitor without one. */
const session = (app: Express) =>
  app.use((req, res, next) => {
    if (!req.headers.cookie?.includes('sid=')) res.cookie('sid', `visitor-${Math.random().toString(36).slice(2)}`)
    next()
  })

for (const mode of ['middleware', 'fast-path'] as ServeMode[]) {
  describe(`Set-Cookie from middleware in front (${mode})`, () => {
    const ctx = useFixtureServer({ mode, configure: session })

    it('a cached page, a first render and a redirect that go out with a cookie are private, no-store, without s-maxage', async () => {
      const seen: string[] = []
      for (const path of ['/blog/1', '/blog/1', '/blog/3', '/go/x', '/static']) {
        const res = await ctx.server.get(path)
        await res.arrayBuffer()
        expect([path, res.headers.get('set-cookie')]).toEqual([path, expect.stringMatching(/^sid=visitor-/)])
        expect([path, res.headers.get('cache-control')]).toEqual([path, NO_STORE])
        seen.push(`${path} ${res.status} ${res.headers.get('x-isr-cache')}`)
      }
      // The pages themselves were served from the cache as usual.
      expect(seen).toEqual(['/blog/1 200 HIT', '/blog/1 200 HIT', '/blog/3 200 MISS', '/go/x 307 MISS', '/static 200 HIT'])
    })

    it('the same page still goes out shared to a visitor who gets no cookie, and private again to the next new one', async () => {
      const returning = { headers: { cookie: 'sid=known' } }
      const answers: [string | null, string | null][] = []
      for (const init of [undefined, returning, undefined, returning]) {
        const res = await ctx.server.get('/blog/1', init)
        await res.arrayBuffer()
        answers.push([res.headers.get('set-cookie') && 'cookie', res.headers.get('cache-control')])
      }
      const shared = 's-maxage=60, stale-while-revalidate=31535940'
      // One entry, two header lists: the private one must not replace the shared one kept for HITs.
      expect(answers).toEqual([['cookie', NO_STORE], [null, shared], ['cookie', NO_STORE], [null, shared]])
    })
  })
}

describe('the fast path and cookies', () => {
  const ctx = useFixtureServer({ mode: 'fast-path', configure: session })

  it('never answers from memory once the app in front set a cookie: every new visitor gets one', async () => {
    const cookies: (string | null)[] = []
    for (let i = 0; i < 5; i++) {
      const res = await ctx.server.get('/blog/1')
      await res.arrayBuffer()
      expect(res.headers.get('x-isr-cache')).toBe('HIT')
      cookies.push(res.headers.get('set-cookie'))
    }
    expect(cookies.filter((c) => c?.startsWith('sid=visitor-'))).toHaveLength(5)
  })
})
