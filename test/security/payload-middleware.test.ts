/**
 * SPEC §11: no URL reaches a page that middleware mounted on the page's path would have
 * guarded. A page's data payload (`/_isr/data/<buildId>/blog/1.json`) is that page's content
 * at another URL, so the app's middleware must see it under the page's own path: a guard on
 * `/blog` answers the payload request as it answers the page.
 */
import type { Request } from 'express'
import { describe, expect, it } from 'vitest'
import { useFixtureServer, type ServeMode } from '../helpers/server.js'

const AUTHORIZED = { authorization: 'Bearer editor' }

describe.each<ServeMode>(['middleware', 'fast-path'])('page data payloads behind middleware (%s)', (mode) => {
  /** The paths the guard saw, in order. */
  const seen: string[] = []
  let reachedExpress = 0
  const t = useFixtureServer({
    mode,
    configure(app) {
      seen.length = 0
      reachedExpress = 0
      app.use((_req, _res, next) => {
        reachedExpress++
        next()
      })
      const guard = (req: Request, res: import('express').Response, next: () => void) => {
        seen.push(req.baseUrl + (req.path === '/' ? '' : req.path))
        if (req.headers.authorization === AUTHORIZED.authorization) next()
        else res.status(401).set('cache-control', 'no-store').send('sign in first')
      }
      app.use('/blog', guard)
      app.use('/now', guard)
    },
  })
  const payload = (page: string) => `/_isr/data/${t.server.isr.buildId}${page}.json`

  it('answers the payload of a cached page under a guarded path with the guard, as it answers the page', async () => {
    const html = await t.server.get('/blog/1')
    expect(html.status).toBe(401)
    // An editor reads the page, so it is held in memory ...
    expect((await t.server.get('/blog/1', { headers: AUTHORIZED })).status).toBe(200)
    // ... and a payload URL refused once must not be answered from memory after.
    for (const _ of [1, 2]) {
      const data = await t.server.get(payload('/blog/1'))
      expect(data.status).toBe(401)
      expect(await data.text()).toBe('sign in first')
    }
    expect(seen).toEqual(['/blog/1', '/blog/1', '/blog/1', '/blog/1'])
  })

  it('answers the payload of a page rendered per request under a guarded path with the guard', async () => {
    const data = await t.server.get(payload('/now'))
    expect(data.status).toBe(401)
    expect(await data.text()).toBe('sign in first')
    expect(t.db.renders['/now']).toBeUndefined()
  })

  it('serves the payload once the guard lets the page path through, with the payload query kept', async () => {
    const data = await t.server.get(payload('/blog/1') + '?from=link', { headers: AUTHORIZED })
    expect(data.status).toBe(200)
    expect(data.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(data.headers.get('x-isr-cache')).toBe('HIT')
    expect(((await data.json()) as { data: { id: string } }).data.id).toBe('1')
    const now = await t.server.get(payload('/now'), { headers: AUTHORIZED })
    expect(now.status).toBe(200)
    expect(now.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(seen).toEqual(['/blog/1', '/now'])
  })

  it('still serves payloads of unguarded pages; the fast path answers a repeat one before Express', async () => {
    const first = await t.server.get(payload('/static'))
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('HIT')
    const before = reachedExpress
    const second = await t.server.get(payload('/static'))
    expect(second.status).toBe(200)
    expect(second.headers.get('x-isr-cache')).toBe('HIT')
    if (mode === 'fast-path') expect(reachedExpress).toBe(before)
  })
})
