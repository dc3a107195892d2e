/**
 * The serving pipeline's decisions, without a build: a route table and page modules held in
 * memory, the real page server, SWR core, memory store and pipeline behind a real Express
 * app on 127.0.0.1, called over TCP.
 */
import express from 'express'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { createElement } from 'react'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import type { CacheEntry } from '../../runtime/cache/handlers/types.js'
import { createSWR, type SWR } from '../../runtime/cache/swr.js'
import { createLogger } from '../../runtime/inspect/debug.js'
import { prepareEntry } from '../../runtime/render/prepare.js'
import type { RenderApp } from '../../runtime/render/render.js'
import type { RouteDefinition, ServerEntry } from '../../runtime/routes/route-table.js'
import { createRouter } from '../../runtime/routes/router.js'
import { createPageServer } from '../../runtime/serve/pages.js'
import { createPipeline } from '../../runtime/serve/pipeline.js'
import { createResolver } from '../../runtime/serve/resolve.js'
import { decideResponse, NO_EXTRAS, responseState } from '../../runtime/serve/response.js'
import { createClock } from '../helpers/clock.js'

const page = (pattern: string, file: string, extra: Partial<RouteDefinition> = {}): RouteDefinition => ({
  kind: 'page',
  pattern,
  segments: pattern === '/' ? [] : pattern.slice(1).split('/').map((part) => (part.startsWith('[') ? { type: 'dynamic', name: part.slice(1, -1) } : { type: 'static', value: part })),
  file,
  layouts: ['app/layout.tsx'],
  revalidate: 60,
  dynamicParams: true,
  dynamic: 'auto',
  hasGenerateStaticParams: false,
  ...extra,
})

const routes: RouteDefinition[] = [
  page('/items/[id]', 'app/items/[id]/page.tsx'),
  page('/fixed/[id]', 'app/fixed/[id]/page.tsx', { dynamicParams: false }),
  page('/live', 'app/live/page.tsx', { revalidate: 0 }),
  { ...page('/api/hello', 'app/api/hello/route.ts'), kind: 'route' },
]

// Long enough to be compressed (over 860 bytes), and the same on every render.
const text = (id: string) => `Item ${id}: ` + 'lorem ipsum dolor sit amet '.repeat(60)
const modules: Record<string, Record<string, unknown>> = {
  'app/layout.tsx': { default: ({ children }: { children: unknown }) => createElement('html', null, createElement('body', null, children as never)) },
  'app/items/[id]/page.tsx': { default: ({ params }: { params: { id: string } }) => createElement('p', null, text(params.id)) },
  'app/fixed/[id]/page.tsx': { default: ({ params }: { params: { id: string } }) => createElement('p', null, text(params.id)) },
  'app/live/page.tsx': { default: () => createElement('p', null, text('live')) },
  'app/api/hello/route.ts': { GET: () => new Response('hello') },
}
const entry: ServerEntry = {
  routes,
  modules: Object.fromEntries(Object.entries(modules).map(([file, mod]) => [file, async () => mod])),
  app: { rootLayouts: ['app/layout.tsx'], notFound: null, error: null },
}
const BUILD = 'unit-build'

interface Served {
  server: Server
  port: number
  swr: SWR
  /** Requests that reached the Express app (the fast path answers the others itself). */
  appCalls: number
}

const clock = createClock(1_700_000_000_000)

async function serve(mode: 'middleware' | 'fast-path'): Promise<Served> {
  const log = createLogger({ debug: false, write: () => {} })
  const store = createMemoryCacheHandler()
  const swr = createSWR({ handler: store, buildId: BUILD, now: clock.now, timeout: 5_000, retry: { min: 1_000, max: 1_000 }, log })
  const app: RenderApp = { entry, assets: () => ({ head: '', body: '' }) }
  const router = createRouter(routes)
  const pages = createPageServer({ app, router, swr, handler: store, buildId: BUILD, expireTime: 31_536_000, prerendered: new Set(), now: clock.now, log })
  const pipeline = createPipeline({ router, pages, staticFiles: new Set(), serveStatic: (_req, _res, next) => next(), base: '/', modules: entry.modules, maxBodySize: 1024 * 1024, log })
  const served = { swr, appCalls: 0 } as Served
  const express_ = express()
  express_.use((_req, _res, next) => {
    served.appCalls++
    next()
  })
  express_.use(pipeline)
  served.server = createServer(mode === 'fast-path' ? pipeline.wrap(express_) : express_)
  await new Promise<void>((resolve) => served.server.listen(0, '127.0.0.1', resolve))
  served.port = (served.server.address() as AddressInfo).port
  return served
}

