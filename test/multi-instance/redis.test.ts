/**
 * Two real server processes (A on the fast path, B as Express middleware) on one real
 * Redis, one build and one key prefix: SPEC §5's shared cache, seen from outside.
 * Each process has its own clock (moved in step, never slept) and its own fixture db.
 * The tests run in order: the last two stop Redis and start it again.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { startInstances, stopInstances, type Instance } from '../helpers/instances.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'

let redis: RedisServer
let A: Instance
let B: Instance
let instances: Instance[] = []
// test/helpers/redis.ts's stop() waits forever when called twice (a SIGKILLed child keeps
// exitCode null), and start() while running orphans the running server: track it here.
let redisRunning = false
const stopRedis = async () => {
  if (redisRunning) await redis.stop()
  redisRunning = false
}
const restartRedis = async () => {
  if (!redisRunning) await redis.start()
  redisRunning = true
}

interface Served {
  status: number
  state: string | null
  title: string | undefined
  ms: number
}

async function load(instance: Instance, path: string): Promise<Served> {
  const started = performance.now()
  const res = await instance.get(path)
  const body = await res.text()
  return { status: res.status, state: res.headers.get('x-isr-cache'), title: /<h1>([^<]*)<\/h1>/.exec(body)?.[1], ms: performance.now() - started }
}

const both = <T>(fn: (instance: Instance) => Promise<T>) => Promise.all([fn(A), fn(B)])
const advanceBoth = (ms: number) => both((i) => i.advanceClock(ms))
const setPost = (id: string, title: string) => both((i) => i.setDb({ posts: { [id]: { title, body: `Body of ${id}.` } } }))
const rendersOf = async (path: string) => (await both((i) => i.renders())).map((r) => r[path] ?? 0)

const UNREACHABLE = /Redis at .* is unreachable/
const REACHABLE = /Redis at .* is reachable again/

beforeAll(async () => {
  redis = await startRedis()
  redisRunning = true
  instances = await startInstances(2, { redisUrl: redis.url, distDir: BASIC_DIST, modes: ['fast-path', 'middleware'] })
  ;[A, B] = instances
  // Pages only these tests render, so that no test sees another's entries.
  for (const id of ['4', '5', '6', '7', '8', '10']) await setPost(id, `Post ${id}`)
})

// On a failure, show what the servers logged (debug is on: one line per cache event).
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const instance of instances) {
      const events = instance.lines.filter((line) => !/\] (hit|stale|regenerate:locked) |^\s+at /.test(line))
      console.error(`--- stderr of ${instance.name} (${instance.mode}), last 80 lines but hits ---\n${events.slice(-80).join('\n')}`)
    }
  })
})

afterAll(async () => {
  if (process.env.MULTI_INSTANCE_LOG) for (const instance of instances) console.log(`--- ${instance.name} ---\n${instance.lines.join('\n')}`)
  await stopInstances(instances)
  if (redis) await stopRedis()
})

describe('several instances on one Redis', () => {
  it('serves a page rendered by A from the shared cache on B, without rendering it again', async () => {
    const onA = await load(A, '/blog/3')
    expect(onA).toMatchObject({ status: 200, state: 'MISS', title: 'Third post' })
    const onB = await load(B, '/blog/3')
    expect(onB).toMatchObject({ status: 200, state: 'HIT', title: 'Third post' })
    expect(await rendersOf('/blog/3')).toEqual([1, 0])
  })

  it('shows a revalidatePath on A to B on its next request, and B’s new page to A', async () => {
    expect(await load(A, '/blog/4')).toMatchObject({ state: 'MISS', title: 'Post 4' })
    expect(await load(B, '/blog/4')).toMatchObject({ state: 'HIT', title: 'Post 4' }) // now in B's memory too
    await setPost('4', 'Post 4, edited')

    expect(await A.revalidatePath('/blog/4')).toMatchObject({ status: 200 })
    await advanceBoth(1_000)

    // B held the page in memory: only the invalidation A stored in Redis tells it to render.
    expect(await load(B, '/blog/4')).toMatchObject({ status: 200, state: 'MISS', title: 'Post 4, edited' })
    expect(await load(B, '/blog/4')).toMatchObject({ state: 'HIT', title: 'Post 4, edited' })
    // A gets B's render (its memory copy was dropped when B stored the new page): no render of its own.
    expect(await load(A, '/blog/4')).toMatchObject({ state: 'HIT', title: 'Post 4, edited' })
    expect(await rendersOf('/blog/4')).toEqual([1, 1])
  })

  it('shows a revalidateTag on A to B on its next request', async () => {
    expect(await load(A, '/blog/10')).toMatchObject({ state: 'MISS', title: 'Post 10' })
    expect(await load(B, '/blog/10')).toMatchObject({ state: 'HIT', title: 'Post 10' })
    await setPost('10', 'Post 10, edited')

    // Every page carries its path as an implicit tag.
    expect(await A.revalidateTag('_isr_path:/blog/10')).toMatchObject({ status: 200 })
    await advanceBoth(1_000)

    expect(await load(B, '/blog/10')).toMatchObject({ status: 200, state: 'MISS', title: 'Post 10, edited' })
    expect(await rendersOf('/blog/10')).toEqual([1, 1])
  })

  it('regenerates a stale page once across both instances under 100 concurrent requests', async () => {
    expect(await load(A, '/blog/5')).toMatchObject({ state: 'MISS', title: 'Post 5' })
    expect(await load(B, '/blog/5')).toMatchObject({ state: 'HIT', title: 'Post 5' })
    await setPost('5', 'Post 5, regenerated')
    await both((i) => i.setDb({ delayMs: 300 })) // the regeneration outlives the burst
    await advanceBoth(61_000) // revalidate = 60

    try {
      const burst = await Promise.all(Array.from({ length: 100 }, (_, n) => load(n % 2 === 0 ? A : B, '/blog/5')))
      expect(burst.map((r) => r.status)).toEqual(Array(100).fill(200))
      // Nobody waits for the render: the old page at once, or (on a slow machine, once the
      // regeneration finished) the new one.
      const seen = new Set(burst.map((r) => `${r.state} ${r.title}`))
      expect([...seen].filter((s) => s !== 'STALE Post 5' && s !== 'HIT Post 5, regenerated')).toEqual([])
      expect(seen.has('STALE Post 5')).toBe(true)

      // Wait until both serve the regenerated page, then count renders in both processes.
      await expect.poll(async () => (await both((i) => load(i, '/blog/5'))).map((r) => `${r.state} ${r.title}`), { timeout: 10_000, interval: 100 })
        .toEqual(['HIT Post 5, regenerated', 'HIT Post 5, regenerated'])
      const [onA, onB] = await rendersOf('/blog/5')
      expect(onA + onB).toBe(2) // the first render, then exactly one regeneration
    } finally {
      await both((i) => i.setDb({ delayMs: 0 }))
    }
  })

  it('keeps serving when Redis goes away: from memory, fast, one warning per outage', async () => {
    expect(await load(A, '/blog/6')).toMatchObject({ state: 'MISS', title: 'Post 6' })
    expect(await load(B, '/blog/6')).toMatchObject({ state: 'HIT', title: 'Post 6' })
    expect(A.grep(UNREACHABLE).concat(B.grep(UNREACHABLE))).toEqual([])

    await stopRedis()

    const fresh6: Served[] = []
    const stale3: Served[] = [] // rendered in the first test, stale since the clocks moved 61 s
    for (let round = 0; round < 5; round++) {
      fresh6.push(...(await both((i) => load(i, '/blog/6'))))
      stale3.push(...(await both((i) => load(i, '/blog/3'))))
    }
    expect(fresh6.map((r) => `${r.status} ${r.state}`)).toEqual(Array(10).fill('200 HIT'))
    // The lock cannot be taken: each instance regenerates on its own rather than not at all.
    expect(stale3.slice(0, 2).map((r) => `${r.status} ${r.state}`)).toEqual(['200 STALE', '200 STALE'])
    expect(stale3.every((r) => r.status === 200 && (r.state === 'STALE' || r.state === 'HIT'))).toBe(true)
    const served = [...fresh6, ...stale3]

    // Never rendered: rendered without the store (its reads and writes fail fast).
    const fresh = [await load(A, '/blog/7'), await load(B, '/blog/8'), await load(B, '/blog/7')]
    expect(fresh.map((r) => `${r.status} ${r.state} ${r.title}`)).toEqual(['200 MISS Post 7', '200 MISS Post 8', '200 MISS Post 7'])
    served.push(...fresh)

    // An invalidation other instances would never see is refused, not silently dropped.
    const tag = await A.revalidateTag('_isr_path:/blog/6')
    expect(tag.status).toBe(500)
    expect(tag.body).toMatch(/could not be stored in Redis/)

    // commandTimeout is 300 ms: nothing waits on the dead Redis for long. All requests but
    // the slowest, which a GC pause or a busy machine may hold up on its own, are under 1 s.
    const times = served.map((r) => r.ms).sort((x, y) => x - y)
    if (process.env.MULTI_INSTANCE_LOG) console.log(`slowest requests during the outage: ${times.slice(-2).map((ms) => ms.toFixed(1)).join(', ')} ms`)
    expect(times.length).toBeGreaterThan(10)
    expect(times.at(-2)).toBeLessThan(1_000)

    await expect.poll(() => [A.grep(UNREACHABLE).length, B.grep(UNREACHABLE).length], { timeout: 5_000 }).toEqual([1, 1])
    // A few more requests and reconnection attempts later, still one line each.
    await new Promise((resolve) => setTimeout(resolve, 500))
    await both((i) => load(i, '/blog/8'))
    expect([A.grep(UNREACHABLE).length, B.grep(UNREACHABLE).length]).toEqual([1, 1])
  })

  it('recovers when Redis comes back (empty): invalidations work again without a restart', async () => {
    await setPost('6', 'Post 6, after the outage')
    await restartRedis()

    // A is back as soon as its own client reconnected; B may reconnect a moment later
    // (each connection retries on its own timer), and then loads the stored invalidation.
    await expect.poll(async () => (await A.revalidatePath('/blog/6')).status, { timeout: 15_000, interval: 200 }).toBe(200)
    await advanceBoth(1_000)
    await expect.poll(async () => (await load(B, '/blog/6')).title, { timeout: 10_000, interval: 100 }).toBe('Post 6, after the outage')
    expect((await load(A, '/blog/6')).title).toBe('Post 6, after the outage')
    await expect.poll(() => [A.grep(REACHABLE).length, B.grep(REACHABLE).length], { timeout: 10_000 }).toEqual([1, 1])

    // Both back: an invalidation on A reaches B (which holds the page in memory) on its next request.
    expect(await load(B, '/blog/6')).toMatchObject({ state: 'HIT', title: 'Post 6, after the outage' })
    await setPost('6', 'Post 6, once more')
    expect(await A.revalidatePath('/blog/6')).toMatchObject({ status: 200 })
    await advanceBoth(1_000)
    expect(await load(B, '/blog/6')).toMatchObject({ status: 200, state: 'MISS', title: 'Post 6, once more' })
    expect(await load(B, '/blog/6')).toMatchObject({ state: 'HIT', title: 'Post 6, once more' })
  })
})
