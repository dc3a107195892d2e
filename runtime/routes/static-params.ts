/**
 * `generateStaticParams`: the paths a dynamic route has ahead of time. The prerender renders
 * them; the dev server asks once per route (again after an edit) which paths a route with
 * `dynamicParams = false` admits, as the production server reads them from the manifest.
 */
import { normalizePathname } from './path.js'
import { fillPattern, type Params, type RouteDefinition, type ServerEntry } from './route-table.js'

export interface StaticPath {
  params: Params
  /** The path a request for `params` is served under (see `servedPath`). */
  pathname: string
}

/** A mistake in a route's `generateStaticParams`, with the file to fix. */
export class StaticParamsError extends Error {
  override name = 'StaticParamsError'
  constructor(
    message: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

function checkParamsShape(route: RouteDefinition, value: unknown): Params[] {
  const fix = `Return an array of params objects, e.g. [{ ${route.segments.filter((s) => s.type !== 'static').map((s) => (s.type === 'dynamic' ? `${s.name}: '1'` : `${s.name}: ['a', 'b']`)).join(', ')} }].`
  if (!Array.isArray(value)) {
    throw new StaticParamsError(`[vite-isr] ${route.file}: generateStaticParams() must return an array (got ${value === null ? 'null' : typeof value}). ${fix}`, route.file)
  }
  value.forEach((params, i) => {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new StaticParamsError(`[vite-isr] ${route.file}: generateStaticParams() returned ${JSON.stringify(params)} at index ${i}, not an object. ${fix}`, route.file)
    }
    try {
      fillPattern(route, params as Params)
    } catch (error) {
      throw new StaticParamsError(`[vite-isr] ${route.file}: generateStaticParams() returned ${JSON.stringify(params)} at index ${i}: ${(error as Error).message.replace('[vite-isr] ', '')}. ${fix}`, route.file)
    }
  })
  return value as Params[]
}

/**
 * The path a request for these params is served under, decoded as the server's normaliser
 * decodes it (`{ slug: 'é' }` -> `/fixed/é`, requested as `/fixed/%C3%A9`): cache keys and the
 * manifest hold that form. A value no request can reach (`'..'`, one with a `/`) keeps its
 * encoded form, so it is never mistaken for another page.
 */
export function servedPath(route: RouteDefinition, params: Params): string {
  const filled = fillPattern(route, params)
  const checked = normalizePathname(filled)
  return checked.ok && checked.pathname.split('/').length === filled.split('/').length ? checked.pathname : filled
}

/** A static route's one path, or a dynamic route's `generateStaticParams()` (none without it). */
export async function staticPathsOf(entry: ServerEntry, route: RouteDefinition): Promise<StaticPath[]> {
  const dynamic = route.segments.some((s) => s.type !== 'static')
  if (!dynamic) return [{ params: {}, pathname: route.pattern }]
  if (!route.hasGenerateStaticParams) return []
  const mod = await entry.modules[route.file]()
  let value: unknown
  try {
    value = await (mod.generateStaticParams as () => unknown)()
  } catch (error) {
    throw new StaticParamsError(
      `[vite-isr] ${route.file}: generateStaticParams() threw: ${(error as Error)?.message ?? error}. Fix the function, or remove it to render every path on its first request.`,
      route.file,
      { cause: error },
    )
  }
  return checkParamsShape(route, value).map((params) => ({ params, pathname: servedPath(route, params) }))
}
