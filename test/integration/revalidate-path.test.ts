import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { revalidatePath } from 'vite-isr/runtime'
import { createClock, type TestClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir, type FixtureDb } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'

describe('revalidatePath', () => {
  let server: TestServer
  let clock: TestClock
  let db: FixtureDb
  let cache: ReturnType<typeof tempCacheDir>

  beforeEach(async () => {
    db = resetDb()
    clock = createClock()
    cache = tempCacheDir()
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: clock.now })
  })
  afterEach(async () => {
    await server.close()
    cache.remove()
  })

  it('refreshes one page from a route handler and leaves the others cached', async () => {
    db.posts['1'].title = 'Edited first'
    db.posts['2'].title = 'Edited second'
    clock.advance(1)
    const res = await server.get('/api/revalidate?path=/blog/1', { method: 'POST' })
    expect(await res.json()).toEqual({ revalidated: true, path: '/blog/1' })
    clock.advance(1)
    const one = await server.get('/blog/1')
    expect(one.headers.get('x-isr-cache')).toBe('MISS')
    expect(await one.text()).toContain('Edited first')
    const two = await server.get('/blog/2')
    expect(two.headers.get('x-isr-cache')).toBe('HIT')
    expect(await two.text()).toContain('<h1>Second post</h1>')
    expect((await server.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('works when called from server code outside any request', async () => {
    db.posts['2'].title = 'Changed by a script'
    clock.advance(1)
    await revalidatePath('/blog/2/')
    clock.advance(1)
    expect(await (await server.get('/blog/2')).text()).toContain('Changed by a script')
  })

  it('regenerates twice when revalidated twice', async () => {
    for (const title of ['Once', 'Twice']) {
      db.posts['1'].title = title
      clock.advance(1)
      await revalidatePath('/blog/1')
      clock.advance(1)
      expect(await (await server.get('/blog/1')).text()).toContain(`<h1>${title}</h1>`)
    }
    expect(db.renders['/blog/1']).toBe(2)
  })

  it('returns normally for a path that was never cached, and never admits an unlisted path of a dynamicParams = false route', async () => {
    await expect(revalidatePath('/never/cached')).resolves.toBeUndefined()
    clock.advance(1)
    await revalidatePath('/fixed/b', { regenerate: true })
    expect((await server.get('/fixed/b')).status).toBe(404)
  })

  it('with { regenerate: true } stores the new page before resolving, so the next reader gets a HIT', async () => {
    db.posts['2'].title = 'Eagerly regenerated'
    clock.advance(1)
    await revalidatePath('/blog/2', { regenerate: true })
    expect(db.renders['/blog/2']).toBe(1)
    const res = await server.get('/blog/2')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(await res.text()).toContain('Eagerly regenerated')
  })

  it('rejects invalid arguments with a TypeError that says what is wrong', async () => {
    await expect(revalidatePath(42 as unknown as string)).rejects.toThrow(new TypeError('[vite-isr] revalidatePath: path must be a string (got number)'))
    await expect(revalidatePath('blog/1')).rejects.toThrow(/must start with "\/"/)
    await expect(revalidatePath('/' + 'a'.repeat(1024))).rejects.toThrow(/at most 1024 characters/)
    await expect(revalidatePath('/blog/1', 'everything' as never)).rejects.toThrow(/type must be 'page' or 'layout'/)
  })
})
