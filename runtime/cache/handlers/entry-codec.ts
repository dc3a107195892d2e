/**
 * The byte format of one entry, shared by the handlers that store bytes (file system,
 * Redis): a small frame with the metadata as JSON and one checksum over the metadata and
 * the body together, so a truncated, torn, foreign or edited value reads as a miss instead
 * of being served. The status, headers, tags and times count as much as the body: a flipped
 * `"status":200` must not turn a page into a cached 500 (issue 12).
 */
import zlib from 'node:zlib'
import type { CacheEntry } from './types.js'

// Frame: MAGIC (4) | VERSION (1) | header length, uint32 BE (4) | crc32 of header and bodies,
// uint32 BE (4) | JSON header | body | gzip body | br body | payload | payload gzip | payload br
// (each optional one present when the page was prepared with it; `encodings` and `payload` in
// the header give their lengths). Version 1 checksummed the body only; version 2 had no
// payload, and a page served without its payload would make client navigation fall back to
// full loads: files of both read as a miss and are rendered anew.
const MAGIC = Buffer.from('VISR', 'latin1')
const VERSION = 3
const LENGTH_AT = MAGIC.length + 1
const CHECKSUM_AT = LENGTH_AT + 4
const PREFIX_LENGTH = CHECKSUM_AT + 4

interface EntryHeader extends Omit<CacheEntry, 'value' | 'revalidate' | 'expire' | 'encodings' | 'payload'> {
  key: string
  // Infinity does not survive JSON, so it is written as the string 'Infinity'.
  revalidate: number | false | 'Infinity'
  expire: number | 'Infinity'
  bodyLength: number
  /** Set when the page was prepared: lengths of the gzip and brotli bodies after the body (none when sent as is). */
  encodings?: { gzip?: number; br?: number }
  /** Set when the page has a payload: its length, ETag and the lengths of its compressed bodies. */
  payload?: { length: number; etag?: string; gzip?: number; br?: number }
}

// In Node since 20.15 (package.json asks for 20.19).
const crc32 = (zlib as unknown as { crc32: (data: Uint8Array, value?: number) => number }).crc32

