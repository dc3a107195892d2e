/**
 * One canonical form of every path (SPEC §11, issue 12 items 2 and 9). Express matches
 * `app.use('/blog', requireAuth)` on the raw URL; vite-isr routes the decoded path. Every
 * other spelling of a guarded path (`/%62log/1`, `/blog/1/`, `/./blog/1`, lower-case hex…)
 * must be redirected to the canonical spelling, answered by the app's middleware, or refused:
 * never the page, never a render, never a route handler. Through the middleware and the fast path.
 */
import type { NextFunction, Request, Response } from 'express'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { revalidatePath, type PrerenderManifest, type RevalidateEvent } from 'vite-isr/runtime'
import { copyFixture, viteBuild } from '../helpers/build.js'
import { startServer, useFixtureServer, type ServeMode, type TestServer } from '../helpers/server.js'

const AUTH = { authorization: 'Bearer let-me-in' }

function requireAuth(req: Request, res: Response, next: NextFunction): void {
  if (req.headers.authorization === AUTH.authorization) return next()
  res.status(401).type('text/plain').send('the app says: log in first')
}

/**
 * Other spellings of `/blog/3`, sent as raw bytes: fetch would resolve `.`, `..`, `%2e` and
 * `%2e%2e` segments (as WHATWG URL does), drop the fragment or encode some of these.
 */
const BLOG_VARIANTS = [
  '/./blog/3',
  '/blog/./3',
  '/x/../blog/3',
  '/blog\\3',
  '/%62log\\3',
  '/blog/3#x',
  '/%62log/3#x',
  '/blog/\u00e6\u0097\u00a5',
  '/blog/3?x#y',
  '/%62log/3',
  '/%62%6C%6F%67/3',
  '/%62%6c%6f%67/%33',
  '/b%6Cog/3',
  '/blo%67/3',
  '/blog/%33',
  '/blog/3/',
  '/blog/3//',
  '/blog//3',
  '/%62log//3/',
  '/blog/%2e/3',
  '/%2e/blog/3',
  '/%2E/%62log/3',
  '/blog/3/%2e',
  '/BLOG/3',
  '/Blog/3',
  '/%42LOG/3',
  '/blog;x/3',
  '/blog%3B/3',
  '/%2562log/3',
  '/%252e/blog/3',
  '/blog%2f3',
  '/blog%2F3',
  '/%2fblog/3',
  '/blog%5c3',
  '/blog/3%00',
  '/%C0%AEblog/3',
  '/%E0%80%AE/blog/3',
  '/%ED%A0%80/blog/3',
  '/blog/%2e%2e/blog/3',
  '/x/%2E%2E/blog/3',
  '/x/.%2e/blog/3',
  '//blog/3',
  '///blog/3',
  '/%62log/3?utm=x&y=%20',
]

const PAGE = '<h1>Third post</h1>'

interface Answer {
  status: number
  location: string | null
  body: string
}

function raw(base: string, method: string, target: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { port } = new URL(base)
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1')
    const chunks: Buffer[] = []
    const head = Object.entries({ host: '127.0.0.1', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    socket.on('connect', () => socket.write(Buffer.from(`${method} ${target} HTTP/1.1\r\n${head}\r\n`, 'latin1')))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const [headText, body = ''] = text.split('\r\n\r\n')
      const location = /\r\nlocation: ([^\r]*)/i.exec(headText)?.[1] ?? null
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1] ?? 0), location, body })
    })
  })
}

