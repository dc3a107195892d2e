/**
 * Anyone who can reach the Redis server can PUBLISH on vite-isr's channel. Two real server
 * processes on one real Redis receive malformed messages: none may end either process, each
 * ignores them (one warning, not one per message), and invalidations still flow between them.
 */
import { Redis } from 'ioredis'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { startInstances, stopInstances, type Instance } from '../helpers/instances.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'

const keyPrefix = `hostile-${randomBytes(4).toString('hex')}:`
let redis: RedisServer
let instances: Instance[] = []

beforeAll(async () => {
  redis = await startRedis()
  instances = await startInstances(2, { redisUrl: redis.url, distDir: BASIC_DIST, keyPrefix, modes: ['fast-path', 'middleware'] })
})

afterAll(async () => {
  await stopInstances(instances)
  await redis?.stop()
})

const MALFORMED: (string | Buffer)[] = [
  'null',
  '5',
  '"text"',
  '[]',
  '{}',
  JSON.stringify({ from: 'x', type: 'tags', tags: 5, at: 1, mode: 'expire' }),
  JSON.stringify({ from: 'x', type: 'tags', tags: [1, 2], at: 1, mode: 'expire' }),
  JSON.stringify({ from: 'x', type: 'tags', tags: ['posts'], at: 'soon', mode: 'expire' }),
  JSON.stringify({ from: 'x', type: 'tags', tags: ['posts'], at: 1, mode: 'later' }),
  JSON.stringify({ type: 'changed', key: null }),
  JSON.stringify({ from: 'x', type: 'changed', key: { toString: 1 } }),
  JSON.stringify({ from: 'x', type: 'unknown' }),
  JSON.stringify({ from: 5, type: 'changed', key: 'page:x' }),
  Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x80, 0xc3]),
  '{"from":"x","type":"tags","tags":["posts"',
]

const titleOf = async (instance: Instance, path: string) => /<h1>([^<]*)<\/h1>/.exec(await (await instance.get(path)).text())?.[1]

it('ignores malformed pub/sub messages: both instances stay up, warn once, and still share invalidations', async () => {
  const [A, B] = instances
  expect(await titleOf(A, '/blog/3')).toBe('Third post')
  expect(await titleOf(B, '/blog/3')).toBe('Third post')

  const raw = new Redis(redis.url)
  try {
    for (const message of MALFORMED) await raw.publish(`${keyPrefix}events`, message)
  } finally {
    raw.disconnect()
  }

  await Promise.all(instances.map((i) => i.setDb({ posts: { '3': { title: 'Third post, edited', body: '.' } } })))
  expect(await A.revalidatePath('/blog/3')).toMatchObject({ status: 200 })
  await Promise.all(instances.map((i) => i.advanceClock(1_000)))
  await expect.poll(() => titleOf(B, '/blog/3'), { timeout: 5_000, interval: 100 }).toBe('Third post, edited')
  expect(await titleOf(A, '/blog/3')).toBe('Third post, edited')

  const warnings = () => instances.map((i) => i.grep(/ignored a malformed message/).length)
  await expect.poll(warnings, { timeout: 5_000 }).toEqual([1, 1])
  console.log(`malformed messages published: ${MALFORMED.length}; warnings logged per instance: ${warnings().join(', ')}`)
  for (const instance of instances) expect((await instance.get('/blog/3')).status).toBe(200)
})