/** The entry as buffers to write one after another (no copy of the body). */
export function encodeEntry(key: string, entry: CacheEntry): Buffer[] {
  const { gzip, br } = entry.encodings ?? {}
  const bodies = [entry.value]
  if (gzip) bodies.push(gzip)
  if (br) bodies.push(br)
  const payload = entry.payload
  if (payload) {
    bodies.push(payload.value)
    if (payload.encodings?.gzip) bodies.push(payload.encodings.gzip)
    if (payload.encodings?.br) bodies.push(payload.encodings.br)
  }
  const header: EntryHeader = {
    key,
    kind: entry.kind,
    lastModified: entry.lastModified,
    revalidate: entry.revalidate === Infinity ? 'Infinity' : entry.revalidate,
    expire: entry.expire === Infinity ? 'Infinity' : entry.expire,
    tags: entry.tags,
    buildId: entry.buildId,
    status: entry.status,
    headers: entry.headers,
    bodyLength: entry.value.length,
  }
  if (entry.etag !== undefined) header.etag = entry.etag
  if (entry.encodings) header.encodings = { gzip: gzip?.length, br: br?.length }
  if (payload) {
    header.payload = { length: payload.value.length, gzip: payload.encodings?.gzip?.length, br: payload.encodings?.br?.length }
    if (payload.etag !== undefined) header.payload.etag = payload.etag
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const prefix = Buffer.alloc(PREFIX_LENGTH)
  MAGIC.copy(prefix, 0)
  prefix.writeUInt8(VERSION, MAGIC.length)
  prefix.writeUInt32BE(json.length, LENGTH_AT)
  let checksum = crc32(json)
  for (const body of bodies) checksum = crc32(body, checksum)
  prefix.writeUInt32BE(checksum, CHECKSUM_AT)
  return [prefix, json, ...bodies]
}

/** The entry stored under `key` in `file`, or `undefined` when anything about it is inconsistent. */
export function decodeEntry(file: Buffer, key: string): CacheEntry | undefined {
  if (file.length < PREFIX_LENGTH || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined
  if (file.readUInt8(MAGIC.length) !== VERSION) return undefined
  const headerEnd = PREFIX_LENGTH + file.readUInt32BE(LENGTH_AT)
  if (headerEnd > file.length) return undefined
  // Checked before the JSON is parsed: nothing of an entry that fails it is looked at.
  const json = file.subarray(PREFIX_LENGTH, headerEnd)
  if (crc32(file.subarray(headerEnd), crc32(json)) !== file.readUInt32BE(CHECKSUM_AT)) return undefined
  let h: EntryHeader
  try {
    h = JSON.parse(json.toString('utf8'))
  } catch {
    return undefined
  }
  if (!isHeader(h) || h.key !== key) return undefined
  const valueEnd = headerEnd + h.bodyLength
  const gzipEnd = valueEnd + (h.encodings?.gzip ?? 0)
  const brEnd = gzipEnd + (h.encodings?.br ?? 0)
  const payloadEnd = brEnd + (h.payload?.length ?? 0)
  const payloadGzipEnd = payloadEnd + (h.payload?.gzip ?? 0)
  if (payloadGzipEnd + (h.payload?.br ?? 0) !== file.length) return undefined
  const entry: CacheEntry = {
    kind: h.kind,
    value: file.subarray(headerEnd, valueEnd),
    lastModified: h.lastModified,
    revalidate: h.revalidate === 'Infinity' ? Infinity : h.revalidate,
    expire: h.expire === 'Infinity' ? Infinity : h.expire,
    tags: h.tags,
    buildId: h.buildId,
    status: h.status,
    headers: h.headers,
  }
  if (h.etag !== undefined) entry.etag = h.etag
  if (h.encodings) {
    entry.encodings = {}
    if (h.encodings.gzip) entry.encodings.gzip = file.subarray(valueEnd, gzipEnd)
    if (h.encodings.br) entry.encodings.br = file.subarray(gzipEnd, brEnd)
  }
  if (h.payload) {
    const payload: CacheEntry['payload'] = { value: file.subarray(brEnd, payloadEnd) }
    if (h.payload.etag !== undefined) payload.etag = h.payload.etag
    // Prepared with the page: empty encodings mean "sent as is", as for the page's own.
    if (h.encodings) {
      payload.encodings = {}
      if (h.payload.gzip) payload.encodings.gzip = file.subarray(payloadEnd, payloadGzipEnd)
      if (h.payload.br) payload.encodings.br = file.subarray(payloadGzipEnd)
    }
    entry.payload = payload
  }
  return entry
}

function isHeader(h: unknown): h is EntryHeader {
  if (typeof h !== 'object' || h === null) return false
  const x = h as Record<string, unknown>
  const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v)
  return (
    typeof x.key === 'string' &&
    (x.kind === 'page' || x.kind === 'data') &&
    isNumber(x.lastModified) &&
    (x.revalidate === false || x.revalidate === 'Infinity' || isNumber(x.revalidate)) &&
    (x.expire === 'Infinity' || isNumber(x.expire)) &&
    Array.isArray(x.tags) &&
    x.tags.every((t) => typeof t === 'string') &&
    typeof x.buildId === 'string' &&
    Number.isInteger(x.status) &&
    typeof x.headers === 'object' &&
    x.headers !== null &&
    !Array.isArray(x.headers) &&
    Object.values(x.headers).every((v) => typeof v === 'string') &&
    Number.isSafeInteger(x.bodyLength) &&
    (x.bodyLength as number) >= 0 &&
    (x.etag === undefined || typeof x.etag === 'string') &&
    (x.encodings === undefined || isLengths(x.encodings)) &&
    (x.payload === undefined || isPayloadHeader(x.payload))
  )
}

function isLengths(value: unknown): value is { gzip?: number; br?: number } {
  if (typeof value !== 'object' || value === null) return false
  const length = (n: unknown) => n === undefined || (Number.isSafeInteger(n) && (n as number) > 0)
  const { gzip, br } = value as Record<string, unknown>
  return length(gzip) && length(br)
}


function isPayloadHeader(value: unknown): value is EntryHeader['payload'] {
  if (!isLengths(value)) return false
  const { length, etag } = value as Record<string, unknown>
  return Number.isSafeInteger(length) && (length as number) >= 0 && (etag === undefined || typeof etag === 'string')
}
