/**
 * Five behaviours ported as black-box checks from Next.js's own tests (app-static's
 * fetch-no-cache, the not-found and error pages, dynamic-params-revalidation, layout
 * generateStaticParams, the default document), over HTTP against built fixtures.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest'
import { readManifest } from '../helpers/build.js'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { PARITY_DIST, resetParityStore } from '../helpers/parity-store.js'
import { startServer, useFixtureServer, type TestServer } from '../helpers/server.js'
import type { ParityStore } from '../fixtures/parity/server/store.js'

const NOINDEX = '<meta name="robots" content="noindex">'
const text = (html: string, id: string) => new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html)?.[1]
const headOf = (html: string) => html.slice(0, html.indexOf('</head>'))
const count = (html: string, pattern: RegExp) => html.match(new RegExp(pattern, 'gi'))?.length ?? 0

function useParityServer(): { server: TestServer; clock: TestClock; store: ParityStore } {
  const ctx = {} as { server: TestServer; clock: TestClock; store: ParityStore }
  let cache: ReturnType<typeof tempCacheDir>
  beforeEach(async () => {
    ctx.store = resetParityStore(upstream.url)
    ctx.clock = createClock(afterBuild(PARITY_DIST))
    cache = tempCacheDir()
    ctx.server = await startServer({ distDir: PARITY_DIST, cacheDir: cache.dir, now: ctx.clock.now })
  })
  afterEach(async () => {
    await ctx.server.close()
    cache.remove()
  })
  return ctx
}

/** An upstream whose every answer carries the next value of one counter. */
const upstream = { url: '', server: undefined as Server | undefined }
beforeAll(async () => {
  let counter = 0
  upstream.server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ value: ++counter }))
  })
  await new Promise<void>((resolve) => upstream.server!.listen(0, '127.0.0.1', resolve))
  upstream.url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => upstream.server!.close(() => resolve())))

const manifest = () => readManifest(PARITY_DIST)

describe('Next.js parity on the parity fixture', () => {
  const t = useParityServer()

  it("treats fetch(url, { cache: 'no-cache' }) as no-store: the page turns dynamic and its data differs on every request", async () => {
    expect(manifest().dynamicPages).toContain('/no-cache')
    expect(Object.keys(manifest().routes)).not.toContain('/no-cache')
    const first = await t.server.get('/no-cache')
    const second = await t.server.get('/no-cache')
    for (const res of [first, second]) {
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
    }
    const [a, b] = [await first.text(), await second.text()]
    expect(text(a, 'no-cache')).not.toBe(text(b, 'no-cache'))
    // a fetch with next.revalidate on the same page stays cached (Next's force-cache / revalidate fetches)
    expect(text(a, 'cached')).toBe(text(b, 'cached'))
  })

  it('gives the default 404 page, for unknown paths and for notFound(), a robots noindex meta tag', async () => {
    const unknown = await t.server.get('/no/such/page')
    expect(unknown.status).toBe(404)
    expect(headOf(await unknown.text())).toContain(NOINDEX)
    const fromLoader = await t.server.get('/late/2')
    expect(fromLoader.status).toBe(404)
    expect(headOf(await fromLoader.text())).toContain(NOINDEX)
  })

  it('keeps a path listed by generateStaticParams whose build render called notFound(): 404, then 200 once its content exists and it is revalidated', async () => {
    expect(manifest().notFoundRoutes).toEqual(['/late/2'])
    const before = await t.server.get('/late/2')
    expect(before.status).toBe(404)
    t.store.late['2'] = 'arrived after the build'
    await t.server.isr.revalidatePath('/late/2')
    t.clock.advance(1_000)
    const after = await t.server.get('/late/2')
    expect(after.status).toBe(200)
    expect(text(await after.text(), 'content')).toBe('arrived after the build')
    expect((await t.server.get('/late/2')).headers.get('x-isr-cache')).toBe('HIT')
    // a path it never listed stays closed (dynamicParams = false), even when revalidated
    t.store.late['3'] = 'never listed'
    await t.server.isr.revalidatePath('/late/3')
    expect((await t.server.get('/late/3')).status).toBe(404)
  })

  it("runs a layout's generateStaticParams and hands each of its params to the page's, and the layout's dynamicParams = false closes the tree", async () => {
    const routes = manifest().routes
    expect(Object.keys(routes).filter((path) => /^\/\w+\/blog\//.test(path))).toEqual(['/en/blog/1', '/en/blog/2', '/fr/blog/1'])
    expect(routes['/fr/blog/1'].srcRoute).toBe('/[lang]/blog/[id]')
    for (const path of ['/en/blog/2', '/fr/blog/1']) {
      const res = await t.server.get(path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('x-isr-cache')).toBe('HIT')
    }
    expect(text(await (await t.server.get('/fr/blog/1')).text(), 'post')).toBe('fr post 1')
    // listed by neither: the French list had only post 1, and there is no German
    for (const path of ['/fr/blog/2', '/de/blog/1']) expect((await t.server.get(path)).status, path).toBe(404)
  })

  it('gives the default document <meta charset="utf-8"> first in its head and the viewport meta tag', async () => {
    const html = await (await t.server.get('/')).text()
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">/)
    const head = headOf(html)
    expect(count(head, /<meta\b[^>]*charset/)).toBe(1)
    expect(count(head, /<meta name="viewport"/)).toBe(1)
    const plain404 = headOf(await (await t.server.get('/no/such/page')).text())
    expect(plain404).toContain('<meta charset="utf-8">')
    expect(plain404).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')
  })
})

describe('Next.js parity on the basic fixture (its own not-found.tsx, error.tsx and <meta charSet>)', () => {
  const t = useFixtureServer()

  it("gives the app's not-found.tsx answers a robots noindex meta tag", async () => {
    for (const path of ['/no/such/page', '/blog/404-from-loader']) {
      const res = await t.server.get(path)
      expect(res.status, path).toBe(404)
      const html = await res.text()
      expect(text(html, 'not-found')).toBe('This page could not be found.')
      expect(headOf(html)).toContain(NOINDEX)
    }
  })

  it("gives the app's error.tsx answers a robots noindex meta tag", async () => {
    t.db.fail = 'throw'
    const res = await t.server.get('/blog/3')
    expect(res.status).toBe(500)
    const html = await res.text()
    expect(text(html, 'error')).toBe('An error occurred while rendering this page.')
    expect(headOf(html)).toContain(NOINDEX)
  })

  it("does not add a second charset when the app's layout has its own, and adds the viewport it lacks", async () => {
    const head = headOf(await (await t.server.get('/blog/1')).text())
    expect(count(head, /<meta\b[^>]*charset/)).toBe(1)
    expect(count(head, /<meta name="viewport"/)).toBe(1)
  })
})
