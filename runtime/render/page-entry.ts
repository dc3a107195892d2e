/**
 * The one place a render result becomes a cache entry, used by the prerender at build
 * and by regeneration at run time, so both store the same shape.
 */
import type { CacheEntry } from '../cache/handlers/types.js'
import { unsendable } from './header-values.js'
import type { RenderResult } from './render.js'
import { implicitTags } from '../cache/revalidate.js'
import type { RouteDefinition } from '../routes/route-table.js'
import type { Generated } from '../cache/swr.js'
import { NOT_FOUND_REVALIDATE_SECONDS } from '../cache/defaults.js'

/** A 404 from `notFound()` stays fresh this long (seconds) and only in memory. */
export const NOT_FOUND_REVALIDATE = NOT_FOUND_REVALIDATE_SECONDS

export function pageKey(buildId: string, pathname: string): string {
  return `page:${buildId}:${pathname}`
}

export interface PageEntryContext {
  pathname: string
  route: Pick<RouteDefinition, 'pattern'>
  startedAt: number
  buildId: string
  /** Next.js's `expireTime`, seconds. */
  expireTime: number
}

/** Decide how a render result is kept: durable, memory only (404) or not at all. */
export function toGenerated(result: RenderResult, context: PageEntryContext): Generated {
  if (result.status >= 500) throw new Error(`[vite-isr] rendering ${context.pathname} answered ${result.status}; not caching it`)
  const problem = unsendable(result.status, result.headers)
  if (problem) throw new Error(`[vite-isr] rendering ${context.pathname} produced a response Node cannot send (${problem}); not caching it`)
  const notFound = result.status === 404
  const revalidate =
    notFound && result.revalidate !== 0
      ? result.revalidate === false ? NOT_FOUND_REVALIDATE : Math.min(result.revalidate, NOT_FOUND_REVALIDATE)
      : result.revalidate
  const entry: CacheEntry = {
    kind: 'page',
    value: result.body,
    lastModified: context.startedAt,
    revalidate,
    expire: Math.max(context.expireTime, typeof revalidate === 'number' ? revalidate : 0),
    // concat sizes the array exactly; a spread literal may leave it room to grow, in every
    // entry the memory tier holds.
    tags: implicitTags(context.pathname, context.route).concat(result.tags),
    buildId: context.buildId,
    status: result.status,
    headers: result.headers,
  }
  if (result.payload) entry.payload = { value: result.payload }
  return { entry, store: revalidate === 0 ? 'none' : notFound ? 'memory' : 'durable' }
}
