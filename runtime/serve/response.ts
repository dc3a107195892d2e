/**
 * Writing a cached entry to an HTTP response. Everything that depends only on the
 * entry (ETag, Cache-Control, the header list, gzip and brotli bodies) is computed
 * once per entry and kept beside it, so a HIT writes precomputed headers and bytes.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib'
import type { CacheEntry } from '../cache/handlers/types.js'
import { INFINITE_EXPIRE_TIME } from '../options.js'

export type ResponseState = 'HIT' | 'STALE' | 'MISS' | 'BYPASS'
type Encoding = 'identity' | 'gzip' | 'br'

export const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'
const ONE_YEAR = 31_536_000
const MIN_COMPRESS_BYTES = 860

/** Next.js's Cache-Control values for ISR, on-demand and dynamic pages. */
export function cacheControlFor(entry: Pick<CacheEntry, 'revalidate' | 'expire' | 'status'>): string {
  if (entry.status === 404 || entry.status >= 500 || entry.revalidate === 0) return NO_STORE
  if (entry.revalidate === false) return `s-maxage=${ONE_YEAR}`
  const swr = Math.floor(Math.min(entry.expire, INFINITE_EXPIRE_TIME) - entry.revalidate)
  return swr > 0 ? `s-maxage=${entry.revalidate}, stale-while-revalidate=${swr}` : `s-maxage=${entry.revalidate}`
}

interface Prepared {
  etag: string | undefined
  /** The opaque part of the ETag, to compare If-None-Match against every variant. */
  tag: string | undefined
  bodies: Partial<Record<Encoding, Buffer>>
  /**
   * Raw header lists of HITs and STALEs by state, encoding and 304-or-not (see `slot`), built
   * on first use. A MISS or BYPASS list is built each time: an entry has one MISS, and
   * keeping its list would cost every entry in memory a few hundred bytes for nothing.
   */
  headers: (string[] | undefined)[] | undefined
  /** The same lists with X-Powered-By, for the fast path of an app that sends it. */
  poweredHeaders: (string[] | undefined)[] | undefined
  /** The tag header the lists were built with. */
  headersFor: string | undefined
  compressible: boolean
}

const prepared = new WeakMap<CacheEntry, Prepared>()

function prepare(entry: CacheEntry): Prepared {
  let p = prepared.get(entry)
  if (p) return p
  const cacheable = entry.status === 200
  // 128 bits of SHA-1, encoded from the bytes rather than sliced from a longer string (a
  // slice would keep its parent alive beside every entry in memory).
  const tag = cacheable ? createHash('sha1').update(entry.value).digest().toString('base64url', 0, 16) : undefined
  p = {
    tag,
    etag: tag && `"${tag}"`,
    bodies: { identity: entry.value },
    headers: undefined,
    poweredHeaders: undefined,
    headersFor: undefined,
    compressible: entry.value.length >= MIN_COMPRESS_BYTES && /^text\/|json|javascript|xml/.test(entry.headers['content-type'] ?? ''),
  }
  prepared.set(entry, p)
  return p
}

function bodyFor(entry: CacheEntry, p: Prepared, encoding: Encoding): Buffer {
  let body = p.bodies[encoding]
  if (!body) {
    const compressed =
      encoding === 'br'
        ? brotliCompressSync(entry.value, { params: { [zlib.BROTLI_PARAM_QUALITY]: 6, [zlib.BROTLI_PARAM_SIZE_HINT]: entry.value.length } })
        : gzipSync(entry.value, { level: 6 })
    // zlib hands back a view of a 16 KB chunk: keep only the bytes, for as long as the entry lives.
    body = Buffer.allocUnsafeSlow(compressed.length)
    compressed.copy(body)
    p.bodies[encoding] = body
  }
  return body
}

export interface SendOptions {
  /** Lower-case header name that carries the entry's tags for a CDN; unset = never sent. */
  tagHeader?: string
  /**
   * Send `X-Powered-By: Express`: the fast path answers before Express would set it, so it
   * does so itself when the app has `x-powered-by` enabled (Express's default).
   */
  poweredBy?: boolean
}

const STATE_SLOT: Record<ResponseState, number> = { HIT: 0, STALE: 1, MISS: 2, BYPASS: 3 }
const ENCODING_SLOT: Record<Encoding, number> = { identity: 0, gzip: 1, br: 2 }

function headersFor(entry: CacheEntry, p: Prepared, state: ResponseState, encoding: Encoding, notModified: boolean, options: SendOptions): string[] {
  const memo = state === 'HIT' || state === 'STALE'
  if (p.headersFor !== options.tagHeader) {
    p.headers = p.poweredHeaders = undefined
    p.headersFor = options.tagHeader
  }
  const slot = (STATE_SLOT[state] * 3 + ENCODING_SLOT[encoding]) * 2 + (notModified ? 1 : 0)
  let list = (options.poweredBy ? p.poweredHeaders : p.headers)?.[slot]
  if (list) return list
  list = options.poweredBy ? ['X-Powered-By', 'Express'] : []
  if (!notModified) for (const name in entry.headers) list.push(name, entry.headers[name])
  list.push('cache-control', cacheControlFor(entry))
  if (p.etag) list.push('etag', encoding === 'identity' ? p.etag : `"${p.tag}-${encoding === 'gzip' ? 'gz' : 'br'}"`)
  if (p.compressible) list.push('vary', 'Accept-Encoding')
  list.push('x-isr-cache', state)
  if (options.tagHeader && entry.tags.length > 0 && state !== 'BYPASS') {
    list.push(options.tagHeader, entry.tags.join(options.tagHeader === 'surrogate-key' ? ' ' : ','))
  }
  if (!notModified) {
    if (encoding !== 'identity') list.push('content-encoding', encoding)
    list.push('content-length', String(bodyFor(entry, p, encoding).length))
  }
  if (memo) {
    if (options.poweredBy) (p.poweredHeaders ??= new Array(12))[slot] = list
    else (p.headers ??= new Array(12))[slot] = list
  }
  return list
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
    const dash = candidate.lastIndexOf('-')
    if (candidate === tag || (dash !== -1 && candidate.slice(0, dash) === tag)) return true
  }
  return false
}

/** Write `entry` with its precomputed headers: 304 on a matching If-None-Match, no body for HEAD. */
export function sendEntry(req: IncomingMessage, res: ServerResponse, entry: CacheEntry, state: ResponseState, options: SendOptions = {}): void {
  const p = prepare(entry)
  const encoding = p.compressible ? negotiateEncoding(req.headers['accept-encoding'] as string | undefined) : 'identity'
  const inm = req.headers['if-none-match']
  if (p.tag && inm && matchesIfNoneMatch(inm, p.tag)) {
    // RFC 9110 §15.4.5: a 304 carries the ETag the 200 would have carried.
    res.writeHead(304, headersFor(entry, p, state, encoding, true, options))
    res.end()
    return
  }
  res.writeHead(entry.status, headersFor(entry, p, state, encoding, false, options))
  res.end(req.method === 'HEAD' ? undefined : bodyFor(entry, p, encoding))
}
