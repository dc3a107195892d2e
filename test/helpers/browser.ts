/** Debian's Chromium driven by playwright-core (no browser download: `npm test`'s pretest installs chromium). */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    // Said at once, by name, rather than as a launch timeout.
    throw new Error(`this test needs Chromium at ${CHROMIUM} (Debian package chromium: apt-get install chromium, or set CHROMIUM_PATH)`)
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // This machine has no network but loopback: keep Chromium from calling home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

/**
 * Wait until React has hydrated the element (React keeps its props on hydrated DOM nodes).
 * The client entry imports the page module dynamically, so hydration ends after `load`: a
 * click before it is lost, as for any server-rendered React app.
 */
export function hydrated(page: Page, selector: string): Promise<unknown> {
  return page.waitForFunction(
    (sel) => {
      const el = document.querySelector(sel)
      return el !== null && Object.keys(el).some((key) => key.startsWith('__reactProps$'))
    },
    selector,
    { timeout: 15_000 },
  )
}