describe.each<ServeMode>(['middleware', 'fast-path'])('canonical paths, through the %s', (mode) => {
  const events: RevalidateEvent[] = []
  const t = useFixtureServer({
    mode,
    onRevalidate: (event) => void events.push(event),
    configure(app) {
      app.use('/blog', requireAuth)
      app.use('/api', requireAuth)
    },
  })

  /** GET (or HEAD) one spelling; checks the answer is a redirect to a safe canonical URL, the app's 401, or a refusal. */
  async function probe(send: () => Promise<Answer>, label: string, counts: Record<string, number>): Promise<void> {
    const answer = await send()
    expect(answer.body, `${label} answered the page`).not.toContain(PAGE)
    expect([308, 401, 400, 404], `${label} -> ${answer.status}`).toContain(answer.status)
    counts[answer.status] = (counts[answer.status] ?? 0) + 1
    if (answer.status !== 308) return
    const location = answer.location ?? ''
    // Relative, same origin: one leading slash, never `//` or `/\` (a browser reads both as another host).
    expect(location, label).toMatch(/^\/(?![/\\])/)
    expect(location, label).not.toMatch(/[^\x21-\x7e]/)
    // The canonical URL is a fixed point, and it goes through the app's middleware like any request.
    const next = await t.server.get(location)
    const body = await next.text()
    expect(body, `${label} -> ${location}`).not.toContain(PAGE)
    expect([401, 404], `${label} -> ${location} -> ${next.status}`).toContain(next.status)
    if (location.startsWith('/blog/3')) expect(body, `${label} -> ${location}`).toBe('the app says: log in first')
  }

  it('answers every other spelling of a guarded page with a 308 to the canonical URL, the app’s 401, or 400/404, and never renders it', async () => {
    const counts: Record<string, number> = {}
    // Twice each: the fast path answers only URLs the middleware memoised as pages.
    for (let round = 0; round < 2; round++) {
      for (const target of BLOG_VARIANTS) await probe(() => raw(t.server.url, 'GET', target), `GET ${JSON.stringify(target)}`, counts)
      for (const target of BLOG_VARIANTS.slice(0, 10)) await probe(() => raw(t.server.url, 'HEAD', target), `HEAD ${JSON.stringify(target)}`, counts)
    }
    console.log(`[security] canonical path (${mode}): ${2 * (BLOG_VARIANTS.length + 10)} GET/HEAD requests for other spellings of /blog/3 -> ${JSON.stringify(counts)}; renders of /blog/3: ${t.db.renders['/blog/3'] ?? 0}`)
    expect(counts['308']).toBeGreaterThan(0)
    expect(t.db.renders['/blog/3']).toBeUndefined()
    // The spellings that decode to /blog/3 and that `app.use('/blog')` does not match are sent there.
    for (const target of ['/%62log/3', '/%62%6c%6f%67/%33', '/./blog/3', '/%2E/%62log/3', '/%62log//3/']) {
      const answer = await raw(t.server.url, 'GET', target)
      expect([answer.status, answer.location], target).toEqual([308, '/blog/3'])
    }

    // The canonical spelling with the app's credentials is the page.
    const page = await t.server.get('/blog/3', { headers: AUTH })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(PAGE)
  })

  it('redirects an encoded spelling to the canonical URL with its query, and HEAD too', async () => {
    const res = await t.server.get('/%62log/3/?utm=x&y=%20', { headers: AUTH })
    expect(res.status).toBe(308)
    expect(res.headers.get('location')).toBe('/blog/3?utm=x&y=%20')
    expect(res.headers.get('x-isr-cache')).toBeNull()
    const head = await t.server.get('/blog/%33', { method: 'HEAD', headers: AUTH })
    expect(head.status).toBe(308)
    expect(head.headers.get('location')).toBe('/blog/3')
    expect(t.db.renders['/blog/3']).toBeUndefined()
  })

  it('never memoises an encoded spelling as a page, even after the app let it through', async () => {
    // With credentials every spelling passes the app's middleware (or is never seen by it) and reaches vite-isr.
    for (const target of BLOG_VARIANTS) await raw(t.server.url, 'GET', target, AUTH)
    await t.server.get('/blog/3', { headers: AUTH })
    expect(t.db.renders['/blog/3']).toBe(1)
    // Now the page is in memory, and the fast path answers URLs it knows before Express runs.
    for (const target of BLOG_VARIANTS) {
      const answer = await raw(t.server.url, 'GET', target)
      expect(answer.body, target).not.toContain(PAGE)
      expect([308, 401, 400, 404], `${target} -> ${answer.status}`).toContain(answer.status)
    }
  })

  it('refuses other methods on other spellings with 404 before any route handler runs', async () => {
    const counts: Record<string, number> = {}
    const count = (status: number) => (counts[status] = (counts[status] ?? 0) + 1)
    // Spellings the app's `app.use('/api', …)` does not match: vite-isr itself must refuse them.
    for (const path of ['/%61pi/revalidate', '/%61%70%69/revalidate', '/%41pi/revalidate', '/%2e/api/revalidate', '/./api/revalidate', '/x/../api/revalidate', '/.%2fapi/revalidate']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const answer = await raw(t.server.url, method, `${path}?path=/blog/1`, { 'content-length': '0' })
        count(answer.status)
        expect([400, 404], `${method} ${path} -> ${answer.status}`).toContain(answer.status)
        expect(answer.body).not.toContain('revalidated')
      }
    }
    // Spellings it does match (case-insensitively, trailing or doubled slash): the app answers.
    for (const path of ['/api/revalidat%65', '/api/revalidate/', '/api//revalidate', '/API/revalidate']) {
      const res = await t.server.get(`${path}?path=/blog/1`, { method: 'POST' })
      count(res.status)
      expect(res.status, `POST ${path}`).toBe(401)
    }
    console.log(`[security] canonical path (${mode}): POST/PUT/DELETE/PATCH to other spellings of /api/revalidate -> ${JSON.stringify(counts)}; revalidations run: ${events.length}`)
    expect(events).toEqual([])
    // The canonical route is the app's to guard, and with credentials it runs.
    expect((await t.server.get('/api/revalidate?path=/blog/1', { method: 'POST' })).status).toBe(401)
    const allowed = await t.server.get('/api/revalidate?path=/blog/1', { method: 'POST', headers: AUTH })
    expect(await allowed.json()).toEqual({ revalidated: true, path: '/blog/1' })
    expect(events).toHaveLength(1)
  })

  it('routes a non-ASCII path in its percent-encoded form and redirects the other spellings to it', async () => {
    t.db.posts['日'] = { title: 'Nihon', body: 'A post whose id is one CJK character.' }
    const page = await t.server.get('/blog/%E6%97%A5', { headers: AUTH })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<h1>Nihon</h1>')
    // The loader looked the post up with params.id === '日'.
    expect(t.db.renders['/blog/日']).toBe(1)
    const lower = await t.server.get('/blog/%e6%97%a5', { headers: AUTH })
    expect(lower.status).toBe(308)
    expect(lower.headers.get('location')).toBe('/blog/%E6%97%A5')
    // Node refuses raw non-ASCII bytes in the request line itself.
    expect((await raw(t.server.url, 'GET', '/blog/\u00e6\u0097\u00a5', AUTH)).status).toBe(400)
  })

  it('refuses spellings that would redirect to another origin', async () => {
    for (const target of ['//evil.example/blog/3', '//evil.example', '/%2F%2Fevil.example', '/%5Cevil.example', '/\\evil.example', '/%09/evil.example']) {
      const answer = await raw(t.server.url, 'GET', target)
      expect([400, 404], `${target} -> ${answer.status}`).toContain(answer.status)
      expect(answer.location, target).toBeNull()
    }
    const dots = await raw(t.server.url, 'GET', '/.//evil.example?x=1')
    expect(dots.status).toBe(308)
    expect(dots.location).toBe('/evil.example?x=1')
  })
})

