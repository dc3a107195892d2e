/**
 * The README's "Running several instances" section against a real redis-server: its Redis
 * `server.js` run as two instances sharing one Redis, and its `vite.config.ts` +
 * `server/cache-handler.ts`, which make the quick start's unchanged `server.js` use Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tick } from '../helpers/clock.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { appFiles, ReadmeApp, type AppServer } from './readme.js'

describe('README: Running several instances (Redis)', () => {
  const app = new ReadmeApp('redis')
  let redis: RedisServer
  let a: AppServer
  let b: AppServer

  beforeAll(async () => {
    redis = await startRedis()
    await app.follow()
    await app.build()
    const env = { REDIS_URL: redis.url, REVALIDATE_SECRET: 's3cret' }
    ;[a, b] = await Promise.all([app.launch('server.js', env), app.launch('server.js', env)])
  }, 180_000)
  afterAll(async () => {
    await app.close()
    await redis?.stop()
  })

  const cacheState = async (server: AppServer, path: string) => {
    const res = await fetch(server.url + path)
    await res.text()
    return res.headers.get('x-isr-cache')
  }

  it('uses the Redis server.js of this section, not the quick start one', () => {
    expect(app.read('server.js')).toContain('createRedisCacheHandler')
  })

  it('shares pages between instances: rendered by one, a HIT on the other', async () => {
    expect(await cacheState(a, '/blog/1')).toBe('HIT')
    expect(await cacheState(a, '/blog/15')).toBe('MISS')
    expect(await cacheState(b, '/blog/15')).toBe('HIT')
  })

  it('sees a revalidation on one instance on all of them', async () => {
    const res = await fetch(`${b.url}/api/revalidate`, {
      method: 'POST',
      headers: { 'x-revalidate-secret': 's3cret', 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/blog/15' }),
    })
    expect(res.status).toBe(200)
    await tick()
    // instance a hears of it over pub/sub: allow it the time of one message
    await expect.poll(() => cacheState(a, '/blog/15')).toBe('MISS')
    expect(await cacheState(b, '/blog/15')).toBe('HIT')
  })

  it("makes the quick start's unchanged server.js use Redis through isr({ cacheHandler })", async () => {
    const quick = appFiles('quick-start').get('server.js')
    expect(quick, 'the quick start has a server.js').toBeDefined()
    app.write('server-quick-start.js', quick!.code)
    const c = await app.launch('server-quick-start.js', { REDIS_URL: redis.url })
    expect(await cacheState(a, '/blog/16')).toBe('MISS')
    expect(await cacheState(c, '/blog/16'), 'a page rendered by a Redis instance').toBe('HIT')
    expect(await cacheState(c, '/blog/17')).toBe('MISS')
    expect(await cacheState(b, '/blog/17'), 'a page rendered by the quick start server.js').toBe('HIT')
  })
})
