/**
 * The data cache: `cache()` (Next.js's `unstable_cache`) keeps an async function's
 * result in the same store as pages, with its own window and tags, through the same
 * stale-while-revalidate core. A page that reads cached data inherits its tags and its
 * lowest revalidate; data with `revalidate: 0` makes the page dynamic.
 */
import { createHash } from 'node:crypto'
import type { CacheEntry } from './handlers/types.js'
import type { Logger } from '../inspect/debug.js'
import { draftScope, lowerRevalidate, renderContext, type RenderContext } from './render-context.js'
import { MAX_TAG_LENGTH } from './revalidate.js'
import type { Revalidate } from '../routes/route-table.js'
import type { Generated, Resolved, SWR } from './swr.js'

/** What one server (or one build) gives `cache()` and `fetch()` to store data in. */
export interface DataCache {
  swr: SWR
  buildId: string
  expireTime: number
  log: Logger
}

export interface DataCacheOptions {
  /** Seconds the data stays fresh; `false` (default) until a tag is revalidated; `0` never cached. */
  revalidate?: Revalidate
  /** Tags to invalidate the data (and every page that used it) with `revalidateTag`. */
  tags?: string[]
}

const KEY = Symbol.for('vite-isr.data-caches')
type Holder = { [KEY]?: DataCache[] }
/** On globalThis, like the revalidation targets: one registry however many copies of this module load. */
const registry: DataCache[] = ((globalThis as Holder)[KEY] ??= [])

export function registerDataCache(dataCache: DataCache): () => void {
  registry.push(dataCache)
  return () => {
    const i = registry.indexOf(dataCache)
    if (i !== -1) registry.splice(i, 1)
  }
}

/**
 * The render's own data cache, else the latest server's; none in dev or outside a server, and
 * none in draft mode, whose data is always fresh and never stored (as Next.js).
 */
export function currentDataCache(context: RenderContext | undefined): DataCache | undefined {
  if (draftScope.getStore()?.enabled) return undefined
  return context ? context.dataCache : registry[registry.length - 1]
}

export function dataKey(buildId: string, parts: unknown): string {
  return `data:${buildId}:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url')}`
}

export function checkDataOptions(fn: string, options: DataCacheOptions | undefined): { revalidate: Revalidate | undefined; tags: string[] } {
  if (options === undefined) return { revalidate: undefined, tags: [] }
  if (typeof options !== 'object' || options === null) throw new TypeError(`[vite-isr] ${fn}: options must be an object`)
  const { revalidate, tags = [] } = options
  if (revalidate !== undefined && revalidate !== false && !(typeof revalidate === 'number' && revalidate >= 0 && Number.isFinite(revalidate))) {
    throw new TypeError(`[vite-isr] ${fn}: revalidate must be false or a number of seconds >= 0 (got ${JSON.stringify(revalidate)})`)
  }
  if (!Array.isArray(tags)) throw new TypeError(`[vite-isr] ${fn}: tags must be an array of strings (got ${JSON.stringify(tags)})`)
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
      throw new TypeError(`[vite-isr] ${fn}: each tag must be a string of 1 to ${MAX_TAG_LENGTH} characters (got ${JSON.stringify(tag)?.slice(0, 40)})`)
    }
  }
  return { revalidate, tags }
}

/** Let the page being rendered know what data it used. */
export function recordUse(context: RenderContext | undefined, tags: string[], revalidate: Revalidate | undefined): void {
  if (!context) return
  for (const tag of tags) context.tags.add(tag)
  if (revalidate !== undefined) context.revalidate = lowerRevalidate(context.revalidate, revalidate)
}

export function dataEntry(dataCache: DataCache, value: Buffer, options: { startedAt: number; revalidate: Revalidate; tags: string[]; status?: number; headers?: Record<string, string> }): CacheEntry {
  return {
    kind: 'data',
    value,
    lastModified: options.startedAt,
    revalidate: options.revalidate,
    expire: Math.max(dataCache.expireTime, typeof options.revalidate === 'number' ? options.revalidate : 0),
    tags: options.tags,
    buildId: dataCache.buildId,
    status: options.status ?? 200,
    headers: options.headers ?? {},
  }
}

/**
 * Read `key` through the data cache's SWR core. Inside a page render the page's implicit
 * tags count as the data's, and stale data is refreshed before a page that will be cached
 * uses it. A page rendered per request gets stale data at once and the refresh runs in the
 * background, as Next.js waits for fresh data only while regenerating a cached page.
 */
export function readData(dataCache: DataCache, context: RenderContext | undefined, key: string, label: string, produce: (startedAt: number) => Promise<Generated>): Promise<Resolved> {
  const read = context ? { softTags: context.implicitTags, refreshStale: !context.perRequest } : undefined
  return Promise.resolve(dataCache.swr.get(key, ({ startedAt }) => produce(startedAt), label, read))
}

/**
 * Cache an async function's result in the data cache, keyed by `keyParts`, the function's
 * source and its arguments (as Next.js's `unstable_cache`). Results must be JSON-serialisable
 * or `undefined`.
 *
 * @example
 * const getPosts = cache(async () => db.posts.findMany(), ['posts'], { tags: ['posts'], revalidate: 3600 })
 */
export function cache<A extends unknown[], R>(fn: (...args: A) => Promise<R> | R, keyParts: string[] = [], options?: DataCacheOptions): (...args: A) => Promise<R> {
  if (typeof fn !== 'function') throw new TypeError('[vite-isr] cache(fn, keyParts?, options?): fn must be a function')
  if (!Array.isArray(keyParts) || keyParts.some((part) => typeof part !== 'string')) {
    throw new TypeError(`[vite-isr] cache(): keyParts must be an array of strings (got ${JSON.stringify(keyParts)})`)
  }
  const { revalidate, tags } = checkDataOptions('cache()', options)
  const source = fn.toString()
  const name = keyParts.join(',') || fn.name || 'anonymous'
  return async (...args: A): Promise<R> => {
    const context = renderContext.getStore()
    recordUse(context, tags, revalidate ?? false)
    const dataCache = currentDataCache(context)
    if (!dataCache || revalidate === 0) return fn(...args)
    const key = dataKey(dataCache.buildId, ['cache', keyParts, source, args])
    const resolved = await readData(dataCache, context, key, `cache(${name})`, async (startedAt) => {
      const value = await fn(...args)
      const json = JSON.stringify(value)
      if (json === undefined && value !== undefined) throw new TypeError(`[vite-isr] cache(${name}): the function returned ${typeof value}, which cannot be stored; return JSON-serialisable data`)
      // JSON has no `undefined`, and no JSON text is empty: an empty value stands for it (Next.js returns `undefined` too).
      return { entry: dataEntry(dataCache, Buffer.from(json ?? ''), { startedAt, revalidate: revalidate ?? false, tags }), store: 'durable' }
    })
    const { value } = resolved.entry
    return (value.length === 0 ? undefined : JSON.parse(value.toString('utf8'))) as R
  }
}
