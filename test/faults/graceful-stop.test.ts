/**
 * Graceful stop: a real server process (`stopOnSignals`, as example-app/server.js) gets
 * SIGTERM during a burst of slow regenerations. It exits 0 within `closeTimeoutMs`, having
 * finished the renders that were running and written their entries whole, with no temp file
 * left; with the Redis handler its connections are gone and nothing keeps the process alive;
 * a render that never ends is given up on at the bound.
 */
import { readdirSync } from 'node:fs'
import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { afterBuild } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer } from '../helpers/server.js'
import { stopOnSignals } from 'vite-isr/runtime'
import { createFileSystemCacheHandler } from '../../runtime/cache/handlers/file-system.js'
import { makeEntry } from '../cache-handlers/contract.js'
import { startRedis, type RedisServer } from '../helpers/redis.js'
import { checkEntryFile, entryFiles, figure } from './helpers.js'
import { killStopChildren, MARGIN_MS, startStopChild as startChild, type StopChild as Child } from './stop-child.js'

const BURST = 12
/** Each regeneration of the burst takes this long: SIGTERM comes while all of them run. */
const SLOW_RENDER_MS = 1_500

const ids = Array.from({ length: BURST }, (_, i) => `s${i}`)

/** Warm every page at version 0, then make them all stale and start their slow regenerations (version 1). */
async function startBurst(child: Child): Promise<void> {
  for (const id of ids) expect((await fetch(`${child.url}/blog/${id}`)).status).toBe(200)
  await child.post('/__test/db', { version: 1, delayMs: SLOW_RENDER_MS })
  await child.post('/__test/clock?advance=61000')
  for (const id of ids) {
    const res = await fetch(`${child.url}/blog/${id}`)
    await res.arrayBuffer()
    expect(res.headers.get('x-isr-cache')).toBe('STALE')
  }
  // Every regeneration has entered its loader (which counts it) before the signal.
  const renders = (await (await fetch(`${child.url}/__test/renders`)).json()) as Record<string, number>
  expect(ids.map((id) => renders[`/blog/${id}`])).toEqual(ids.map(() => 2))
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((name) => name.endsWith('.tmp'))
}

afterEach(killStopChildren)

