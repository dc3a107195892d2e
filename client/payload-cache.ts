/**
 * Payloads the client holds: fetched for a navigation or prefetched ahead of one. Each is
 * fetched once, prefetches run a few at a time behind navigations, and a payload is reused
 * while it is younger than its window (the page's `s-maxage`, capped: the server's copy may
 * be revalidated on demand at any time).
 *
 * Pages are named by path and query (`/search?q=1`). A fetch in flight answers only its own
 * path and query. A payload kept for reuse answers every query of its path: only a cached
 * page's payload is reusable, and a cached page's entry is the same whatever the query (the
 * server ignores it, as for the HTML). A page rendered per request answers `private, no-store`:
 * its payload is never kept, so `?q=1` and `?q=2` never answer each other, and once its path
 * has answered so it is no longer prefetched (its data is fetched when it is shown, as
 * Next.js does for a dynamic page): a prefetch would be a render the server does for nothing.
 */

/** A fetched payload and how long it may be reused (ms). */
export interface Fetched<P> {
  payload: P
  maxAgeMs: number
}

export interface PayloadCacheOptions<P> {
  /** Fetch the payload of a page (its path and query); `undefined` (or a rejection) when it cannot be used. */
  fetch(href: string): Promise<Fetched<P> | undefined>
  /** Prefetches in flight at once. @default 2 */
  concurrency?: number
  /** Payloads kept. @default 50 */
  maxEntries?: number
  /** Reuse no payload longer than this (ms). @default 300_000 */
  maxAgeCapMs?: number
  now?: () => number
  /** No prefetch at all (`Save-Data`). */
  saveData?: () => boolean
}

export interface PayloadCache<P> {
  /** The payload for a navigation: a fresh kept one, the prefetch in flight, or a new fetch ahead of any queued prefetch. */
  get(href: string): Promise<P | undefined>
  /** Queue a prefetch, unless the payload is kept, in flight, queued, its path is rendered per request, or prefetching is off. */
  prefetch(href: string): void
  /** Forget every kept payload (`router.refresh()`). */
  clear(): void
  /** Pages (path and query) queued for prefetch, in order (for tests and the debug panel). */
  readonly queued: readonly string[]
}

/** The reuse window of a payload response: its `s-maxage` (or `max-age`), 0 for `no-store` / `no-cache`. */
export function maxAgeOf(cacheControl: string | null): number {
  if (!cacheControl || /no-store|no-cache|private/.test(cacheControl)) return 0
  const match = /(?:^|,)\s*s-maxage=(\d+)/.exec(cacheControl) ?? /(?:^|,)\s*max-age=(\d+)/.exec(cacheControl)
  return match ? Number(match[1]) * 1000 : 0
}

/** The path of `href` (`/search?q=1` -> `/search`): what a reusable payload is kept under. */
const pathOf = (href: string): string => {
  const q = href.indexOf('?')
  return q === -1 ? href : href.slice(0, q)
}

export function createPayloadCache<P>(options: PayloadCacheOptions<P>): PayloadCache<P> {
  const { concurrency = 2, maxEntries = 50, maxAgeCapMs = 300_000, now = Date.now } = options
  const kept = new Map<string, { payload: P; expiresAt: number }>()
  const inFlight = new Map<string, Promise<P | undefined>>()
  const queue: string[] = []
  /** Paths whose payload may not be reused (rendered per request). */
  const perRequest = new Set<string>()
  let running = 0

  function load(href: string): Promise<P | undefined> {
    let pending = inFlight.get(href)
    if (pending) return pending
    pending = Promise.resolve()
      .then(() => options.fetch(href))
      .then(
        (fetched) => {
          if (!fetched) return undefined
          const age = Math.min(fetched.maxAgeMs, maxAgeCapMs)
          const path = pathOf(href)
          if (age > 0) {
            kept.delete(path)
            kept.set(path, { payload: fetched.payload, expiresAt: now() + age })
            while (kept.size > maxEntries) kept.delete(kept.keys().next().value!)
          } else if (!perRequest.has(path)) {
            if (perRequest.size >= maxEntries) perRequest.delete(perRequest.values().next().value!)
            perRequest.add(path)
          }
          return fetched.payload
        },
        () => undefined,
      )
      .finally(() => inFlight.delete(href))
    inFlight.set(href, pending)
    return pending
  }

  function fresh(href: string): P | undefined {
    const path = pathOf(href)
    const hit = kept.get(path)
    if (hit === undefined) return undefined
    if (hit.expiresAt > now()) return hit.payload
    kept.delete(path)
    return undefined
  }

  function pump(): void {
    while (running < concurrency && queue.length > 0) {
      const href = queue.shift()!
      running++
      void load(href).finally(() => {
        running--
        pump()
      })
    }
  }

  return {
    get(href) {
      const hit = fresh(href)
      if (hit !== undefined) return Promise.resolve(hit)
      const i = queue.indexOf(href)
      if (i !== -1) queue.splice(i, 1)
      return load(href)
    },
    prefetch(href) {
      if (options.saveData?.()) return
      if (fresh(href) !== undefined || inFlight.has(href) || queue.includes(href) || perRequest.has(pathOf(href))) return
      // Bounded: a page with a thousand links in view prefetches the first ones it met.
      if (queue.length >= maxEntries) return
      queue.push(href)
      pump()
    },
    clear() {
      kept.clear()
      queue.length = 0
    },
    get queued() {
      return queue
    },
  }
}
