/**
 * SPEC §11 on a shared Redis: the tag store is pruned and bounded there as in memory, and
 * two sites on one Redis never purge each other, without any option set.
 */
import { Redis } from 'ioredis'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisCacheHandler, defaultKeyPrefix } from '../../runtime/cache/handlers/redis.js'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { startInstances, stopInstances, type Instance } from '../helpers/instances.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'

const DAY = 24 * 3600_000
const T0 = 1_800_000_000_000

let redis: RedisServer
let raw: Redis
beforeAll(async () => {
  redis = await startRedis()
  raw = new Redis(redis.url)
})
afterAll(async () => {
  raw?.disconnect()
  await redis?.stop()
})

describe('the Redis tag store', () => {
  it('is bounded by maxTags, pruned past tagRetention, and still expires what was folded', async () => {
    const keyPrefix = `tags-${randomBytes(4).toString('hex')}:`
    const open = () => createRedisCacheHandler({ url: redis.url, keyPrefix, maxTags: 1_000, tagRetention: 3_600, log: () => {} })
    const a = await open()
    try {
      const before = Date.now()
      await a.invalidateTags(['victim'], { at: T0, mode: 'expire' })
      for (let i = 0; i < 20_000; i += 500) {
        await a.invalidateTags(Array.from({ length: 500 }, (_, j) => `attacker-${i + j}`), { at: T0 + 1 + i, mode: 'expire' })
      }
      const members = await raw.zcard(`${keyPrefix}tag-times`)
      console.log(`[security] Redis tag records after 20001 distinct tags with maxTags 1000: ${members}; in memory: ${a.tagCount}`)
      expect(members).toBeLessThanOrEqual(1_000)
      expect(a.tagCount).toBeLessThanOrEqual(1_000)

      // A new instance loads the bounded set and the floor: the first invalidation still holds.
      // (Times in Redis are Redis's clock, read back on the new instance's: about now.)
      const b = await open()
      expect(b.getTagTimes(['victim']).expired).toBeGreaterThanOrEqual(before - 1_000)
      await b.dispose()

      // Past the retention everything older goes: in memory by the instance's clock...
      await a.invalidateTags(['late'], { at: T0 + 3_600_000 + DAY + 20_000, mode: 'stale' })
      expect(a.tagCount).toBe(1)
    } finally {
      await a.dispose()
    }
  })

  it('drops in Redis, by Redis’s clock, the tag times and the floor past tagRetention', async () => {
    const keyPrefix = `tags-${randomBytes(4).toString('hex')}:`
    const a = await createRedisCacheHandler({ url: redis.url, keyPrefix, tagRetention: 3_600, log: () => {} })
    try {
      const [seconds] = await raw.time()
      const twoHoursAgo = String(Number(seconds) * 1000 - 2 * 3_600_000)
      await raw.zadd(`${keyPrefix}tag-times`, twoHoursAgo, 'e:ancient')
      await raw.hset(`${keyPrefix}tag-floor`, 'e', twoHoursAgo)
      await a.invalidateTags(['late'], { at: Date.now(), mode: 'stale' })
      expect(await raw.zrange(`${keyPrefix}tag-times`, 0, '-1')).toEqual(['s:late'])
      expect(await raw.hgetall(`${keyPrefix}tag-floor`)).toEqual({})
    } finally {
      await a.dispose()
    }
  })
})

describe('two sites on one Redis with the default keyPrefix', () => {
  const folders: string[] = []
  let sites: Instance[] = []
  beforeAll(async () => {
    for (const name of ['site-a', 'site-b']) {
      const dir = mkdtempSync(join(tmpdir(), `vite-isr-${name}-`))
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }))
      folders.push(dir)
    }
    // The same build on both: with one key prefix they would share pages and invalidations.
    sites = await startInstances(2, { redisUrl: redis.url, distDir: BASIC_DIST, keyPrefix: null, cwds: folders })
  })
  afterAll(async () => {
    await stopInstances(sites)
    for (const dir of folders) rmSync(dir, { recursive: true, force: true })
  })

  it('names each site in its prefix, the same on every start', () => {
    expect(defaultKeyPrefix(folders[0])).toBe('vite-isr:site-a:')
    expect(defaultKeyPrefix(folders[1])).toBe('vite-isr:site-b:')
    expect(defaultKeyPrefix(folders[0])).toBe(defaultKeyPrefix(folders[0]))
  })

  it('does not let one site purge the pages of the other', async () => {
    const [A, B] = sites
    for (const site of sites) expect((await site.get('/blog/3')).headers.get('x-isr-cache')).toBe('MISS')
    expect((await B.get('/blog/3')).headers.get('x-isr-cache')).toBe('HIT')
    const rendersBefore = (await B.renders())['/blog/3']

    expect(await A.revalidatePath('/blog/3')).toMatchObject({ status: 200 })
    await Promise.all(sites.map((site) => site.advanceClock(1_000)))
    expect((await A.get('/blog/3')).headers.get('x-isr-cache')).toBe('MISS')
    // Give a stray message time to arrive: B must still answer its own copy.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await B.get('/blog/3')).headers.get('x-isr-cache')).toBe('HIT')
    expect((await B.renders())['/blog/3']).toBe(rendersBefore)
    expect(await raw.keys('vite-isr:site-b:entry:*')).not.toEqual([])
  })
})
