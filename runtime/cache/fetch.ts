/**
 * `fetch` with Next.js's `next: { revalidate, tags }` options: GET and HEAD responses go
 * to the data cache, so Next.js code ports unchanged. With the debug log on, each lookup
 * prints hit / stale / miss with the full URL (Next's `logging.fetches.fullUrl`).
 */
import { checkDataOptions, currentDataCache, dataEntry, dataKey, readData, recordUse } from './data-cache.js'
import { renderContext } from './render-context.js'
import type { Revalidate } from '../routes/route-table.js'

export interface NextFetchRequestConfig {
  /** Seconds the response stays fresh; `false` until a tag is revalidated; `0` never cached. */
  revalidate?: Revalidate
  tags?: string[]
}

export type FetchInit = RequestInit & { next?: NextFetchRequestConfig }

/** Headers that make a response personal: such responses are never stored. */
const DROPPED_HEADERS = new Set(['set-cookie', 'content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'])
const PRIVATE_RESPONSE = /(?:^|,)\s*(?:private|no-store)\b/i

function cachePolicy(init: FetchInit | undefined): Revalidate | undefined {
  const next = init?.next
  if (init?.cache === 'no-store') return 0
  if (next?.revalidate !== undefined) return next.revalidate
  if (init?.cache === 'force-cache') return false
  // As Next.js 15: without an option, a fetch is not cached.
  return undefined
}

export async function fetch(input: RequestInfo | URL, init?: FetchInit): Promise<Response> {
  const { next, ...requestInit } = init ?? {}
  const { tags } = checkDataOptions('fetch()', next)
  const request = new Request(input, requestInit)
  const revalidate = cachePolicy(init)
  const context = renderContext.getStore()
  recordUse(context, tags, revalidate)
  const dataCache = currentDataCache(context)
  const label = `fetch ${request.method} ${request.url}`
  const cacheable = revalidate !== undefined && revalidate !== 0 && (request.method === 'GET' || request.method === 'HEAD')
  if (!dataCache || !cacheable) {
    dataCache?.log.debug('bypass', label, { reason: revalidate === 0 ? 'revalidate 0 / no-store' : 'no cache option' })
    return globalThis.fetch(request)
  }
  const headers: [string, string][] = []
  request.headers.forEach((value, name) => headers.push([name, value]))
  const key = dataKey(dataCache.buildId, ['fetch', request.method, request.url, headers.sort()])
  const resolved = await readData(dataCache, context, key, label, async (startedAt) => {
    const response = await globalThis.fetch(request.clone(), { signal: context?.signal })
    const body = Buffer.from(await response.arrayBuffer())
    const responseHeaders: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      // The body is stored decoded; per-client headers stay out of a shared cache.
      if (!DROPPED_HEADERS.has(name)) responseHeaders[name] = value
    })
    // Only whole, shareable successes are stored; anything else is handed back once.
    const store = response.ok && !PRIVATE_RESPONSE.test(response.headers.get('cache-control') ?? '') ? 'durable' : 'none'
    return { entry: dataEntry(dataCache, body, { startedAt, revalidate, tags, status: response.status, headers: responseHeaders }), store }
  })
  const { entry } = resolved
  return new Response(request.method === 'HEAD' || entry.status === 204 || entry.status === 304 ? null : new Uint8Array(entry.value), { status: entry.status, headers: entry.headers })
}
