/**
 * `vite` (dev) in real Chromium, on a scratch copy of the basic fixture: editing a page's
 * component on disk is applied by React Fast Refresh without a reload (state kept), and a
 * loader that throws shows in Vite's error overlay, then recovers once fixed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hydrated, launchBrowser } from '../helpers/browser.js'
import { REPO } from '../helpers/build.js'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'

const SCREENSHOTS = join(REPO, 'test/e2e/__screenshots__')

let browser: Browser
let dev: DevServer
let base: string
let dir: string
let pageFile: string

beforeAll(async () => {
  const [launched, started] = await Promise.all([launchBrowser(), startDevServer({ as: 'e2e-dev-hmr' })])
  browser = launched
  dev = started
  dir = dev.dir
  pageFile = join(dir, 'app/blog/[id]/page.tsx')
  base = dev.url
  // Warm up: the first browser visit makes Vite discover and pre-bundle react / react-dom,
  // which may reload the page. Let that happen here, not in the tests.
  const page = await browser.newPage()
  const seen: string[] = []
  page.on('console', (message) => seen.push(`console.${message.type()} ${message.text()}`))
  page.on('load', () => seen.push(`load ${page.url()}`))
  for (let attempt = 1; ; attempt++) {
    try {
      seen.push(`goto ${(await page.goto(`${base}/blog/1`))?.status()}`)
      await hydrated(page, '#like')
      break
    } catch (error) {
      seen.push(`attempt ${attempt}: ${(error as Error).message.split('\n')[0]}`)
      if (attempt === 3) throw new Error(`the dev page never hydrated:\n${seen.join('\n')}`)
    }
  }
  await page.close()
  mkdirSync(SCREENSHOTS, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  await dev?.close()
})

/** Rewrite the page file on disk, failing loudly if the text to replace is not there. */
function edit(from: string, to: string): void {
  const source = readFileSync(pageFile, 'utf8')
  if (!source.includes(from)) throw new Error(`${from} is not in ${pageFile}:\n${source}`)
  writeFileSync(pageFile, source.replace(from, to))
}

/** Counts the page's full loads (a Fast Refresh update is not one) and its errors. */
function watch(page: Page): { loads: () => number; problems: string[] } {
  let loads = 0
  const problems: string[] = []
  page.on('load', () => loads++)
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('response', (res) => res.status() >= 400 && !res.url().endsWith('/favicon.ico') && problems.push(`${res.status()} ${res.url()}`))
  return { loads: () => loads, problems }
}

