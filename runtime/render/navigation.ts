/**
 * `notFound()` and `redirect()` interrupt a loader by throwing, as in Next.js. They are
 * recognised by a `digest` string rather than `instanceof`, so they still work when the
 * app's server bundle and the server load two copies of this module.
 */

const NOT_FOUND = 'VITE_ISR_NOT_FOUND'
const REDIRECT = 'VITE_ISR_REDIRECT'

export interface RedirectSignal extends Error {
  digest: string
  url: string
  status: 301 | 302 | 303 | 307 | 308
}

/** Render the `not-found.tsx` page with status 404 instead of this page. */
export function notFound(): never {
  const error = new Error('[vite-isr] notFound() was called outside a loader') as Error & { digest: string }
  error.digest = NOT_FOUND
  throw error
}

/** Answer with a redirect to `url` (307 by default, as Next.js's `redirect`). */
export function redirect(url: string, status: RedirectSignal['status'] = 307): never {
  if (typeof url !== 'string' || url === '') throw new TypeError('[vite-isr] redirect(url) needs a non-empty string url')
  if (![301, 302, 303, 307, 308].includes(status)) {
    throw new TypeError(`[vite-isr] redirect status must be 301, 302, 303, 307 or 308 (got ${status})`)
  }
  const error = new Error(`[vite-isr] redirect(${url}) was called outside a loader`) as RedirectSignal
  error.digest = REDIRECT
  error.url = url
  error.status = status
  throw error
}

export function isNotFoundSignal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { digest?: unknown }).digest === NOT_FOUND
}

export function isRedirectSignal(error: unknown): error is RedirectSignal {
  return typeof error === 'object' && error !== null && (error as { digest?: unknown }).digest === REDIRECT
}
