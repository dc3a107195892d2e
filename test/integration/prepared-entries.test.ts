import { gunzipSync, brotliDecompressSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { CacheEntry } from 'vite-isr/runtime'
import { prepareEntrySync } from '../../runtime/render/prepare.js'
import { useFixtureServer } from '../helpers/server.js'

/** What a page is stored with: everything a HIT needs, made before any request asks for it. */
describe('pages prepared when stored', () => {
  const t = useFixtureServer()
  const key = (path: string) => `page:${t.server.isr.buildId}:${path}`
  const stored = async (path: string) => (await t.server.isr.cache.get(key(path))) as CacheEntry

  const expectPrepared = (entry: CacheEntry) => {
    expect(entry.etag).toMatch(/^[\w-]{22}$/)
    expect(gunzipSync(entry.encodings!.gzip!).equals(entry.value)).toBe(true)
    expect(brotliDecompressSync(entry.encodings!.br!).equals(entry.value)).toBe(true)
  }

  it('a prerendered page comes from the build with its ETag and its gzip and br bodies', async () => {
    expectPrepared(await stored('/blog/1'))
  })

  it('the build prepares a page and its payload into the same bytes as the server prepares them', async () => {
    const entry = await stored('/blog/1')
    expect(entry.payload).toBeDefined()
    const { etag, encodings, payload, ...rendered } = entry
    const expected = prepareEntrySync({ ...rendered, payload: { value: payload!.value } })
    expect({ etag, encodings, payload }).toEqual({ etag: expected.etag, encodings: expected.encodings, payload: expected.payload })
  })

  it('a regenerated page is stored with them before any request asks for an encoding', async () => {
    t.db.posts['1'].title = 'Edited'
    t.clock.advance(61_000)
    const stale = await t.server.get('/blog/1', { headers: { 'accept-encoding': 'identity' } })
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    // The regeneration runs in the background: wait for its entry.
    let entry = await stored('/blog/1')
    for (let i = 0; i < 50 && !entry.value.toString().includes('Edited'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      entry = await stored('/blog/1')
    }
    expect(entry.value.toString()).toContain('Edited')
    expectPrepared(entry)
    const res = await t.server.get('/blog/1', { headers: { 'accept-encoding': 'br' } })
    expect([res.headers.get('x-isr-cache'), res.headers.get('content-encoding'), res.headers.get('etag')]).toEqual(['HIT', 'br', `"${entry.etag}-br"`])
    console.log(`prepared entry for /blog/1: body ${entry.value.length} B, gzip ${entry.encodings!.gzip!.length} B, br ${entry.encodings!.br!.length} B`)
  })
})
