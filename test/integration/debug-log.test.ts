import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'

describe('the cache debug log', () => {
  let server: TestServer | undefined
  let cache: ReturnType<typeof tempCacheDir>
  let clock: TestClock
  const saved = { ...process.env }

  beforeEach(() => {
    resetDb()
    clock = createClock(afterBuild(BASIC_DIST))
    cache = tempCacheDir()
  })
  afterEach(async () => {
    await server?.close()
    cache.remove()
    process.env = { ...saved }
  })

  it.each(['ISR_DEBUG_CACHE', 'NEXT_PRIVATE_DEBUG_CACHE'])('prints one line per cache event with %s=1', async (variable) => {
    process.env[variable] = '1'
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
    await server.get('/blog/1')
    await server.get('/blog/3')
    clock.advance(61_000)
    await server.get('/blog/1')
    await expect.poll(() => server!.logs.some((l) => l.startsWith('[vite-isr] regenerate:done /blog/1'))).toBe(true)
    await server.get('/blog/2')
    clock.advance(1)
    await server.get('/api/revalidate?path=/blog/2', { method: 'POST' })
    const logs = server.logs.join('\n')
    expect(logs).toMatch(/^\[vite-isr\] hit \/blog\/1 age=\d+s revalidate=60$/m)
    expect(logs).toMatch(/^\[vite-isr\] miss \/blog\/3$/m)
    expect(logs).toMatch(/^\[vite-isr\] set \/blog\/3 status=200 revalidate=60s size=[\d.]+k?B$/m)
    expect(logs).toMatch(/^\[vite-isr\] stale \/blog\/1 age=\d+s revalidate=60$/m)
    expect(logs).toMatch(/^\[vite-isr\] regenerate:start \/blog\/1$/m)
    expect(logs).toMatch(/^\[vite-isr\] regenerate:done \/blog\/1 status=200 in=\d+ms$/m)
    expect(logs).toMatch(/^\[vite-isr\] revalidatePath \/blog\/2 mode=expire tags=1 entries=1$/m)
  })

  it('prints nothing but warnings and errors without it', async () => {
    delete process.env.ISR_DEBUG_CACHE
    delete process.env.NEXT_PRIVATE_DEBUG_CACHE
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
    await server.get('/blog/1')
    await server.get('/blog/3')
    expect(server.logs).toEqual([])
    resetDb().fail = 'throw'
    clock.advance(61_000)
    await server.get('/blog/2')
    await expect.poll(() => server!.logs.length).toBeGreaterThan(0)
    expect(server.logs[0]).toMatch(/^\[vite-isr\] error: regenerating \/blog\/2 failed/)
  })
})
