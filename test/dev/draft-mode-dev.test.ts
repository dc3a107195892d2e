/**
 * Draft mode in `vite` (dev), over HTTP against a real Vite dev server on scratch copies of
 * the parity fixture: the same route handlers, cookie and secret (ISR_DRAFT_SECRET, here from
 * the project's `.env` as Vite reads it) as production; pages asked with a valid draft cookie
 * render with draft content, others do not; a forged cookie is ignored. Without a secret, a key
 * the dev server makes for itself, as `next dev` does.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { PARITY_DIST, resetParityStore } from '../helpers/parity-store.js'
import { startServer } from '../helpers/server.js'

const SECRET = 'draft-secret-for-dev-tests-0123456789abcdef'
const COOKIE = /^__prerender_bypass=(\d+\.[A-Za-z0-9_-]+); Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/
const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

/** What a route handler in the app sees of the secret's environment variable. */
const ENV_ROUTE = `export function GET(): Response {
  return Response.json({ ISR_DRAFT_SECRET: process.env.ISR_DRAFT_SECRET ?? null })
}
`

const text = (html: string, id: string) => new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html)?.[1]

/** Enable draft mode through the fixture's route handler; the cookie pair to send back. */
async function enableDraft(dev: DevServer, slug = 'secret'): Promise<string> {
  const res = await dev.get(`/api/draft?slug=${slug}`)
  expect(res.status).toBe(307)
  expect(new URL(res.headers.get('location')!).pathname).toBe(`/posts/${slug}`)
  const cookies = res.headers.getSetCookie()
  expect(cookies).toHaveLength(1)
  const value = COOKIE.exec(cookies[0])?.[1]
  expect(value, cookies[0]).toBeDefined()
  return `__prerender_bypass=${value}`
}

beforeEach(() => {
  resetParityStore()
})

/** The unpublished post, seen in draft mode: rendered for this request, never stored. */
async function expectDraftPost(dev: DevServer, cookie: string): Promise<void> {
  const draft = await dev.get('/posts/secret', { headers: { cookie } })
  expect(draft.status).toBe(200)
  expect(draft.headers.get('x-isr-cache')).toBe('BYPASS')
  expect(draft.headers.get('cache-control')).toBe(NO_STORE)
  const html = await draft.text()
  expect(text(html, 'title')).toBe('Unpublished draft')
  expect(text(html, 'draft')).toBe('draft mode')
}

describe('draft mode in vite dev, with ISR_DRAFT_SECRET in .env', () => {
  let dev: DevServer
  beforeAll(async () => {
    dev = await startDevServer({ as: 'dev-draft', fixture: 'parity', prepare: (dir) => writeFileSync(join(dir, '.env'), `ISR_DRAFT_SECRET=${SECRET}\n`) })
  })
  afterAll(async () => {
    await dev?.close()
  })

  it('renders pages with draft content for the cookie the route handler set, per request, and not for anyone else', async () => {
    const cookie = await enableDraft(dev)
    await expectDraftPost(dev, cookie)

    // a draft edit shows on the next draft request
    const store = resetParityStore()
    store.posts.hello.title = 'Edited in the CMS'
    const hello = await (await dev.get('/posts/hello', { headers: { cookie } })).text()
    expect(text(hello, 'title')).toBe('Edited in the CMS')
    expect(text(hello, 'draft')).toBe('draft mode')
    expect(text(await (await dev.get('/posts/hello', { headers: { cookie } })).text(), 'render')).toBe('render 2')

    // without the cookie: the published site
    expect((await dev.get('/posts/secret')).status).toBe(404)
    const published = await dev.get('/posts/hello')
    expect(published.headers.get('x-isr-cache')).toBe('MISS')
    expect(text(await published.text(), 'draft')).toBe('published')
  })

  it('ignores a forged or tampered draft cookie', async () => {
    const cookie = await enableDraft(dev)
    const [expires, signature] = cookie.slice('__prerender_bypass='.length).split('.')
    for (const forged of [`__prerender_bypass=${expires}.${'A'.repeat(signature.length)}`, `__prerender_bypass=${Number(expires) + 86_400}.${signature}`, '__prerender_bypass=1']) {
      expect((await dev.get('/posts/secret', { headers: { cookie: forged } })).status, forged).toBe(404)
      const page = await dev.get('/posts/hello', { headers: { cookie: forged } })
      expect(page.headers.get('x-isr-cache')).toBe('MISS')
      expect(text(await page.text(), 'draft')).toBe('published')
    }
  })

  it('signs the cookie with the configured secret, so a production server with that secret honours it', async () => {
    const cookie = await enableDraft(dev)
    const cache = tempCacheDir()
    const production = await startServer({ distDir: PARITY_DIST, cacheDir: cache.dir, draftModeSecret: SECRET })
    try {
      const draft = await production.get('/posts/secret', { headers: { cookie } })
      expect(draft.status).toBe(200)
      expect(draft.headers.get('x-isr-cache')).toBe('BYPASS')
      expect(text(await draft.text(), 'draft')).toBe('draft mode')
    } finally {
      await production.close()
      cache.remove()
    }
  })

  it('tells route handlers whether draft mode is on, and disable() clears the cookie', async () => {
    const cookie = await enableDraft(dev)
    expect(await (await dev.get('/api/draft/status', { headers: { cookie } })).json()).toEqual({ isEnabled: true })
    expect(await (await dev.get('/api/draft/status')).json()).toEqual({ isEnabled: false })
    const res = await dev.get('/api/draft/disable', { headers: { cookie } })
    expect(await res.json()).toEqual({ isEnabled: false })
    expect(res.headers.getSetCookie()).toEqual(['__prerender_bypass=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'])
  })
})

