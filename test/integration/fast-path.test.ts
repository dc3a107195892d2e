/**
 * `http.createServer(isr.wrap(app))` answers what it can from memory before Express runs,
 * and must answer exactly as `app.use(isr)` alone would: the same status, headers and
 * bytes, X-Powered-By included when the app sends it. Two servers side by side, one per
 * way of serving; a counter mounted before the ISR handler shows which answers Express saw.
 */
import { request } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type TestServer } from '../helpers/server.js'

interface Answer {
  status: number
  headers: Record<string, string>
  body: Buffer
}

// Connection details differ per socket and per second, not per way of serving.
const PER_CONNECTION = new Set(['date', 'connection', 'keep-alive'])

/** One raw request (no client-side decompression or default headers), its headers lower-cased. */
function send(server: TestServer, path: string, method: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(server.url + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const kept: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) if (!PER_CONNECTION.has(name)) kept[name] = String(value)
        resolve({ status: res.statusCode!, headers: kept, body: Buffer.concat(chunks) })
      })
    })
      .on('error', reject)
      .end()
  })
}

describe.each([
  { poweredBy: true, label: 'an app with X-Powered-By (Express’s default)' },
  { poweredBy: false, label: 'an app with x-powered-by disabled' },
])('the wrap() fast path and the middleware, $label', ({ poweredBy }) => {
  let clock: TestClock
  let db: ReturnType<typeof resetDb>
  let caches: ReturnType<typeof tempCacheDir>[]
  const servers = {} as Record<ServeMode, TestServer>
  /** Requests that reached the Express app, per way of serving. */
  const reachedExpress: Record<ServeMode, number> = { middleware: 0, 'fast-path': 0 }

  beforeEach(async () => {
    db = resetDb()
    clock = createClock(afterBuild(BASIC_DIST))
    caches = []
    for (const mode of ['middleware', 'fast-path'] as const) {
      const cache = tempCacheDir()
      caches.push(cache)
      servers[mode] = await startServer({
        mode,
        distDir: BASIC_DIST,
        cacheDir: cache.dir,
        now: clock.now,
        configure(app) {
          if (!poweredBy) app.disable('x-powered-by')
          app.use((_req, _res, next) => {
            reachedExpress[mode]++
            next()
          })
        },
      })
    }
  })
  afterEach(async () => {
    for (const server of Object.values(servers)) await server.close()
    for (const cache of caches) cache.remove()
  })

  /** The same request to both servers; the fast-path server's must not have reached Express. */
  async function both(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Record<ServeMode, Answer>> {
    const before = { ...reachedExpress }
    const [middleware, fastPath] = await Promise.all([send(servers.middleware, path, method, headers), send(servers['fast-path'], path, method, headers)])
    expect(reachedExpress.middleware - before.middleware, `${method} ${path} through the middleware`).toBe(1)
    expect(reachedExpress['fast-path'] - before['fast-path'], `${method} ${path} answered by the fast path`).toBe(0)
    return { middleware, 'fast-path': fastPath }
  }

  it('answers a HIT, its 304, its HEAD and its gzip and br bodies with the same status, headers and bytes', async () => {
    // The first request of a URL goes through Express on both (the fast path knows only URLs it has seen).
    await Promise.all([send(servers.middleware, '/blog/1', 'GET', {}), send(servers['fast-path'], '/blog/1', 'GET', {})])

    const plain = await both('/blog/1')
    expect(plain.middleware.headers['x-isr-cache']).toBe('HIT')
    expect(plain.middleware.headers['x-powered-by']).toBe(poweredBy ? 'Express' : undefined)
    expect(plain['fast-path']).toEqual(plain.middleware)

    const etag = plain.middleware.headers.etag
    const variants: [string, Record<string, string>][] = [
      ['GET', { 'if-none-match': etag }],
      ['HEAD', {}],
      ['GET', { 'accept-encoding': 'gzip' }],
      ['GET', { 'accept-encoding': 'br, gzip' }],
      ['GET', { 'accept-encoding': 'gzip', 'if-none-match': `"nope", ${etag}` }],
    ]
    for (const [method, headers] of variants) {
      const answers = await both('/blog/1', method, headers)
      expect(answers['fast-path'], `${method} ${JSON.stringify(headers)}`).toEqual(answers.middleware)
    }
  })

  it('answers a STALE page the same way, and each starts one regeneration', async () => {
    await Promise.all([send(servers.middleware, '/blog/2', 'GET', {}), send(servers['fast-path'], '/blog/2', 'GET', {})])
    clock.advance(61_000)
    const stale = await both('/blog/2')
    expect(stale.middleware.headers['x-isr-cache']).toBe('STALE')
    expect(stale['fast-path']).toEqual(stale.middleware)
    // one background regeneration per server (prerendered, so none before)
    await expect.poll(() => db.renders['/blog/2']).toBe(2)
  })
})
