/**
 * Two real server processes (one on the fast path, one as middleware) on one real Redis:
 * a stale storm split across both regenerates the page once in the whole cluster, run
 * after run, with the render time and the split of requests randomised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { startInstances, stopInstances, type Instance } from '../helpers/instances.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { randomInt, RUNS, tally } from './runs.js'

const WINDOW = 60_000 // /blog/[id] has revalidate = 60
const RENDER_TIMEOUT = 200
/** Past the instances' longest back-off after a failed render (instance-server.mjs: 200 ms). */
const PAST_BACKOFF = 1_000
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let redis: RedisServer
// helpers/redis.ts's stop() must not be called twice: the last test stops it already.
let redisUp = false
let instances: Instance[] = []
let A: Instance
let B: Instance

const both = <T>(fn: (instance: Instance) => Promise<T>) => Promise.all([fn(A), fn(B)])
const total = async (path: string) => (await both((i) => i.renders())).reduce((sum, r) => sum + (r[path] ?? 0), 0)
const state = async (instance: Instance, path: string) => {
  const res = await instance.get(path)
  await res.arrayBuffer()
  return res.headers.get('x-isr-cache')
}
/** Both instances answer HIT: the regeneration ended and each sees its result. */
const settled = (path: string) => expect.poll(async () => (await both((i) => state(i, path))).join(), { timeout: 15_000, interval: 20 }).toBe('HIT,HIT')

