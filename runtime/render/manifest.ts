/**
 * `dist/prerender-manifest.json`: what the build prerendered. Written by the plugin,
 * read by the runtime; the shape follows Next.js's prerender manifest.
 */
import type { Revalidate } from '../routes/route-table.js'

export const PRERENDER_MANIFEST = 'prerender-manifest.json'
export const PRERENDER_MANIFEST_VERSION = 1

export interface PrerenderedRoute {
  /** Seconds, or false for pages cached until revalidated on demand. */
  initialRevalidateSeconds: Revalidate
  /** The route pattern the path belongs to (`/blog/[id]`). */
  srcRoute: string
  /** HTTP status of the prerendered page (200, 404 for `notFound()`, 3xx for `redirect()`). */
  initialStatus: number
  /** Tags the page carried when prerendered (explicit ones only). */
  tags: string[]
  /** Size of the HTML (or the route handler's body) in bytes. */
  size: number
  /** Route handlers only, as Next.js lists them: they have no data payload. */
  dataRoute?: null
  /** Route handlers only: the headers stored with the prerendered response (content-type, ...). */
  initialHeaders?: Record<string, string>
}

export interface DynamicRoute {
  /** A regular expression source matching the route's paths (`^/blog/([^/]+?)(?:/)?$`), as Next.js. */
  routeRegex: string
  /**
   * As Next.js: `null` renders unknown params on demand, blocking (dynamicParams = true);
   * `false` answers 404 (dynamicParams = false); a path for `fallback = 'shell'`, the route
   * pattern's HTML path (`/blog/[slug].html`, where Next names its fallback HTML file).
   */
  fallback: null | false | string
  revalidate: Revalidate
}

export interface PrerenderManifest {
  version: number
  buildId: string
  /** When the prerender finished (ms since the epoch): the prerendered pages' age counts from about then. */
  builtAt: number
  /** Vite's `base`. */
  base: string
  /** Vite's `build.assetsDir`: hashed files served as immutable. */
  assetsDir: string
  /** Prerendered paths. */
  routes: Record<string, PrerenderedRoute>
  /** Routes with dynamic segments, by pattern. */
  dynamicRoutes: Record<string, DynamicRoute>
  /** Paths whose prerender called `notFound()`. */
  notFoundRoutes: string[]
  /** Routes rendered on every request: `revalidate = 0`, or made dynamic by data with revalidate 0. */
  dynamicPages: string[]
}

/**
 * Paths that exist when a route has `dynamicParams = false`: every path `generateStaticParams`
 * listed, including those whose build render called `notFound()` (as Next.js: such a path
 * answers 404 until its content exists and it is revalidated, then 200).
 */
export function admittedPaths(manifest: Pick<PrerenderManifest, 'routes' | 'notFoundRoutes'>): Set<string> {
  return new Set([...Object.keys(manifest.routes), ...manifest.notFoundRoutes])
}
