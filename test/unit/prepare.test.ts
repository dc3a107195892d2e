/**
 * The compressed bodies a page is prepared with are zlib's one-shot output with the
 * documented settings (gzip level 6, brotli quality 6 with the size as hint), whatever
 * the size of the chunks they are written into: a body compressed on the thread and one
 * compressed on the pool, a small and a big one, all decode to the body.
 */
import { randomBytes } from 'node:crypto'
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { CacheEntry } from '../../runtime/cache/handlers/types.js'
import { OFF_THREAD_COMPRESS_BYTES, prepareEntry, prepareEntrySync } from '../../runtime/render/prepare.js'

const page = (value: Buffer): CacheEntry => ({
  kind: 'page',
  value,
  lastModified: 0,
  revalidate: 60,
  expire: 3600,
  tags: [],
  buildId: 'b',
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
})

/** HTML-like text that compresses to a fraction of its size, with enough variety to take several zlib chunks when big. */
function html(bytes: number): Buffer {
  let text = '<!DOCTYPE html><html><body>'
  for (let i = 0; text.length < bytes; i++) text += `<p id="p${i}">Paragraph ${i} ${randomBytes(6).toString('hex')}</p>`
  return Buffer.from(text.slice(0, bytes))
}

const expected = (value: Buffer) => ({
  gzip: gzipSync(value, { level: 6 }),
  br: brotliCompressSync(value, { params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: value.length } }),
})

describe('prepared bodies', () => {
  for (const size of [900, 3_600, 60_000, OFF_THREAD_COMPRESS_BYTES - 1, OFF_THREAD_COMPRESS_BYTES + 50_000]) {
    it(`a ${size}-byte page gets zlib's own gzip and brotli bytes, which decode to the page`, async () => {
      const value = html(size)
      for (const prepared of [prepareEntrySync(page(value)), await prepareEntry(page(value))]) {
        expect(prepared.encodings).toEqual(expected(value))
        expect(gunzipSync(prepared.encodings!.gzip!).equals(value)).toBe(true)
        expect(brotliDecompressSync(prepared.encodings!.br!).equals(value)).toBe(true)
      }
    })
  }
})
