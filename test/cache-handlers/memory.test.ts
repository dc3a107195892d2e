import { describe, expect, it } from 'vitest'
import { createMemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import { resolveHandlerOptions } from '../../runtime/options.js'
import { makeEntry, testCacheHandler } from './contract.js'

testCacheHandler('memory', () => createMemoryCacheHandler())

const body = (size: number, fill = 'x') => Buffer.alloc(size, fill)

describe('memory cache handler', () => {
  it('answers every method synchronously', () => {
    const handler = createMemoryCacheHandler()
    const entry = makeEntry()
    expect(handler.set('/a', entry)).toBeUndefined()
    expect(handler.get('/a')).toBe(entry)
    expect(handler.invalidateTags(['t'], { at: 1, mode: 'expire' })).toBeUndefined()
    expect(handler.getTagTimes(['t'])).toEqual({ expired: 1, stale: 0 })
    expect(handler.delete('/a')).toBeUndefined()
    expect(handler.get('/a')).toBeUndefined()
  })

  it('keeps up to 50 MB by default, the same budget the server gives its memory tier', () => {
    const mb = 1024 * 1024
    expect(resolveHandlerOptions({}).cacheMaxMemorySize).toBe(50 * mb)
    const handler = createMemoryCacheHandler()
    handler.set('/big', makeEntry({ kind: 'data', value: body(50 * mb - 4096) }))
    expect(handler.peek('/big')).toBeDefined()
    handler.set('/bigger', makeEntry({ kind: 'data', value: body(50 * mb + 1) }))
    expect(handler.peek('/bigger')).toBeUndefined()
  })

  it('evicts the least recently used entries when over maxSize', () => {
    // Room for three 10 kB pages (each charged ~11 kB: body and metadata), not four.
    const handler = createMemoryCacheHandler({ maxSize: 40_000 })
    for (const key of ['/a', '/b', '/c']) handler.set(key, makeEntry({ value: body(10_000) }))
    expect(handler.size).toBe(3)
    handler.get('/a')
    handler.set('/d', makeEntry({ value: body(10_000) }))
    expect(handler.peek('/b')).toBeUndefined()
    expect(handler.peek('/a')).toBeDefined()
    expect(handler.peek('/c')).toBeDefined()
    expect(handler.peek('/d')).toBeDefined()
    expect(handler.calculatedSize).toBeLessThanOrEqual(40_000)
  })

  it('counts a peek as a use, since pages served from memory go through it', () => {
    const handler = createMemoryCacheHandler({ maxSize: 40_000 })
    for (const key of ['/a', '/b', '/c']) handler.set(key, makeEntry({ value: body(10_000) }))
    expect(handler.peek('/a')).toBeDefined()
    handler.set('/d', makeEntry({ value: body(10_000) }))
    expect(handler.get('/a')).toBeDefined()
    expect(handler.get('/b')).toBeUndefined()
  })

  it('counts metadata against maxSize, not only the body', () => {
    const handler = createMemoryCacheHandler({ maxSize: 4000 })
    handler.set('/tags', makeEntry({ value: body(10), tags: Array.from({ length: 500 }, (_, i) => `tag-${i}`) }))
    expect(handler.peek('/tags')).toBeUndefined()
  })

  it('refuses an entry bigger than maxSize without evicting others', () => {
    const handler = createMemoryCacheHandler({ maxSize: 35_000 })
    handler.set('/small', makeEntry({ value: body(1000) }))
    handler.set('/huge', makeEntry({ value: body(35_001) }))
    expect(handler.get('/huge')).toBeUndefined()
    expect(handler.get('/small')).toBeDefined()
  })

  it('drops the previous entry when its replacement is too big to keep', () => {
    const handler = createMemoryCacheHandler({ maxSize: 35_000 })
    handler.set('/page', makeEntry({ value: body(1000) }))
    handler.set('/page', makeEntry({ value: body(40_000) }))
    expect(handler.get('/page')).toBeUndefined()
  })

  it('stores no entries with maxSize 0, but still records tag times', () => {
    const handler = createMemoryCacheHandler({ maxSize: 0 })
    handler.set('/a', makeEntry())
    expect(handler.get('/a')).toBeUndefined()
    expect(handler.size).toBe(0)
    handler.invalidateTags(['t'], { at: 10, mode: 'stale' })
    expect(handler.getTagTimes(['t'])).toEqual({ expired: 0, stale: 10 })
  })

  it('ignores memoryOnly: everything is in memory', () => {
    const handler = createMemoryCacheHandler()
    handler.set('/404', makeEntry({ status: 404 }), { memoryOnly: true })
    expect(handler.get('/404')?.status).toBe(404)
  })

  it('empties entries and tag times on clear', () => {
    const handler = createMemoryCacheHandler()
    handler.set('/a', makeEntry())
    handler.invalidateTags(['t'], { at: 1, mode: 'expire' })
    handler.clear()
    expect(handler.size).toBe(0)
    expect(handler.getTagTimes(['t'])).toEqual({ expired: 0, stale: 0 })
  })

  it.each([
    [-1, '-1'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [Infinity, 'Infinity'],
    ['10', '"10"'],
    [{}, 'object'],
  ])('throws a TypeError for maxSize %s', (maxSize, shown) => {
    const create = () => createMemoryCacheHandler({ maxSize: maxSize as number })
    expect(create).toThrow(TypeError)
    expect(create).toThrow(`[vite-isr] maxSize must be a non-negative integer (got ${shown})`)
  })

  it('throws a TypeError when options are not an object', () => {
    expect(() => createMemoryCacheHandler(42 as never)).toThrow(
      new TypeError('[vite-isr] memory cache handler options must be an object (got 42)'),
    )
  })
})

describe('memory cache handler: counting tagged entries', () => {
  it('counts entries per tag as they are set, replaced, deleted and evicted, without scanning', () => {
    const cache = createMemoryCacheHandler({ maxSize: 6_000 })
    cache.set('a', makeEntry({ tags: ['posts', 'p:a'], value: body(500) }))
    cache.set('b', makeEntry({ tags: ['posts'], value: body(500) }))
    expect(cache.countTagged('posts')).toBe(2)
    expect(cache.countTagged('p:a')).toBe(1)
    cache.set('a', makeEntry({ tags: ['authors'], value: body(500) })) // replaced: loses its old tags
    expect(cache.countTagged('posts')).toBe(1)
    expect(cache.countTagged('p:a')).toBe(0)
    expect(cache.countTagged('authors')).toBe(1)
    cache.delete('b')
    expect(cache.countTagged('posts')).toBe(0)
    for (const key of ['c', 'd', 'e', 'f']) cache.set(key, makeEntry({ tags: ['bulk'], value: body(700) }))
    // only what still fits is counted
    expect(cache.countTagged('bulk')).toBe(cache.size - cache.countTagged('authors'))
    expect(cache.countTagged('bulk')).toBeLessThan(4)
  })
})

describe('memory cache handler: what an entry is charged', () => {
  it('charges a page its body, its compressed bodies at their real size and its metadata', () => {
    const cache = createMemoryCacheHandler({ maxSize: 1_000_000 })
    // Highly compressible: the copies are far smaller than a guess such as half the body.
    cache.set('/page', makeEntry({ kind: 'page', value: body(10_000), etag: 'e'.repeat(22), encodings: { gzip: body(1_000), br: body(800) } }))
    const page = cache.calculatedSize
    expect(page).toBeGreaterThanOrEqual(11_800)
    expect(page).toBeLessThan(13_500)
    cache.set('/data', makeEntry({ kind: 'data', value: body(10_000) }))
    expect(cache.calculatedSize - page).toBeGreaterThanOrEqual(10_000)
    expect(cache.calculatedSize - page).toBeLessThan(11_500)
  })
})