describe('vite dev server in Chromium', () => {
  it('applies an edit to the page component with React Fast Refresh: no reload, state kept', async () => {
    const page = await browser.newPage()
    const { loads, problems } = watch(page)
    // connected to Vite's HMR socket before editing anything
    const connected = page.waitForEvent('console', { predicate: (message) => message.text().includes('[vite] connected'), timeout: 15_000 })
    const response = await page.goto(`${base}/blog/1`)
    expect(response?.status()).toBe(200)
    expect(await page.textContent('h1')).toBe('First post')
    await connected
    await hydrated(page, '#like')

    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('likes 1')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('likes 2')
    // a full reload would drop this
    await page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true))
    const loadsBefore = loads()

    edit('<h1>{data.title}</h1>', '<h1>{data.title} <span id="hmr-marker">edited live</span></h1>')
    await page.waitForSelector('#hmr-marker', { timeout: 15_000 })
    expect(await page.textContent('#hmr-marker')).toBe('edited live')
    expect(await page.textContent('h1')).toBe('First post edited live')
    // React Fast Refresh kept the component's state, and the page was not reloaded
    expect(await page.textContent('#like')).toBe('likes 2')
    expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true)
    expect(loads()).toBe(loadsBefore)
    await page.screenshot({ path: join(SCREENSHOTS, 'dev-after-fast-refresh.png') })
    // and the component still works after the update
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('likes 3')

    // the server renders the edit too
    expect(await (await fetch(`${base}/blog/1`)).text()).toContain('id="hmr-marker"')
    expect(problems).toEqual([])
    await page.close()
  })

  it('shows a loader error in Vite\'s error overlay, and the page again once the loader is fixed', async () => {
    const errors: string[] = []
    const fixedSource = readFileSync(pageFile, 'utf8')
    // No page is open while the loader is edited: an open page would reload by itself (a
    // server-only edit, see the last test) and race this test's own navigation.
    const first = await browser.newPage()
    expect((await first.goto(`${base}/blog/1`))?.status()).toBe(200)
    await first.close()
    const page = await browser.newPage()
    page.on('pageerror', (error) => errors.push(error.message))
    // Vite's client sends no update to a page not yet on its socket: the fix below must reach it
    const connected = page.waitForEvent('console', { predicate: (message) => message.text().includes('[vite] connected'), timeout: 15_000 })
    edit('export async function loader({ params }: { params: { id: string } }) {', "export async function loader({ params }: { params: { id: string } }) {\n  throw new Error('boom in loader')")
    try {
      // the SSR module graph picks up the edit: wait until the server answers with the error
      await expect.poll(async () => (await fetch(`${base}/blog/1`)).status, { timeout: 10_000, interval: 100 }).toBe(500)
      const response = await page.goto(`${base}/blog/1`)
      expect(response?.status()).toBe(500)
      const overlay = page.locator('vite-error-overlay')
      await overlay.waitFor({ timeout: 10_000 })
      // Playwright's locators pierce the overlay's (open) shadow root
      await expect.poll(() => overlay.locator('.message-body').textContent(), { timeout: 10_000 }).toContain('boom in loader')
      // the stack is mapped back to the source file, at the line and column of the throw
      const lines = readFileSync(pageFile, 'utf8').split('\n')
      const line = lines.findIndex((text) => text.includes("throw new Error('boom in loader')")) + 1
      expect(await overlay.locator('.stack').textContent()).toContain(`app/blog/[id]/page.tsx:${line}:9)`)
      await page.screenshot({ path: join(SCREENSHOTS, 'dev-loader-error-overlay.png') })
      await connected
    } finally {
      writeFileSync(pageFile, fixedSource)
    }
    // fixed: the overlay page reloads itself on the next HMR update (Vite's client does this
    // when an overlay is up) and shows the page again, hydrated
    await page.locator('h1', { hasText: /^First post edited live$/ }).waitFor({ timeout: 15_000 })
    expect(await page.locator('vite-error-overlay').count()).toBe(0)
    await hydrated(page, '#like')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('likes 1')
    const again = await page.goto(`${base}/blog/1`)
    expect(again?.status()).toBe(200)
    expect(errors).toEqual([])
    await page.close()
  })

  it('reloads an open page when only its server code changed, so it shows the new data (or the overlay)', async () => {
    const page = await browser.newPage()
    const { loads } = watch(page)
    const fixedSource = readFileSync(pageFile, 'utf8')
    const connected = page.waitForEvent('console', { predicate: (message) => message.text().includes('[vite] connected'), timeout: 15_000 })
    await page.goto(`${base}/blog/2`)
    await connected
    await hydrated(page, '#like')
    const loadsBefore = loads()
    try {
      // the reloaded page must be on Vite's socket again before the next edit, or it misses it
      const reconnected = page.waitForEvent('console', { predicate: (message) => message.text().includes('[vite] connected'), timeout: 15_000 })
      // the loader alone changes: Fast Refresh has nothing to apply, the page must reload
      edit('return { id: params.id, ...post,', "return { id: params.id, ...post, title: 'Title from the edited loader',")
      await page.locator('h1', { hasText: 'Title from the edited loader' }).waitFor({ timeout: 15_000 })
      // a reload, not a soft refresh: its load event follows the new h1 once the modules have run
      await expect.poll(loads, { timeout: 15_000 }).toBeGreaterThan(loadsBefore)
      await reconnected
      await hydrated(page, '#like')
      // and a loader that starts throwing shows the overlay in the open page, with no click
      edit('export async function loader({ params }: { params: { id: string } }) {', "export async function loader({ params }: { params: { id: string } }) {\n  throw new Error('boom while open')")
      const overlay = page.locator('vite-error-overlay')
      await overlay.waitFor({ timeout: 15_000 })
      // Vite may first read the file half-written (a passing parse error): wait for the real one
      await expect.poll(() => overlay.locator('.message-body').textContent().catch(() => ''), { timeout: 15_000 }).toContain('boom while open')
    } finally {
      writeFileSync(pageFile, fixedSource)
    }
    await page.close()
  })
})
