/**
 * Which route a path is: the one matcher, used by the server (runtime/routes/router.ts) and by
 * the client router to guess a page's modules before its payload arrives. Plain code with no
 * imports, so the browser bundle gets only this.
 */

/** A route segment as the plugin reads it from folder names (runtime/routes/route-table.ts). */
export type MatchSegment =
  | { type: 'static'; value: string }
  | { type: 'dynamic'; name: string }
  | { type: 'catch-all'; name: string }
  | { type: 'optional-catch-all'; name: string }

export type MatchParams = Record<string, string | string[]>

export interface Matched<R> {
  route: R
  params: MatchParams
}

export interface RouteMatcher<R> {
  /** `pathname` must be decoded and normalised (see runtime/routes/path.ts). */
  match(pathname: string): Matched<R> | null
}

/**
 * Specificity order, as Next.js resolves overlapping routes: a static segment beats a
 * dynamic one, which beats a catch-all, which beats an optional catch-all.
 */
const RANK: Record<MatchSegment['type'], number> = { static: 0, dynamic: 1, 'catch-all': 2, 'optional-catch-all': 3 }

function compareRoutes(a: { segments: MatchSegment[] }, b: { segments: MatchSegment[] }): number {
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

function matchSegments(segments: MatchSegment[], parts: string[]): MatchParams | null {
  const params: MatchParams = {}
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

/** Static routes resolve through one Map lookup; only the rest are tried, most specific first. */
export function createRouteMatcher<R extends { segments: MatchSegment[] }>(routes: readonly R[]): RouteMatcher<R> {
  const exact = new Map<string, Matched<R>>()
  const patterns: R[] = []
  for (const route of routes) {
    if (route.segments.every((s) => s.type === 'static')) {
      exact.set('/' + route.segments.map((s) => (s as { value: string }).value).join('/'), { route, params: {} })
    } else patterns.push(route)
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