/** The raw bytes of one answer, with the Date header (the only one that may differ) taken out. */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1').replace(/\r\nDate: [^\r]*/, '')))
    const lines = Object.entries({ Host: 'localhost', Connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}`)
    socket.write(`${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`)
  })
}

const stateOf = (answer: string) => /\r\nx-isr-cache: (\w+)/i.exec(answer)?.[1]
const statusOf = (answer: string) => Number(answer.slice(9, 12))
const etagOf = (answer: string) => /\r\netag: ("[^"]+")/i.exec(answer)?.[1]

describe('the fast path and the middleware', () => {
  let middleware: Served
  let fast: Served
  beforeAll(async () => {
    middleware = await serve('middleware')
    fast = await serve('fast-path')
  })
  afterAll(() => {
    middleware.server.close()
    fast.server.close()
  })

  const settle = async () => {
    await Promise.all([...middleware.swr.pending.values(), ...fast.swr.pending.values()])
  }

  it('give byte-identical answers in every state: MISS, HIT in each encoding, HEAD, 304, STALE, BYPASS and 404', async () => {
    const steps: { name: string; method?: string; path: string; headers?: Record<string, string>; status: number; state: string; fastPathAlone: boolean }[] = [
      { name: 'MISS', path: '/items/1', headers: { 'Accept-Encoding': 'br' }, status: 200, state: 'MISS', fastPathAlone: false },
      { name: 'HIT br', path: '/items/1', headers: { 'Accept-Encoding': 'gzip, br' }, status: 200, state: 'HIT', fastPathAlone: true },
      { name: 'HIT gzip', path: '/items/1', headers: { 'Accept-Encoding': 'gzip' }, status: 200, state: 'HIT', fastPathAlone: true },
      { name: 'HIT identity', path: '/items/1', status: 200, state: 'HIT', fastPathAlone: true },
      { name: 'HEAD', method: 'HEAD', path: '/items/1', headers: { 'Accept-Encoding': 'br' }, status: 200, state: 'HIT', fastPathAlone: true },
      { name: 'BYPASS', path: '/live', headers: { 'Accept-Encoding': 'gzip' }, status: 200, state: 'BYPASS', fastPathAlone: false },
      { name: '404 of an unknown path', path: '/nope', status: 404, state: 'BYPASS', fastPathAlone: false },
      { name: '404 of a path outside dynamicParams = false', path: '/fixed/9', status: 404, state: 'BYPASS', fastPathAlone: false },
    ]
    const seen: string[] = []
    for (const step of steps) {
      const beforeApp = fast.appCalls
      const a = await raw(middleware.port, step.method ?? 'GET', step.path, step.headers)
      const b = await raw(fast.port, step.method ?? 'GET', step.path, step.headers)
      expect(b, step.name).toBe(a)
      expect([statusOf(a), stateOf(a)], step.name).toEqual([step.status, step.state])
      expect(fast.appCalls - beforeApp, `${step.name}: requests that reached the app behind the fast path`).toBe(step.fastPathAlone ? 0 : 1)
      seen.push(step.name)
    }

    const etag = etagOf(await raw(middleware.port, 'GET', '/items/1', { 'Accept-Encoding': 'br' }))!
    expect(etag).toMatch(/-br"$/)
    const notModified = [await raw(middleware.port, 'GET', '/items/1', { 'If-None-Match': etag }), await raw(fast.port, 'GET', '/items/1', { 'If-None-Match': etag })]
    expect(notModified[1]).toBe(notModified[0])
    expect([statusOf(notModified[0]), stateOf(notModified[0])]).toEqual([304, 'HIT'])

    clock.advance(61_000)
    const stale = [await raw(middleware.port, 'GET', '/items/1'), await raw(fast.port, 'GET', '/items/1')]
    await settle()
    expect(stale[1]).toBe(stale[0])
    expect(stateOf(stale[0])).toBe('STALE')
    const after = [await raw(middleware.port, 'GET', '/items/1'), await raw(fast.port, 'GET', '/items/1')]
    expect(after[1]).toBe(after[0])
    expect(stateOf(after[0])).toBe('HIT')
    console.log(`fast path vs middleware: byte-identical in ${seen.length + 3} states (${[...seen, '304', 'STALE', 'HIT after the regeneration'].join(', ')})`)
  })
})

describe('the page server', () => {
  it("answers with `sync` only what is held in memory, and writes nothing when it cannot", async () => {
    const log = createLogger({ debug: false, write: () => {} })
    const store = createMemoryCacheHandler()
    const swr = createSWR({ handler: store, buildId: BUILD, now: clock.now, timeout: 5_000, retry: { min: 1_000, max: 1_000 }, log })
    const router = createRouter(routes)
    const pages = createPageServer({ app: { entry, assets: () => ({ head: '', body: '' }) }, router, swr, handler: store, buildId: BUILD, expireTime: 31_536_000, prerendered: new Set(), now: clock.now, log })
    const written: unknown[] = []
    const res = { writeHead: (...args: unknown[]) => written.push(args), end: () => written.push('end'), getHeader: () => undefined, headersSent: false } as unknown as ServerResponse
    const req = { method: 'GET', url: '/items/2', headers: {} } as IncomingMessage
    const target = pages.target('/items/2', router.match('/items/2')!)
    expect(pages.serve(req, res, target, NO_EXTRAS, true)).toBe(false)
    expect(pages.serve(req, res, pages.target('/live', router.match('/live')!), NO_EXTRAS, true)).toBe(false)
    expect(pages.serve(req, res, null, NO_EXTRAS, true)).toBe(false)
    expect(written).toEqual([])
    expect(swr.pending.size).toBe(0)
    await pages.serve(req, res, target)
    expect(written.length).toBe(2)
    expect(pages.serve(req, res, target, NO_EXTRAS, true)).toBe(true)
    expect(written.length).toBe(4)
  })

  it('answers an entry rendered per request as BYPASS on both steps, even one a store handed back', async () => {
    const log = createLogger({ debug: false, write: () => {} })
    const store = createMemoryCacheHandler()
    const swr = createSWR({ handler: store, buildId: BUILD, now: clock.now, timeout: 5_000, retry: { min: 1_000, max: 1_000 }, log })
    const router = createRouter(routes)
    const pages = createPageServer({ app: { entry, assets: () => ({ head: '', body: '' }) }, router, swr, handler: store, buildId: BUILD, expireTime: 31_536_000, prerendered: new Set(), now: clock.now, log })
    const target = pages.target('/items/7', router.match('/items/7')!)
    const dynamic = await prepareEntry({ kind: 'page', value: Buffer.from('<p>per request</p>'), lastModified: clock.now(), revalidate: 0, expire: 31_536_000, tags: [], buildId: BUILD, status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } })
    store.set(target.key, dynamic)
    const states: unknown[] = []
    const res = { writeHead: (_status: number, headers: string[]) => states.push(headers[headers.indexOf('x-isr-cache') + 1]), end: () => {}, getHeader: () => undefined, headersSent: false } as unknown as ServerResponse
    const req = { method: 'GET', url: '/items/7', headers: {} } as IncomingMessage
    expect(pages.serve(req, res, target, NO_EXTRAS, true)).toBe(true)
    await pages.serve(req, res, target)
    expect(states).toEqual(['BYPASS', 'BYPASS'])
  })
})

describe('resolve', () => {
  const router = createRouter(routes)
  const make = (inspector = false) =>
    createResolver({ router, staticFiles: new Set(['/favicon.ico']), inspectorPath: inspector ? '/__isr' : undefined, target: (pathname, match) => ({ pathname, match, key: pathname, generate: async () => { throw new Error('not rendered here') } }) })

  it('refuses a malformed path with 400 and a path no page may have with 404', () => {
    expect(make().resolve('/a%2fb', 'GET')).toMatchObject({ kind: 'reject', status: 400 })
    expect(make().resolve('/a/../b', 'GET')).toMatchObject({ kind: 'reject', status: 404 })
  })

  it('sends another spelling of a path to its canonical spelling, query kept', () => {
    expect(make().resolve('/items/1/?x=1', 'GET')).toEqual({ kind: 'redirect', location: '/items/1?x=1' })
  })

  it('gives the inspector its paths only when it is on, before static files and pages', () => {
    expect(make(true).resolve('/__isr/data.json', 'GET')).toEqual({ kind: 'inspector', pathname: '/__isr/data.json' })
    expect(make(false).resolve('/__isr', 'GET')).toEqual({ kind: 'page', target: null })
  })

  it('serves static files to reads only, route handlers to every method, pages to reads', () => {
    const resolver = make()
    expect(resolver.resolve('/favicon.ico', 'GET')).toEqual({ kind: 'static', pathname: '/favicon.ico' })
    expect(resolver.resolve('/favicon.ico', 'POST')).toEqual({ kind: 'next' })
    expect(resolver.resolve('/api/hello', 'POST')).toMatchObject({ kind: 'route', pathname: '/api/hello' })
    expect(resolver.resolve('/items/3', 'POST')).toEqual({ kind: 'next' })
    expect(resolver.resolve('/items/3', 'GET')).toMatchObject({ kind: 'page', target: { pathname: '/items/3', key: '/items/3' } })
    expect(resolver.resolve('/nowhere', 'GET')).toEqual({ kind: 'page', target: null })
  })

  it('keeps a page resolution by URL for the fast path, never one with a query string', () => {
    const resolver = make()
    expect(resolver.known('/items/4')).toBeUndefined()
    const first = resolver.resolve('/items/4', 'GET')
    expect(resolver.known('/items/4')).toBe((first as { target: unknown }).target)
    expect(resolver.resolve('/items/4', 'GET')).toEqual(first)
    resolver.resolve('/items/5?q=1', 'GET')
    expect(resolver.known('/items/5?q=1')).toBeUndefined()
  })
})

describe('decideResponse', () => {
  const base: CacheEntry = {
    kind: 'page',
    value: Buffer.from('<p>' + 'x'.repeat(2000) + '</p>'),
    lastModified: 0,
    revalidate: 60,
    expire: 31_536_000,
    tags: [],
    buildId: BUILD,
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
  }
  let prepared: CacheEntry
  beforeAll(async () => {
    prepared = await prepareEntry(base)
  })

  it('picks the body prepared for the negotiated encoding, br before gzip', () => {
    expect(decideResponse('GET', 'gzip, br', undefined, prepared)).toMatchObject({ status: 200, encoding: 'br', body: prepared.encodings!.br })
    expect(decideResponse('GET', 'gzip', undefined, prepared)).toMatchObject({ encoding: 'gzip', body: prepared.encodings!.gzip })
    expect(decideResponse('GET', 'br;q=0, gzip;q=0', undefined, prepared)).toMatchObject({ encoding: 'identity', body: prepared.value })
  })

  it('sends a body as it is when it was stored without compressed copies', () => {
    expect(decideResponse('GET', 'br', undefined, { ...prepared, encodings: {} })).toMatchObject({ encoding: 'identity', body: prepared.value })
  })

  it('answers 304 to an If-None-Match naming any variant of the ETag, with no body', () => {
    for (const tag of [`"${prepared.etag}"`, `W/"${prepared.etag}-br"`, `"other", "${prepared.etag}-gz"`]) {
      expect(decideResponse('GET', 'br', tag, prepared)).toEqual({ status: 304, encoding: 'br', notModified: true, body: undefined })
    }
    expect(decideResponse('GET', 'br', '"other"', prepared).status).toBe(200)
  })

  it('sends no body to HEAD, and no 304 for an entry without an ETag (a 404)', () => {
    expect(decideResponse('HEAD', 'br', undefined, prepared)).toMatchObject({ status: 200, encoding: 'br', body: undefined })
    expect(decideResponse('GET', undefined, '*', { ...prepared, status: 404, etag: undefined })).toMatchObject({ status: 404, notModified: false })
  })

  it('answers an entry rendered per request as BYPASS whatever the read said', () => {
    expect(responseState({ ...base, revalidate: 0 }, 'HIT')).toBe('BYPASS')
    expect(responseState(base, 'STALE')).toBe('STALE')
  })
})
