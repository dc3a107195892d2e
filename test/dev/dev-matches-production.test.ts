/**
 * `vite` (dev) and the production server are one serving pipeline over two stores: the same
 * request gets the same status and the same headers from both. One fixture (basic), a real
 * Vite dev server on a scratch copy of it and a real Express server on its build.
 *
 * What differs by design, and only that (DIFFERS_BY_DESIGN below):
 * - `cache-control`: dev keeps nothing, so it tells browsers and proxies to keep nothing
 *   either (production's no-store value); production sends its ISR values.
 * - `x-isr-cache`: present in both, but dev's store keeps nothing, so a page is a MISS
 *   there each time where production answers a HIT from its cache.
 * - `etag`, `last-modified`: made from the body and the render time, and the bodies differ
 *   (dev pages carry Vite's client and HMR preamble instead of the build's asset links);
 *   `content-length` for the same reason. `date`: the clock.
 * - `vary: Origin`: set by Vite's CORS middleware, which runs before vite-isr's in dev (an
 *   answer that sets its own `Vary` replaces it). Not vite-isr's: left out of dev's `Vary`.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'

const DIFFERS_BY_DESIGN = new Set(['cache-control', 'etag', 'last-modified', 'content-length', 'date'])
/** Present in both, with a value that differs by design. */
const VALUE_DIFFERS_BY_DESIGN = new Set(['x-isr-cache'])

interface Answer {
  status: number
  headers: Record<string, string>
}

/** A raw request (no URL normalisation by the client: `/%62log/1` and `/a/../b` go as written). */
function send(base: string, method: string, path: string, headers: Record<string, string> = {}, dev = false): Promise<Answer> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { 'accept-encoding': 'br, gzip', ...headers }, timeout: 15_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, headers: comparable(res.headers, dev) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

function comparable(headers: IncomingHttpHeaders, dev: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (DIFFERS_BY_DESIGN.has(name) || value === undefined) continue
    out[name] = VALUE_DIFFERS_BY_DESIGN.has(name) ? '(differs by design)' : String(value)
  }
  if (dev && out.vary !== undefined) {
    const vary = out.vary.split(',').map((token) => token.trim()).filter((token) => token.toLowerCase() !== 'origin')
    if (vary.length > 0) out.vary = vary.join(', ')
    else delete out.vary
  }
  return out
}

/** [what it is, method, path, request headers]: the same list goes to both servers. */
const REQUESTS: [string, string, string, Record<string, string>?][] = [
  ['a page', 'GET', '/'],
  ['a static page', 'GET', '/static'],
  ['a dynamic page', 'GET', '/blog/1'],
  ['a dynamic page not prerendered', 'GET', '/blog/3'],
  ['a catch-all page', 'GET', '/docs/a/b'],
  ['a generateStaticParams path with dynamicParams = false', 'GET', '/fixed/a'],
  ['an unknown slug with dynamicParams = false', 'GET', '/fixed/b'],
  ['notFound() in a loader', 'GET', '/blog/404'],
  ['redirect() in a loader', 'GET', '/redirect-me'],
  ['an unknown path', 'GET', '/no/such/page'],
  ['a route handler', 'GET', '/echo/hello'],
  ['a route handler without the method', 'GET', '/api/revalidate'],
  ['a non-canonical path (trailing slash)', 'GET', '/blog/1/'],
  ['a non-canonical path (encoded letter)', 'GET', '/%62log/1'],
  ['a non-canonical path (dot segment)', 'GET', '/blog/../static'],
  ['HEAD of a page', 'HEAD', '/blog/1'],
  ['HEAD of a redirect', 'HEAD', '/blog/1/'],
  ['an encoded path', 'GET', '/fixed/%61'],
  ['an encoded non-ASCII path', 'GET', '/docs/%C3%A9t%C3%A9'],
  ['a bad path (malformed escape)', 'GET', '/blog/%E0%A4%A'],
  ['a bad path (encoded slash in a traversal)', 'GET', '/..%2f..%2fetc/passwd'],
  ['a page asked for identity only', 'GET', '/blog/1', { 'accept-encoding': 'identity' }],
  ['a page with a query string', 'GET', '/blog/2?ref=x'],
]

let dev: DevServer
let production: TestServer
let cache: ReturnType<typeof tempCacheDir>

beforeAll(async () => {
  resetDb()
  cache = tempCacheDir()
  ;[dev, production] = await Promise.all([
    startDevServer({ as: 'dev-matches-production' }),
    // Express's own X-Powered-By is the app's choice, not vite-isr's: off, so the lists compare.
    startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, configure: (app) => app.disable('x-powered-by') }),
  ])
})

afterAll(async () => {
  await Promise.all([dev?.close(), production?.close()])
  cache?.remove()
})

describe('dev and production answer the same request alike', () => {
  it.each(REQUESTS)('gives %s (%s %s) the same status and headers in dev as in production', async (_what, method, path, headers) => {
    const inDev = await send(dev.url, method, path, headers, true)
    const inProduction = await send(production.url, method, path, headers)
    expect(inDev).toEqual(inProduction)
  })

  it('leaves out only the documented headers, and production really sends them', async () => {
    const res = await production.get('/blog/1')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(res.headers.get('cache-control')).toMatch(/^s-maxage=/)
    const inDev = await dev.get('/blog/1')
    expect(inDev.headers.get('x-isr-cache')).toBe('MISS')
    expect(inDev.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
  })
})
