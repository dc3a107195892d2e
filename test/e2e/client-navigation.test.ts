import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page, Request } from 'playwright-core'
import { hydrated, launchBrowser } from '../helpers/browser.js'
import { buildFixture, REPO } from '../helpers/build.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { payloadPath } from '../helpers/payload.js'
import { closeGate, openGate, renders, resetLateRoute } from '../helpers/late-route.js'

/** A page with a log of its requests and a marker that only survives while the document does. */
async function openPage(browser: Browser, url: string, options: { javaScriptEnabled?: boolean; cookies?: { name: string; value: string }[] } = {}) {
  const context = await browser.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? true })
  if (options.cookies) await context.addCookies(options.cookies.map((cookie) => ({ ...cookie, url })))
  const page = await context.newPage()
  const requests: Request[] = []
  const errors: string[] = []
  page.on('request', (request) => requests.push(request))
  page.on('pageerror', (error) => errors.push(error.message))
  // React reports a hydration mismatch on the console; a missing favicon is the browser's own line.
  const consoleErrors: string[] = []
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && consoleErrors.push(message.text()))
  await page.goto(url)
  if (options.javaScriptEnabled !== false) {
    await hydrated(page, '#root-count')
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same document'))
  }
  const documents = () => requests.filter((r) => r.resourceType() === 'document').map((r) => new URL(r.url()).pathname)
  const payloads = () => requests.filter((r) => r.url().includes('/_isr/data/')).map((r) => new URL(r.url()).pathname)
  const payloadsWithQuery = () => requests.filter((r) => r.url().includes('/_isr/data/')).map((r) => new URL(r.url()).pathname + new URL(r.url()).search)
  const marker = () => page.evaluate(() => (window as unknown as { __marker?: string }).__marker)
  return { page, requests, errors, consoleErrors, documents, payloads, payloadsWithQuery, marker, close: () => context.close() }
}

const heading = (page: Page) => page.textContent('h1')

