/**
 * `fallback = 'shell'` in `vite` (dev) in real Chromium, on a scratch copy of the navigation
 * fixture: the loading shell, then the page in place without a reload, from one render; an
 * edit to the page made while the shell is up or after the page is shown reaches the browser.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hydrated, launchBrowser } from '../helpers/browser.js'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'
import { closeGate, openGate, renders, resetLateRoute } from '../helpers/late-route.js'

let browser: Browser
let dev: DevServer
let pageFile: string

/** The page file's source with `from` replaced, failing loudly if it is not there. */
function edited(from: string, to: string): string {
  const source = readFileSync(pageFile, 'utf8')
  if (!source.includes(from)) throw new Error(`${from} is not in ${pageFile}:\n${source}`)
  return source.replace(from, to)
}

/** Document loads (a soft update is none), page errors and failed requests of `page`. */
function watch(page: Page): { documents: string[]; problems: string[] } {
  const documents: string[] = []
  const problems: string[] = []
  page.on('request', (req) => req.resourceType() === 'document' && documents.push(req.url()))
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('response', (res) => res.status() >= 400 && !res.url().endsWith('/favicon.ico') && problems.push(`${res.status()} ${res.url()}`))
  return { documents, problems }
}

const connectedTo = (page: Page) => page.waitForEvent('console', { predicate: (message) => message.text().includes('[vite] connected'), timeout: 15_000 })

beforeAll(async () => {
  const [launched, started] = await Promise.all([launchBrowser(), startDevServer({ as: 'dev-shell-browser', fixture: 'navigation' })])
  browser = launched
  dev = started
  pageFile = join(dev.dir, 'app/late/[id]/page.tsx')
  // Warm up: the first visits make Vite discover and pre-bundle the client's dependencies,
  // which may reload the page. Let that happen here, not in the tests.
  const page = await browser.newPage()
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(`${dev.url}/late/warm-up`)
      await page.locator('#late-body').waitFor({ timeout: 15_000 })
      await hydrated(page, '#root-count')
      break
    } catch (error) {
      if (attempt === 3) throw error
    }
  }
  await page.close()
})

afterAll(async () => {
  await browser?.close()
  await dev?.close()
})

afterEach(openGate)

describe("fallback = 'shell' in vite dev, in Chromium", () => {
  it('shows the loading shell, then the page in place without a reload, rendered once', async () => {
    resetLateRoute()
    const page = await browser.newPage()
    const { documents, problems } = watch(page)
    const open = closeGate()
    await page.goto(`${dev.url}/late/held`)
    expect(await page.textContent('#loading')).toBe('Loading the post…')
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true))
    open()
    await expect.poll(() => page.locator('#late-body').textContent(), { timeout: 15_000 }).toBe('The content of held')
    expect(await page.title()).toBe('Late post held')
    expect(await page.locator('#loading').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true)
    expect(documents).toEqual([`${dev.url}/late/held`])
    expect(renders('held')).toBe(1)
    expect(problems).toEqual([])
    await page.close()
  })

  it('renders a path once when the render ends before the shell asks for its payload', async () => {
    resetLateRoute()
    const page = await browser.newPage()
    const { documents, problems } = watch(page)
    await page.goto(`${dev.url}/late/quick`)
    await expect.poll(() => page.locator('#late-body').textContent(), { timeout: 15_000 }).toBe('The content of quick')
    expect(documents).toEqual([`${dev.url}/late/quick`])
    expect(renders('quick')).toBe(1)
    expect(problems).toEqual([])
    await page.close()
  })

  it('shows an edit to the page made while the shell is up, then applies the next one with Fast Refresh, state kept', async () => {
    const source = readFileSync(pageFile, 'utf8')
    const page = await browser.newPage()
    const { problems } = watch(page)
    try {
      const open = closeGate()
      const connected = connectedTo(page)
      await page.goto(`${dev.url}/late/edited`)
      expect(await page.textContent('#loading')).toBe('Loading the post…')
      await connected
      // Vite has seen the edit before the page's code is asked for: otherwise, on a busy
      // machine, the browser could import the old module while the watcher is still behind.
      await dev.write(pageFile, edited('<h1>{data.title}</h1>', '<h1>{data.title} <span id="first-edit">edited on the shell</span></h1>'), async () =>
        (await (await dev.get('/app/late/%5Bid%5D/page.tsx')).text()).includes('first-edit'),
      )
      open()
      await page.locator('#first-edit').waitFor({ timeout: 15_000 })
      expect(await page.textContent('#late-body')).toBe('The content of edited')

      await hydrated(page, '#root-count')
      await page.click('#root-count')
      await expect.poll(() => page.textContent('#root-count')).toBe('root 1')
      await page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true))
      await dev.write(pageFile, edited('<span id="first-edit">edited on the shell</span>', '<span id="second-edit">edited on the page</span>'), async () => (await page.locator('#second-edit').count()) > 0)
      expect(await page.textContent('#root-count')).toBe('root 1')
      expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true)
      expect(problems).toEqual([])
    } finally {
      writeFileSync(pageFile, source)
      await page.close()
    }
  })
})
