/**
 * The app's routes as the client entry carries them: each route's URL segments and, for a
 * page, its module and its layouts' (root down). The router matches a URL against it to start
 * importing a page's code while the payload, which stays the authority, is on its way.
 */
import { createRouteMatcher, type MatchSegment } from './route-match.js'

export interface ClientRoute {
  segments: MatchSegment[]
  /** A page: its module, then its layouts from the root down. Absent for a route handler, which
   * is in the table so that it outranks a page exactly as on the server. */
  files?: string[]
}

/** The modules (page first, then layouts) the route of `pathname` names; none when no page matches. */
export function createModuleGuess(routes: readonly ClientRoute[]): (pathname: string) => string[] {
  const matcher = createRouteMatcher(routes)
  return (pathname) => {
    let decoded: string
    try {
      // URL.pathname is percent-encoded; routes are matched on the decoded path, as the server does.
      decoded = decodeURIComponent(pathname)
    } catch {
      return []
    }
    return matcher.match(decoded)?.route.files ?? []
  }
}
