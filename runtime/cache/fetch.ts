/**
 * `fetch` with Next.js's `next: { revalidate, tags }` options: responses go to the data
 * cache, so Next.js code ports unchanged. With the debug log on, each lookup prints
 * hit / stale / miss with the full URL (Next's `logging.fetches.fullUrl`).
 *
 * The key is the method, the URL, the redirect mode, the request headers but the W3C trace
 * context ones, and the body, as Next.js's `fetchCacheKey`.
 */
import { createHash } from 'node:crypto'
import type { CacheEntry } from './handlers/types.js'
import { checkDataOptions, currentDataCache, dataEntry, dataKey, readData, recordUse } from './data-cache.js'
import { renderContext } from './render-context.js'
import type { Revalidate } from '../routes/route-table.js'

export interface NextFetchRequestConfig {
  /** Seconds the response stays fresh; `false` until a tag is revalidated; `0` never cached. */
  revalidate?: Revalidate
  tags?: string[]
}

export type FetchInit = RequestInit & { next?: NextFetchRequestConfig }

/**
 * Bytes of request body a cached fetch may send (1 MiB). The body is part of the key, so
 * it is read once to hash it; a fetch with a larger body is sent uncached.
 */
const MAX_CACHED_REQUEST_BODY = 1024 * 1024

/** Left out of a stored response: per client (`set-cookie`), or about a transfer (the body is stored decoded). */
const DROPPED_HEADERS = new Set(['set-cookie', 'content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'])
const PRIVATE_RESPONSE = /(?:^|,)\s*(?:private|no-store)\b/i
/** New on every traced request (OpenTelemetry): keying on them would make every lookup a miss, as Next.js found. */
const UNKEYED_HEADERS = new Set(['traceparent', 'tracestate'])
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])
const MULTIPART = /^multipart\/form-data\b/i
/**
 * What a Response carries besides its headers, kept in the entry's headers under names no
 * HTTP header can have (a field name cannot contain ':'), and taken out again when read.
 */
const URL_FIELD = ':url'
const STATUS_TEXT_FIELD = ':status-text'
const REDIRECTED_FIELD = ':redirected'

function cachePolicy(init: FetchInit | undefined): Revalidate | undefined {
  const next = init?.next
  // Next.js treats 'no-cache' as 'no-store': the fetch is never cached and the page turns dynamic.
  if (init?.cache === 'no-store' || init?.cache === 'no-cache') return 0
  if (next?.revalidate !== undefined) return next.revalidate
  if (init?.cache === 'force-cache') return false
  // As Next.js 15: without an option, a fetch is not cached.
  return undefined
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64url')

/** The body's bytes, or `undefined` once it passes `max` (the rest is not read). */
async function readUpTo(stream: ReadableStream<Uint8Array>, max: number): Promise<Buffer | undefined> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength
    if (size > max) {
      // Not awaited: a clone's cancel settles only once the request itself is read too.
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(read.value)
  }
  return Buffer.concat(chunks)
}

/**
 * The body as it goes into the key: a hash of its bytes, or for a form the fields, since
 * a multipart body's boundary is new on every request. `undefined` when it is too large.
 */
async function bodyKey(request: Request): Promise<unknown[] | undefined> {
  if (!request.body) return []
  const bytes = await readUpTo(request.clone().body!, MAX_CACHED_REQUEST_BODY)
  if (!bytes) return undefined
  const type = request.headers.get('content-type') ?? ''
  if (!MULTIPART.test(type)) return [sha256(bytes)]
  const fields: unknown[] = []
  for (const [name, value] of await request.clone().formData()) {
    fields.push([name, typeof value === 'string' ? value : [value.name, value.type, sha256(new Uint8Array(await value.arrayBuffer()))]])
  }
  return fields
}

function headersKey(headers: Headers): [string, string][] {
  const list: [string, string][] = []
  headers.forEach((value, name) => {
    if (UNKEYED_HEADERS.has(name)) return
    list.push([name, name === 'content-type' && MULTIPART.test(value) ? 'multipart/form-data' : value])
  })
  return list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

function responseHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (!DROPPED_HEADERS.has(name)) headers[name] = value
  })
  headers[URL_FIELD] = response.url
  if (response.statusText) headers[STATUS_TEXT_FIELD] = response.statusText
  if (response.redirected) headers[REDIRECTED_FIELD] = 'true'
  return headers
}

function toResponse(entry: CacheEntry, method: string): Response {
  const { [URL_FIELD]: url = '', [STATUS_TEXT_FIELD]: statusText, [REDIRECTED_FIELD]: redirected, ...headers } = entry.headers
  const body = method === 'HEAD' || NULL_BODY_STATUS.has(entry.status) ? null : new Uint8Array(entry.value)
  const response = new Response(body, { status: entry.status, statusText, headers })
  // `url` and `redirected` are read-only getters of Response: set on the instance, as Next.js does for `url`.
  Object.defineProperty(response, 'url', { value: url, enumerable: true })
  Object.defineProperty(response, 'redirected', { value: redirected === 'true', enumerable: true })
  return response
}

/**
 * The global `fetch`, with Next.js's `next: { revalidate, tags }` and `cache` options.
 *
 * @example
 * const res = await fetch('https://api.example.com/graphql', { method: 'POST', body: query, next: { revalidate: 600, tags: ['posts'] } })
 */
export async function fetch(input: RequestInfo | URL, init?: FetchInit): Promise<Response> {
  const { next, ...requestInit } = init ?? {}
  const { tags } = checkDataOptions('fetch()', next)
  const request = new Request(input, requestInit)
  const revalidate = cachePolicy(init)
  const context = renderContext.getStore()
  recordUse(context, tags, revalidate)
  const dataCache = currentDataCache(context)
  const label = `fetch ${request.method} ${request.url}`
  const bypass = (reason: string) => {
    dataCache?.log.debug('bypass', label, { reason })
    return globalThis.fetch(request)
  }
  if (!dataCache || revalidate === undefined) return bypass('no cache option')
  if (revalidate === 0) return bypass('revalidate 0 / no-store')
  // As Next.js: a POST (or any method but GET / HEAD) is cached, except in a page rendered per request.
  if (context?.perRequest && request.method !== 'GET' && request.method !== 'HEAD') return bypass(`${request.method} in a page rendered per request`)
  const body = await bodyKey(request)
  if (!body) return bypass(`request body over ${MAX_CACHED_REQUEST_BODY} bytes`)
  const key = dataKey(dataCache.buildId, ['fetch', request.method, request.url, request.redirect, headersKey(request.headers), body])
  const resolved = await readData(dataCache, context, key, label, async (startedAt) => {
    const response = await globalThis.fetch(request.clone(), { signal: context?.signal })
    const value = Buffer.from(await response.arrayBuffer())
    // Only whole, shareable successes are stored; anything else is handed back once.
    const store = response.ok && !PRIVATE_RESPONSE.test(response.headers.get('cache-control') ?? '') ? 'durable' : 'none'
    return { entry: dataEntry(dataCache, value, { startedAt, revalidate, tags, status: response.status, headers: responseHeaders(response) }), store }
  })
  return toResponse(resolved.entry, request.method)
}
