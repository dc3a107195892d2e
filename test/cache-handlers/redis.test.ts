import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createRedisCacheHandler } from '../../runtime/cache/handlers/redis.js'
import { createMemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import { createTieredCacheHandler } from '../../runtime/cache/handlers/tiered.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { makeEntry, testCacheHandler } from './contract.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

describe('redis', () => {
  let prefix: string
  beforeEach(() => {
    prefix = `test-${randomBytes(4).toString('hex')}:`
  })
  testCacheHandler('redis', () => createRedisCacheHandler({ url: redis.url, keyPrefix: prefix, log: () => {} }), { durable: true, storeClock: true })
})

describe('redis cache handler', () => {
  const open = (prefix: string, log: string[] = []) => createRedisCacheHandler({ url: redis.url, keyPrefix: prefix, commandTimeout: 300, log: (l) => log.push(l) })

  it('shows an invalidation made by one instance to another, without it asking, on the other’s clock', async () => {
    const a = await open('tags:')
    const b = await open('tags:')
    try {
      const before = Date.now()
      await a.invalidateTags(['posts'], { at: 1234, mode: 'expire' })
      await expect.poll(() => b.getTagTimes(['posts']).expired).toBeGreaterThanOrEqual(before)
      expect(b.getTagTimes(['posts']).expired).toBeLessThanOrEqual(Date.now())
    } finally {
      await Promise.all([a.dispose(), b.dispose()])
    }
  })

  it('tells the memory tier of other instances that an entry changed, so they drop their copy', async () => {
    const a = createTieredCacheHandler({ memory: createMemoryCacheHandler(), store: await open('watch:') })
    const b = createTieredCacheHandler({ memory: createMemoryCacheHandler(), store: await open('watch:') })
    try {
      await a.set('/p', makeEntry({ value: Buffer.from('v1') }))
      expect((await b.get('/p'))?.value.toString()).toBe('v1') // now in B's memory
      await a.set('/p', makeEntry({ value: Buffer.from('v2') }))
      await expect.poll(async () => (await b.get('/p'))?.value.toString()).toBe('v2')
    } finally {
      await Promise.all([a.dispose?.(), b.dispose?.()])
    }
  })

  it('gives a lock to one instance at a time, releases only its own, and expires it', async () => {
    const a = await open('lock:')
    const b = await open('lock:')
    try {
      const held = await a.lock!('/page', 10_000)
      expect(held).not.toBeNull()
      expect(await b.lock!('/page', 10_000)).toBeNull()
      await held!.release()
      const next = await b.lock!('/page', 50)
      expect(next).not.toBeNull()
      await held!.release() // A's old lock must not release B's
      expect(await a.lock!('/page', 10_000)).toBeNull()
      await expect.poll(() => a.lock!('/page', 10_000).then((l) => l !== null), { timeout: 2_000 }).toBe(true)
    } finally {
      await Promise.all([a.dispose(), b.dispose()])
    }
  })

  it('stores entries with a TTL so Redis forgets them by itself', async () => {
    const { Redis } = await import('ioredis')
    const raw = new Redis(redis.url)
    const h = await open('ttl:')
    try {
      await h.set('/t', makeEntry({ lastModified: Date.now(), expire: 100 }))
      const ttl = await raw.pttl('ttl:entry:/t')
      expect(ttl).toBeGreaterThan(100_000)
      expect(ttl).toBeLessThanOrEqual(100_000 + 24 * 3600_000)
    } finally {
      await h.dispose()
      raw.disconnect()
    }
  })

  it('treats a damaged value as a miss', async () => {
    const { Redis } = await import('ioredis')
    const raw = new Redis(redis.url)
    const h = await open('bad:')
    try {
      await raw.set('bad:entry:/x', 'not an entry')
      expect(await h.get('/x')).toBeUndefined()
    } finally {
      await h.dispose()
      raw.disconnect()
    }
  })

  it('rejects invalid options with a TypeError that says what is wrong', async () => {
    await expect(createRedisCacheHandler({ url: 'http://x' })).rejects.toThrow(/url must be a redis:\/\/ or rediss:\/\/ URL/)
    await expect(createRedisCacheHandler({ url: redis.url, commandTimeout: 0 })).rejects.toThrow(/commandTimeout must be a positive integer/)
  })
})
