/**
 * The navigation fixture's `fallback = 'shell'` route, `/late/[id]`: its loader counts its calls
 * in `globalThis.__lateRenders` and waits on `globalThis.__lateGate`, which the test holds (the
 * server, and dev's SSR runner, run in the test's own process).
 */
import { expect } from 'vitest'

export const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
export const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
/** What the route's loading shell says. */
export const LOADING = 'Loading the post'
/** Generous: the shell needs no render of the page; a request that waits for the held render never ends. */
export const SHELL_BOUND_MS = 10_000

const g = globalThis as { __lateGate?: Promise<void>; __lateRenders?: Record<string, number> }

/** How many times the loader ran for `id` since the counts were reset. */
export const renders = (id: string): number => g.__lateRenders?.[id] ?? 0

let opener: (() => void) | undefined

/** Hold every render of the route open until the returned function (or `openGate()`) is called. */
export function closeGate(): () => void {
  let open!: () => void
  g.__lateGate = new Promise<void>((resolve) => (open = resolve))
  opener = open
  return open
}

/** Let every held render go and hold no later one: after each test, so no render stays held. */
export function openGate(): void {
  opener?.()
  opener = undefined
  g.__lateGate = undefined
}

/** Forget the loader's counts, with no gate closed. */
export function resetLateRoute(): void {
  g.__lateRenders = {}
  g.__lateGate = undefined
}

/** A crawler's answer for `/late/<id>`: the full page, rendered for it, never the shell. */
export async function expectFullPage(page: Response, id: string): Promise<void> {
  expect(page.status).toBe(200)
  expect(page.headers.get('x-isr-cache')).toBe('MISS')
  const html = await page.text()
  expect(html).toContain(`The content of ${id}`)
  expect(html).not.toContain(LOADING)
}
