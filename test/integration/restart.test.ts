import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock } from '../helpers/clock.js'
import { REPO } from '../helpers/build.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'

/** A copy of the built fixture inside the repo, so its server bundle still resolves react and vite-isr. */
function copyDist(): string {
  const parent = join(REPO, 'test/.tmp')
  mkdirSync(parent, { recursive: true })
  const dist = mkdtempSync(join(parent, 'dist-'))
  cpSync(BASIC_DIST, dist, { recursive: true })
  return dist
}
import { startServer, type TestServer } from '../helpers/server.js'

describe('restarts and deploys', () => {
  const cleanup: (() => unknown)[] = []
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn()
  })

  async function serve(options: Parameters<typeof startServer>[0]): Promise<TestServer> {
    const server = await startServer(options)
    cleanup.push(() => server.close())
    return server
  }

  it('keeps a page generated at run time as a HIT with the same Cache-Control after a restart', async () => {
    const db = resetDb()
    const cache = tempCacheDir()
    cleanup.push(cache.remove)
    const clock = createClock(afterBuild(BASIC_DIST))
    const first = await serve({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
    const miss = await first.get('/empty-params/kept')
    expect(miss.headers.get('x-isr-cache')).toBe('MISS')
    await first.close()

    clock.advance(10_000)
    const second = await serve({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
    const hit = await second.get('/empty-params/kept')
    expect(hit.headers.get('x-isr-cache')).toBe('HIT')
    expect(hit.headers.get('cache-control')).toBe(miss.headers.get('cache-control'))
    expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'))
    // its own 30 s window survived: 25 s after it was made it goes stale, not before
    clock.advance(25_000)
    expect((await second.get('/empty-params/kept')).headers.get('x-isr-cache')).toBe('STALE')
    expect(db.renders).toEqual({})
  })

  it('keeps a page cached until revalidated for years with expireTime: Infinity, and for a year and a day by default', async () => {
    const YEAR = 31_536_000_000
    for (const [expireTime, after, state] of [[Infinity, 3 * YEAR, 'HIT'], [undefined, YEAR + 2 * 86_400_000, 'MISS']] as const) {
      resetDb()
      const cache = tempCacheDir()
      cleanup.push(cache.remove)
      const clock = createClock(afterBuild(BASIC_DIST))
      const server = await serve({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now, expireTime })
      // docs/[...slug]: revalidate = false, rendered on first request with the server's expireTime
      expect((await server.get('/docs/kept/forever')).headers.get('x-isr-cache')).toBe('MISS')
      clock.advance(after)
      expect((await server.get('/docs/kept/forever')).headers.get('x-isr-cache'), `expireTime ${expireTime}`).toBe(state)
    }
  })

  it('keeps a revalidation across a restart', async () => {
    resetDb()
    const cache = tempCacheDir()
    cleanup.push(cache.remove)
    const clock = createClock(afterBuild(BASIC_DIST))
    const first = await serve({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
    await first.get('/blog/1')
    clock.advance(1)
    await first.get('/api/revalidate?path=/blog/1', { method: 'POST' })
    await first.close()
    clock.advance(1)
    const second = await serve({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
    expect((await second.get('/blog/1')).headers.get('x-isr-cache')).toBe('MISS')
  })

  it('never serves an entry written by another build', async () => {
    resetDb()
    const cache = tempCacheDir()
    cleanup.push(cache.remove)
    const dist = copyDist()
    cleanup.push(() => rmSync(dist, { recursive: true, force: true }))
    const clock = createClock(afterBuild(BASIC_DIST))
    const old = await serve({ distDir: dist, cacheDir: cache.dir, now: clock.now })
    expect((await old.get('/blog/3')).headers.get('x-isr-cache')).toBe('MISS')
    await old.close()

    // a new deploy: same cache folder, a build with another id
    const manifestFile = join(dist, 'prerender-manifest.json')
    const { readFileSync, writeFileSync } = await import('node:fs')
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
    manifest.buildId = 'another-build-0001'
    writeFileSync(manifestFile, JSON.stringify(manifest))
    const next = await serve({ distDir: dist, cacheDir: cache.dir, now: clock.now })
    const res = await next.get('/blog/3')
    expect(res.headers.get('x-isr-cache')).toBe('MISS')
  })

  it('serves from the build folder itself with the default cacheDir', async () => {
    resetDb()
    const dist = copyDist()
    cleanup.push(() => rmSync(dist, { recursive: true, force: true }))
    const server = await serve({ distDir: dist })
    expect((await server.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
    expect((await server.get('/blog/3')).headers.get('x-isr-cache')).toBe('MISS')
    await server.close()
    const again = await serve({ distDir: dist })
    expect((await again.get('/blog/3')).headers.get('x-isr-cache')).toBe('HIT')
  })
})
