/**
 * Draft mode (Next.js's `draftMode()`), over HTTP against the built parity fixture: a route
 * handler enables it with a signed cookie, pages asked with that cookie render per request
 * with fresh data and leave nothing in the cache, and any other cookie is ignored.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createISRHandler } from 'vite-isr/runtime'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { PARITY_DIST, resetParityStore } from '../helpers/parity-store.js'
import { startServer, type ServerOptions, type TestServer } from '../helpers/server.js'
import type { ParityStore } from '../fixtures/parity/server/store.js'

const SECRET = 'draft-secret-for-tests-0123456789abcdef'
const OTHER_SECRET = 'another-secret-of-another-site-0123456789'
const COOKIE = /^__prerender_bypass=(\d+\.[A-Za-z0-9_-]+); Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/

const text = (html: string, id: string) => new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html)?.[1]

/** Every entry file under a cache folder. */
function entryFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.entry'))
}

interface Ctx {
  server: TestServer
  clock: TestClock
  store: ParityStore
  cacheDir: string
  /** Requests that reached the Express app (the fast path answers the others itself). */
  reachedExpress: number
}

function useParityServer(options: ServerOptions = {}): Ctx {
  const ctx = { reachedExpress: 0 } as Ctx
  let cache: ReturnType<typeof tempCacheDir>
  beforeEach(async () => {
    ctx.store = resetParityStore()
    ctx.clock = createClock(afterBuild(PARITY_DIST))
    ctx.reachedExpress = 0
    cache = tempCacheDir()
    ctx.cacheDir = cache.dir
    ctx.server = await startServer({
      distDir: PARITY_DIST,
      cacheDir: cache.dir,
      now: ctx.clock.now,
      debug: true,
      ...options,
      configure(app) {
        app.set('trust proxy', 'loopback')
        app.use((_req, _res, next) => {
          ctx.reachedExpress++
          next()
        })
      },
    })
  })
  afterEach(async () => {
    await ctx.server.close()
    cache.remove()
  })
  return ctx
}

/** Enable draft mode through the fixture's route handler; the cookie pair to send back. */
async function enableDraft(server: TestServer, slug = 'hello'): Promise<string> {
  const res = await server.get(`/api/draft?slug=${slug}`)
  expect(res.status).toBe(307)
  const [cookie] = res.headers.getSetCookie()
  const value = COOKIE.exec(cookie)?.[1]
  expect(value, cookie).toBeDefined()
  return `__prerender_bypass=${value}`
}

