/**
 * On-demand revalidation. Every page entry carries implicit tags (its path, its route,
 * each layout above it), so `revalidatePath` and `revalidateTag` both come down to
 * writing one invalidation time per tag: the cost does not grow with the number of
 * cached pages. The next read of an entry carrying the tag compares times.
 */
import { normalizePathname } from '../routes/path.js'
import type { RouteDefinition } from '../routes/route-table.js'

export const PATH_TAG = '_isr_path:'
const ROUTE_TAG = '_isr_route:'

/** Tags vite-isr derives from paths and routes, as opposed to the app's own tags. */
export const isImplicitTag = (tag: string): boolean => tag.startsWith(PATH_TAG) || tag.startsWith(ROUTE_TAG)

export const MAX_PATH_ARG = 1024
export const MAX_TAG_LENGTH = 256

/** The implicit tags of a page at `pathname` served by `route` (as Next.js's `_N_T_` tags). */
export function implicitTags(pathname: string, route: Pick<RouteDefinition, 'pattern'>): string[] {
  return [PATH_TAG + pathname, ...routeTags(route.pattern)]
}

// The route's tags are the same strings for each of its pages: made once, shared by every
// entry (a cached page would otherwise hold its own copies). Patterns come from the route
// table, so this stays as small as the app; the bound is for safety.
const routeTagsMemo = new Map<string, readonly string[]>()

function routeTags(pattern: string): readonly string[] {
  let tags = routeTagsMemo.get(pattern)
  if (tags) return tags
  const list = [`${ROUTE_TAG}${pattern === '/' ? '' : pattern}/page`, `${ROUTE_TAG}/layout`]
  let prefix = ''
  for (const part of pattern === '/' ? [] : pattern.slice(1).split('/')) {
    prefix += '/' + part
    list.push(`${ROUTE_TAG}${prefix}/layout`)
  }
  tags = list
  if (routeTagsMemo.size < 10_000) routeTagsMemo.set(pattern, tags)
  return tags
}

export type RevalidatePathType = 'page' | 'layout'
export interface RevalidatePathOptions {
  type?: RevalidatePathType
  /** Render the page anew before the promise resolves (concrete paths only). */
  regenerate?: boolean
}
export type RevalidateTagProfile = 'max' | { expire?: number }

/** What `onRevalidate` is told after each invalidation. */
export interface RevalidateEvent {
  paths: string[]
  tags: string[]
  /** `expire`: the next request renders fresh; `stale`: served stale while regenerating. */
  mode: 'expire' | 'stale'
}

export interface Invalidation {
  tags: string[]
  mode: 'expire' | 'stale'
  /** What the caller asked for, for the debug log and hooks. */
  paths: string[]
}

/** An ISR server (or the dev server) that revalidation reaches. */
export interface RevalidationTarget {
  invalidate(invalidation: Invalidation): Promise<void>
  /** Render `pathname` now; resolves once stored (or once the old page was kept). */
  regenerate(pathname: string): Promise<void>
}

const KEY = Symbol.for('vite-isr.revalidation-targets')
type Holder = { [KEY]?: Set<RevalidationTarget> }
/** On globalThis: the app's bundle and the server may load two copies of this module. */
const targets: Set<RevalidationTarget> = ((globalThis as Holder)[KEY] ??= new Set())

export function registerRevalidationTarget(target: RevalidationTarget): () => void {
  targets.add(target)
  return () => targets.delete(target)
}

