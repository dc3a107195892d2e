/**
 * The example blog in real Chromium, run as a user runs it: a real `vite build`, then
 * `node server.js` in its own process (production, with the cache inspector on behind a
 * token). The page hydrates, an admin edit shows after revalidation, and `/__isr` shows
 * what the cache holds and revalidates from its form. Screenshots go to
 * test/e2e/__screenshots__/ (gitignored artefacts).
 *
 * The app is built from a scratch copy under test/.tmp, so this file never races
 * test/example/example-app-server.test.ts over example-app/dist or its cache.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hydrated, launchBrowser } from '../helpers/browser.js'
import { REPO, viteBuild } from '../helpers/build.js'
import { tick } from '../helpers/clock.js'
import { startExampleServer, type ExampleServer } from '../helpers/example-app.js'

const SOURCE = join(REPO, 'example-app')
const APP = join(REPO, 'test/.tmp/e2e-example-app')
const SCREENSHOTS = join(REPO, 'test/e2e/__screenshots__')
const SECRET = 'e2e-revalidate-secret-0123456789'
const TOKEN = 'e2e-inspector-token-0123456789'

let browser: Browser
let server: ExampleServer
let url: string
let dataDir: string

beforeAll(async () => {
  rmSync(APP, { recursive: true, force: true })
  mkdirSync(join(REPO, 'test/.tmp'), { recursive: true })
  // tsconfig.json extends ../tsconfig.json, which is not there in the copy (Vite does not need it)
  cpSync(SOURCE, APP, { recursive: true, filter: (src) => !/[/\\](dist|node_modules|data|tsconfig\.json)$/.test(src) })
  dataDir = mkdtempSync(join(tmpdir(), 'vite-isr-e2e-db-'))
  const env = { DATABASE_PATH: join(dataDir, 'blog.db') }
  const [build, launched] = await Promise.all([viteBuild(APP, env), launchBrowser()])
  browser = launched
  if (build.code !== 0) throw new Error(`example-app build failed:\n${build.output}`)
  server = await startExampleServer({
    cwd: APP,
    env: { ...process.env, ...env, PORT: '0', REVALIDATE_SECRET: SECRET, NODE_ENV: 'production', ISR_INSPECTOR: '1', ISR_INSPECTOR_TOKEN: TOKEN },
  })
  url = server.url
  mkdirSync(SCREENSHOTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  rmSync(APP, { recursive: true, force: true })
})

const get = (path: string, init?: RequestInit) => fetch(url + path, { redirect: 'manual', ...init })

/** GET `path` until it is served fresh from the cache (a MISS first renders and stores it). */
async function cached(path: string): Promise<void> {
  await expect.poll(async () => (await get(path)).headers.get('x-isr-cache'), { timeout: 5000, interval: 20 }).toBe('HIT')
}

