/**
 * What a render collects while it runs: the tags and the lowest revalidate of the data
 * it used (through `cache()` and `fetch()`), so the page entry carries them.
 * Kept on globalThis so that the app's server bundle and the server share one store
 * even when they load two copies of this package.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { DataCache } from './data-cache.js'
import type { Revalidate } from '../routes/route-table.js'

export interface RenderContext {
  pathname: string
  /** The page's implicit tags: a data entry read during the render is also invalidated by them. */
  implicitTags: string[]
  /** Explicit tags of the data used so far. */
  tags: Set<string>
  /** Lowest revalidate of the data used so far (`false` = none bounded it). */
  revalidate: Revalidate
  /**
   * The page is rendered for this request only (its route's revalidate is 0, or
   * `force-dynamic`): stale data is served at once and refreshed in the background, and
   * fetches other than GET / HEAD are not cached (Next.js's rules).
   */
  perRequest?: boolean
  /** The data cache of the server rendering the page (none in dev). */
  dataCache?: DataCache
  signal?: AbortSignal
}

const KEY = Symbol.for('vite-isr.render-context')
type Holder = { [KEY]?: AsyncLocalStorage<RenderContext> }

export const renderContext: AsyncLocalStorage<RenderContext> =
  ((globalThis as Holder)[KEY] ??= new AsyncLocalStorage<RenderContext>())

export function lowerRevalidate(a: Revalidate, b: Revalidate): Revalidate {
  if (a === false) return b
  if (b === false) return a
  return Math.min(a, b)
}

/**
 * Draft mode within one request: a page render reads it (`draftMode().isEnabled`), a route
 * handler may also turn it on or off (the cookie goes on its response). Outside a draft
 * request there is no scope, so a render started from one for the cache never sees it.
 */
export interface DraftScope {
  /** The request carries a valid draft cookie, or `enable()` ran during it. */
  enabled: boolean
  /** Set (`true`) or clear the cookie on the response; absent where the answer carries none (a page render). */
  setCookie?: (enabled: boolean) => void
}

const DRAFT_KEY = Symbol.for('vite-isr.draft-scope')
type DraftHolder = { [DRAFT_KEY]?: AsyncLocalStorage<DraftScope> }

export const draftScope: AsyncLocalStorage<DraftScope> =
  ((globalThis as DraftHolder)[DRAFT_KEY] ??= new AsyncLocalStorage<DraftScope>())
