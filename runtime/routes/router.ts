import type { Params, RouteDefinition, RouteSegment } from './route-table.js'

export interface RouteMatch {
  route: RouteDefinition
  params: Params
}

/**
 * Specificity order, as Next.js resolves overlapping routes: a static segment beats a
 * dynamic one, which beats a catch-all, which beats an optional catch-all.
 */
const RANK: Record<RouteSegment['type'], number> = { static: 0, dynamic: 1, 'catch-all': 2, 'optional-catch-all': 3 }

function compareRoutes(a: RouteDefinition, b: RouteDefinition): number {
  const n = Math.max(a.segments.length, b.segments.length)
  for (let i = 0; i < n; i++) {
    const sa = a.segments[i]
    const sb = b.segments[i]
    if (!sa || !sb) return sa ? -1 : 1
    const d = RANK[sa.type] - RANK[sb.type]
    if (d !== 0) return d
  }
  return 0
}

function matchSegments(segments: RouteSegment[], parts: string[]): Params | null {
  const params: Params = {}
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]
    if (segment.type === 'static') {
      if (parts[i] !== segment.value) return null
    } else if (segment.type === 'dynamic') {
      if (parts[i] === undefined) return null
      params[segment.name] = parts[i]
    } else {
      const rest = parts.slice(i)
      if (rest.length === 0 && segment.type === 'catch-all') return null
      if (rest.length > 0) params[segment.name] = rest
      return params
    }
  }
  return parts.length === segments.length ? params : null
}

export interface Router {
  /** `pathname` must already be normalised (see `normalizePathname`). */
  match(pathname: string): RouteMatch | null
}

/** Static routes resolve through one Map lookup; only the rest are tried in order. */
export function createRouter(routes: RouteDefinition[]): Router {
  const exact = new Map<string, RouteMatch>()
  const patterns: RouteDefinition[] = []
  for (const route of routes) {
    if (route.segments.every((s) => s.type === 'static')) exact.set(route.pattern, { route, params: {} })
    else patterns.push(route)
  }
  patterns.sort(compareRoutes)
  return {
    match(pathname) {
      const hit = exact.get(pathname)
      if (hit) return hit
      const parts = pathname === '/' ? [] : pathname.slice(1).split('/')
      for (const route of patterns) {
        const params = matchSegments(route.segments, parts)
        if (params) return { route, params }
      }
      return null
    },
  }
}