describe('revalidatePath and the request normaliser', () => {
  const t = useFixtureServer()
  const state = async (path: string) => (await t.server.get(path)).headers.get('x-isr-cache')

  it('refuses a path with ? or # with a TypeError', async () => {
    await expect(revalidatePath('/blog/x?a=1')).rejects.toThrow(new TypeError('[vite-isr] revalidatePath: path must not contain "?" or "#" (got "/blog/x?a=1"). Pass the pathname only; a "?" or "#" that is part of it is written %3F or %23.'))
    await expect(revalidatePath('/blog/1#top')).rejects.toThrow(TypeError)
    await expect(revalidatePath('/blog/1/?from=cms')).rejects.toThrow(TypeError)
  })

  it('revalidates a page whose name holds an encoded ? and not the page before it', async () => {
    t.db.posts['x'] = { title: 'Plain x', body: '' }
    t.db.posts['x?a=1'] = { title: 'x with a question mark', body: '' }
    expect(await (await t.server.get('/blog/x')).text()).toContain('<h1>Plain x</h1>')
    expect(await (await t.server.get('/blog/x%3Fa=1')).text()).toContain('<h1>x with a question mark</h1>')
    expect(await state('/blog/x')).toBe('HIT')
    expect(await state('/blog/x%3Fa=1')).toBe('HIT')
    t.clock.advance(1)
    await revalidatePath('/blog/x%3Fa=1')
    t.clock.advance(1)
    expect(await state('/blog/x')).toBe('HIT')
    expect(await state('/blog/x%3Fa=1')).toBe('MISS')
  })

  it.each(['/%62log/1', '/blog/%31', '/blog/1/', '/blog//1', '/./blog/1'])('revalidatePath(%j) reaches the same entry as a request for /blog/1', async (spelling) => {
    expect(await state('/blog/1')).toBe('HIT')
    t.clock.advance(1)
    await revalidatePath(spelling)
    t.clock.advance(1)
    expect(await state('/blog/1')).toBe('MISS')
    expect(await state('/blog/2')).toBe('HIT')
  })

  it('reaches a non-ASCII page whether given decoded or percent-encoded in either case', async () => {
    t.db.posts['日'] = { title: 'Nihon', body: '' }
    for (const spelling of ['/blog/日', '/blog/%E6%97%A5', '/blog/%e6%97%a5']) {
      expect(await (await t.server.get('/blog/%E6%97%A5')).text()).toContain('<h1>Nihon</h1>')
      t.clock.advance(1)
      await revalidatePath(spelling)
      t.clock.advance(1)
      expect(await state('/blog/%E6%97%A5'), spelling).toBe('MISS')
    }
  })

  it('refuses a path the request normaliser refuses', async () => {
    await expect(revalidatePath('/blog/../admin')).rejects.toThrow(/revalidatePath: path is not valid \(\.\. segment\)/)
    await expect(revalidatePath('/blog%2f1')).rejects.toThrow(/encoded slash/)
    await expect(revalidatePath('/blog/%zz')).rejects.toThrow(/malformed percent-encoding/)
  })
})

