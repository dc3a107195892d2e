/**
 * Injection, checked in a real headless Chromium: loader data and route params reach the
 * page as text and as data, never as markup or script. Beyond test/e2e/hydration.test.ts
 * (a plain `</script><script>` in a post body): U+2028/U+2029, `<!--`, upper-case and
 * spaced end tags, metadata in <title> and attributes, params in the text and the payload,
 * an exact JSON round trip of the payload, and hydration without a mismatch.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hydrated, launchBrowser } from '../helpers/browser.js'
import { useFixtureServer } from '../helpers/server.js'
import { copyBasicDist, figure } from './helpers.js'

const EVIL_BODY =
  'a</script><script>alert(1)</script>b\u2028c\u2029d<!--<script>alert(2)</script>--></SCRIPT ><script >window.__xss=1</script>' +
  '<img src=x onerror=alert(3)><svg onload=alert(4)>]]>`${alert(5)}`"\'&amp;&lt;\\u2028\\"</p></article></body></html>'
const EVIL_TITLE = '</title><script>alert(6)</script>"\'><img src=x onerror=alert(7)>\u2028&quot;'

interface Observed {
  dialogs: string[]
  errors: string[]
}

async function open(browser: Browser, url: string): Promise<{ page: Page; seen: Observed; state: string | undefined }> {
  const page = await browser.newPage()
  const seen: Observed = { dialogs: [], errors: [] }
  page.on('dialog', async (dialog) => {
    seen.dialogs.push(dialog.message())
    await dialog.dismiss()
  })
  page.on('pageerror', (error) => seen.errors.push(error.message))
  // React reports a hydration mismatch on the console; a failed load is reported below with its URL.
  page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && seen.errors.push(message.text()))
  // Every failed request but the browser's own favicon probe (an injected <img src=x> would show here too).
  page.on('response', (res) => res.status() >= 400 && !res.url().endsWith('/favicon.ico') && seen.errors.push(`${res.status()} ${res.url()}`))
  page.on('request', (req) => /\/x$/.test(req.url()) && seen.errors.push(`requested ${req.url()}`))
  const response = await page.goto(url)
  return { page, seen, state: response?.headers()['x-isr-cache'] }
}

/** What the browser made of a page: the payload parsed as the client does, and the elements that could run code. */
async function inspect(page: Page) {
  return page.evaluate(() => {
    const data = document.getElementById('__ISR_DATA__')
    return {
      payload: JSON.parse(data?.textContent ?? 'null') as { params: Record<string, unknown>; data: Record<string, unknown> | undefined },
      scripts: document.querySelectorAll('script').length,
      injected: document.querySelectorAll('img, svg, iframe, object, embed').length,
      xss: (window as { __xss?: unknown }).__xss,
      title: document.title,
      description: document.querySelector('meta[name="description"]')?.getAttribute('content'),
      h1: document.querySelector('h1')?.textContent,
      body: document.querySelector('#body')?.textContent,
      slug: document.querySelector('#slug')?.textContent,
    }
  })
}

/** The serialised payload exactly as sent: it must be one whole element, without raw line separators. */
function payloadText(html: string): string {
  const open = '<script id="__ISR_DATA__" type="application/json">'
  const start = html.indexOf(open)
  expect(start).toBeGreaterThan(-1)
  return html.slice(start + open.length, html.indexOf('</script>', start))
}

describe('injection', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  // A private copy of the build: another test run rebuilding the fixture cannot pull it away.
  const dist = copyBasicDist('faults-injection')
  afterAll(async () => {
    await browser?.close()
    dist.remove()
  })
  const t = useFixtureServer({ distDir: dist.dir, mode: 'fast-path' })

  it('loader data with </script>, <!--, U+2028/U+2029 and markup renders as text, runs nothing and round-trips exactly', async () => {
    t.db.posts['evil'] = { title: EVIL_TITLE, body: EVIL_BODY }
    const { page: plain } = await open(browser, `${t.server.url}/blog/1`)
    const baseline = await inspect(plain)
    await plain.close()

    for (const expected of ['MISS', 'HIT']) {
      const { page, seen, state } = await open(browser, `${t.server.url}/blog/evil`)
      expect(state).toBe(expected)
      const html = await (await t.server.get('/blog/evil')).text()
      // As sent: the payload is one whole JSON text, with nothing that ends the element or a line.
      const raw = payloadText(html)
      expect(raw).not.toMatch(/[<>\u2028\u2029]/)
      expect((JSON.parse(raw) as { data: { body: string } }).data.body).toBe(EVIL_BODY)
      expect(html).not.toContain('<script>alert(')
      expect(html).not.toContain('<img')
      expect(html).not.toContain('<svg')

      const got = await inspect(page)
      // The exact strings, as text and as data; no element or script came out of them.
      expect(got.body).toBe(EVIL_BODY)
      expect(got.h1).toBe(EVIL_TITLE)
      expect(got.title).toBe(EVIL_TITLE)
      expect(got.description).toBe(`Post: ${EVIL_TITLE}`)
      expect(got.payload.data?.body).toBe(EVIL_BODY)
      expect(got.payload.data?.title).toBe(EVIL_TITLE)
      expect(got.scripts).toBe(baseline.scripts)
      expect(got.injected).toBe(0)
      expect(got.xss).toBeUndefined()
      // It hydrated from that payload without a mismatch: the page is interactive.
      await hydrated(page, '#like')
      await page.click('#like')
      await expect.poll(() => page.textContent('#like')).toBe('likes 1')
      expect(seen.dialogs).toEqual([])
      expect(seen.errors).toEqual([])
      await page.close()
      figure(`injection: /blog/evil (${expected}): ${seen.dialogs.length} dialogs, ${got.injected} injected elements, payload round-trips ${EVIL_BODY.length} chars exactly`)
    }
  })

  it.each([
    ['<img src=x onerror=alert(1)>', '/docs/%3Cimg%20src=x%20onerror=alert(1)%3E'],
    ['"><svg onload=alert(1)>', '/docs/%22%3E%3Csvg%20onload=alert(1)%3E'],
    ['a\u2028b\u2029c<!--<script>', '/docs/a%E2%80%A8b%E2%80%A9c%3C!--%3Cscript%3E'],
    ['<|script><script>alert(1)<|script>', '/docs/%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E'],
  ])('route params are escaped: %j', async (text, path) => {
    const res = await t.server.get(path)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).not.toMatch(/<img|<svg|<script>alert/)
    if (text.includes('<img')) expect(html).toContain('&lt;img')
    const raw = payloadText(html)
    expect(raw).not.toMatch(/[<>\u2028\u2029]/)
    expect((JSON.parse(raw) as { params: { slug: string[] } }).params.slug.join('|')).toBe(text)

    const { page, seen } = await open(browser, t.server.url + path)
    const got = await inspect(page)
    expect(got.slug).toBe(`docs ${text}`)
    expect((got.payload.params.slug as string[]).join('|')).toBe(text)
    expect(got.injected).toBe(0)
    expect(seen.dialogs).toEqual([])
    expect(seen.errors).toEqual([])
    await page.close()
    figure(`injection: param ${JSON.stringify(text)}: rendered as text, ${seen.dialogs.length} dialogs`)
  })
})
