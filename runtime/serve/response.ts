/**
 * Writing a cached entry to an HTTP response: the one place that decides 304, HEAD and the
 * encoding, and the one header builder. The entry arrives prepared (ETag and compressed
 * bodies made when it was stored, runtime/render/prepare.ts); the header lists of HITs and
 * STALEs are built once per entry and kept, so a HIT writes precomputed headers and bytes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { INFINITE_EXPIRE_TIME_SECONDS, ONE_YEAR_SECONDS } from '../cache/defaults.js'
import type { CacheEntry } from '../cache/handlers/types.js'
import type { ResponseState } from '../inspect/stats.js'
import { percentEncode, unsendable } from '../render/header-values.js'
import { isPrepared, prepareEntrySync } from '../render/prepare.js'

export type { ResponseState }
export type Encoding = 'identity' | 'gzip' | 'br'

export const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

/** Next.js's Cache-Control values for ISR, on-demand and dynamic pages. */
export function cacheControlFor(entry: Pick<CacheEntry, 'revalidate' | 'expire' | 'status'>): string {
  if (entry.status === 404 || entry.status >= 500 || entry.revalidate === 0) return NO_STORE
  if (entry.revalidate === false) return `s-maxage=${ONE_YEAR_SECONDS}`
  const swr = Math.floor(Math.min(entry.expire, INFINITE_EXPIRE_TIME_SECONDS) - entry.revalidate)
  return swr > 0 ? `s-maxage=${entry.revalidate}, stale-while-revalidate=${swr}` : `s-maxage=${entry.revalidate}`
}

/**
 * Header pairs sent before the entry's own, fixed per server and caller. The fast path sends
 * `X-Powered-By: Express` itself when the app has it enabled (it answers before Express would
 * set it); the middleware sends none (Express has set it already).
 */
export interface HeaderExtras {
  /** Small and unique per set of pairs: it indexes the kept header lists. */
  readonly id: 0 | 1
  readonly pairs: readonly string[]
}
export const NO_EXTRAS: HeaderExtras = Object.freeze({ id: 0, pairs: Object.freeze([]) })
export const POWERED_BY_EXPRESS: HeaderExtras = Object.freeze({ id: 1, pairs: Object.freeze(['X-Powered-By', 'Express']) })

/** The state an entry is answered with: an entry rendered per request is a BYPASS whatever the read said. */
export function responseState(entry: CacheEntry, state: ResponseState): ResponseState {
  return entry.revalidate === 0 ? 'BYPASS' : state
}

/** What one request gets from one entry: decided here and nowhere else. */
export interface ResponseDecision {
  status: number
  encoding: Encoding
  /** The 304 of RFC 9110 §15.4.5: the 200's headers but the entity ones, no body. */
  notModified: boolean
  /** `undefined` for HEAD and 304. */
  body: Buffer | undefined
}

export function decideResponse(method: string | undefined, acceptEncoding: string | undefined, ifNoneMatch: string | undefined, entry: CacheEntry, ifModifiedSince?: string): ResponseDecision {
  const encodings = entry.encodings
  let encoding: Encoding = 'identity'
  if (encodings && (encodings.br || encodings.gzip)) {
    encoding = negotiateEncoding(acceptEncoding)
    if (encoding !== 'identity' && !encodings[encoding]) encoding = 'identity'
  }
  // RFC 9110 §13.1.3: If-Modified-Since only counts without If-None-Match.
  const ims = ifNoneMatch === undefined ? ifModifiedSince : undefined
  if (entry.etag && ((ifNoneMatch && matchesIfNoneMatch(ifNoneMatch, entry.etag)) || (ims && notModifiedSince(ims, entry.lastModified)))) {
    return { status: 304, encoding, notModified: true, body: undefined }
  }
  const body = encoding === 'identity' ? entry.value : encodings![encoding]!
  return { status: entry.status, encoding, notModified: false, body: method === 'HEAD' ? undefined : body }
}

