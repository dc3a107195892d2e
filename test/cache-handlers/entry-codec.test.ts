import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry } from '../../runtime/cache/handlers/entry-codec.js'
import type { CacheEntry } from '../../runtime/cache/handlers/types.js'
import { prepareEntry } from '../../runtime/render/prepare.js'

const page = (): CacheEntry => ({
  kind: 'page',
  value: Buffer.from('<!DOCTYPE html><html><body>' + 'hello '.repeat(400) + '</body></html>'),
  lastModified: 1_000,
  revalidate: 60,
  expire: 31_536_000,
  tags: ['_N_T_/blog/1'],
  buildId: 'b1',
  status: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  payload: { value: Buffer.from(JSON.stringify({ kind: 'page', data: 'x'.repeat(2000) })) },
})

describe('the entry codec', () => {
  it('keeps a page and its payload, with their ETags and compressed bodies, in one frame', async () => {
    const entry = await prepareEntry(page())
    expect(entry.payload?.encodings?.br).toBeDefined()
    const decoded = decodeEntry(Buffer.concat(encodeEntry('k', entry)), 'k')!
    expect(decoded.value.equals(entry.value)).toBe(true)
    expect(decoded.payload!.value.equals(entry.payload!.value)).toBe(true)
    expect(decoded.payload!.etag).toBe(entry.payload!.etag)
    expect(decoded.payload!.etag).not.toBe(entry.etag)
    expect(decoded.payload!.encodings!.gzip!.equals(entry.payload!.encodings!.gzip!)).toBe(true)
    expect(decoded.payload!.encodings!.br!.equals(entry.payload!.encodings!.br!)).toBe(true)
    expect(decoded.encodings!.br!.equals(entry.encodings!.br!)).toBe(true)
  })

  it('reads a frame of the format before payloads as a miss, so that page is rendered anew', async () => {
    const frame = Buffer.concat(encodeEntry('k', await prepareEntry(page())))
    frame.writeUInt8(2, 4)
    expect(decodeEntry(frame, 'k')).toBeUndefined()
  })

  it('reads a frame whose payload was cut short as a miss', async () => {
    const frame = Buffer.concat(encodeEntry('k', await prepareEntry(page())))
    expect(decodeEntry(frame.subarray(0, frame.length - 1), 'k')).toBeUndefined()
  })
})
