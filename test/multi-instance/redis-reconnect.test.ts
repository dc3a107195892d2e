/**
 * After an outage, each Redis connection of an instance reconnects on its own timer. Here
 * B's subscriber is held back 1.5 s after its command client (test/helpers/instance-server.mjs,
 * HOLD_SUBSCRIBER_RECONNECT_MS), which happens by chance when a retry tick falls just before
 * Redis is up again. An invalidation A makes in that window is stored in Redis, but B
 * loaded the tag times before it and was not subscribed when it was announced: B must
 * still see it once its subscriber is back.
 *
 * The handler counts as up again only once it has resubscribed and then reloaded the tag
 * times (runtime/cache/handlers/redis.ts), so nothing announced in between is lost.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { startInstances, stopInstances, type Instance } from '../helpers/instances.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'

let redis: RedisServer
let redisRunning = false
let instances: Instance[] = []

beforeAll(async () => {
  redis = await startRedis()
  redisRunning = true
  instances = await startInstances(2, { redisUrl: redis.url, distDir: BASIC_DIST, envs: [{}, { HOLD_SUBSCRIBER_RECONNECT_MS: '1500' }] })
})

afterAll(async () => {
  await stopInstances(instances)
  // stop() of test/helpers/redis.ts waits forever when called on a killed server.
  if (redisRunning) await redis?.stop()
})

const titleOf = async (instance: Instance, path: string) => /<h1>([^<]*)<\/h1>/.exec(await (await instance.get(path)).text())?.[1]

it('does not lose an invalidation made while one instance’s subscriber is still reconnecting', async () => {
  const [A, B] = instances
  expect(await titleOf(A, '/blog/3')).toBe('Third post')
  expect(await titleOf(B, '/blog/3')).toBe('Third post') // held in B's memory from now on

  await redis.stop()
  redisRunning = false
  await expect.poll(() => instances.map((i) => i.grep(/is unreachable/).length), { timeout: 5_000 }).toEqual([1, 1])
  await redis.start()
  redisRunning = true
  // "Reachable again" waits for B's subscriber too (held back 1.5 s).
  await expect.poll(() => instances.map((i) => i.grep(/is reachable again/).length), { timeout: 10_000 }).toEqual([1, 1])

  await Promise.all(instances.map((i) => i.setDb({ posts: { '3': { title: 'Third post, edited', body: '.' } } })))
  expect(await A.revalidatePath('/blog/3')).toMatchObject({ status: 200 })
  await Promise.all(instances.map((i) => i.advanceClock(1_000)))

  await expect.poll(() => titleOf(B, '/blog/3'), { timeout: 5_000, interval: 100 }).toBe('Third post, edited')
})
