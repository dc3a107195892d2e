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

function paramsFix(route: RouteDefinition): string {
  return `Return an array of params objects, e.g. [{ ${route.segments.filter((s) => s.type !== 'static').map((s) => (s.type === 'dynamic' ? `${s.name}: '1'` : `${s.name}: ['a', 'b']`)).join(', ')} }].`
}

/** One `generateStaticParams` result (a page's or a layout's, named by `file`): a list of objects. */
function checkParamsList(route: RouteDefinition, file: string, value: unknown): Params[] {
  const fix = paramsFix(route)
  if (!Array.isArray(value)) {
    throw new StaticParamsError(`[vite-isr] ${file}: generateStaticParams() must return an array (got ${value === null ? 'null' : typeof value}). ${fix}`, file)
  }
  value.forEach((params, i) => {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new StaticParamsError(`[vite-isr] ${file}: generateStaticParams() returned ${JSON.stringify(params)} at index ${i}, not an object. ${fix}`, file)
    }
  })
  return value as Params[]
}

/** The merged params, each of which must fill the route's pattern. */
function checkParamsShape(route: RouteDefinition, list: Params[]): Params[] {
  list.forEach((params, i) => {
    try {
      fillPattern(route, params)
    } catch (error) {
      throw new StaticParamsError(`[vite-isr] ${route.file}: generateStaticParams() returned ${JSON.stringify(params)} at index ${i}: ${(error as Error).message.replace('[vite-isr] ', '')}. ${paramsFix(route)}`, route.file)
    }
  })
  return list
}

/**
 * The params a route lists, as Next.js computes them: each layout's `generateStaticParams`
 * (root down) runs once per params set of the layouts above, receiving them as `{ params }`,
 * then the page's; each result is merged with its parent's. `undefined` when none lists any.
 */
async function staticParamsOf(entry: ServerEntry, route: RouteDefinition): Promise<Params[] | undefined> {
  const sources = [...(route.staticParamsLayouts ?? []), ...(route.hasGenerateStaticParams ? [route.file] : [])]
  if (sources.length === 0) return undefined
  let list: Params[] = [{}]
  for (const file of sources) {
    const generate = (await entry.modules[file]()).generateStaticParams as (args: { params: Params }) => unknown
    const next: Params[] = []
    for (const params of list) {
      let value: unknown
      try {
        value = await generate({ params })
      } catch (error) {
        throw new StaticParamsError(
          `[vite-isr] ${file}: generateStaticParams() threw: ${(error as Error)?.message ?? error}. Fix the function, or remove it to render every path on its first request.`,
          file,
          { cause: error },
        )
      }
      for (const child of checkParamsList(route, file, value)) next.push({ ...params, ...child })
    }
    list = next
  }
  return checkParamsShape(route, list)
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

/** A static route's one path, or a dynamic route's listed params, its layouts' included (none without any). */
export async function staticPathsOf(entry: ServerEntry, route: RouteDefinition): Promise<StaticPath[]> {
  const dynamic = route.segments.some((s) => s.type !== 'static')
  if (!dynamic) return [{ params: {}, pathname: route.pattern }]
  return ((await staticParamsOf(entry, route)) ?? []).map((params) => ({ params, pathname: servedPath(route, params) }))
}