describe('two instances on one Redis', () => {
  beforeAll(async () => {
    redis = await startRedis()
    redisUp = true
    instances = await startInstances(2, { redisUrl: redis.url, distDir: BASIC_DIST, modes: ['fast-path', 'middleware'], env: { RENDER_TIMEOUT: String(RENDER_TIMEOUT) } })
    ;[A, B] = instances
    const posts = { storm: { title: 'Storm', body: 'Shared by both.' }, failing: { title: 'Failing', body: 'Fails at times.' }, down: { title: 'Down', body: 'Redis goes away.' } }
    await both((i) => i.setDb({ posts }))
  })
  afterAll(async () => {
    await stopInstances(instances)
    if (redisUp) await redis.stop()
  })

  it('a stale storm split across both instances regenerates the page once in the cluster, every run', async () => {
    const path = '/blog/storm'
    await state(A, path)
    await settled(path)
    const counts = tally('cluster: stale storm split across 2 instances')
    const timeouts = () => A.grep(/timed out/).length + B.grep(/timed out/).length
    let timedOutBefore = timeouts()
    for (let run = 0; run < RUNS; run++) {
      const before = await total(path)
      const delayMs = randomInt(0, 30)
      await both((i) => i.setDb({ delayMs }))
      await both((i) => i.advanceClock(WINDOW + randomInt(0, 3)))
      const size = randomInt(10, 30)
      const sent: Promise<string | null>[] = []
      for (let i = 0; i < size; i++) {
        sent.push(state(Math.random() < 0.5 ? A : B, path))
        if (i % 5 === 4) await pause(randomInt(0, 3))
      }
      await Promise.all(sent)
      await settled(path)
      const renders = (await total(path)) - before
      // A render over RENDER_TIMEOUT (a loaded machine can stall one) fails and is retried
      // after the back-off, by design: each such timeout allows one more render, no more.
      const timedOut = timeouts() - timedOutBefore
      timedOutBefore += timedOut
      if (timedOut === 0) counts.add(renders, 1, `(render ${delayMs}ms, ${size} requests)`)
      else counts.within(renders, 1, 1 + timedOut, `(render ${delayMs}ms, ${size} requests, ${timedOut} timed out)`)
    }
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 2_000)

  /** `size` requests split at random between the two instances, a random pause every few. */
  async function splitStorm(path: string, size: number): Promise<void> {
    const sent: Promise<string | null>[] = []
    for (let i = 0; i < size; i++) {
      sent.push(state(Math.random() < 0.5 ? A : B, path))
      if (i % 5 === 4) await pause(randomInt(0, 3))
    }
    await Promise.all(sent)
  }

  /**
   * Wait for a render of `path` past `before`. A storm can start none: on a loaded machine a
   * lock release can time out, and the lock then stays with Redis until the instance that held
   * it reaches Redis again (or its lease ends), so every request of the storm finds it taken.
   * The next stale request regenerates, as in production: one is sent to each instance every
   * half second while none has started. It cannot add a render to the count: an instance whose
   * render failed backs off (on its clock, which stands still here).
   */
  async function renderStarted(path: string, before: number): Promise<void> {
    const deadline = Date.now() + 15_000
    let nudged = Date.now()
    while ((await total(path)) - before < 1) {
      if (Date.now() > deadline) {
        const log = (i: Instance) => i.lines.filter((line) => line.includes(path)).slice(-20).join('\n')
        throw new Error(`no render of ${path} started after the storm\nA:\n${log(A)}\nB:\n${log(B)}`)
      }
      if (Date.now() - nudged >= 500) {
        nudged = Date.now()
        await both((i) => state(i, path))
      }
      await pause(10)
    }
  }

  it('a regeneration that throws or times out releases the lock: the next stale storm after the back-off regenerates once in the cluster, every run', async () => {
    const path = '/blog/failing'
    await state(A, path)
    await settled(path)
    const failed = tally('cluster: renders while the regeneration fails (at most one per instance)')
    const after = tally('cluster: regenerations in the storm after a failed one')
    for (let run = 0; run < RUNS; run++) {
      const fail = Math.random() < 0.5 ? 'throw' : 'hang'
      await both((i) => i.setDb({ fail, delayMs: randomInt(0, 20) }))
      await both((i) => i.advanceClock(WINDOW + randomInt(0, 3)))
      let before = await total(path)
      await splitStorm(path, randomInt(6, 16))
      // The storm's regeneration starts once the lock and the shared store answered (slow on a
      // loaded machine); then it throws at once, or times out after RENDER_TIMEOUT.
      await renderStarted(path, before)
      await pause(fail === 'hang' ? RENDER_TIMEOUT + 50 : 30)
      const tries = (await total(path)) - before
      failed.within(tries, 1, 2, `(${fail})`)
      await both((i) => i.setDb({ fail: false, delayMs: randomInt(0, 20) }))
      await both((i) => i.advanceClock(PAST_BACKOFF))
      before = await total(path)
      await splitStorm(path, randomInt(6, 16))
      await settled(path)
      after.add((await total(path)) - before, 1, `(after ${fail})`)
    }
    expect([...failed.report(), ...after.report()]).toEqual([])
  }, 60_000 + RUNS * 3_000)

  // Last: it stops Redis for good.
  it('with Redis gone, from the middle of a render on, a stale page renders at most once per instance per window, every run', async () => {
    const path = '/blog/down'
    // Not left failing by the test before, should it have stopped mid-run.
    await both((i) => i.setDb({ fail: false, delayMs: 0 }))
    await state(A, path)
    await settled(path)
    const counts = tally('cluster without Redis: regenerations per stale window (at most one per instance)')
    for (let run = 0; run < RUNS; run++) {
      const before = await total(path)
      const delayMs = randomInt(20, 60)
      await both((i) => i.setDb({ delayMs }))
      await both((i) => i.advanceClock(WINDOW + randomInt(0, 3)))
      if (run === 0) {
        // A takes the lock and renders; Redis dies under it (the lock is lost with it).
        await state(A, path)
        await pause(randomInt(0, delayMs / 2))
        await redis.stop()
        redisUp = false
      }
      await splitStorm(path, randomInt(6, 16))
      await settled(path)
      counts.within((await total(path)) - before, 1, instances.length, `(render ${delayMs}ms)`)
    }
    expect(counts.report()).toEqual([])
  }, 60_000 + RUNS * 3_000)
})
