/**
 * A page's data payload has one URL (`/` is `index.json`, a page under `/index` gets a second
 * `index` in front, as Next.js's `normalizePagePath`), so a CDN keeps one copy per page and
 * middleware mounted on a payload URL sees every request for it. Any other spelling is a 404.
 */
import { describe, expect, it } from 'vitest'
import { useFixtureServer, type ServeMode } from '../helpers/server.js'

describe.each<ServeMode>(['middleware', 'fast-path'])('payload URLs (%s)', (mode) => {
  const t = useFixtureServer({ mode })
  const data = (rest: string) => t.server.get(`/_isr/data/${t.server.isr.buildId}${rest}`)

  it('answers a page payload at its one URL, and 404 to an extra index in front of a path outside /index', async () => {
    expect((await data('/static.json')).status).toBe(200)
    expect((await data('/index.json')).status).toBe(200)
    for (const other of ['/index/static.json', '/index/blog/1.json']) {
      const res = await data(other)
      expect(res.status, other).toBe(404)
      expect(res.headers.get('content-type'), other).not.toContain('application/json')
    }
  })
})