describe('prerendered paths', () => {
  let dir: string
  let server: TestServer
  beforeAll(async () => {
    dir = copyFixture('minimal', 'canonical-prerender')
    mkdirSync(join(dir, 'app/fixed/[slug]'), { recursive: true })
    writeFileSync(
      join(dir, 'app/fixed/[slug]/page.tsx'),
      `export const dynamicParams = false
export async function generateStaticParams() {
  return [{ slug: 'a' }, { slug: 'é' }, { slug: 'x:y@z' }, { slug: '日 本' }]
}
export default function Fixed({ params }: { params: { slug: string } }) {
  return <p>fixed [{params.slug}]</p>
}
`,
    )
    const result = await viteBuild(dir)
    if (result.code !== 0) throw new Error(result.output)
    server = await startServer({ distDir: join(dir, 'dist') })
  })
  afterAll(async () => {
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves every path listed by generateStaticParams (dynamicParams = false) from the build at its canonical URL', async () => {
    for (const [url, slug] of [['/fixed/a', 'a'], ['/fixed/%C3%A9', 'é'], ['/fixed/x:y@z', 'x:y@z'], ['/fixed/%E6%97%A5%20%E6%9C%AC', '日 本']]) {
      const res = await server.get(url)
      expect([res.status, res.headers.get('x-isr-cache')], url).toEqual([200, 'HIT'])
      expect(await res.text(), url).toContain(`fixed [<!-- -->${slug}<!-- -->]`)
    }
    const lower = await server.get('/fixed/%c3%a9')
    expect([lower.status, lower.headers.get('location')]).toEqual([308, '/fixed/%C3%A9'])
    expect((await server.get('/fixed/b')).status).toBe(404)
    // The manifest and the cache keys hold the decoded path, as requests are looked up.
    const manifest = JSON.parse(readFileSync(join(dir, 'dist/prerender-manifest.json'), 'utf8')) as PrerenderManifest
    expect(Object.keys(manifest.routes).filter((p) => p.startsWith('/fixed/')).sort()).toEqual(['/fixed/a', '/fixed/x:y@z', '/fixed/é', '/fixed/日 本'])
  })
})