describe('client navigation in a real browser', () => {
  let browser: Browser
  let dist: string
  let server: TestServer
  let cache: ReturnType<typeof tempCacheDir>
  beforeAll(async () => {
    ;[browser, dist] = await Promise.all([launchBrowser(), buildFixture('navigation')])
  })
  afterAll(async () => {
    await browser?.close()
  })
  beforeEach(async () => {
    cache = tempCacheDir()
    ;(globalThis as { __navRenders?: Record<string, number> }).__navRenders = {}
    server = await startServer({ distDir: dist, cacheDir: cache.dir, mode: 'fast-path' })
  })
  afterEach(async () => {
    await server.close()
    cache.remove()
  })

  it('swaps the page on a Link click without loading a document: the window, layout state and title follow', async () => {
    const p = await openPage(browser, `${server.url}/`)
    await p.page.click('#root-count')
    await p.page.click('#to-one')
    await expect.poll(() => heading(p.page)).toBe('Post 1')
    expect(new URL(p.page.url()).pathname).toBe('/posts/1')
    expect(await p.page.title()).toBe('Post 1')
    expect(await p.page.getAttribute('meta[name="description"]', 'content')).toBe('About Post 1')
    expect(await p.page.textContent('#where')).toBe('/posts/1 1')
    expect(await p.page.textContent('#root-count')).toBe('root 1')
    expect(await p.marker()).toBe('same document')
    expect(p.documents()).toEqual(['/'])
    expect(p.payloads()).toContain(payloadPath(server.isr.buildId, '/posts/1'))

    // the posts layout stays mounted from one post to the next; the page is a new one
    await p.page.click('#posts-count')
    await p.page.click('#next')
    await expect.poll(() => heading(p.page)).toBe('Post 2')
    expect(await p.page.textContent('#posts-count')).toBe('posts 1')
    expect(await p.page.textContent('#root-count')).toBe('root 1')
    expect(await p.page.evaluate(() => document.getElementById('__isr-route-announcer')?.textContent)).toBe('Post 2')
    expect(await p.page.evaluate(() => document.activeElement?.tagName)).toBe('H1')
    expect(await p.marker()).toBe('same document')
    expect(p.documents()).toEqual(['/'])
    expect(p.errors).toEqual([])
    await p.close()
  })

  it('restores content and scroll position on Back and Forward, and scrolls a new page to the top', async () => {
    const p = await openPage(browser, `${server.url}/`)
    await p.page.evaluate(() => window.scrollTo(0, 1200))
    await expect.poll(() => p.page.evaluate(() => window.scrollY)).toBe(1200)
    // A click from script: playwright's own would scroll the link into view first.
    await p.page.evaluate(() => document.querySelector<HTMLElement>('#to-one')!.click())
    await expect.poll(() => heading(p.page)).toBe('Post 1')
    expect(await p.page.evaluate(() => window.scrollY)).toBe(0)
    await p.page.evaluate(() => window.scrollTo(0, 700))
    // the position is written into the history entry once scrolling settles
    await p.page.waitForFunction(() => (history.state as { __isrScroll?: { y: number } } | null)?.__isrScroll?.y === 700)

    await p.page.goBack()
    await expect.poll(() => heading(p.page)).toBe('Home')
    await expect.poll(() => p.page.evaluate(() => window.scrollY)).toBe(1200)
    expect(await p.page.title()).toBe('Home')
    await p.page.goForward()
    await expect.poll(() => heading(p.page)).toBe('Post 1')
    await expect.poll(() => p.page.evaluate(() => window.scrollY)).toBe(700)
    expect(await p.marker()).toBe('same document')
    expect(p.documents()).toEqual(['/'])
    await p.close()
  })

  it('prefetches the payload of a link in view before it is clicked, once, and none for prefetch={false}', async () => {
    const p = await openPage(browser, `${server.url}/`)
    const one = payloadPath(server.isr.buildId, '/posts/1')
    const two = payloadPath(server.isr.buildId, '/posts/2')
    await p.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
    await expect.poll(() => p.payloads()).toContain(one)
    // and the page's code with it: its chunks are modulepreloaded before any click
    const { scripts } = (await (await fetch(`${server.url}${one}`)).json()) as { scripts: string[] }
    expect(scripts.length).toBeGreaterThan(0)
    const preloaded = () => p.page.evaluate(() => [...document.querySelectorAll('link[rel="modulepreload"]')].map((link) => link.getAttribute('href')))
    await expect.poll(preloaded).toEqual(expect.arrayContaining(scripts))
    await p.page.hover('#to-two')
    await p.page.hover('#nav-about')
    expect(p.payloads()).not.toContain(two)
    expect(p.payloads()).not.toContain(payloadPath(server.isr.buildId, '/about'))
    await p.page.hover('#to-one')
    await p.page.click('#to-one')
    await expect.poll(() => heading(p.page)).toBe('Post 1')
    // the hover and the click used the prefetched payload
    expect(p.payloads().filter((path) => path === one)).toHaveLength(1)
    await p.close()
  })

  it('follows a redirect() of the target page on the client, and loads a notFound() page in full', async () => {
    const p = await openPage(browser, `${server.url}/`)
    await p.page.click('#to-old')
    await expect.poll(() => heading(p.page)).toBe('Post 2')
    expect(new URL(p.page.url()).pathname).toBe('/posts/2')
    expect(await p.marker()).toBe('same document')

    await p.page.click('#nav-home')
    await expect.poll(() => heading(p.page)).toBe('Home')
    await p.page.click('#to-missing')
    await expect.poll(() => heading(p.page)).toBe('Nothing here')
    expect(new URL(p.page.url()).pathname).toBe('/posts/404')
    expect(p.documents()).toEqual(['/', '/posts/404'])
    await p.close()
  })

  it('carries the query to a page rendered per request: its loader and useSearchParams() see ?q=2 after a click, Back shows q=1 again', async () => {
    const p = await openPage(browser, `${server.url}/search?q=1`, { cookies: [{ name: 'session', value: 'abc' }] })
    const shown = async () => ({
      heading: await heading(p.page),
      loader: await p.page.textContent('#loader-url'),
      hook: await p.page.textContent('#hook-q'),
      cookie: await p.page.textContent('#cookie'),
    })
    const data = (q: string) => `/_isr/data/${server.isr.buildId}/search.json?q=${q}`
    expect(await shown()).toEqual({ heading: 'Search 1', loader: '/search?q=1', hook: '1', cookie: 'session=abc' })
    // a link in view is prefetched with its query
    await expect.poll(() => p.payloadsWithQuery()).toContain(data('9'))
    const prefetched = p.requests.find((r) => r.url().endsWith(data('9')))!
    await (await prefetched.response())?.finished()
    // its answer was private (rendered per request): a hover does not prefetch it again
    await p.page.hover('#far-query')

    await p.page.click('#next-query')
    await expect.poll(() => heading(p.page)).toBe('Search 2')
    expect(await shown()).toEqual({ heading: 'Search 2', loader: '/search?q=2', hook: '2', cookie: 'session=abc' })
    expect(new URL(p.page.url()).search).toBe('?q=2')
    expect(p.payloadsWithQuery()).toContain(data('2'))
    expect(await p.marker()).toBe('same document')
    expect(p.documents()).toEqual(['/search'])
    const soft = Number(await p.page.textContent('#render'))

    // what a full load of the same URL shows, with the same cookie
    const full = await p.page.context().newPage()
    await full.goto(`${server.url}/search?q=2`)
    expect({ loader: await full.textContent('#loader-url'), hook: await full.textContent('#hook-q'), cookie: await full.textContent('#cookie') }).toEqual({
      loader: '/search?q=2',
      hook: '2',
      cookie: 'session=abc',
    })
    await full.close()

    await p.page.goBack()
    await expect.poll(() => heading(p.page)).toBe('Search 1')
    expect(await shown()).toEqual({ heading: 'Search 1', loader: '/search?q=1', hook: '1', cookie: 'session=abc' })
    expect(p.payloadsWithQuery()).toContain(data('1'))

    // a per-request page's payload is private: Forward fetches it again, and it is a new render
    await p.page.goForward()
    await expect.poll(() => heading(p.page)).toBe('Search 2')
    expect(Number(await p.page.textContent('#render'))).toBeGreaterThan(soft)
    expect(p.payloadsWithQuery().filter((url) => url === data('2'))).toHaveLength(2)
    // its path answered private once: not prefetched again, neither on hover nor by the links shown since
    expect(p.payloadsWithQuery().filter((url) => url === data('9'))).toHaveLength(1)
    expect(await p.marker()).toBe('same document')
    expect(p.documents()).toEqual(['/search'])
    expect(p.errors).toEqual([])
    expect(p.consoleErrors).toEqual([])
    await p.close()
  })

  it("shows a cached page's query once hydrated, without a hydration mismatch: the server rendered it with none, as the HTML is shared by every query", async () => {
    const html = await (await fetch(`${server.url}/about?tab=team`)).text()
    expect(html).toContain('<p id="about-tab">no tab</p>')
    const p = await openPage(browser, `${server.url}/about?tab=team`)
    await hydrated(p.page, '#about-tab')
    await expect.poll(() => p.page.textContent('#about-tab')).toBe('team')
    expect(p.errors).toEqual([])
    expect(p.consoleErrors).toEqual([])
    expect(p.documents()).toEqual(['/about'])
    await p.close()
  })

  it('leaves a link with target="_blank" to the browser', async () => {
    const p = await openPage(browser, `${server.url}/`)
    const popup = p.page.context().waitForEvent('page')
    await p.page.click('#to-one-new-tab')
    const opened = await popup
    await opened.waitForLoadState()
    expect(await heading(opened)).toBe('Post 1')
    expect(await heading(p.page)).toBe('Home')
    await p.close()
  })

  it('loads the page in full when the payload belongs to another build (a deploy happened)', async () => {
    const p = await openPage(browser, `${server.url}/`)
    // The same app deployed again under another build id, on the same address.
    const next = join(REPO, 'test/.tmp/navigation-next-dist')
    cpSync(dist, next, { recursive: true })
    const manifestFile = join(next, 'prerender-manifest.json')
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), buildId: 'next-build' }))
    const port = new URL(server.url).port
    await server.close()
    server = await startServer({ distDir: next, cacheDir: join(cache.dir, 'next-cache'), mode: 'fast-path', port: Number(port) })
    expect(new URL(server.url).port).toBe(port)

    await p.page.click('#to-one')
    await expect.poll(() => heading(p.page)).toBe('Post 1')
    expect(await p.marker()).toBeUndefined()
    expect(p.documents()).toEqual(['/', '/posts/1'])
    await p.close()
  })

  it("starts loading the target page's code on a click while its payload is still on the way (prefetch={false})", async () => {
    const p = await openPage(browser, `${server.url}/`)
    const about = `/_isr/data/${server.isr.buildId}/about.json`
    const { scripts } = (await (await fetch(`${server.url}${about}`)).json()) as { scripts: string[] }
    await p.page.waitForLoadState('networkidle')
    const loaded = new Set(p.requests.map((r) => new URL(r.url()).pathname))
    // The About page's own chunks: none of them is loaded before the click (no prefetch).
    const chunks = scripts.filter((script) => !loaded.has(script))
    expect(chunks.length).toBeGreaterThan(0)
    const requested = () => p.requests.map((r) => new URL(r.url()).pathname)
    // The payload is held until the page's chunks have been asked for: with a router that waits for
    // the payload before importing, they never are, and the payload goes out after 10 s instead.
    let chunksBeforePayload: string[] = []
    await p.page.route(`**${about}`, async (route) => {
      const deadline = Date.now() + 10_000
      while (!chunks.every((chunk) => requested().includes(chunk)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      chunksBeforePayload = chunks.filter((chunk) => requested().includes(chunk))
      await route.continue()
    })
    await p.page.click('#nav-about')
    await expect.poll(() => heading(p.page), { timeout: 20_000 }).toBe('About')
    expect(chunksBeforePayload).toEqual(chunks)
    expect(p.payloads()).toEqual([about])
    expect(await p.marker()).toBe('same document')
    expect(p.errors).toEqual([])
    await p.close()
  })

  it('works with JavaScript disabled: a Link is a plain link', async () => {
    const p = await openPage(browser, `${server.url}/`, { javaScriptEnabled: false })
    await p.page.click('#to-one')
    await expect.poll(() => heading(p.page)).toBe('Post 1')
    expect(p.documents()).toEqual(['/', '/posts/1'])
    expect(p.payloads()).toEqual([])
    await p.close()
  })

  it("shows a never-generated 'shell' page's loading state, then its content in place without loading the document again", async () => {
    resetLateRoute()
    const open = closeGate()
    try {
      const p = await openPage(browser, `${server.url}/late/fresh`)
      // Hydrated, the shell has asked for the payload, which waits for the one render.
      await expect.poll(() => p.payloads()).toContain(payloadPath(server.isr.buildId, '/late/fresh'))
      expect(await p.page.textContent('#loading')).toBe('Loading the post…')
      expect(await p.page.$('#late-body')).toBeNull()
      open()
      await expect.poll(() => heading(p.page)).toBe('Late post fresh')
      expect(await p.page.textContent('#late-body')).toBe('The content of fresh')
      expect(await p.page.$('#loading')).toBeNull()
      expect(await p.page.title()).toBe('Late post fresh')
      expect(await p.marker()).toBe('same document')
      expect(p.documents()).toEqual(['/late/fresh'])
      expect(new URL(p.page.url()).pathname).toBe('/late/fresh')
      expect(p.errors).toEqual([])
      expect(renders('fresh')).toBe(1)
      await p.close()
    } finally {
      openGate()
    }
  })
})
