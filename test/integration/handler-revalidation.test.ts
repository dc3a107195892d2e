import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { BASIC_DIST, resetDb, tempCacheDir, type FixtureDb } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'

/** Two handlers in one process, each with its own cache folder, over the same build and data. */
describe("a handler's own revalidatePath and revalidateTag", () => {
  let db: FixtureDb
  let clock: TestClock
  let a: TestServer
  let b: TestServer
  const caches: ReturnType<typeof tempCacheDir>[] = []
  const start = async (distDir: string) => {
    clock = createClock(afterBuild(distDir))
    caches.push(tempCacheDir(), tempCacheDir())
    a = await startServer({ distDir, cacheDir: caches[0].dir, now: clock.now })
    b = await startServer({ distDir, cacheDir: caches[1].dir, now: clock.now })
  }
  beforeEach(async () => {
    db = resetDb()
    resetDataSource()
  })
  afterEach(async () => {
    await a.close()
    await b.close()
    for (const cache of caches.splice(0)) cache.remove()
  })

  const state = async (server: TestServer, path: string) => (await server.get(path)).headers.get('x-isr-cache')

  it('isr.revalidatePath invalidates the page in that handler only; the module-level function reaches both', async () => {
    await start(BASIC_DIST)
    expect([await state(a, '/blog/1'), await state(b, '/blog/1')]).toEqual(['HIT', 'HIT'])
    db.posts['1'].title = 'Edited'
    clock.advance(1)
    await a.isr.revalidatePath('/blog/1/')
    clock.advance(1)
    expect([await state(a, '/blog/1'), await state(b, '/blog/1')]).toEqual(['MISS', 'HIT'])
    clock.advance(1)
    await revalidatePath('/blog/1')
    clock.advance(1)
    expect([await state(a, '/blog/1'), await state(b, '/blog/1')]).toEqual(['MISS', 'MISS'])
  })

  it('isr.revalidatePath with { regenerate: true } stores the new page in that handler before resolving', async () => {
    await start(BASIC_DIST)
    db.posts['2'].title = 'Eagerly regenerated'
    clock.advance(1)
    await b.isr.revalidatePath('/blog/2', { regenerate: true })
    const res = await b.get('/blog/2')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(await res.text()).toContain('Eagerly regenerated')
    expect(await state(a, '/blog/2')).toBe('HIT')
  })

  it('isr.revalidateTag invalidates the tagged pages in that handler only; the module-level function reaches both', async () => {
    await start(DATA_DIST)
    expect([await state(a, '/posts/1'), await state(b, '/posts/1')]).toEqual(['HIT', 'HIT'])
    clock.advance(1)
    await b.isr.revalidateTag('posts')
    clock.advance(1)
    expect([await state(a, '/posts/1'), await state(b, '/posts/1')]).toEqual(['HIT', 'MISS'])
    clock.advance(1)
    await revalidateTag('posts')
    clock.advance(1)
    expect([await state(a, '/posts/1'), await state(b, '/posts/1')]).toEqual(['MISS', 'MISS'])
  })

  it('checks its arguments as the module-level functions do, rejecting with a TypeError', async () => {
    await start(BASIC_DIST)
    await expect(a.isr.revalidatePath('blog/1')).rejects.toThrow(TypeError)
    await expect(a.isr.revalidatePath('/blog/1?x')).rejects.toThrow('must not contain "?" or "#"')
    await expect(a.isr.revalidateTag('')).rejects.toThrow(TypeError)
  })
})
