import { createRouteMatcher } from '../../client/route-match.js'
import type { Params, RouteDefinition } from './route-table.js'

export interface RouteMatch {
  route: RouteDefinition
  params: Params
}

export interface Router {
  /** `pathname` must already be normalised (see `normalizePathname`). */
  match(pathname: string): RouteMatch | null
}

/**
 * Static routes resolve through one Map lookup; the rest are tried most specific first (a
 * static segment, then a dynamic one, a catch-all, an optional catch-all, as Next.js). The
 * matcher lives with the client, which guesses a page's modules with the same one.
 */
export function createRouter(routes: RouteDefinition[]): Router {
  return createRouteMatcher(routes)
}
