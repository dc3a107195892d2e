/**
 * Resolving a request, once: path checks -> canonical path -> what owns it (the inspector,
 * a static file, a route handler, a page) -> the page's route and cache key. A page's
 * resolution is kept by URL, so a repeat request (and the fast path) starts at the cache.
 */
import type { RouteMatch, Router } from '../routes/router.js'
import { normalizePathname } from '../routes/path.js'
import { isCachedRouteHandler } from '../routes/route-table.js'
import type { PageTarget } from './pages.js'
import { parsePayloadPath } from './payload.js'

export type Resolution =
  /** A path refused before routing: 400 for a malformed one, 404 for one no page may have. */
  | { kind: 'reject'; status: 400 | 404; reason: string }
  /** Another spelling of a path: reads are sent to its one canonical spelling, through the app's middleware again. */
  | { kind: 'redirect'; location: string }
  | { kind: 'inspector'; pathname: string }
  | { kind: 'static'; pathname: string }
  | { kind: 'route'; pathname: string; match: RouteMatch }
  /** Not a read of anything this handler serves: the app's next middleware answers. */
  | { kind: 'next' }
  /** A page or a cached route handler's GET, or the 404 page (`target: null`). */
  | { kind: 'page'; target: PageTarget | null }

export interface ResolverOptions {
  router: Router
  /** URL paths of the client build's files. */
  staticFiles: ReadonlySet<string>
  /** Whether the inspector is on (it owns `/__isr` and below). */
  inspectorPath?: string
  target(pathname: string, match: RouteMatch): PageTarget
  /** The build whose page data payloads (`/_isr/data/<buildId>/...`) this handler serves; none when unset. */
  buildId?: string
}

export interface Resolver {
  resolve(url: string, method: string | undefined): Resolution
  /** The page a URL already resolved to, or `undefined`: the fast path's only lookup. */
  known(url: string): PageTarget | undefined
  /** Keep a payload URL's target once the app's middleware has let its page path through. */
  remember(url: string, target: PageTarget): void
}

/** URLs kept: query strings make new URLs, so the memo is emptied when full. */
const MAX_KEPT_URLS = 10_000
/** Longer URLs are resolved each time: a flood of long URLs must not pin memory. */
const MAX_KEPT_URL_LENGTH = 256

export function createResolver(options: ResolverOptions): Resolver {
  const { router, staticFiles, inspectorPath } = options
  const pages = new Map<string, PageTarget>()

  return {
    known: (url) => pages.get(url),
    remember: (url, target) => void keep(url, target),
    resolve(url, method) {
      const isRead = method === 'GET' || method === 'HEAD'
      if (isRead) {
        const known = pages.get(url)
        if (known !== undefined) return { kind: 'page', target: known }
      }
      const checked = normalizePathname(url)
      if (!checked.ok) return { kind: 'reject', status: checked.status, reason: checked.reason }
      if (checked.redirect !== undefined) return { kind: 'redirect', location: checked.redirect }
      const { pathname } = checked
      if (inspectorPath !== undefined && (pathname === inspectorPath || pathname.startsWith(inspectorPath + '/'))) return { kind: 'inspector', pathname }
      if (isRead && staticFiles.has(pathname)) return { kind: 'static', pathname }
      if (options.buildId !== undefined) {
        const payload = parsePayloadPath(pathname, options.buildId)
        if (payload !== undefined) return isRead ? resolvePayload(payload) : { kind: 'next' }
      }
      const match = router.match(pathname)
      // A cached route handler's GET / HEAD is served as a page is; its other methods are never cached.
      if (match?.route.kind === 'route' && !(isRead && isCachedRouteHandler(match.route))) return { kind: 'route', pathname, match }
      if (!isRead) return { kind: 'next' }
      if (!match) return { kind: 'page', target: null }
      return { kind: 'page', target: keep(url, options.target(pathname, match)) }
    },
  }

  function keep(url: string, target: PageTarget): PageTarget {
    // A query string makes no cache entry, so it must make no memo entry either.
    if (url.length <= MAX_KEPT_URL_LENGTH && !url.includes('?')) {
      if (pages.size >= MAX_KEPT_URLS) pages.clear()
      pages.set(url, target)
    }
    return target
  }

  /** The payload of a page: its page's target, answered with the payload's bytes. Another build's is gone. */
  function resolvePayload(payload: NonNullable<ReturnType<typeof parsePayloadPath>>): Resolution {
    if (payload.kind === 'gone') return { kind: 'reject', status: 404, reason: 'payload of another build' }
    const match = router.match(payload.pathname)
    if (!match || match.route.kind !== 'page') return { kind: 'reject', status: 404, reason: 'payload of no page' }
    // Not kept yet: the fast path may answer it only once the app's middleware has seen its page path.
    return { kind: 'page', target: { ...options.target(payload.pathname, match), representation: 'payload' } }
  }
}
