import { beforeEach, describe, expect, it } from 'vitest'
import { revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, useFixtureServer } from '../helpers/server.js'
import type { DataSource } from '../fixtures/data/server/source.js'

describe('revalidateTag', () => {
  let source: DataSource
  beforeEach(() => {
    source = resetDataSource()
  })
  const events: unknown[] = []
  const t = useFixtureServer({ distDir: DATA_DIST, cdnTagHeader: true, onRevalidate: (event) => void events.push(event) })
  beforeEach(() => {
    events.length = 0
  })

  it('without a profile expires the entries now: the next request renders fresh', async () => {
    source.posts['1'].title = 'Edited'
    t.clock.advance(1)
    await revalidateTag('posts')
    t.clock.advance(1)
    const res = await t.server.get('/posts/1')
    expect(res.headers.get('x-isr-cache')).toBe('MISS')
    expect(await res.text()).toContain('<h1>Edited</h1>')
  })

  it('without a profile shares one render among concurrent requests, and keeps the last good data if the source fails', async () => {
    source.posts['1'].title = 'Edited'
    t.clock.advance(1)
    await revalidateTag('posts')
    t.clock.advance(1)
    source.delayMs = 300 // the render is still running while the requests arrive
    const responses = await Promise.all(Array.from({ length: 20 }, () => t.server.get('/posts/1')))
    // Each request waits for the one render (or, on a slow machine, arrives after it and
    // gets its result as a HIT); none is served the expired page.
    const states = responses.map((r) => r.headers.get('x-isr-cache'))
    expect(states.every((s) => s === 'MISS' || s === 'HIT')).toBe(true)
    expect(states[0]).toBe('MISS')
    for (const body of await Promise.all(responses.map((r) => r.text()))) expect(body).toContain('<h1>Edited</h1>')
    expect(source.calls['post:1']).toBe(1)
    source.delayMs = 0

    // now the data source fails: the data keeps its last good copy, the page still answers 200
    delete source.posts['1']
    Object.defineProperty(source.posts, '1', { get: () => { throw new Error('database down') }, configurable: true })
    t.clock.advance(1)
    await revalidateTag('posts')
    t.clock.advance(1)
    const fallback = await t.server.get('/posts/1')
    expect(fallback.status).toBe(200)
    expect(await fallback.text()).toContain('<h1>Edited</h1>')
    expect(t.server.logs.join('\n')).toMatch(/regenerating cache\(post\) failed[\s\S]*database down/)
  })

  it("with 'max' marks the entries stale: served at once, regenerated in the background", async () => {
    source.posts['1'].title = 'Edited in the background'
    t.clock.advance(1)
    await revalidateTag('posts', 'max')
    t.clock.advance(1)
    const stale = await t.server.get('/posts/1')
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    expect(await stale.text()).toContain('<h1>Post one</h1>')
    await expect.poll(async () => (await (await t.server.get('/posts/1')).text()).includes('Edited in the background')).toBe(true)
    expect((await t.server.get('/posts/1')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('with { expire: 0 } expires now, with { expire: n > 0 } marks stale', async () => {
    t.clock.advance(1)
    await revalidateTag('posts', { expire: 0 })
    t.clock.advance(1)
    expect((await t.server.get('/posts/1')).headers.get('x-isr-cache')).toBe('MISS')
    t.clock.advance(1)
    await revalidateTag('posts', { expire: 3600 })
    t.clock.advance(1)
    expect((await t.server.get('/posts/1')).headers.get('x-isr-cache')).toBe('STALE')
  })

  it('says in the debug log how many cached entries an invalidation touched', async () => {
    const logged: string[] = []
    const cache = tempCacheDir()
    const server = await startServer({ distDir: DATA_DIST, cacheDir: cache.dir, debug: true, log: (l) => logged.push(l) })
    try {
      await server.get('/posts')
      await server.get('/posts/1')
      await server.get('/posts/2')
      await revalidateTag('posts')
      await revalidateTag('nothing-has-this')
      // three pages and the data entry of post 2 (post 1's came from the build's seed, not read yet)
      expect(logged).toContain('[vite-isr] revalidateTag posts mode=expire tags=1 entries=4')
      expect(logged).toContain('[vite-isr] revalidateTag nothing-has-this mode=expire tags=1 entries=0')
    } finally {
      await server.close()
      cache.remove()
    }
  })

  it('leaves entries without the tag alone', async () => {
    t.clock.advance(1)
    await revalidateTag('authors')
    t.clock.advance(1)
    expect((await t.server.get('/posts')).headers.get('x-isr-cache')).toBe('HIT')
    expect((await t.server.get('/posts/1')).headers.get('x-isr-cache')).toBe('MISS')
  })

  it('tells onRevalidate what it invalidated, for a CDN purge', async () => {
    await revalidateTag('posts')
    await revalidatePath('/posts/1')
    expect(events).toEqual([
      { paths: [], tags: ['posts'], mode: 'expire' },
      { paths: ['/posts/1'], tags: ['_isr_path:/posts/1'], mode: 'expire' },
    ])
  })

  it('sends the page tags in Cache-Tag only when asked to', async () => {
    const res = await t.server.get('/posts/1')
    expect(res.headers.get('cache-tag')?.split(',')).toEqual(expect.arrayContaining(['posts', 'authors', '_isr_path:/posts/1']))
  })

  it('rejects invalid arguments with a TypeError that says what is wrong', async () => {
    await expect(revalidateTag(1 as never)).rejects.toThrow(new TypeError('[vite-isr] revalidateTag: tag must be a string (got number)'))
    await expect(revalidateTag('')).rejects.toThrow(/1 to 256 characters \(got 0\)/)
    await expect(revalidateTag('x'.repeat(257))).rejects.toThrow(/1 to 256 characters \(got 257\)/)
    await expect(revalidateTag('posts', 'min' as never)).rejects.toThrow(/profile must be 'max' or \{ expire: seconds >= 0 \}/)
  })
})

describe('tags are never sent to clients by default', () => {
  resetDataSource()
  const t = useFixtureServer({ distDir: DATA_DIST })
  it('has no tag header without cdnTagHeader', async () => {
    const res = await t.server.get('/posts/1')
    expect([...res.headers.keys()].filter((h) => /^(cache-tag|surrogate-key)$/i.test(h))).toEqual([])
    expect(await res.text()).not.toContain('_isr_path')
  })
})