describe('draft mode in vite dev without a secret', () => {
  let dev: DevServer
  const saved = process.env.ISR_DRAFT_SECRET
  beforeAll(async () => {
    delete process.env.ISR_DRAFT_SECRET
    const prepare = (dir: string) => {
      mkdirSync(join(dir, 'app/api/draft/env'))
      writeFileSync(join(dir, 'app/api/draft/env/route.ts'), ENV_ROUTE)
    }
    dev = await startDevServer({ as: 'dev-draft-no-secret', fixture: 'parity', prepare })
  })
  afterAll(async () => {
    if (saved !== undefined) process.env.ISR_DRAFT_SECRET = saved
    await dev?.close()
  })

  it('enables draft mode without setup: pages render per request with draft content until disable()', async () => {
    const cookie = await enableDraft(dev)
    await expectDraftPost(dev, cookie)
    expect(text(await (await dev.get('/posts/secret', { headers: { cookie } })).text(), 'render')).toBe('render 2')
    expect(await (await dev.get('/api/draft/status', { headers: { cookie } })).json()).toEqual({ isEnabled: true })

    const disabled = await dev.get('/api/draft/disable', { headers: { cookie } })
    expect(disabled.headers.getSetCookie()).toEqual(['__prerender_bypass=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'])
    // the browser has dropped the cookie: the published site again
    expect((await dev.get('/posts/secret')).status).toBe(404)
    expect(text(await (await dev.get('/posts/hello')).text(), 'draft')).toBe('published')
  })

  it('signs with a key of its own per dev server, kept in no environment variable or file', async () => {
    // The route handler enabling draft mode sees no ISR_DRAFT_SECRET: it checks a token of its own.
    expect(await (await dev.get('/api/draft/env')).json()).toEqual({ ISR_DRAFT_SECRET: null })
    expect(readdirSync(dev.dir).filter((name) => name.startsWith('.env'))).toEqual([])

    const another = await startDevServer({ as: 'dev-draft-no-secret-another', fixture: 'parity' })
    try {
      const cookie = await enableDraft(another)
      expect((await another.get('/posts/secret', { headers: { cookie } })).status).toBe(200)
      expect((await dev.get('/posts/secret', { headers: { cookie } })).status).toBe(404)
      expect(text(await (await dev.get('/posts/hello', { headers: { cookie } })).text(), 'draft')).toBe('published')
    } finally {
      await another.close()
    }
  })
})

// Production keeps refusing to enable draft mode without a secret: test/integration/draft-mode.test.ts,
// 'draft mode without a secret' > 'refuses to enable, saying how to set a secret, and honours no draft cookie'.