describe('graceful stop on SIGTERM', () => {
  it('finishes the regenerations running at SIGTERM, writes their entries whole, leaves no temp file and exits 0 within the bound', async () => {
    const cache = tempCacheDir()
    try {
      const child = await startChild({ CACHE_DIR: cache.dir, CLOSE_TIMEOUT_MS: '10000' })
      await startBurst(child)
      // A MISS that arrives before the signal joins the burst and is answered.
      const miss = fetch(`${child.url}/blog/s${BURST}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
      const sent = performance.now()
      child.process.kill('SIGTERM')
      const missed = await miss
      expect(missed.status).toBe(200)
      expect(await missed.text()).toContain(`version 1 of s${BURST}`)
      const { code, signal, atMs } = await child.exited
      const tookMs = Math.round(atMs - sent)
      figure(`graceful stop: ${BURST} regenerations of ${SLOW_RENDER_MS} ms running at SIGTERM, exit ${code} after ${tookMs} ms (bound 10000 ms)`)
      expect({ code, signal }).toEqual({ code: 0, signal: null })
      expect(tookMs).toBeLessThan(10_000 + MARGIN_MS)

      expect(tempFiles(cache.dir)).toEqual([])
      const versions = new Map<string, string>()
      for (const file of entryFiles(cache.dir)) {
        const check = checkEntryFile(file)
        expect(check.ok, `${file}: ${check.ok ? '' : check.reason}`).toBe(true)
        if (check.ok && check.key.includes('/blog/s')) versions.set(check.key.replace(/^.*\/blog\//, ''), /version (\d+) of/.exec(check.body.toString())?.[1] ?? '?')
      }
      // Each regeneration that was running finished and was stored before the process ended.
      expect(Object.fromEntries([...ids, `s${BURST}`].map((id) => [id, versions.get(id)]))).toEqual(Object.fromEntries([...ids, `s${BURST}`].map((id) => [id, '1'])))
    } finally {
      cache.remove()
    }
  })

  it('gives up on a render that never ends once closeTimeoutMs has passed, and still exits 0', async () => {
    const cache = tempCacheDir()
    try {
      const child = await startChild({ CACHE_DIR: cache.dir, CLOSE_TIMEOUT_MS: '1000' })
      await child.post('/__test/db', { fail: 'hang' })
      const hanging = fetch(`${child.url}/blog/s0`).catch(() => 'connection closed')
      await expect.poll(async () => ((await (await fetch(`${child.url}/__test/renders`)).json()) as Record<string, number>)['/blog/s0']).toBe(1)
      const sent = performance.now()
      child.process.kill('SIGTERM')
      const { code, atMs } = await child.exited
      const tookMs = Math.round(atMs - sent)
      figure(`graceful stop: a render that never ends, closeTimeoutMs 1000: exit ${code} after ${tookMs} ms`)
      expect(code).toBe(0)
      expect(tookMs).toBeGreaterThanOrEqual(1_000)
      expect(tookMs).toBeLessThan(1_000 + MARGIN_MS)
      expect(child.stderr).toMatch(/closing: 1 render or write still running after closeTimeoutMs \(1000 ms\), given up on/)
      expect(await hanging).toBe('connection closed')
      expect(tempFiles(cache.dir)).toEqual([])
    } finally {
      cache.remove()
    }
  })

  it('ends at once, by the signal, on a second signal while renders still run', async () => {
    const cache = tempCacheDir()
    try {
      const child = await startChild({ CACHE_DIR: cache.dir, CLOSE_TIMEOUT_MS: '60000' })
      await child.post('/__test/db', { fail: 'hang' })
      void fetch(`${child.url}/blog/s0`).catch(() => {})
      await expect.poll(async () => ((await (await fetch(`${child.url}/__test/renders`)).json()) as Record<string, number>)['/blog/s0']).toBe(1)
      child.process.kill('SIGTERM')
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(child.process.exitCode).toBe(null)
      const sent = performance.now()
      child.process.kill('SIGINT')
      const { code, signal, atMs } = await child.exited
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' })
      expect(atMs - sent).toBeLessThan(MARGIN_MS)
    } finally {
      cache.remove()
    }
  })

  it('answers 503 with Retry-After and no-store to a request that needs a render once isr.close() was called, and still serves a stale page without regenerating it', async () => {
    const db = resetDb()
    const cache = tempCacheDir()
    let clock = afterBuild(BASIC_DIST)
    const server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: () => clock, mode: 'fast-path' })
    try {
      expect((await server.get('/blog/1')).status).toBe(200)
      clock += 61_000
      await server.isr.close()
      const renders = db.renders['/blog/1']

      const stale = await server.get('/blog/1')
      expect(stale.status).toBe(200)
      expect(stale.headers.get('x-isr-cache')).toBe('STALE')
      await stale.arrayBuffer()

      const miss = await server.get('/blog/3')
      expect(miss.status).toBe(503)
      expect(miss.headers.get('retry-after')).toBe('1')
      expect(miss.headers.get('cache-control')).toContain('no-store')
      expect(await miss.text()).toBe('Service Unavailable')
      expect(db.renders['/blog/3']).toBeUndefined()
      // Nothing started in the background either: the stale page stays as it was.
      expect(db.renders['/blog/1']).toBe(renders)
      expect(server.isr.close()).toBeInstanceOf(Promise)
      await server.isr.close()
    } finally {
      await server.close()
      cache.remove()
    }
  })

  it('abandons a write still running when the file-system handler is released: the old entry stays whole and no temp file is left', async () => {
    const cache = tempCacheDir()
    try {
      const handler = await createFileSystemCacheHandler({ dir: cache.dir })
      await handler.set('page', makeEntry({ value: Buffer.from('old page') }))
      const writing = handler.set('page', makeEntry({ value: Buffer.alloc(64 * 1024 * 1024, 'n') }))
      await handler.dispose()
      expect(tempFiles(cache.dir)).toEqual([])
      await expect(writing).rejects.toThrow(/the cache was closed during this write/)
      expect(tempFiles(cache.dir)).toEqual([])
      const reopened = await createFileSystemCacheHandler({ dir: cache.dir })
      expect((await reopened.get('page'))?.value.toString()).toBe('old page')
      await reopened.dispose()
    } finally {
      cache.remove()
    }
  })

  it('checks closeTimeoutMs and cacheReadTimeoutMs once, in the factory, with a TypeError that names the unit', async () => {
    await expect(startServer({ distDir: BASIC_DIST, closeTimeoutMs: -1 })).rejects.toThrow(new TypeError('[vite-isr] createISRHandler: closeTimeoutMs must be a number of milliseconds >= 0 (got -1)'))
    await expect(startServer({ distDir: BASIC_DIST, closeTimeoutMs: '10s' as unknown as number })).rejects.toThrow(TypeError)
    await expect(startServer({ distDir: BASIC_DIST, cacheReadTimeoutMs: 0 })).rejects.toThrow(new TypeError('[vite-isr] createISRHandler: cacheReadTimeoutMs must be a positive number of milliseconds (got 0)'))
    await expect(startServer({ distDir: BASIC_DIST, cacheReadTimeoutMs: Infinity })).rejects.toThrow(TypeError)
  })

  it('stopOnSignals checks its arguments with a TypeError that says what to pass, and the function it returns removes its listeners', async () => {
    const server = await startServer({ distDir: BASIC_DIST })
    try {
      const httpServer = createServer()
      expect(() => stopOnSignals(undefined as unknown as typeof httpServer, server.isr)).toThrow(new TypeError('[vite-isr] stopOnSignals(server, isr): server must be the node:http (or https) server that listens, e.g. http.createServer(isr.wrap(app)).listen(3000)'))
      expect(() => stopOnSignals(httpServer, {} as typeof server.isr)).toThrow(new TypeError('[vite-isr] stopOnSignals(server, isr): isr must be the handler createISRHandler() returned'))
      expect(() => stopOnSignals(httpServer, server.isr, { signals: [] })).toThrow(/\[vite-isr\] stopOnSignals: signals must be a non-empty array of signal names/)
      expect(() => stopOnSignals(httpServer, server.isr, { signals: ['TERM' as NodeJS.Signals] })).toThrow(TypeError)
      expect(() => stopOnSignals(httpServer, server.isr, { exit: 'no' as unknown as boolean })).toThrow(new TypeError('[vite-isr] stopOnSignals: exit must be true or false (got no)'))
      const before = process.listenerCount('SIGTERM')
      const remove = stopOnSignals(httpServer, server.isr, { signals: ['SIGTERM'] })
      expect(process.listenerCount('SIGTERM')).toBe(before + 1)
      remove()
      expect(process.listenerCount('SIGTERM')).toBe(before)
    } finally {
      await server.close()
    }
  })

  describe('with the Redis handler', () => {
    let redis: RedisServer
    let admin: Redis
    beforeAll(async () => {
      redis = await startRedis()
      admin = new Redis(redis.url)
    })
    afterAll(async () => {
      admin?.disconnect()
      await redis?.stop()
    })

    it('closes its Redis connections and timers: the process ends by itself after isr.close(), and CLIENT LIST shows none of its connections', async () => {
      const cache = tempCacheDir()
      try {
        const name = `stop-test-${process.pid}`
        const child = await startChild({ CACHE_DIR: cache.dir, REDIS_URL: `${redis.url}/?connectionName=${name}`, CLOSE_TIMEOUT_MS: '10000', EXIT: 'natural' })
        const ours = async () => ((await admin.call('CLIENT', 'LIST')) as string).split('\n').filter((line) => line.includes(`name=${name}`)).length
        await startBurst(child)
        const before = await ours()
        expect(before).toBeGreaterThanOrEqual(2)
        const sent = performance.now()
        child.process.kill('SIGTERM')
        const { code, signal, atMs } = await child.exited
        const after = await ours()
        figure(`graceful stop with Redis: ${before} connections before, ${after} after; the process ended by itself ${Math.round(atMs - sent)} ms after SIGTERM`)
        expect(child.stdout).toMatch(/closed \d+/)
        expect({ code, signal }).toEqual({ code: 0, signal: null })
        expect(atMs - sent).toBeLessThan(10_000 + MARGIN_MS)
        expect(after).toBe(0)
        // The burst's regenerations were written to Redis before the connections closed.
        const stored = await admin.keys(`stop-${child.process.pid}:*`)
        expect(stored.length).toBeGreaterThan(0)
      } finally {
        cache.remove()
      }
    })
  })
})