/** A page (prefetching off unless asked) that records every uncaught error, console error and failed request (but the favicon probe). */
async function openPage(options: { prefetch?: boolean } = {}): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } })
  // Tests that count cache states switch prefetching off as a visitor can (Save-Data): a
  // prefetch is a real request for a page's payload, and regenerates it like any other.
  if (options.prefetch !== true) await page.addInitScript(() => Object.defineProperty(navigator, 'connection', { value: { saveData: true } }))
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => message.type() === 'error' && !message.location().url.endsWith('/favicon.ico') && problems.push(`console: ${message.text()}`))
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`))
  page.on('response', (res) => res.status() >= 400 && !res.url().endsWith('/favicon.ico') && problems.push(`${res.status()} ${res.url()}`))
  return { page, problems }
}

describe('example-app in Chromium (node server.js)', () => {
  it('navigates between the index and a post with <Link>: no document load, the layout keeps its count', async () => {
    const { page, problems } = await openPage({ prefetch: true })
    const documents: string[] = []
    page.on('request', (request) => request.resourceType() === 'document' && documents.push(new URL(request.url()).pathname))
    await page.goto(`${url}/`)
    await hydrated(page, '.post-list a')
    await expect.poll(() => page.textContent('#pages-visited')).toBe('1 page this visit')
    const link = page.locator('.post-list a').first()
    const title = (await link.textContent())!
    await link.click()
    await expect.poll(() => page.textContent('h1')).toBe(title)
    expect(await page.title()).toContain(title)
    await expect.poll(() => page.textContent('#pages-visited')).toBe('2 pages this visit')
    await page.click('.site-header nav a[href="/"]')
    await expect.poll(() => page.locator('.post-list').count()).toBe(1)
    await expect.poll(() => page.textContent('#pages-visited')).toBe('3 pages this visit')
    expect(documents).toEqual(['/'])
    expect(problems).toEqual([])
    await page.close()
  })

  it('hydrates a cached post page: the like button counts clicks', async () => {
    const { page, problems } = await openPage()
    const response = await page.goto(`${url}/blog/hello-isr`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['x-isr-cache']).toBe('HIT')
    expect(await page.textContent('h1')).toBe('Hello, Incremental Static Regeneration')
    // the server's HTML says "Like"; only React, once hydrated, can change it
    expect(await page.textContent('#like')).toBe('♥ Like')
    await hydrated(page, '#like')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('♥ 1 like')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('♥ 2 likes')
    expect(await page.getAttribute('#like', 'aria-pressed')).toBe('true')
    // the page ran a client bundle (not just server HTML)
    expect(await page.locator('script[type="module"][src^="/assets/"]').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(SCREENSHOTS, 'example-post.png'), fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  })

  it('shows an edit made through the admin action (PUT /api/posts/:slug) on the next load of the post and the index', async () => {
    const title = `Edited in the browser test ${Date.now()}`
    const { page, problems } = await openPage()
    // both pages are in the cache, with the old title
    const before = await page.goto(`${url}/blog/static-params`)
    expect(before?.headers()['x-isr-cache']).toBe('HIT')
    expect(await page.textContent('h1')).toBe('Prerendering with generateStaticParams')
    const indexBefore = await page.goto(`${url}/`)
    expect(indexBefore?.headers()['x-isr-cache']).toBe('HIT')
    // the index lists the latest posts; this one is older
    const latestBefore = await page.locator('.post-list a').allTextContents()
    expect(latestBefore.length).toBeGreaterThan(0)
    expect(latestBefore).not.toContain('Prerendering with generateStaticParams')
    await tick()

    const edit = await get('/api/posts/static-params', {
      method: 'PUT',
      headers: { 'x-revalidate-secret': SECRET, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
    })
    expect(edit.status).toBe(200)
    expect(await edit.json()).toMatchObject({ updated: true, revalidated: { tag: 'posts' } })

    const post = await page.goto(`${url}/blog/static-params`)
    expect(post?.headers()['x-isr-cache']).toBe('MISS')
    expect(await page.textContent('h1')).toBe(title)
    expect(await page.title()).toBe(`${title} · vite-isr blog`)
    // the regenerated page hydrates too
    await hydrated(page, '#like')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('♥ 1 like')

    const index = await page.goto(`${url}/`)
    expect(index?.headers()['x-isr-cache']).toBe('MISS')
    // just edited, so now the latest post: first in the list, with its new title
    const first = page.locator('.post-list a').first()
    expect(await first.textContent()).toBe(title)
    expect(await first.getAttribute('href')).toBe('/blog/static-params')
    await page.screenshot({ path: join(SCREENSHOTS, 'example-index-after-edit.png'), fullPage: true })

    // and from then on they are cached again, with the edit
    const again = await get('/')
    expect(again.headers.get('x-isr-cache')).toBe('HIT')
    expect(await again.text()).toContain(title)
    expect(problems).toEqual([])
    await page.close()
  })

  it('refuses the inspector without the token (production)', async () => {
    // (the edit above expired every page tagged `posts`: get this one cached again first)
    await cached('/blog/hello-isr')
    expect((await get('/__isr')).status).toBe(401)
    expect((await get('/__isr?token=wrong-token-wrong-token')).status).toBe(401)
    const form = { method: 'POST', body: 'path=%2Fblog%2Fhello-isr' }
    const post = await get('/__isr/revalidate', { ...form, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url } })
    expect(post.status).toBe(401)
    // and without its own Origin, a POST is refused before the token is looked at
    expect((await get('/__isr/revalidate', { ...form, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-isr-inspector-token': TOKEN } })).status).toBe(403)
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('renders the inspector with the pages just visited, its counters and chart; its revalidatePath form makes the post a MISS', async () => {
    // one more HIT so the post's state is known
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('HIT')
    const { page, problems } = await openPage()
    const response = await page.goto(`${url}/__isr?token=${TOKEN}`)
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe('vite-isr cache')

    const rows = page.locator('#entries tbody tr')
    expect(await rows.count()).toBeGreaterThanOrEqual(3)
    const paths = await page.locator('#entries tbody tr td:first-child a').allTextContents()
    expect(paths).toEqual(expect.arrayContaining(['/', '/blog/hello-isr', '/blog/static-params']))
    // a row: path, state, status, age, window, tags, size
    const postRow = rows.filter({ has: page.locator('td:first-child a', { hasText: /^\/blog\/hello-isr$/ }) })
    const cells = await postRow.locator('td').allTextContents()
    expect(cells.slice(1, 3)).toEqual(['fresh', '200'])
    expect(cells[3]).toMatch(/^\d+s$/)
    expect(cells[4]).toBe('60s')
    expect(cells[5]).toBe('posts')
    expect(cells[6]).toMatch(/\d/)

    // this process served HITs (the visits above) and MISSes (after the edit)
    // A counter that is missing or not a number fails here, so every bound below means something.
    const counter = async (id: string) => {
      const text = await page.textContent(`#${id}`)
      expect(text, `#${id}`).toMatch(/^\d+$/)
      return Number(text)
    }
    expect(await counter('hit')).toBeGreaterThanOrEqual(4)
    expect(await counter('miss')).toBeGreaterThanOrEqual(2)
    expect(await counter('stale')).toBeGreaterThanOrEqual(0)
    // the chart: an svg with bars for the last minutes
    const chart = page.locator('svg#chart')
    expect(await chart.count()).toBe(1)
    expect(await chart.locator('rect').count()).toBeGreaterThan(0)
    const box = await chart.boundingBox()
    expect(box?.width).toBeGreaterThan(100)
    await page.screenshot({ path: join(SCREENSHOTS, 'example-inspector.png'), fullPage: true })

    // revalidatePath from the form (a real form submission: the session cookie and the page's own Origin)
    await tick()
    await page.fill('input[aria-label="path"]', '/blog/hello-isr')
    const [submitted] = await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/__isr/revalidate') && res.request().method() === 'POST'),
      page.click('button:text-is("revalidatePath")'),
    ])
    // post/redirect/get: the form answers 303 back to /__isr, so a reload does not repeat it
    expect(submitted.status()).toBe(303)
    await page.waitForURL(/\/__isr\?done=/)
    await page.waitForLoadState()
    expect(await page.textContent('.msg')).toBe('revalidatePath(/blog/hello-isr) done')
    // the page the form answers with shows the entry expired (the others untouched)
    const stateOf = (path: string) => page.locator('#entries tbody tr', { has: page.locator('td:first-child a', { hasText: new RegExp(`^${path}$`) }) }).locator('td:nth-child(2)').textContent()
    expect(await stateOf('/blog/hello-isr')).toBe('expired')
    expect(await stateOf('/blog/static-params')).toBe('fresh')
    // the next request renders it anew, then it is cached again
    const next = await get('/blog/hello-isr')
    expect(next.status).toBe(200)
    expect(next.headers.get('x-isr-cache')).toBe('MISS')
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('HIT')
    // only that page
    expect((await get('/blog/static-params')).headers.get('x-isr-cache')).toBe('HIT')
    await page.screenshot({ path: join(SCREENSHOTS, 'example-inspector-after-revalidate.png'), fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  })

  it('printed no error while serving', () => {
    expect(server.output).not.toMatch(/error/i)
    expect(server.output).not.toContain(SECRET)
    expect(server.output).not.toContain(TOKEN)
  })
})
