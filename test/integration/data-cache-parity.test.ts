/**
 * The fetch() and cache() details that Next.js code depends on, each ported from an
 * assertion of Next.js's own tests (mostly test/e2e/app-dir/app-static), over HTTP against
 * the built data fixture and a real upstream server on 127.0.0.1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryCacheHandler, type CacheHandler } from 'vite-isr/runtime'
import { isr } from 'vite-isr/plugin'
import { copyFixture, viteBuild } from '../helpers/build.js'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { startServer, useFixtureServer, type TestServer } from '../helpers/server.js'
import type { DataSource } from '../fixtures/data/server/source.js'

interface Received {
  headers: IncomingHttpHeaders
  bytes: number
}

/**
 * The upstream: every answer carries the next value of one counter (equal values mean one
 * upstream call), `200 Fine` and an `x-origin` header; `/api/moved?q` redirects to
 * `/api/random?q`. `hold()` keeps answers back until released, as a slow upstream would.
 */
function startOrigin() {
  let counter = 0
  let held: Promise<void> | undefined
  const state = {
    url: '',
    hits: {} as Record<string, number>,
    received: {} as Record<string, Received[]>,
    /** Requests waiting on a hold. */
    waiting: 0,
    hold(): () => void {
      let release!: () => void
      held = new Promise<void>((resolve) => (release = resolve))
      return () => {
        held = undefined
        release()
      }
    },
    reset() {
      counter = 0
      state.hits = {}
      state.received = {}
    },
  }
  const server: Server = createServer(async (req, res) => {
    let bytes = 0
    for await (const chunk of req) bytes += (chunk as Buffer).length
    const key = `${req.method} ${req.url}`
    state.hits[key] = (state.hits[key] ?? 0) + 1
    ;(state.received[key] ??= []).push({ headers: req.headers, bytes })
    if (req.url!.startsWith('/api/moved')) {
      res.writeHead(302, { location: req.url!.replace('/api/moved', '/api/random') })
      res.end()
      return
    }
    if (held) {
      state.waiting++
      await held
      state.waiting--
    }
    const value = ++counter
    res.writeHead(200, 'Fine', { 'content-type': 'application/json', 'x-origin': 'test' })
    res.end(JSON.stringify({ value, name: req.url!.split('?')[0].split('/').pop(), version: value }))
  })
  return { server, state }
}

