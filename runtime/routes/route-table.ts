/**
 * The route table: what the plugin learns from `app/` at build time and hands to the
 * runtime through the generated server entry. Plain data, shared by both wings.
 */

export type Revalidate = number | false
export type DynamicOption = 'auto' | 'force-static' | 'force-dynamic' | 'error'
/** What a browser gets for a path never generated: wait for the render, or the loading shell at once (SPEC §9). */
export type FallbackOption = 'blocking' | 'shell'

export type RouteSegment =
  | { type: 'static'; value: string }
  | { type: 'dynamic'; name: string }
  | { type: 'catch-all'; name: string }
  | { type: 'optional-catch-all'; name: string }

export interface RouteDefinition {
  /** `page` renders React; `route` is a route handler (`route.ts`). */
  kind: 'page' | 'route'
  /** The route as written in folders, e.g. `/blog/[id]`, `/docs/[...slug]`, `/`. */
  pattern: string
  segments: RouteSegment[]
  /** The module, relative to the project root (`app/blog/[id]/page.tsx`). */
  file: string
  /** Layout modules from the root down (pages only). */
  layouts: string[]
  /** Effective revalidate: the lowest along layouts and page; 0 for `force-dynamic`. */
  revalidate: Revalidate
  dynamicParams: boolean
  dynamic: DynamicOption
  hasGenerateStaticParams: boolean
  /**
   * Layouts above the page (root down) that export `generateStaticParams` for their own
   * segment's params; each is called with the params of the layouts above it (pages only).
   */
  staticParamsLayouts?: string[]
  /** Pages only: `shell` answers browsers the loading shell for a path never generated. Unset: `blocking`. */
  fallback?: FallbackOption
  /** Pages only: the nearest `loading.tsx` (beside the page or in a folder above), the shell's content. */
  loading?: string
  /** A metadata route (`app/sitemap.ts`, `app/robots.ts`): its default export is turned into the response. */
  metadata?: 'sitemap' | 'robots'
}

/** A route handler whose `GET` is cached as ISR (it exports `revalidate` other than 0, or `dynamic = 'force-static'`). */
export function isCachedRouteHandler(route: Pick<RouteDefinition, 'kind' | 'revalidate'>): boolean {
  return route.kind === 'route' && route.revalidate !== 0
}

export type Params = Record<string, string | string[]>

/** What the generated server entry (`dist/server/entry.js`) exports. */
export interface ServerEntry {
  routes: RouteDefinition[]
  /** Lazy module loaders by project-relative file. */
  modules: Record<string, () => Promise<Record<string, unknown>>>
  /** The root layout chain and special files (`not-found.tsx`, `error.tsx`). */
  app: {
    rootLayouts: string[]
    notFound: string | null
    error: string | null
  }
  /** Defaults set in `isr({ cacheDir, cacheMaxMemorySize })`. */
  config?: { cacheDir?: string; cacheMaxMemorySize?: number }
  /** The default export of `isr({ cacheHandler })`: a handler, or a function returning one. */
  cacheHandler?: unknown
}

/** `/blog/[id]` with `{ id: '1' }` -> `/blog/1`. Throws when a required param is missing. */
export function fillPattern(route: Pick<RouteDefinition, 'segments' | 'pattern'>, params: Params): string {
  const parts: string[] = []
  for (const segment of route.segments) {
    if (segment.type === 'static') {
      parts.push(segment.value)
      continue
    }
    const value = params[segment.name]
    if (segment.type === 'dynamic') {
      if (typeof value !== 'string' || value === '') {
        throw new TypeError(`[vite-isr] param \`${segment.name}\` of ${route.pattern} must be a non-empty string (got ${JSON.stringify(value)})`)
      }
      parts.push(encodeURIComponent(value))
      continue
    }
    if (value === undefined && segment.type === 'optional-catch-all') continue
    if (!Array.isArray(value) || (segment.type === 'catch-all' && value.length === 0) || value.some((v) => typeof v !== 'string' || v === '')) {
      throw new TypeError(`[vite-isr] param \`${segment.name}\` of ${route.pattern} must be an array of non-empty strings (got ${JSON.stringify(value)})`)
    }
    parts.push(...value.map(encodeURIComponent))
  }
  return '/' + parts.join('/')
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The route as a regular expression source, as Next.js's `routeRegex` (`^/blog/([^/]+?)(?:/)?$`). */
export function routeRegex(segments: RouteSegment[]): string {
  let source = ''
  for (const segment of segments) {
    if (segment.type === 'static') source += '/' + escapeRegex(segment.value)
    else if (segment.type === 'dynamic') source += '/([^/]+?)'
    else if (segment.type === 'catch-all') source += '/(.+?)'
    else source += '(?:/(.+?))?'
  }
  return `^${source || '/'}(?:/)?$`
}