const STATE_SLOT: Record<ResponseState, number> = { HIT: 0, STALE: 1, MISS: 2, BYPASS: 3 }
const ENCODING_SLOT: Record<Encoding, number> = { identity: 0, gzip: 1, br: 2 }
/** Kept lists per entry: extras (2) x HIT or STALE (2) x encoding (3) x 304-or-not (2). */
const KEPT_LISTS = 24

// eslint-disable-next-line no-control-regex
const NOT_TAG_CHAR_COMMA = /[^\u0021-\u002b\u002d-\u007e]+/g
// eslint-disable-next-line no-control-regex
const NOT_TAG_CHAR_SPACE = /[^\u0021-\u007e]+/g

/**
 * The raw header list for `entry` answered as `state` with `encoding`. `privately`: the
 * response already carries a `Set-Cookie` (set by middleware in front), so it goes out
 * `private, no-store` and no shared cache keeps one visitor's cookie for others.
 */
export function buildHeaders(entry: CacheEntry, state: ResponseState, encoding: Encoding, notModified: boolean, extras: HeaderExtras, tagHeader: string | undefined, privately = false): string[] {
  const list = extras.pairs.slice()
  if (!notModified) for (const name in entry.headers) list.push(name, entry.headers[name])
  list.push('cache-control', privately ? NO_STORE : cacheControlFor(entry))
  if (entry.etag) list.push('etag', encoding === 'identity' ? `"${entry.etag}"` : `"${entry.etag}-${encoding === 'gzip' ? 'gz' : 'br'}"`)
  if (entry.etag && Number.isFinite(entry.lastModified) && entry.lastModified > 0) list.push('last-modified', new Date(entry.lastModified).toUTCString())
  if (entry.encodings?.gzip || entry.encodings?.br) list.push('vary', 'Accept-Encoding')
  list.push('x-isr-cache', state)
  if (tagHeader && entry.tags.length > 0 && state !== 'BYPASS') {
    const separator = tagHeader === 'surrogate-key' ? ' ' : ','
    // Implicit tags carry the decoded path (any Unicode); a header value carries printable ASCII.
    list.push(tagHeader, entry.tags.map((tag) => tag.replace(separator === ' ' ? NOT_TAG_CHAR_SPACE : NOT_TAG_CHAR_COMMA, percentEncode)).join(separator))
  }
  if (!notModified) {
    if (encoding !== 'identity') list.push('content-encoding', encoding)
    list.push('content-length', String(encoding === 'identity' ? entry.value.length : entry.encodings![encoding]!.length))
  }
  return list
}

export interface Responder {
  /**
   * Write `entry` as `state` (BYPASS for an entry rendered per request): 304 on a matching
   * If-None-Match, no body for HEAD. Returns false, having written nothing, for an entry whose
   * status or headers cannot be sent (read back damaged, or planted by another writer): the
   * caller treats it as a miss. May throw if writing fails midway.
   */
  send(req: IncomingMessage, res: ServerResponse, entry: CacheEntry, state: ResponseState, extras: HeaderExtras, privately?: boolean): boolean
  /** Why `entry` cannot be sent, or undefined (checked once per entry object). */
  whyUnsendable(entry: CacheEntry): string | undefined
}