/** The text of the element with `id` in server-rendered HTML. */
function text(html: string, id: string): string {
  const match = new RegExp(`id="${id}">([^<]*)<`).exec(html)
  if (!match) throw new Error(`no element #${id} in the page`)
  return match[1].replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

describe('data cache parity with Next.js', () => {
  const { server: originServer, state: origin } = startOrigin()
  let source: DataSource
  beforeAll(async () => {
    await new Promise<void>((resolve) => originServer.listen(0, '127.0.0.1', resolve))
    origin.url = `http://127.0.0.1:${(originServer.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => originServer.close(() => resolve())))
  beforeEach(() => {
    source = resetDataSource(origin.url)
    origin.reset()
  })
  const t = useFixtureServer({ distDir: DATA_DIST, debug: true })
  const page = async (path: string) => {
    const res = await t.server.get(path)
    expect(res.status, `${path} answered ${res.status}`).toBe(200)
    return res.text()
  }

  it('gives a cached fetch response the url, status, statusText, headers and redirected the upstream gave', async () => {
    const direct = await fetch(`${origin.url}/api/moved?c3`)
    origin.reset()
    for (const round of [1, 2]) {
      const html = await page('/response-url')
      expect(text(html, 'data-url-default-cache')).toBe(`${origin.url}/api/random?a1`)
      expect(text(html, 'data-url-no-cache')).toBe(`${origin.url}/api/random?b2`)
      expect(text(html, 'data-url-cached')).toBe(`${origin.url}/api/random?a1`)
      expect(text(html, 'data-value-default-cache')).toBe(text(html, 'data-value-cached'))
      for (const id of ['moved', 'moved-cached']) {
        expect(text(html, `${id}-url`), `${id}, render ${round}`).toBe(direct.url)
        expect(text(html, `${id}-status`)).toBe(String(direct.status))
        expect(text(html, `${id}-statusText`)).toBe(direct.statusText)
        expect(text(html, `${id}-redirected`)).toBe(String(direct.redirected))
        expect(text(html, `${id}-origin`)).toBe(direct.headers.get('x-origin'))
        expect(text(html, `${id}-type`)).toBe(direct.headers.get('content-type'))
      }
    }
    expect([direct.url, direct.statusText, direct.redirected]).toEqual([`${origin.url}/api/random?c3`, 'Fine', true])
    // two renders: the cached URLs went upstream once, the no-store one each time
    expect(origin.hits).toEqual({ 'GET /api/random?a1': 1, 'GET /api/random?b2': 2, 'GET /api/moved?c3': 1, 'GET /api/random?c3': 1 })
  })

  it('caches POST fetches with next.revalidate, keyed on their body, and sends bodies over 1 MiB uncached', async () => {
    const first = await page('/post-method/1')
    const second = await page('/post-method/2')
    const kinds = ['string', 'string-other', 'bytes', 'params', 'form', 'form-other', 'json', 'json-other']
    const values = kinds.map((kind) => text(first, `data-body-${kind}`))
    // each body is its own entry...
    expect(new Set(values).size).toBe(kinds.length)
    // ...found again by the next render, a FormData too (its multipart boundary is new each time)
    expect(kinds.map((kind) => text(second, `data-body-${kind}`))).toEqual(values)
    expect(text(second, 'data-body-big')).not.toBe(text(first, 'data-body-big'))
    const calls = origin.hits['POST /api/random?post']
    console.log(`upstream POST calls for 2 renders of 8 cacheable bodies and 1 over 1 MiB: ${calls}`)
    expect(calls).toBe(kinds.length + 2)
    // what went upstream is the body the page sent
    const received = origin.received['POST /api/random?post']
    expect(received.map((r) => r.bytes)).toContain(1024 * 1024 + 1)
    expect(received.some((r) => /^multipart\/form-data; boundary=/.test(r.headers['content-type'] ?? ''))).toBe(true)
    expect(t.server.logs.join('\n')).toContain(`bypass fetch POST ${origin.url}/api/random?post reason=request body over 1048576 bytes`)
  })

  it('does not cache a POST fetch in a page rendered per request, and still caches its GET fetch', async () => {
    const first = await page('/post-method-dynamic')
    const second = await page('/post-method-dynamic')
    expect(text(second, 'data-post')).not.toBe(text(first, 'data-post'))
    expect(text(second, 'data-get')).toBe(text(first, 'data-get'))
    expect(origin.hits).toMatchObject({ 'POST /api/random?post-dynamic': 2, 'GET /api/random?get-dynamic': 1 })
  })

  it('still caches when the W3C trace context headers traceparent and tracestate differ, and keys on the other headers', async () => {
    const first = await page('/traced/1')
    const second = await page('/traced/2')
    expect(text(second, 'data-traced')).toBe(text(first, 'data-traced'))
    expect(text(second, 'data-tenant')).not.toBe(text(first, 'data-tenant'))
    expect(origin.hits).toEqual({ 'GET /api/random?traced': 1, 'GET /api/random?tenant': 2 })
    // the headers are left out of the key, not out of the request
    expect(origin.received['GET /api/random?traced'][0].headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  })

  it('stores and returns undefined from cache() without an error', async () => {
    for (let i = 0; i < 2; i++) expect(text(await page('/unstable-cache-undefined'), 'cached-value-type')).toBe('undefined')
    expect(source.calls.nothing).toBe(1)
  })

  it('serves stale fetch data at once in a page rendered per request, and refreshes it in the background', async () => {
    const first = text(await page('/stale-cache-serving'), 'data')
    t.clock.advance(4_000) // the fetch (revalidate 3) is stale
    const release = origin.hold()
    try {
      const started = performance.now()
      const html = await withDeadline(page('/stale-cache-serving'), 5_000, 'the per-request page waited for the held upstream')
      const ms = performance.now() - started
      expect(text(html, 'data')).toBe(first)
      // the refresh is under way, held upstream
      await expect.poll(() => origin.waiting).toBe(1)
      console.log(`per-request page with stale fetch data answered in ${ms.toFixed(1)} ms while the upstream was held`)
    } finally {
      release()
    }
    await expect.poll(async () => text(await page('/stale-cache-serving'), 'data')).toBe(String(Number(first) + 1))
    expect(origin.hits['GET /api/random?stale']).toBe(2)
  })

  it('makes a cached page regenerating with stale fetch data wait for fresh data', async () => {
    expect(await page('/remote/held')).toContain('held v1')
    t.clock.advance(31_000) // the fetch (30 s) and so the page are stale
    const release = origin.hold()
    try {
      const stale = await t.server.get('/remote/held')
      expect(stale.headers.get('x-isr-cache')).toBe('STALE')
      expect(await stale.text()).toContain('held v1')
      // the regeneration waits on the upstream instead of rendering the stale data again
      await expect.poll(() => origin.waiting).toBe(1)
      expect((await t.server.get('/remote/held')).headers.get('x-isr-cache')).toBe('STALE')
    } finally {
      release()
    }
    await expect.poll(async () => (await t.server.get('/remote/held')).headers.get('x-isr-cache')).toBe('HIT')
    expect(await page('/remote/held')).toContain('held v2')
  })
})

describe('expireTime: Infinity', () => {
  const SWR = 0xfffffffe - 60
  let dir: string
  let server: TestServer
  beforeAll(async () => {
    dir = copyFixture('minimal', 'expire-infinity')
    mkdirSync(join(dir, 'app/late/[slug]'), { recursive: true })
    writeFileSync(join(dir, 'app/late/[slug]/page.tsx'), `export const revalidate = 60\n\nexport default function Late() {\n  return <p>late</p>\n}\n`)
    writeFileSync(
      join(dir, 'vite.config.ts'),
      `import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { isr } from 'vite-isr/plugin'
export default defineConfig({ plugins: [react(), isr({ expireTime: Infinity })] })
`,
    )
    const result = await viteBuild(dir)
    if (result.code !== 0) throw new Error(result.output)
    server = await startServer({ distDir: join(dir, 'dist'), cacheDir: join(dir, 'cache'), expireTime: Infinity })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('serves a well-formed cache-control header for an Infinity expireTime, from isr() and from createISRHandler()', async () => {
    // prerendered at build with isr({ expireTime: Infinity })
    const built = await server.get('/')
    expect(built.headers.get('x-isr-cache')).toBe('HIT')
    // rendered at run time with createISRHandler({ expireTime: Infinity })
    const late = await server.get('/late/x')
    expect(late.headers.get('x-isr-cache')).toBe('MISS')
    for (const res of [built, late]) {
      expect(res.headers.get('cache-control')).toMatch(/^s-maxage=60, stale-while-revalidate=\d+$/)
      expect(res.headers.get('cache-control')).toBe(`s-maxage=60, stale-while-revalidate=${SWR}`)
    }
    // both entries hold the finite stand-in, which JSON stores (files, Redis) keep as it is
    const { buildId } = JSON.parse(readFileSync(join(dir, 'dist/prerender-manifest.json'), 'utf8')) as { buildId: string }
    for (const path of ['/', '/late/x']) expect((await server.isr.cache.get(`page:${buildId}:${path}`))?.expire, path).toBe(0xfffffffe)
  })

  it('sends a finite header for an entry its cache handler holds with expire Infinity', async () => {
    const memory = createMemoryCacheHandler({ maxSize: 10_000_000 })
    const handler: CacheHandler = { ...memory, name: 'keeps-infinity', set: (key, entry, options) => memory.set(key, { ...entry, expire: Infinity }, options) }
    const other = await startServer({ distDir: join(dir, 'dist'), cacheHandler: handler, cacheMaxMemorySize: 0 })
    try {
      await other.get('/late/y')
      const hit = await other.get('/late/y')
      expect(hit.headers.get('x-isr-cache')).toBe('HIT')
      expect(hit.headers.get('cache-control')).toBe(`s-maxage=60, stale-while-revalidate=${SWR}`)
    } finally {
      await other.close()
    }
  })

  it('refuses other non-finite values with the same rule in isr() and createISRHandler()', async () => {
    for (const expireTime of [-Infinity, NaN, 0]) {
      expect(() => isr({ expireTime })).toThrow(new TypeError(`[vite-isr] isr(): expireTime must be a positive number of seconds, or Infinity for never (got ${expireTime})`))
      await expect(startServer({ distDir: join(dir, 'dist'), expireTime })).rejects.toThrow(
        new TypeError(`[vite-isr] createISRHandler: expireTime must be a positive number of seconds, or Infinity for never (got ${expireTime})`),
      )
    }
  })
})