describe('draft mode with a secret', () => {
  const t = useParityServer({ draftModeSecret: SECRET })

  it('enables draft mode in a route handler with a signed, HttpOnly, SameSite=Lax cookie for the whole site', async () => {
    const res = await t.server.get('/api/draft?slug=secret')
    expect(res.status).toBe(307)
    expect(new URL(res.headers.get('location')!).pathname).toBe('/posts/secret')
    const cookies = res.headers.getSetCookie()
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatch(COOKIE)
    // Secure only over HTTPS, as Express decides it (here: a trusted proxy says so).
    const overHttps = await t.server.get('/api/draft?slug=secret', { headers: { 'x-forwarded-proto': 'https' } })
    expect(overHttps.headers.getSetCookie()[0]).toMatch(/^__prerender_bypass=\d+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=86400$/)
  })

  it('renders a page per request for a valid draft cookie: BYPASS, private no-store, isEnabled in the loader, fresh data, nothing stored', async () => {
    // a render in this server puts the post's data in the data cache
    await t.server.isr.revalidatePath('/posts/hello')
    t.clock.advance(1_000)
    expect((await t.server.get('/posts/hello')).headers.get('x-isr-cache')).toBe('MISS')
    // the data read by a page render goes to disk once the page is stored, in the background
    await expect.poll(() => t.server.logs.some((line) => /\bset cache\(post\) (?!.*memoryOnly)/.test(line)), { timeout: 10_000 }).toBe(true)
    expect((await t.server.get('/posts/hello')).headers.get('x-isr-cache')).toBe('HIT')
    const cookie = await enableDraft(t.server)
    t.store.posts.hello.title = 'Edited in the CMS'
    const files = entryFiles(t.cacheDir).sort()
    const logged = t.server.logs.length

    const draft = await t.server.get('/posts/hello', { headers: { cookie } })
    expect(draft.status).toBe(200)
    expect(draft.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(draft.headers.get('cache-control')).toMatch(/^private\b.*\bno-store\b/)
    const html = await draft.text()
    expect(text(html, 'draft')).toBe('draft mode')
    // the data cache still holds the old title: draft mode read past it
    expect(text(html, 'title')).toBe('Edited in the CMS')
    const unpublished = await t.server.get('/posts/secret', { headers: { cookie } })
    expect(unpublished.status).toBe(200)
    expect(text(await unpublished.text(), 'title')).toBe('Unpublished draft')
    expect(unpublished.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(entryFiles(t.cacheDir).sort()).toEqual(files)
    expect(t.server.logs.slice(logged).filter((line) => / set /.test(line))).toEqual([])

    // everyone else still gets the cached page, and the unpublished post does not exist for them
    const after = await t.server.get('/posts/hello')
    expect(after.headers.get('x-isr-cache')).toBe('HIT')
    const published = await after.text()
    expect(text(published, 'title')).toBe('Hello, published')
    expect(text(published, 'draft')).toBe('published')
    expect((await t.server.get('/posts/secret')).status).toBe(404)
  })

  it("renders a draft payload for the page's URL and query, as a full load of the page in draft mode", async () => {
    const cookie = await enableDraft(t.server)
    const payload = await t.server.get(`/_isr/data/${t.server.isr.buildId}/posts/hello.json?preview=1`, { headers: { cookie } })
    expect(payload.status).toBe(200)
    expect(payload.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(payload.headers.get('cache-control')).toMatch(/^private\b.*\bno-store\b/)
    expect((await payload.json()).data).toMatchObject({ draft: true, url: '/posts/hello?preview=1' })
    expect(text(await (await t.server.get('/posts/hello?preview=1', { headers: { cookie } })).text(), 'title')).toBe('Hello, published')
  })

  it('ignores a forged, tampered, expired or other-secret cookie: the cached page answers', async () => {
    const cookie = await enableDraft(t.server)
    const [expires, signature] = cookie.slice('__prerender_bypass='.length).split('.')
    const other = await startServer({ distDir: PARITY_DIST, cacheDir: tempCacheDir().dir, draftModeSecret: OTHER_SECRET })
    const otherCookie = await enableDraft(other).finally(() => other.close())
    const ignored = [
      `__prerender_bypass=${expires}.${'A'.repeat(signature.length)}`,
      `__prerender_bypass=${Number(expires) + 86_400}.${signature}`,
      '__prerender_bypass=1',
      otherCookie,
    ]
    for (const forged of ignored) {
      const res = await t.server.get('/posts/hello', { headers: { cookie: forged } })
      expect(res.headers.get('x-isr-cache'), forged).toBe('HIT')
      expect(res.headers.get('cache-control')).toMatch(/^s-maxage=60\b/)
      expect(text(await res.text(), 'draft')).toBe('published')
      expect((await t.server.get('/posts/secret', { headers: { cookie: forged } })).status).toBe(404)
    }
    // the genuine cookie works until a day has passed
    expect((await t.server.get('/posts/hello', { headers: { cookie } })).headers.get('x-isr-cache')).toBe('BYPASS')
    t.clock.advance(86_400_000)
    const expired = await t.server.get('/posts/hello', { headers: { cookie } })
    expect(expired.headers.get('x-isr-cache')).not.toBe('BYPASS')
    expect(text(await expired.text(), 'draft')).toBe('published')
  })

  it('regenerates a page for everyone, not in draft mode, when a draft request revalidates it', async () => {
    const cookie = await enableDraft(t.server)
    t.store.posts.hello.title = 'Published from the preview'
    const res = await t.server.get('/api/draft/regenerate?path=/posts/hello', { method: 'POST', headers: { cookie } })
    expect(await res.json()).toEqual({ regenerated: '/posts/hello' })
    t.clock.advance(1_000)
    const page = await t.server.get('/posts/hello')
    expect(page.headers.get('x-isr-cache')).toBe('HIT')
    const html = await page.text()
    expect(text(html, 'title')).toBe('Published from the preview')
    expect(text(html, 'draft')).toBe('published')
  })

  it('tells route handlers whether draft mode is on, and disable() clears the cookie', async () => {
    const cookie = await enableDraft(t.server)
    expect(await (await t.server.get('/api/draft/status', { headers: { cookie } })).json()).toEqual({ isEnabled: true })
    expect(await (await t.server.get('/api/draft/status')).json()).toEqual({ isEnabled: false })
    const res = await t.server.get('/api/draft/disable', { headers: { cookie } })
    expect(await res.json()).toEqual({ isEnabled: false })
    expect(res.headers.getSetCookie()).toEqual(['__prerender_bypass=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'])
  })
})

describe('draft mode through the wrap() fast path', () => {
  const t = useParityServer({ draftModeSecret: SECRET, mode: 'fast-path' })

  it('hands a request with a draft cookie to the app instead of answering it from memory', async () => {
    await t.server.get('/posts/hello')
    const reached = t.reachedExpress
    const hit = await t.server.get('/posts/hello')
    expect(hit.headers.get('x-isr-cache')).toBe('HIT')
    // held in memory: answered before Express ran
    expect(t.reachedExpress).toBe(reached)
    const cookie = await enableDraft(t.server)
    const draft = await t.server.get('/posts/hello', { headers: { cookie } })
    expect(draft.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(text(await draft.text(), 'draft')).toBe('draft mode')
    expect(t.reachedExpress).toBe(reached + 2)
  })
})

describe('draft mode without a secret', () => {
  const saved = process.env.ISR_DRAFT_SECRET
  beforeEach(() => {
    delete process.env.ISR_DRAFT_SECRET
  })
  afterEach(() => {
    if (saved !== undefined) process.env.ISR_DRAFT_SECRET = saved
  })
  const t = useParityServer()

  it('refuses to enable, saying how to set a secret, and honours no draft cookie', async () => {
    const res = await t.server.get('/api/draft?slug=secret')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await res.text()).toBe('Internal Server Error')
    expect(t.server.logs.join('\n')).toContain('[vite-isr] draftMode().enable() needs a secret to sign its cookie, and none is set. Set the ISR_DRAFT_SECRET environment variable, or pass createISRHandler({ draftModeSecret })')

    const signer = await startServer({ distDir: PARITY_DIST, cacheDir: tempCacheDir().dir, draftModeSecret: SECRET })
    const cookie = await enableDraft(signer).finally(() => signer.close())
    const page = await t.server.get('/posts/hello', { headers: { cookie } })
    expect(page.headers.get('x-isr-cache')).toBe('HIT')
    expect((await t.server.get('/posts/secret', { headers: { cookie } })).status).toBe(404)
  })

  it('rejects a draftModeSecret shorter than 32 characters when the handler is made', async () => {
    await expect(createISRHandler({ distDir: PARITY_DIST, draftModeSecret: 'too-short' })).rejects.toThrow(
      new TypeError('[vite-isr] createISRHandler: draftModeSecret must be a string of at least 32 characters (got 9 characters); generate one with `openssl rand -hex 32`'),
    )
  })
})