export function createResponder(options: { tagHeader?: string }): Responder {
  const { tagHeader } = options
  // A MISS or BYPASS list is built each time: an entry has one MISS, and keeping its list
  // would cost every entry in memory a few hundred bytes for nothing.
  const kept = new WeakMap<CacheEntry, (string[] | undefined)[]>()
  // Entries from a custom store that kept only the documented fields, prepared once here.
  const late = new WeakMap<CacheEntry, CacheEntry>()
  const problems = new WeakMap<CacheEntry, string | false>()
  const whyUnsendable = (entry: CacheEntry): string | undefined => {
    let problem = problems.get(entry)
    if (problem === undefined) problems.set(entry, (problem = unsendable(entry.status, entry.headers ?? {}) ?? false))
    return problem || undefined
  }

  function headersFor(entry: CacheEntry, state: ResponseState, decision: ResponseDecision, extras: HeaderExtras): string[] {
    if (state !== 'HIT' && state !== 'STALE') return buildHeaders(entry, state, decision.encoding, decision.notModified, extras, tagHeader)
    const slot = ((extras.id * 2 + STATE_SLOT[state]) * 3 + ENCODING_SLOT[decision.encoding]) * 2 + (decision.notModified ? 1 : 0)
    let lists = kept.get(entry)
    let list = lists?.[slot]
    if (list) return list
    list = buildHeaders(entry, state, decision.encoding, decision.notModified, extras, tagHeader)
    if (!lists) kept.set(entry, (lists = new Array(KEPT_LISTS)))
    lists[slot] = list
    return list
  }

  return {
    whyUnsendable,
    send(req, res, stored, readState, extras, privately = false) {
      if (whyUnsendable(stored) !== undefined) return false
      let entry = stored
      if (!isPrepared(entry)) {
        entry = late.get(stored) ?? prepareEntrySync(stored)
        late.set(stored, entry)
      }
      const state = responseState(entry, readState)
      const decision = decideResponse(req.method, req.headers['accept-encoding'] as string | undefined, req.headers['if-none-match'], entry, req.headers['if-modified-since'])
      const headers = privately ? buildHeaders(entry, state, decision.encoding, decision.notModified, extras, tagHeader, true) : headersFor(entry, state, decision, extras)
      res.writeHead(decision.status, headers)
      res.end(decision.body)
      return true
    },
  }
}

const encodingMemo = new Map<string, Encoding>()

/** Pick br, then gzip, honouring `q=0`. Parsed once per distinct header value. */
export function negotiateEncoding(header: string | undefined): Encoding {
  if (!header) return 'identity'
  let found = encodingMemo.get(header)
  if (found) return found
  const accepted = new Map<string, number>()
  for (const part of header.split(',')) {
    const [name, ...params] = part.toLowerCase().split(';').map((s) => s.trim())
    const q = params.find((s) => s.startsWith('q='))
    const value = q ? Number(q.slice(2)) : 1
    accepted.set(name, Number.isFinite(value) ? value : 0)
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0
  found = ok('br') ? 'br' : ok('gzip') ? 'gzip' : 'identity'
  if (encodingMemo.size < 256) encodingMemo.set(header, found)
  return found
}

/** RFC 9110 §13.1.2: weak comparison, a list of tags or `*`. */
export function matchesIfNoneMatch(header: string, tag: string): boolean {
  if (header.trim() === '*') return true
  for (const raw of header.split(',')) {
    let candidate = raw.trim()
    if (candidate.startsWith('W/')) candidate = candidate.slice(2)
    if (candidate.length < 2 || candidate[0] !== '"' || candidate[candidate.length - 1] !== '"') continue
    candidate = candidate.slice(1, -1)
    // Exactly one of the tags sent for this entry (identity, gzip, brotli), nothing else.
    if (candidate === tag || candidate === `${tag}-gz` || candidate === `${tag}-br`) return true
  }
  return false
}

/** The entry's time, to the second as `Last-Modified` shows it, is not after the date in `header`. */
function notModifiedSince(header: string, lastModified: number): boolean {
  const since = Date.parse(header)
  return Number.isFinite(since) && Math.floor(lastModified / 1000) * 1000 <= since
}

/**
 * The answer to a request that needs a render once the server is stopping: 503, which a load
 * balancer or a browser retries (on another instance) after `Retry-After` seconds.
 */
export function answerStopping(res: ServerResponse): void {
  if (res.headersSent) return void res.destroy()
  try {
    for (const name of res.getHeaderNames()) res.removeHeader(name)
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE, 'retry-after': '1', connection: 'close', 'content-length': '19' })
    res.end('Service Unavailable')
  } catch {
    res.destroy()
  }
}

/**
 * The answer when writing a response failed: a plain 500 if nothing went out yet (headers a
 * failed `writeHead` left half-set are removed first), else the connection is closed, since
 * the client already has part of another answer.
 */
export function abortResponse(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  try {
    for (const name of res.getHeaderNames()) res.removeHeader(name)
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE, 'content-length': '21' })
    res.end('Internal Server Error')
  } catch {
    res.destroy()
  }
}
