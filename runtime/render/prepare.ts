/**
 * Preparing a page for serving, once, when it is stored: its ETag and its gzip and brotli
 * bodies. A HIT then only picks bytes (DESIGN.md, "a HIT computes nothing"). A big body is
 * compressed on libuv's thread pool, so a 1 MB page regenerated in the background does not
 * hold up the requests answered meanwhile; a small one right away (a hop to the pool would
 * cost more than the work, and the pool also does the file system's reads and writes).
 */
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { brotliCompress, brotliCompressSync, constants as zlib, gzip, gzipSync, type BrotliOptions, type ZlibOptions } from 'node:zlib'
import type { CacheEntry, EntryEncodings } from '../cache/handlers/types.js'

/** Bodies shorter than this are sent as they are: compression would not pay for its headers. */
export const MIN_COMPRESS_BYTES = 860
/** Bodies from this size on are compressed off the event loop. */
export const OFF_THREAD_COMPRESS_BYTES = 128 * 1024

const brotliAsync = promisify<Buffer, BrotliOptions, Buffer>(brotliCompress)
const gzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gzip)

const brotliOptions = (size: number): BrotliOptions => ({ params: { [zlib.BROTLI_PARAM_QUALITY]: 6, [zlib.BROTLI_PARAM_SIZE_HINT]: size } })
const GZIP_OPTIONS: ZlibOptions = { level: 6 }

export function isCompressible(entry: Pick<CacheEntry, 'value' | 'headers'>): boolean {
  // A route handler's body that is encoded already is sent as it is.
  return entry.value.length >= MIN_COMPRESS_BYTES && /^text\/|json|javascript|xml/.test(entry.headers['content-type'] ?? '') && entry.headers['content-encoding'] === undefined
}

/**
 * 128 bits of SHA-1, encoded from the bytes rather than sliced from a longer string (a slice
 * would keep its parent alive beside every entry in memory).
 */
export function etagOf(value: Buffer): string {
  return createHash('sha1').update(value).digest().toString('base64url', 0, 16)
}

// zlib hands back a view of a 16 KB chunk: keep only the bytes, for as long as the entry lives.
function own(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length)
  bytes.copy(copy)
  return copy
}

/** Whether `entry` already carries what serving it needs (`encodings` is set, empty for a body sent as is). */
export function isPrepared(entry: CacheEntry): boolean {
  return entry.encodings !== undefined
}

const JSON_TYPE = { 'content-type': 'application/json' }

async function encodingsOf(value: Buffer, headers: Record<string, string>): Promise<EntryEncodings> {
  if (value.length < OFF_THREAD_COMPRESS_BYTES) return encodingsOfSync(value, headers)
  if (!isCompressible({ value, headers })) return {}
  const [br, gz] = await Promise.all([brotliAsync(value, brotliOptions(value.length)), gzipAsync(value, GZIP_OPTIONS)])
  return { gzip: own(gz), br: own(br) }
}

/**
 * zlib's synchronous calls write into chunks of 16 KB by default, one allocated per call:
 * for the small bodies compressed here that allocation cost a third of the compression's
 * CPU (measured on 3.6 KB pages). A chunk the size of the body holds any output that
 * compression shrinks; a bigger one only takes two chunks. Same bytes either way.
 */
const syncChunkSize = (size: number) => Math.max(64, size)

function encodingsOfSync(value: Buffer, headers: Record<string, string>): EntryEncodings {
  if (!isCompressible({ value, headers })) return {}
  const chunkSize = syncChunkSize(value.length)
  return {
    gzip: own(gzipSync(value, { ...GZIP_OPTIONS, chunkSize })),
    br: own(brotliCompressSync(value, { ...brotliOptions(value.length), chunkSize })),
  }
}

/** `entry` with its ETag (200s only) and compressed bodies (compressible bodies only), its payload's too. */
export async function prepareEntry(entry: CacheEntry): Promise<CacheEntry> {
  if (entry.kind !== 'page' || isPrepared(entry)) return entry
  const payload = entry.payload
  const [encodings, payloadEncodings] = await Promise.all([encodingsOf(entry.value, entry.headers), payload && encodingsOf(payload.value, JSON_TYPE)])
  const prepared: CacheEntry = { ...entry, etag: entry.status === 200 ? etagOf(entry.value) : undefined, encodings }
  // The payload has an ETag whatever the page's status: it answers 200 for a redirect too.
  if (payload) prepared.payload = { value: payload.value, etag: etagOf(payload.value), encodings: payloadEncodings }
  return prepared
}

/**
 * The same, synchronously: for small bodies, and for an entry a custom store handed back
 * without what `prepareEntry` added (a store that keeps only the documented fields; the
 * serving path keeps the result).
 */
export function prepareEntrySync(entry: CacheEntry): CacheEntry {
  if (isPrepared(entry)) return entry
  const prepared: CacheEntry = { ...entry, etag: entry.status === 200 ? etagOf(entry.value) : undefined, encodings: encodingsOfSync(entry.value, entry.headers) }
  const payload = entry.payload
  if (payload) prepared.payload = { value: payload.value, etag: etagOf(payload.value), encodings: encodingsOfSync(payload.value, JSON_TYPE) }
  return prepared
}
