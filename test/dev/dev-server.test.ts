/**
 * `vite` (dev): a real Vite dev server on a scratch copy of the basic fixture, driven over
 * HTTP. Pages and route handlers render on every request, nothing is cached, HMR is wired
 * in, edits on disk show on the next request, and failures answer instead of hanging.
 */
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'

interface FixtureDb {
  posts: Record<string, { title: string; body: string }>
  renders: Record<string, number>
  fail: false | 'throw' | 'hang'
  delayMs: number
}

/** The fixture's stand-in database lives on globalThis; the SSR module runner shares this process. */
const fixtureDb = (): FixtureDb => {
  const db = (globalThis as { __fixtureDb?: FixtureDb }).__fixtureDb
  if (!db) throw new Error('the fixture db was never loaded by the dev server')
  return db
}

/** `render 3` in the page, however React separates the text nodes. */
function renderCount(html: string): number {
  const match = /id="render">render (?:<!-- -->)?(\d+)</.exec(html)
  if (!match) throw new Error(`no render counter in:\n${html}`)
  return Number(match[1])
}

const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

let dev: DevServer
let dir: string
const stderr: string[] = []
const originalWrite = process.stderr.write.bind(process.stderr)

const get = (path: string, init?: RequestInit): Promise<Response> => dev.get(path, init)

beforeAll(async () => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    stderr.push(text)
    // the debug lines are asserted below; everything else still reaches the terminal
    if (text.startsWith('[vite-isr] dev ')) return true
    return (originalWrite as (...args: unknown[]) => boolean)(chunk, ...rest)
  }) as typeof process.stderr.write
  dev = await startDevServer({ as: 'dev', env: { ISR_DEBUG_CACHE: '1' } })
  dir = dev.dir
})

afterAll(async () => {
  process.stderr.write = originalWrite
  await dev?.close()
})

afterEach(() => {
  const db = (globalThis as { __fixtureDb?: FixtureDb }).__fixtureDb
  if (db) {
    db.fail = false
    db.delayMs = 0
  }
})

