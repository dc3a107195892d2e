/**
 * Serving a page's data payload through the same pipeline as its HTML: the payload URL
 * resolves to the page's target with the payload representation, the same cache read
 * answers both, and the responder writes the payload's bytes instead of the HTML's. The
 * payload is seen as an entry of its own (its body, ETag and compressed bodies, the page's
 * times, tags and outcome), made once per stored entry, so its HITs compute nothing either.
 */
import type { CacheEntry } from '../cache/handlers/types.js'
import { PAYLOAD_PREFIX, pagePathOfPayload } from '../render/payload.js'

const PAYLOAD_HEADERS: Record<string, string> = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
}) as Record<string, string>

const views = new WeakMap<CacheEntry, CacheEntry>()

/**
 * `entry`'s payload as an entry to send, or `undefined` for an entry stored without one
 * (written by an older version or a store that kept only some fields): that page is
 * rendered anew rather than answered half. A redirect's payload is a 200 that names the
 * redirect (a fetch would follow a 3xx to the HTML); a 404 stays a 404.
 */
export function payloadView(entry: CacheEntry): CacheEntry | undefined {
  const payload = entry.payload
  if (payload === undefined) return undefined
  let view = views.get(entry)
  if (view === undefined) {
    view = {
      kind: 'page',
      value: payload.value,
      lastModified: entry.lastModified,
      revalidate: entry.revalidate,
      expire: entry.expire,
      tags: entry.tags,
      buildId: entry.buildId,
      status: entry.status === 404 ? 404 : 200,
      headers: PAYLOAD_HEADERS,
    }
    // As the HTML: a 404 has no ETag (it is not a representation to revalidate).
    if (payload.etag !== undefined && view.status === 200) view.etag = payload.etag
    if (payload.encodings !== undefined) view.encodings = payload.encodings
    views.set(entry, view)
  }
  return view
}

export type PayloadRequest =
  /** The page path the payload is for. */
  | { kind: 'payload'; pathname: string }
  /** A payload URL of another build, or not naming a page: 404, never cached. */
  | { kind: 'gone' }

/**
 * What a (decoded, canonical) path under `/_isr/data/` asks for, or `undefined` for a path
 * outside it. Only the current build's payloads exist.
 */
export function parsePayloadPath(pathname: string, buildId: string): PayloadRequest | undefined {
  if (!pathname.startsWith(PAYLOAD_PREFIX)) return undefined
  const rest = pathname.slice(PAYLOAD_PREFIX.length)
  const slash = rest.indexOf('/')
  if (slash === -1 || rest.slice(0, slash) !== buildId) return { kind: 'gone' }
  const page = pagePathOfPayload(rest.slice(slash))
  return page === undefined ? { kind: 'gone' } : { kind: 'payload', pathname: page }
}

/**
 * The page URL a payload request stands for, in the form a full load of the page sends it:
 * `/_isr/data/<buildId>/blog/1.json?q=1` -> `/blog/1?q=1` (the path keeps its encoding, the
 * query is the request's own). A page rendered per request reads this URL either way.
 * `undefined` for a URL that names no payload.
 */
export function pageUrlOfPayload(url: string): string | undefined {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (!path.startsWith(PAYLOAD_PREFIX)) return undefined
  const slash = path.indexOf('/', PAYLOAD_PREFIX.length)
  if (slash === -1) return undefined
  const page = pagePathOfPayload(path.slice(slash))
  return page === undefined ? undefined : page + (q === -1 ? '' : url.slice(q))
}
