import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { hydrated, launchBrowser } from '../helpers/browser.js'
import { useFixtureServer } from '../helpers/server.js'

describe('in a real browser', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })
  const t = useFixtureServer({ mode: 'fast-path' })

  it('hydrates a cached page with its loader data: a client-side interaction works', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    // every failed request but the browser's own favicon probe
    page.on('response', (res) => res.status() >= 400 && !res.url().endsWith('/favicon.ico') && errors.push(`${res.status()} ${res.url()}`))
    const response = await page.goto(`${t.server.url}/blog/1`)
    expect(response?.headers()['x-isr-cache']).toBe('HIT')
    await hydrated(page, '#like')
    await page.click('#like')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('likes 2')
    expect(errors).toEqual([])
    await page.close()
  })

  it('runs no script from loader data containing </script><script>', async () => {
    const page = await browser.newPage()
    const dialogs: string[] = []
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message())
      await dialog.dismiss()
    })
    await page.goto(`${t.server.url}/blog/2`)
    await hydrated(page, '#like')
    await page.click('#like')
    await expect.poll(() => page.textContent('#like')).toBe('likes 1')
    expect(await page.textContent('#body')).toBe('Second body </script><script>alert(1)</script>')
    expect(dialogs).toEqual([])
    await page.close()
  })
})