function checkPath(path: unknown, fn: string): string {
  if (typeof path !== 'string') throw new TypeError(`[vite-isr] ${fn}: path must be a string (got ${typeof path})`)
  const shown = JSON.stringify(path.slice(0, 40))
  if (!path.startsWith('/')) throw new TypeError(`[vite-isr] ${fn}: path must start with "/" (got ${shown})`)
  if (path.length > MAX_PATH_ARG) throw new TypeError(`[vite-isr] ${fn}: path must be at most ${MAX_PATH_ARG} characters (got ${path.length})`)
  // A query or fragment names no other page, and cutting it silently would hide a mistake
  // such as an unencoded title (`/blog/why?` would revalidate `/blog/why`).
  if (/[?#]/.test(path)) {
    throw new TypeError(`[vite-isr] ${fn}: path must not contain "?" or "#" (got ${shown}). Pass the pathname only; a "?" or "#" that is part of it is written %3F or %23.`)
  }
  // The requests' normaliser: `/%62log/1`, `/blog/1/` and `/blog/1` are one page.
  const checked = normalizePathname(path)
  if (!checked.ok) throw new TypeError(`[vite-isr] ${fn}: path is not valid (${checked.reason}): ${shown}`)
  return checked.pathname
}

/** A checked `revalidatePath` call: the invalidation to write and the path to render anew, if asked. */
export interface PathRevalidation {
  invalidation: Invalidation
  regenerate: string | undefined
}

/** Check `revalidatePath`'s arguments (throws a TypeError) and turn them into tags. */
export function pathRevalidation(path: string, typeOrOptions?: RevalidatePathType | RevalidatePathOptions): PathRevalidation {
  const pathname = checkPath(path, 'revalidatePath')
  const options: RevalidatePathOptions = typeof typeOrOptions === 'string' ? { type: typeOrOptions } : (typeOrOptions ?? {})
  if (typeof options !== 'object' || (options.type !== undefined && options.type !== 'page' && options.type !== 'layout')) {
    throw new TypeError(`[vite-isr] revalidatePath: type must be 'page' or 'layout' (got ${JSON.stringify(typeOrOptions)})`)
  }
  const isPattern = /\[[^/]*\]/.test(pathname)
  if (options.regenerate && (options.type || isPattern)) {
    throw new TypeError('[vite-isr] revalidatePath: `regenerate` needs a concrete path such as "/blog/1", not a route pattern or a type')
  }
  const tags = options.type
    ? [`${ROUTE_TAG}${pathname === '/' ? '' : pathname}/${options.type}`]
    : [PATH_TAG + pathname]
  return { invalidation: { tags, mode: 'expire', paths: [pathname] }, regenerate: options.regenerate ? pathname : undefined }
}

/** Check `revalidateTag`'s arguments (throws a TypeError) and turn them into an invalidation. */
export function tagRevalidation(tag: string, profile?: RevalidateTagProfile): Invalidation {
  if (typeof tag !== 'string') throw new TypeError(`[vite-isr] revalidateTag: tag must be a string (got ${typeof tag})`)
  if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
    throw new TypeError(`[vite-isr] revalidateTag: tag must be 1 to ${MAX_TAG_LENGTH} characters (got ${tag.length})`)
  }
  let mode: Invalidation['mode'] = 'expire'
  if (profile === 'max') mode = 'stale'
  else if (profile !== undefined) {
    const expire = typeof profile === 'object' && profile !== null ? profile.expire : NaN
    if (expire !== undefined && !(typeof expire === 'number' && expire >= 0)) {
      throw new TypeError(`[vite-isr] revalidateTag: profile must be 'max' or { expire: seconds >= 0 } (got ${JSON.stringify(profile)})`)
    }
    mode = expire === 0 ? 'expire' : 'stale'
  }
  return { tags: [tag], mode, paths: [] }
}

/** Apply a `revalidatePath` to the given targets (every live one, or one handler's own). */
export async function applyPathRevalidation(request: PathRevalidation, to: Iterable<RevalidationTarget>): Promise<void> {
  const list = [...to]
  await Promise.all(list.map((target) => target.invalidate(request.invalidation)))
  const { regenerate } = request
  if (regenerate !== undefined) await Promise.all(list.map((target) => target.regenerate(regenerate)))
}

/**
 * In every live handler of the process (each `createISRHandler`, the dev server):
 * invalidate a concrete path (`/blog/1`), or with `type` every page of a route
 * (`('/blog/[id]', 'page')`) or everything under a layout (`('/', 'layout')`).
 * The next request renders the page anew; with `{ regenerate: true }` it is rendered
 * before the promise resolves.
 */
export async function revalidatePath(path: string, typeOrOptions?: RevalidatePathType | RevalidatePathOptions): Promise<void> {
  await applyPathRevalidation(pathRevalidation(path, typeOrOptions), targets)
}

/**
 * In every live handler of the process: invalidate every page and data entry carrying `tag`. Without a profile the entries
 * expire now (the next request renders fresh); with `'max'` (or `{ expire }` > 0) they are
 * marked stale and regenerate in the background, as Next.js 16.
 */
export async function revalidateTag(tag: string, profile?: RevalidateTagProfile): Promise<void> {
  const invalidation = tagRevalidation(tag, profile)
  await Promise.all([...targets].map((target) => target.invalidate(invalidation)))
}
