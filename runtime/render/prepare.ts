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
import type { CacheEntry, EntryEncodings, EntryPayload } from '../cache/handlers/types.js'

/** Bodies shorter than this are sent as they are: compression would not pay for its headers. */
export const MIN_COMPRESS_BYTES = 860
/** Bodies from this size on are compressed off the event loop. */
export const OFF_THREAD_COMPRESS_BYTES = 128 * 1024

const brotliAsync = promisify<Buffer, BrotliOptions, Buffer>(brotliCompress)
const gzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gzip)

/** log2 of the smallest power of two >= `size`, within [min, max]. */
const windowBits = (size: number, min: number, max: number) => Math.min(max, Math.max(min, Math.ceil(Math.log2(size))))

// Each compressor's window (and with it the memory it allocates for the call, up to megabytes
// for brotli's default 4 MB window) sized to the body: a window larger than the body finds
// no more matches. The output stays standard brotli and gzip, decoded with any window.
export const brotliOptions = (size: number): BrotliOptions => ({
  params: { [zlib.BROTLI_PARAM_QUALITY]: 6, [zlib.BROTLI_PARAM_SIZE_HINT]: size, [zlib.BROTLI_PARAM_LGWIN]: windowBits(size, zlib.BROTLI_MIN_WINDOW_BITS, zlib.BROTLI_MAX_WINDOW_BITS) },
})
// memLevel sizes deflate's hash table and its buffer of 2^(memLevel + 6) symbols: the window's
// bits − 6 leaves room for the whole body in one block, as the default 8 does up to 16 kB, at a
// fraction of the memory.
export const gzipOptions = (size: number): ZlibOptions => {
  const bits = windowBits(size, 9, 15)
  return { level: 6, windowBits: bits, memLevel: Math.min(8, bits - 6) }
}

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

/** Whether `entry` already carries what serving it needs (`encodings` is set, empty for a body sent as is). */
export function isPrepared(entry: CacheEntry): boolean {
  return entry.encodings !== undefined
}

const JSON_TYPE = { 'content-type': 'application/json' }
/** The encodings of a body sent as it is: one object for all of them. */
const AS_IS: EntryEncodings = Object.freeze({})

/** Compressed bodies, as zlib hands them back (views of its chunks, copied by `assemble`). */
interface Compressed {
  gzip?: Buffer
  br?: Buffer
}

async function compress(value: Buffer, headers: Record<string, string>): Promise<Compressed> {
  if (value.length < OFF_THREAD_COMPRESS_BYTES) return compressSync(value, headers)
  if (!isCompressible({ value, headers })) return {}
  const [br, gz] = await Promise.all([brotliAsync(value, brotliOptions(value.length)), gzipAsync(value, gzipOptions(value.length))])
  return { gzip: gz, br }
}

/**
 * zlib's synchronous calls write into chunks of 16 KB by default, one allocated per call:
 * for the small bodies compressed here that allocation cost a third of the compression's
 * CPU (measured on 3.6 KB pages). A chunk the size of the body holds any output that
 * compression shrinks; a bigger one only takes two chunks. Same bytes either way.
 */
const syncChunkSize = (size: number) => Math.max(64, size)

function compressSync(value: Buffer, headers: Record<string, string>): Compressed {
  if (!isCompressible({ value, headers })) return {}
  const chunkSize = syncChunkSize(value.length)
  return { gzip: gzipSync(value, { ...gzipOptions(value.length), chunkSize }), br: brotliCompressSync(value, { ...brotliOptions(value.length), chunkSize }) }
}

/**
 * The prepared entry, its bodies (page and payload, each as is and compressed) copied into one
 * buffer of their total size and kept as views of it. zlib hands back views of 16 KB chunks,
 * and a body owned alone costs an allocation and an ArrayBuffer of its own: an entry in memory
 * holds one allocation instead of up to six, all of which live and die with it. The object is
 * built with every field in one order, so all entries share one shape (a spread of an entry
 * gave each its own hidden class once V8 had seen enough of them).
 */
function assemble(entry: CacheEntry, page: Compressed, payloadBodies: Compressed | undefined): CacheEntry {
  const payload = entry.payload
  const parts: Buffer[] = [entry.value]
  if (page.gzip) parts.push(page.gzip)
  if (page.br) parts.push(page.br)
  if (payload) {
    parts.push(payload.value)
    if (payloadBodies?.gzip) parts.push(payloadBodies.gzip)
    if (payloadBodies?.br) parts.push(payloadBodies.br)
  }
  let total = 0
  for (const part of parts) total += part.length
  const slab = Buffer.allocUnsafeSlow(total)
  let at = 0
  const take = (part: Buffer): Buffer => {
    part.copy(slab, at)
    at += part.length
    return slab.subarray(at - part.length, at)
  }
  const value = take(entry.value)
  const encodings = encodingsOf(page, take)
  let prepared: EntryPayload | undefined
  if (payload) {
    const payloadValue = take(payload.value)
    // The payload has an ETag whatever the page's status: it answers 200 for a redirect too.
    prepared = { value: payloadValue, etag: etagOf(payloadValue), encodings: encodingsOf(payloadBodies ?? {}, take) }
  }
  return {
    kind: entry.kind,
    value,
    lastModified: entry.lastModified,
    revalidate: entry.revalidate,
    expire: entry.expire,
    tags: entry.tags,
    buildId: entry.buildId,
    status: entry.status,
    headers: entry.headers,
    etag: entry.status === 200 ? etagOf(value) : undefined,
    encodings,
    payload: prepared,
  }
}

function encodingsOf(bodies: Compressed, take: (part: Buffer) => Buffer): EntryEncodings {
  if (!bodies.gzip && !bodies.br) return AS_IS
  const encodings: EntryEncodings = {}
  if (bodies.gzip) encodings.gzip = take(bodies.gzip)
  if (bodies.br) encodings.br = take(bodies.br)
  return encodings
}

/** `entry` with its ETag (200s only) and compressed bodies (compressible bodies only), its payload's too. */
export async function prepareEntry(entry: CacheEntry): Promise<CacheEntry> {
  if (entry.kind !== 'page' || isPrepared(entry)) return entry
  const payload = entry.payload
  const [page, payloadBodies] = await Promise.all([compress(entry.value, entry.headers), payload && compress(payload.value, JSON_TYPE)])
  return assemble(entry, page, payloadBodies)
}

/**
 * The same, synchronously: for small bodies, and for an entry a custom store handed back
 * without what `prepareEntry` added (a store that keeps only the documented fields; the
 * serving path keeps the result).
 */
export function prepareEntrySync(entry: CacheEntry): CacheEntry {
  if (isPrepared(entry)) return entry
  return assemble(entry, compressSync(entry.value, entry.headers), entry.payload && compressSync(entry.payload.value, JSON_TYPE))
}
