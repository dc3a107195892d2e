/**
 * Real instances on one real redis-server, with what an operator or an attacker can do to
 * the Redis behind them: kill the subscriber connection, lose a message, skew one instance's
 * clock, forge messages, stall Redis past `commandTimeout` (DEBUG SLEEP), FLUSHALL it or
 * restart it empty. No invalidation may be lost, no lock may outlive its owner's render.
 *
 * Clocks are injected (never slept) and moved by a few seconds before each invalidation,
 * as real clocks would have moved while a page was served.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { afterBuild } from '../helpers/clock.js'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { startInstances, stopInstances, type Instance, type StartInstancesOptions } from '../helpers/instances.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'

let redis: RedisServer
let redisRunning = false
let admin: Redis
const running: Instance[] = []

beforeAll(async () => {
  redis = await startRedis()
  redisRunning = true
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  admin.on('error', () => {}) // Redis is restarted on purpose below
})

afterAll(async () => {
  await stopInstances(running)
  admin?.disconnect()
  if (redisRunning) await redis?.stop()
})

async function start(count: number, options: Partial<StartInstancesOptions> = {}): Promise<{ instances: Instance[]; prefix: string }> {
  const prefix = options.keyPrefix ?? `resilience-${randomBytes(4).toString('hex')}:`
  const instances = await startInstances(count, { redisUrl: redis.url, distDir: BASIC_DIST, keyPrefix: prefix, ...options })
  running.push(...instances)
  return { instances, prefix }
}

async function load(instance: Instance, path: string) {
  const res = await instance.get(path)
  const body = await res.text()
  return { state: res.headers.get('x-isr-cache'), title: /<h1>([^<]*)<\/h1>/.exec(body)?.[1] }
}
const titleOf = async (instance: Instance, path: string) => (await load(instance, path)).title
const setPost = (instances: Instance[], id: string, title: string) => Promise.all(instances.map((i) => i.setDb({ posts: { [id]: { title, body: '.' } } })))
const advance = (instances: Instance[], ms: number) => Promise.all(instances.map((i) => i.advanceClock(ms)))

describe('when the subscriber connection drops (no periodic check to help)', () => {
  let A: Instance
  let B: Instance
  beforeAll(async () => {
    // B's subscriber comes back 1 s after it is killed: A's invalidation falls in that gap.
    ;[A, B] = (await start(2, { env: { CHECK_INTERVAL: '600000' }, envs: [{}, { HOLD_SUBSCRIBER_RECONNECT_MS: '1000' }] })).instances
  })

  it('reloads the tag times once it is back, so an invalidation announced while it was away is not lost', async () => {
    await setPost([A, B], '3', 'Third post')
    expect(await titleOf(A, '/blog/3')).toBe('Third post')
    expect(await titleOf(B, '/blog/3')).toBe('Third post')
    await setPost([A, B], '3', 'Third post, edited')
    await advance([A, B], 5_000)

    await admin.client('KILL', 'TYPE', 'PUBSUB')
    const started = performance.now()
    expect(await A.revalidatePath('/blog/3')).toMatchObject({ status: 200 })
    await advance([A, B], 1_000)
    await expect.poll(() => titleOf(B, '/blog/3'), { timeout: 4_000, interval: 100 }).toBe('Third post, edited')
    console.log(`invalidation seen by B after its subscriber was killed: ${Math.round(performance.now() - started)} ms (subscriber held away 1000 ms)`)
    expect(B.grep(/is reachable again/)).toHaveLength(1)
  })
})

describe('with a periodic check every second', () => {
  let A: Instance
  let B: Instance
  let prefix: string
  beforeAll(async () => {
    const started = await start(2, { env: { CHECK_INTERVAL: '1000' } })
    ;[A, B] = started.instances
    prefix = started.prefix
  })

  it('sees within the check interval an invalidation whose message never arrived', async () => {
    await setPost([A, B], '4', 'Post 4')
    expect(await titleOf(A, '/blog/4')).toBe('Post 4')
    expect(await titleOf(B, '/blog/4')).toBe('Post 4')
    await setPost([A, B], '4', 'Post 4, edited')
    await advance([A, B], 5_000)

    // What the store holds after a message lost on the way: the time raised and counted, never announced.
    await admin.eval(
      `local t = redis.call('TIME'); redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1]); return redis.call('INCR', KEYS[2])`,
      2,
      `${prefix}tag-times`,
      `${prefix}tag-version`,
      'e:_isr_path:/blog/4',
    )
    const started = performance.now()
    await expect.poll(async () => [await titleOf(A, '/blog/4'), await titleOf(B, '/blog/4')], { timeout: 3_000, interval: 100 }).toEqual(['Post 4, edited', 'Post 4, edited'])
    console.log(`unannounced invalidation seen by both instances after ${Math.round(performance.now() - started)} ms (checkInterval 1000 ms)`)
  })

  it('takes tag times from Redis’s clock, so an instance 10 minutes ahead or behind neither repeats nor misses an invalidation', async () => {
    for (const [id, skew] of [['5', 600_000], ['6', -600_000]] as const) {
      await setPost([A, B], id, `Post ${id}`)
      expect(await titleOf(A, `/blog/${id}`)).toBe(`Post ${id}`)
      expect(await titleOf(B, `/blog/${id}`)).toBe(`Post ${id}`)
      await setPost([A, B], id, `Post ${id}, edited`)
      await advance([A, B], 5_000)
      await B.advanceClock(skew)
      expect(await B.revalidatePath(`/blog/${id}`)).toMatchObject({ status: 200 })
      await advance([A, B], 1_000)

      await expect.poll(() => titleOf(A, `/blog/${id}`), { timeout: 3_000, interval: 100 }).toBe(`Post ${id}, edited`)
      const states = [(await load(A, `/blog/${id}`)).state, (await load(A, `/blog/${id}`)).state]
      console.log(`A after an invalidation by B skewed ${skew / 60_000} min: ${states.join(', ')}`)
      expect(states).toEqual(['HIT', 'HIT'])
      await B.advanceClock(-skew)
    }
  })

  it('ignores the time a forged message names, and a changed message without a key', async () => {
    await setPost([A, B], '7', 'Post 7')
    expect(await titleOf(A, '/blog/7')).toBe('Post 7')
    await advance([A, B], 5_000)
    const forged = JSON.stringify({ from: 'x', type: 'tags', tags: ['_isr_path:/blog/7'], at: 9e15, mode: 'expire', version: 1 })
    await admin.publish(`${prefix}events`, forged)
    await admin.publish(`${prefix}events`, JSON.stringify({ from: 'x', type: 'changed', key: null }))
    await advance([A, B], 1_000)

    await expect.poll(async () => (await load(A, '/blog/7')).state, { timeout: 3_000, interval: 100 }).toBe('HIT')
    const renders = (await A.renders())['/blog/7']
    const states = []
    for (let i = 0; i < 5; i++) states.push((await load(A, '/blog/7')).state)
    console.log(`A after a forged "at": 9e15: ${states.join(', ')}; renders of /blog/7: ${renders}`)
    expect(states).toEqual(['HIT', 'HIT', 'HIT', 'HIT', 'HIT'])
    expect((await A.renders())['/blog/7']).toBe(renders)
  })
})

describe('when Redis stalls past commandTimeout (DEBUG SLEEP)', () => {
  let A: Instance
  let prefix: string
  beforeAll(async () => {
    const started = await start(1, { env: { CHECK_INTERVAL: '600000' } })
    ;[A] = started.instances
    prefix = started.prefix
  })

  it('releases by its token a lock whose SET timed out, as soon as Redis answers, and reports Redis up again', async () => {
    await setPost([A], '8', 'Post 8')
    expect(await titleOf(A, '/blog/8')).toBe('Post 8')
    await A.advanceClock(61_000) // stale: the next request regenerates under the lock

    // Sleeps 1 s (DEBUG needs `--enable-debug-command local`, see test/helpers/local-servers.ts).
    const sleeper = new Redis(redis.url)
    const slept = sleeper.call('DEBUG', 'SLEEP', '1')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await load(A, '/blog/8')).state).toBe('STALE')
    await slept
    sleeper.disconnect()

    const woke = performance.now()
    await expect.poll(() => admin.keys(`${prefix}lock:*`), { timeout: 1_500, interval: 50 }).toEqual([])
    console.log(`lock left after the stall: gone ${Math.round(performance.now() - woke)} ms after Redis answered (its TTL would have been 5000 ms)`)
    await expect.poll(() => A.grep(/is reachable again/).length, { timeout: 3_000 }).toBe(1)
    expect(A.grep(/is unreachable/)).toHaveLength(1)

    // A later outage warns again: health followed the commands.
    const second = new Redis(redis.url)
    const stall = second.call('DEBUG', 'SLEEP', '1')
    await new Promise((resolve) => setTimeout(resolve, 50))
    await A.advanceClock(61_000)
    await load(A, '/blog/8')
    await stall
    second.disconnect()
    await expect.poll(() => A.grep(/is unreachable/).length, { timeout: 3_000 }).toBe(2)
  })
})

describe('when Redis loses its data', () => {
  let A: Instance
  let B: Instance
  let prefix: string
  let clock: number
  beforeAll(async () => {
    const started = await start(2, { env: { CHECK_INTERVAL: '1000' } })
    ;[A, B] = started.instances
    prefix = started.prefix
    clock = afterBuild(BASIC_DIST)
  })

  const revalidated = async (id: string) => {
    await setPost([A, B], id, `Post ${id}, revalidated`)
    await advance([A, B], 5_000)
    clock += 5_000
    expect(await A.revalidatePath(`/blog/${id}`)).toMatchObject({ status: 200 })
    await advance([A, B], 1_000)
    clock += 1_000
    expect(await titleOf(A, `/blog/${id}`)).toBe(`Post ${id}, revalidated`)
  }
  const newcomer = async (id: string) => {
    const [C] = (await start(1, { keyPrefix: prefix, clockStart: clock })).instances
    await C.setDb({ posts: { [id]: { title: `Post ${id}, revalidated`, body: '.' } } })
    return C
  }

  it('never serves a build-time page over a newer invalidation after FLUSHALL', async () => {
    await revalidated('1')
    await admin.flushall()
    await expect.poll(() => admin.exists(`${prefix}tag-version`), { timeout: 3_000, interval: 100 }).toBe(1)
    const C = await newcomer('1')
    const title = await titleOf(C, '/blog/1')
    console.log(`instance started after FLUSHALL serves /blog/1 as "${title}" (build time: "First post")`)
    expect(title).toBe('Post 1, revalidated')
  })

  it('never serves a build-time page over a newer invalidation after a restart without persistence', async () => {
    await revalidated('2')
    await redis.stop()
    redisRunning = false
    await redis.start()
    redisRunning = true
    await expect.poll(() => admin.exists(`${prefix}tag-version`), { timeout: 5_000, interval: 100 }).toBe(1)
    const D = await newcomer('2')
    const title = await titleOf(D, '/blog/2')
    console.log(`instance started after a Redis restart serves /blog/2 as "${title}" (build time: "Second post")`)
    expect(title).toBe('Post 2, revalidated')
  })
})
