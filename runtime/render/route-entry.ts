/**
 * A cached route handler's `GET` -> a cache entry of the same kind as a page's: status,
 * headers and body, the tags and the lowest revalidate of the data it used. The prerender
 * at build and regeneration at run time both come through here.
 */
import type { CacheEntry } from '../cache/handlers/types.js'
import { renderContext } from '../cache/render-context.js'
import { UncacheableResult, type Generated } from '../cache/swr.js'
import type { Params, RouteDefinition } from '../routes/route-table.js'
import { asRouteHandlerModule } from './metadata-routes.js'
import { toGenerated, type PageEntryContext } from './page-entry.js'
import { effectiveRevalidate, exactBuffer, loadModule, newRenderContext, type RenderApp, type RenderResult } from './render.js'

/**
 * The origin of the request a cached handler receives. Its answer is shared by every visitor,
 * so it gets nothing of any one request: no headers, cookies or query (Next.js's
 * `force-static`), and the same URL at build and at run time.
 */
export const CACHED_REQUEST_ORIGIN = 'http://localhost'

/**
 * Headers the server sets from the entry itself (the window, validators, length), or that
 * describe one connection: what the handler set for them is not kept.
 */
const NOT_STORED = new Set(['cache-control', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'etag', 'last-modified', 'date', 'x-isr-cache', 'set-cookie'])

/**
 * A handler's answer that is sent to the request it was made for but never cached: a status
 * other than 2xx, 3xx or 404 (Next.js stores only those), or no `GET` at all. Thrown from a
 * render, so a stale copy keeps being served when there is one (as when a page fails).
 */
export class UncachedResponse extends UncacheableResult {
  override name = 'UncachedResponse'
  constructor(
    message: string,
    readonly entry: CacheEntry,
  ) {
    super(message)
  }
}

export interface RouteRenderResult extends RenderResult {
  /** The handler set cookies; they were dropped. */
  droppedCookies: boolean
}

export interface RenderRouteOptions {
  route: RouteDefinition
  params: Params
  pathname: string
  /** Bytes the response body may have (`maxBodySize`). */
  maxBodySize: number
  signal?: AbortSignal
}

async function readBody(response: Response, max: number, label: string): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0)
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > max) {
      await response.body.cancel().catch(() => {})
      throw new Error(`[vite-isr] ${label} answered a body over maxBodySize (${max} bytes); not caching it. Raise maxBodySize, or stop caching the route (remove its revalidate export).`)
    }
    chunks.push(chunk)
  }
  const body = Buffer.allocUnsafeSlow(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}

const plain = (status: number, text: string, headers: Record<string, string> = {}): CacheEntry => ({
  kind: 'page',
  value: exactBuffer(text),
  lastModified: 0,
  revalidate: 0,
  expire: 0,
  tags: [],
  buildId: '',
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
})

/** Call the route's `GET` (or its metadata export) with the shared request, collecting tags and revalidate. */
export async function renderRoute(app: RenderApp, options: RenderRouteOptions): Promise<RouteRenderResult> {
  const { route, params, pathname, signal } = options
  const context = newRenderContext(route, pathname, { dataCache: app.dataCache, signal })
  return renderContext.run(context, async () => {
    const mod = asRouteHandlerModule(route, await loadModule(app, route.file))
    const GET = mod.GET as ((request: Request, context: { params: Params }) => unknown) | undefined
    if (typeof GET !== 'function') {
      throw new UncachedResponse(`[vite-isr] ${route.file} has no GET handler to cache`, plain(405, 'Method Not Allowed', { allow: ['POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => typeof mod[m] === 'function').join(', ') }))
    }
    const url = CACHED_REQUEST_ORIGIN + (pathname === '/' ? '/' : pathname.split('/').map(encodeURIComponent).join('/'))
    const response = await GET(new Request(url, { signal }), { params })
    if (!(response instanceof Response)) {
      throw new TypeError(`[vite-isr] ${route.file}: GET must return a Response (got ${response === null ? 'null' : typeof response})`)
    }
    const label = `GET ${pathname}`
    const body = await readBody(response, options.maxBodySize, label)
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      if (!NOT_STORED.has(name)) headers[name] = value
    })
    return {
      status: response.status,
      body,
      headers,
      tags: [...context.tags],
      revalidate: effectiveRevalidate(route, context.revalidate),
      droppedCookies: response.headers.getSetCookie().length > 0,
    }
  })
}

/**
 * How a handler's answer is kept: 2xx and 3xx as a page is, a 404 in memory briefly (as a
 * page's `notFound()`), anything else thrown as `UncachedResponse`. An answer that set a
 * cookie is served without it and not stored: a cached answer is shared by every visitor,
 * and so would its cookie be (Next.js makes a handler that sets cookies dynamic).
 */
export function toRouteGenerated(result: RouteRenderResult, context: PageEntryContext): Generated {
  if (result.status >= 400 && result.status !== 404) {
    throw new UncachedResponse(`[vite-isr] GET ${context.pathname} answered ${result.status}; not caching it`, { ...plain(result.status, ''), value: result.body, headers: result.headers, buildId: context.buildId })
  }
  const generated = toGenerated(result, context)
  if (!result.droppedCookies) return generated
  return { entry: { ...generated.entry, revalidate: 0 }, store: 'none' }
}
