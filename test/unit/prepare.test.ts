/**
 * Preparing an entry when it is stored: its bodies in one buffer, one object shape, compressor
 * windows sized to the body, and the bytes zlib makes with those settings whatever the size of
 * the chunks they are written into (a body compressed on the thread and one compressed on the
 * pool, small and big, all decode to the body).
 */
import { randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { CacheEntry } from '../../runtime/cache/handlers/types.js'
import { brotliOptions, gzipOptions, OFF_THREAD_COMPRESS_BYTES, prepareEntry, prepareEntrySync } from '../../runtime/render/prepare.js'

const page = (n: number, bodyBytes = 4_000): CacheEntry => ({
  kind: 'page',
  value: Buffer.from(`<!DOCTYPE html><html><body><h1>${n}</h1>${'<p>hello world</p>'.repeat(Math.ceil(bodyBytes / 18))}</body></html>`),
  lastModified: 1_000 + n,
  revalidate: 60,
  expire: 31_536_000,
  tags: [`_isr_path:/catalog/${n}`, 'catalog'],
  buildId: 'b1',
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  payload: { value: Buffer.from(JSON.stringify({ n, text: 'lorem ipsum '.repeat(200) })) },
})

/** The window size (log2) a brotli stream declares in its first bits (RFC 7932 §9.1). */
function brotliWindowBits(stream: Buffer): number {
  const bits = stream.readUInt16LE(0)
  if ((bits & 1) === 0) return 16
  const n = (bits >> 1) & 7
  if (n !== 0) return 17 + n
  const m = (bits >> 4) & 7
  return m === 0 ? 17 : 8 + m
}

describe('preparing a page when it is stored', () => {
  it('keeps the page, its payload and their compressed bodies as views of one buffer of their total size', async () => {
    const source = page(1)
    const entry = await prepareEntry(source)
    const bodies = [entry.value, entry.encodings!.gzip!, entry.encodings!.br!, entry.payload!.value, entry.payload!.encodings!.gzip!, entry.payload!.encodings!.br!]
    for (const body of bodies) expect(body.buffer).toBe(entry.value.buffer)
    expect(entry.value.buffer.byteLength).toBe(bodies.reduce((n, body) => n + body.length, 0))
    expect(entry.value.equals(source.value)).toBe(true)
    expect(gunzipSync(entry.encodings!.gzip!).equals(source.value)).toBe(true)
    expect(brotliDecompressSync(entry.encodings!.br!).equals(source.value)).toBe(true)
    expect(entry.payload!.value.equals(source.payload!.value)).toBe(true)
    expect(brotliDecompressSync(entry.payload!.encodings!.br!).equals(source.payload!.value)).toBe(true)
    expect(gunzipSync(entry.payload!.encodings!.gzip!).equals(source.payload!.value)).toBe(true)
  })

  it('keeps a body sent as it is in one buffer with its payload too, with no compressed copy', () => {
    const source: CacheEntry = { ...page(2), value: Buffer.from('short'), payload: { value: Buffer.from('{"n":2}') } }
    const entry = prepareEntrySync(source)
    expect(entry.encodings).toEqual({})
    expect(entry.payload!.encodings).toEqual({})
    expect(entry.payload!.value.buffer).toBe(entry.value.buffer)
    expect(entry.value.buffer.byteLength).toBe('short'.length + '{"n":2}'.length)
    expect(entry.payload!.value.toString()).toBe('{"n":2}')
  })

  it('gives every prepared entry the same shape, however many V8 has seen', async () => {
    // V8's own check of two objects' hidden class (a shape per entry costs the heap a few
    // hundred bytes for each entry in memory).
    setFlagsFromString('--allow-natives-syntax')
    const sameShape = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean
    const first = await prepareEntry(page(0, 1_000))
    let differing = 0
    for (let n = 1; n <= 3_000; n++) if (!sameShape(first, await prepareEntry(page(n, 1_000)))) differing++
    expect(differing).toBe(0)
  })

  it('compresses with a brotli window no larger than the body needs, and the bodies decode as before', async () => {
    const small = await prepareEntry(page(3, 3_000))
    expect(small.value.length).toBeLessThanOrEqual(4_096)
    expect(brotliWindowBits(small.encodings!.br!)).toBe(12)
    const big = await prepareEntry(page(4, 600_000))
    expect(big.value.length).toBeGreaterThan(2 ** 19)
    expect(brotliWindowBits(big.encodings!.br!)).toBe(20)
    expect(brotliDecompressSync(big.encodings!.br!).equals(big.value)).toBe(true)
    expect(gunzipSync(big.encodings!.gzip!).equals(big.value)).toBe(true)
  })

  /** HTML-like text that compresses to a fraction of its size, with enough variety to take several zlib chunks when big. */
  function html(bytes: number): Buffer {
    let text = '<!DOCTYPE html><html><body>'
    for (let i = 0; text.length < bytes; i++) text += `<p id="p${i}">Paragraph ${i} ${randomBytes(6).toString('hex')}</p>`
    return Buffer.from(text.slice(0, bytes))
  }
  // zlib's one-shot output with the same settings and its default chunks.
  const expected = (value: Buffer) => ({ gzip: gzipSync(value, gzipOptions(value.length)), br: brotliCompressSync(value, brotliOptions(value.length)) })

  for (const size of [900, 3_600, 60_000, OFF_THREAD_COMPRESS_BYTES - 1, OFF_THREAD_COMPRESS_BYTES + 50_000]) {
    it(`a ${size}-byte page gets zlib's own gzip and brotli bytes, which decode to the page`, async () => {
      const value = html(size)
      const source: CacheEntry = { ...page(5), value, payload: undefined }
      for (const prepared of [prepareEntrySync(source), await prepareEntry(source)]) {
        expect({ gzip: Buffer.from(prepared.encodings!.gzip!), br: Buffer.from(prepared.encodings!.br!) }).toEqual(expected(value))
        expect(gunzipSync(prepared.encodings!.gzip!).equals(value)).toBe(true)
        expect(brotliDecompressSync(prepared.encodings!.br!).equals(value)).toBe(true)
      }
    })
  }
})