describe('vite dev server', () => {
  it('renders a page with its loader data, with status 200', async () => {
    const res = await get('/blog/1')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html).toContain('<h1>First post</h1>')
    expect(html).toContain('Hello from the first post.')
    expect(html).toContain('data-layout="blog"')
    expect(html).toContain('<title>First post</title>')
    // the loader's data is serialised for hydration
    expect(html).toMatch(/"title":"First post"/)
  })

  it('renders on every request: nothing is cached, cache-control is no-store', async () => {
    const first = await get('/')
    const second = await get('/')
    expect(first.status).toBe(200)
    expect(second.status).toBe(200)
    const a = renderCount(await first.text())
    const b = renderCount(await second.text())
    expect(b).toBe(a + 1)
    expect(fixtureDb().renders['/']).toBe(b)
    for (const res of [first, second]) {
      // production's value for what it does not keep: no browser or proxy keeps a dev page either
      expect(res.headers.get('cache-control')).toBe(NO_STORE)
      // the store keeps nothing: every page is a miss that renders
      expect(res.headers.get('x-isr-cache')).toBe('MISS')
    }
  })

  it('serves a prerender-able ISR page fresh each time too (revalidate = 60 is ignored in dev)', async () => {
    const a = renderCount(await (await get('/blog/1')).text())
    const b = renderCount(await (await get('/blog/1')).text())
    expect(b).toBe(a + 1)
  })

  it('serves the page data payload for client navigation, rendered per request and never cached', async () => {
    const html = await (await get('/blog/1')).text()
    expect(html).toContain('"buildId":"development"')
    const res = await get('/_isr/data/development/blog/1.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('cache-control')).toMatch(/no-store/)
    const payload = await res.json()
    expect(payload).toMatchObject({ kind: 'page', page: 'app/blog/[id]/page.tsx', params: { id: '1' }, data: { title: 'First post' } })
    expect((await (await get('/_isr/data/development/blog/1.json')).json()).data.renders).toBe(payload.data.renders + 1)
    expect((await get('/_isr/data/another/blog/1.json')).status).toBe(404)
    expect((await get('/_isr/data/development/api/body.json')).status).toBe(404)
  })

  it('includes the Vite client (HMR) and a client entry that Vite serves', async () => {
    const html = await (await get('/')).text()
    expect(html).toContain('/@vite/client')
    expect(html).toContain('/@react-refresh')
    const scripts = [...html.matchAll(/<script type="module" src="([^"]+)"><\/script>/g)].map((m) => m[1])
    const entry = scripts.find((src) => src.includes('client-entry'))
    expect(entry).toBeDefined()
    const js = await get(entry!)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    const code = await js.text()
    expect(code).toContain('hydratePage')
    expect(code).toContain('app/page.tsx')
  })

  it('keeps server-only code out of what the browser gets in dev', async () => {
    const res = await get('/app/blog/[id]/page.tsx'.replace('[id]', '%5Bid%5D'))
    expect(res.status).toBe(200)
    const code = await res.text()
    expect(code).toContain('Post')
    expect(code).not.toContain('db-client-secret-marker')
    expect(code).not.toMatch(/node:fs/)
  })

  it('runs route handlers (POST /api/revalidate)', async () => {
    const res = await get('/api/revalidate?path=/blog/1', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/application\/json/)
    expect(await res.json()).toEqual({ revalidated: true, path: '/blog/1' })
    const bad = await get('/api/revalidate', { method: 'POST' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'path is required' })
    // a method the route does not export
    const wrongMethod = await get('/api/revalidate?path=/blog/1')
    expect(wrongMethod.status).toBe(405)
  })

  it('shows an edit to a page file on the next request', async () => {
    const file = join(dir, 'app/static/page.tsx')
    const before = await (await get('/static')).text()
    expect(before).toContain('A static page, cached until revalidated on demand.')
    let html = ''
    await dev.write(file, readFileSync(file, 'utf8').replace('A static page, cached until revalidated on demand.', 'Edited in dev, seen at once.'), async () => (html = await (await get('/static')).text()).includes('Edited in dev'))
    expect(html).toContain('Edited in dev, seen at once.')
    expect(html).not.toContain('A static page, cached until')
  })

  it('answers an unknown path with the not-found page and 404', async () => {
    const res = await get('/no/such/page')
    expect(res.status).toBe(404)
    expect(res.headers.get('cache-control')).toBe(NO_STORE)
    const html = await res.text()
    expect(html).toContain('This page could not be found.')
    expect(html).toContain('/@vite/client')
  })

  it('follows notFound(), redirect() and dynamicParams = false like production', async () => {
    const missing = await get('/blog/404')
    expect(missing.status).toBe(404)
    expect(await missing.text()).toContain('This page could not be found.')

    const redirect = await get('/redirect-me')
    expect(redirect.status).toBe(308)
    expect(redirect.headers.get('location')).toBe('/static')

    expect((await get('/fixed/a')).status).toBe(200)
    expect((await get('/fixed/b')).status).toBe(404)

    const onDemand = await get('/blog/3')
    expect(onDemand.status).toBe(200)
    expect(await onDemand.text()).toContain('Only rendered on demand.')

    const docs = await get('/docs/a/b')
    expect(await docs.text()).toMatch(/docs a\|b/)
    const shop = await get('/shop')
    expect(await shop.text()).toMatch(/shop index/)
  })

  it('asks generateStaticParams once per version of a dynamicParams = false page, not per request, and again after an edit', async () => {
    const file = join(dir, 'app/fixed/[slug]/page.tsx')
    const calls = () => (globalThis as { __staticParamsCalls?: number }).__staticParamsCalls ?? 0
    const original = readFileSync(file, 'utf8')
    const counted = (slugs: string) =>
      original.replace(
        "export async function generateStaticParams() {\n  return [{ slug: 'a' }]",
        `export async function generateStaticParams() {\n  const g = globalThis as { __staticParamsCalls?: number }\n  g.__staticParamsCalls = (g.__staticParamsCalls ?? 0) + 1\n  return [${slugs}]`,
      )
    expect(counted('')).not.toBe(original)
    try {
      await dev.write(file, counted("{ slug: 'a' }, { slug: 'c' }"), async () => (await get('/fixed/c')).status === 200)
      const before = calls()
      expect(before).toBeGreaterThan(0)
      for (let i = 0; i < 5; i++) {
        expect((await get('/fixed/a')).status).toBe(200)
        expect((await get('/fixed/b')).status).toBe(404)
        expect((await get('/fixed/c')).status).toBe(200)
      }
      expect(calls()).toBe(before)

      await dev.write(file, counted("{ slug: 'a' }, { slug: 'd' }"), async () => (await get('/fixed/d')).status === 200)
      expect((await get('/fixed/c')).status).toBe(404)
      expect(calls()).toBeGreaterThan(before)
    } finally {
      await dev.write(file, original, async () => (await get('/fixed/c')).status === 404 && (await get('/fixed/d')).status === 404)
    }
  })

  it('gives a revalidate = 0 page the request, as production does', async () => {
    const res = await get('/now', { headers: { 'user-agent': 'dev-test-agent/1.0' } })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('"agent":"dev-test-agent/1.0"')
  })

  it('answers a loader that throws with a 500 instead of hanging', async () => {
    fixtureDb().fail = 'throw'
    const res = await get('/')
    expect(res.status).toBe(500)
    expect(await res.text()).toContain('database unavailable while loading /')
    fixtureDb().fail = false
    // and the server recovers on the next request
    expect((await get('/')).status).toBe(200)
  })

  it('says in the debug log that caching is off in dev (ISR_DEBUG_CACHE=1)', async () => {
    await get('/static')
    const log = stderr.join('')
    expect(log).toMatch(/\[vite-isr\] .*caching is off in dev/)
    expect(log).toMatch(/\[vite-isr\] dev \/static rendered in \d+ms, status 200/)
    expect(log).toContain('[vite-isr] dev revalidatePath /blog/1 accepted (caching is off in dev)')
    expect(log).not.toContain('_isr_path:')
  })
})

describe('vite dev server in middleware mode (inside the user\'s own server)', () => {
  const targets = () => (globalThis as Record<symbol, Set<unknown> | undefined>)[Symbol.for('vite-isr.revalidation-targets')]?.size ?? 0

  it('renders pages through server.middlewares and stops receiving revalidations once closed', async () => {
    const before = targets()
    const { server: mw, close } = await startDevServer({ as: 'dev-middleware-mode', vite: { server: { middlewareMode: true, hmr: false } }, listen: false })
    try {
      expect(targets()).toBe(before + 1)
      const http = await import('node:http')
      const host = http.createServer((req, res) => mw.middlewares(req, res, () => {
        res.statusCode = 418
        res.end('fell through')
      }))
      await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve))
      try {
        const port = (host.address() as AddressInfo).port
        const res = await fetch(`http://127.0.0.1:${port}/blog/1`, { signal: AbortSignal.timeout(15_000) })
        expect(res.status).toBe(200)
        expect(await res.text()).toContain('<h1>First post</h1>')
      } finally {
        await new Promise((resolve) => host.close(resolve))
      }
    } finally {
      await close()
    }
    expect(targets()).toBe(before)
  })
})
