/**
 * Nothing a request, a loader or a cached entry holds can end the process (SPEC §11, issue
 * 12 items 1 and 10). The servers run in a child process (test/security/server-child.mjs)
 * that reports any unhandled rejection or uncaught exception as FATAL: each test fails if
 * one fires, or if the process ends by itself.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { copyBasicDist } from '../faults/helpers.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { useFixtureServer } from '../helpers/server.js'
import { startChild, type ChildConfig, type ChildServer } from './child.js'

const NIHON = '%E6%97%A5%E6%9C%AC' // 日本, above U+00FF

describe('crash-class inputs, in a server process of its own', () => {
  const dist = copyBasicDist('security-crash')
  let cache: ReturnType<typeof tempCacheDir>
  const children: ChildServer[] = []
  const start = async (config: Partial<ChildConfig> = {}) => {
    const child = await startChild({ distDir: dist.dir, cacheDir: cache.dir, ...config })
    children.push(child)
    return child
  }
  /** The process is still up, no FATAL was printed, and it still serves a page on both servers. */
  async function expectAlive(child: ChildServer) {
    for (const base of [child.middleware, child.fastPath]) {
      const res = await fetch(base + '/static')
      expect(res.status).toBe(200)
    }
    expect(child.fatal).toBeUndefined()
    expect(child.exit).toBeUndefined()
  }

  beforeEach(() => {
    cache = tempCacheDir()
  })
  afterEach(async () => {
    for (const child of children.splice(0)) await child.stop()
    cache.remove()
  })
  afterAll(() => dist.remove())

  it('a redirect built from a path above U+00FF goes out percent-encoded, is cached, and is served again after a restart, by both servers', async () => {
    let child = await start()
    for (const base of [child.middleware, child.fastPath]) {
      const states: (string | null)[] = []
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${base}/go/${NIHON}`, { redirect: 'manual' })
        expect(res.status).toBe(307)
        expect(res.headers.get('location')).toBe(`/dest/${NIHON}`)
        expect(res.headers.get('cache-control')).toMatch(/^s-maxage=60\b/)
        states.push(res.headers.get('x-isr-cache'))
      }
      expect(states).toEqual(['MISS', 'HIT', 'HIT'])
    }
    await expectAlive(child)

    // The entry is on disk: a restart over the same folders reads it back and serves it.
    await child.stop()
    child = await start()
    for (const base of [child.middleware, child.fastPath]) {
      const res = await fetch(`${base}/go/${NIHON}`, { redirect: 'manual' })
      expect([res.status, res.headers.get('location'), res.headers.get('x-isr-cache')]).toEqual([307, `/dest/${NIHON}`, 'HIT'])
    }
    await expectAlive(child)
  })

  it('CR/LF in a redirect target never reaches a header: they are removed, as a browser parses URLs, and no header is injected', async () => {
    const child = await start()
    for (const base of [child.middleware, child.fastPath]) {
      const res = await fetch(`${base}/go-query?to=${encodeURIComponent('/a\r\nSet-Cookie: sid=stolen\r\n\r\n<h1>x')}`, { redirect: 'manual' })
      expect(res.status).toBe(307)
      expect(res.headers.get('location')).toBe('/aSet-Cookie:%20sid=stolen%3Ch1%3Ex')
      expect(res.headers.get('set-cookie')).toBeNull()
      const other = await fetch(`${base}/go-query?to=${encodeURIComponent('//日本.example/ü?q=ß#ö')}`, { redirect: 'manual' })
      expect(other.headers.get('location')).toBe('//xn--wgv71a.example/%C3%BC?q=%C3%9F#%C3%B6')
    }
    await expectAlive(child)
  })

  it('with the CDN tag header on, pages at paths above U+00FF go out with their tags percent-encoded', async () => {
    for (const [cdnTagHeader, name, separator] of [[true, 'cache-tag', ','], ['Surrogate-Key', 'surrogate-key', ' ']] as const) {
      const child = await start({ cdnTagHeader })
      for (const base of [child.middleware, child.fastPath]) {
        for (const [path, status] of [[`/go/${NIHON}`, 307], [`/blog/${NIHON}`, 404], [`/docs/${NIHON}/a,b%20c`, 200]] as const) {
          for (let i = 0; i < 2; i++) {
            const res = await fetch(base + path, { redirect: 'manual' })
            await res.arrayBuffer()
            expect([path, res.status]).toEqual([path, status])
            const tags = res.headers.get(name)!.split(separator)
            // the path's own comma is encoded where a comma separates tags
            expect(tags[0]).toBe(`_isr_path:${separator === ',' ? path.replace(',', '%2C') : path}`)
          }
        }
      }
      await expectAlive(child)
      await child.stop()
    }
  })

  it('an entry whose status or headers cannot be sent, planted through cache.set, is dropped and rendered anew as a miss; after a restart too', async () => {
    const plant: { path: string; status: number; headers: Record<string, string> }[] = [
      { path: '/blog/1', status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'x-origin': '日本' } },
      { path: '/blog/2', status: 200, headers: { 'content-type': 'text/html; charset=utf-8', location: '/a\r\nSet-Cookie: x=1' } },
      { path: '/static', status: 1000, headers: { 'content-type': 'text/html; charset=utf-8' } },
    ]
    let child = await start({ plant })
    const expectRenderedAnew = async (base: string) => {
      for (const [path, title] of [['/blog/1', 'First post'], ['/blog/2', 'Second post'], ['/static', '']] as const) {
        const res = await fetch(base + path)
        const body = await res.text()
        expect([path, res.status, res.headers.get('x-isr-cache')]).toEqual([path, 200, 'MISS'])
        expect(body).not.toContain('planted')
        if (title) expect(body).toContain(`<h1>${title}</h1>`)
        expect(res.headers.get('x-origin')).toBeNull()
        const again = await fetch(base + path)
        expect([path, again.headers.get('x-isr-cache')]).toEqual([path, 'HIT'])
      }
    }
    for (const base of [child.middleware, child.fastPath]) await expectRenderedAnew(base)
    expect(child.stderr).toMatch(/the cached entry for \/blog\/1 cannot be sent \(header "x-origin"/)
    expect(child.stderr).toMatch(/the cached entry for \/static cannot be sent \(status 1000\)/)
    await expectAlive(child)

    // Planted again and read back from disk by a fresh process (nothing in its memory yet).
    await child.stop()
    child = await start({ plant })
    await child.stop()
    child = await start()
    for (const base of [child.middleware, child.fastPath]) await expectRenderedAnew(base)
    await expectAlive(child)
  })

  it('the fast path drops an unsendable entry it holds in memory and hands the request to the app, which renders it anew', async () => {
    const child = await start()
    const base = child.fastPath
    for (let i = 0; i < 2; i++) expect((await fetch(base + '/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
    expect((await fetch(`${base}/__plant?path=/blog/1&header=${NIHON}`, { method: 'POST' })).status).toBe(200)
    const res = await fetch(base + '/blog/1', { signal: AbortSignal.timeout(5_000) })
    expect([res.status, res.headers.get('x-isr-cache'), res.headers.get('x-origin')]).toEqual([200, 'MISS', null])
    expect(await res.text()).toContain('<h1>First post</h1>')
    expect((await fetch(base + '/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
    await expectAlive(child)
  })

  it('an error thrown while the headers are written answers a plain 500, drops the entry, and the next request renders it anew', async () => {
    const child = await start()
    // Middleware in front hooks writeHead (the on-headers pattern) and sets a header from the
    // request there: '日本' makes Node throw ERR_INVALID_CHAR inside vite-isr's writeHead.
    const breaking = { headers: { 'x-greet': NIHON } }
    const cases = [
      // A HIT held in memory (answered synchronously), on the middleware server.
      { base: child.middleware, path: '/blog/1', warm: true },
      // A first render (answered after a promise), on both servers: the fast path hands a
      // URL it has not seen to the app.
      { base: child.middleware, path: '/blog/3', warm: false },
      { base: child.fastPath, path: '/blog/2', warm: false },
    ]
    for (const { base, path, warm } of cases) {
      if (warm) expect((await fetch(base + path)).headers.get('x-isr-cache')).toBe('HIT')
      const failed = await fetch(base + path, breaking)
      const body = await failed.text()
      expect([path, failed.status, body]).toEqual([path, 500, 'Internal Server Error'])
      expect(failed.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
      for (const name of ['x-isr-cache', 'etag', 'content-encoding', 'x-greeting']) expect(failed.headers.get(name)).toBeNull()
      const next = await fetch(base + path)
      expect([path, next.status, next.headers.get('x-isr-cache')]).toEqual([path, 200, 'MISS'])
    }
    expect(child.stderr).toMatch(/sending \/blog\/1 failed; its cache entry is dropped/)
    await expectAlive(child)
  })

  it("a route handler's header that Node cannot send answers 500 without it, and the route keeps working", async () => {
    const child = await start()
    for (const base of [child.middleware, child.fastPath]) {
      // The Fetch API accepts \x01 and \x7f in a header value; Node does not.
      for (const v of ['a\u0001b', 'a\u007fb']) {
        const res = await fetch(`${base}/echo/x?v=${encodeURIComponent(v)}`)
        expect(res.status).toBe(500)
        expect(res.headers.get('x-echo')).toBeNull()
        await res.arrayBuffer()
      }
      const ok = await fetch(`${base}/echo/hello`)
      expect([ok.status, ok.headers.get('x-echo')]).toEqual([200, 'hello'])
    }
    await expectAlive(child)
  })
})

describe('streamed route handler responses', () => {
  const ctx = useFixtureServer()
  const counters = globalThis as { __streamCancels?: number }

  it('a client that goes away in the middle of a streamed response stops the stream, and the server keeps serving', async () => {
    const before = counters.__streamCancels ?? 0
    const abort = new AbortController()
    const res = await ctx.server.get('/stream', { signal: abort.signal })
    const reader = res.body!.getReader()
    await reader.read()
    abort.abort()
    // Waiting on the server's side of it: the cancel reaches the stream once Node sees the socket close.
    const deadline = Date.now() + 10_000
    while ((counters.__streamCancels ?? 0) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect((counters.__streamCancels ?? 0) - before).toBe(1)
    expect((await ctx.server.get('/static')).status).toBe(200)
  })
})
