/**
 * Draft mode in `vite` (dev), over HTTP against a real Vite dev server on scratch copies of
 * the parity fixture: the same route handlers, cookie and secret (ISR_DRAFT_SECRET, here from
 * the project's `.env` as Vite reads it) as production; pages asked with a valid draft cookie
 * render with draft content, others do not; a forged cookie is ignored.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'
import { resetParityStore } from '../helpers/parity-store.js'

const SECRET = 'draft-secret-for-dev-tests-0123456789abcdef'
const COOKIE = /^__prerender_bypass=(\d+\.[A-Za-z0-9_-]+); Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/
const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

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
    const draft = await dev.get('/posts/secret', { headers: { cookie } })
    expect(draft.status).toBe(200)
    expect(draft.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(draft.headers.get('cache-control')).toBe(NO_STORE)
    const html = await draft.text()
    expect(text(html, 'title')).toBe('Unpublished draft')
    expect(text(html, 'draft')).toBe('draft mode')

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
  const stderr: string[] = []
  const originalWrite = process.stderr.write.bind(process.stderr)
  beforeAll(async () => {
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      return (originalWrite as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stderr.write
    const saved = process.env.ISR_DRAFT_SECRET
    delete process.env.ISR_DRAFT_SECRET
    try {
      dev = await startDevServer({ as: 'dev-draft-no-secret', fixture: 'parity' })
    } finally {
      if (saved !== undefined) process.env.ISR_DRAFT_SECRET = saved
    }
  })
  afterAll(async () => {
    process.stderr.write = originalWrite
    await dev?.close()
  })

  it('refuses to enable as production does, saying how to set the secret', async () => {
    const res = await dev.get('/api/draft?slug=secret')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(stderr.join('')).toContain('[vite-isr] draftMode().enable() needs a secret to sign its cookie, and none is set. Set the ISR_DRAFT_SECRET environment variable')
  })
})
