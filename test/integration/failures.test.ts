import { describe, expect, it } from 'vitest'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, useFixtureServer } from '../helpers/server.js'

describe('failing renders', () => {
  // a back-off the tests step over with the clock (the render timeout is the default: a
  // slow first render on a busy machine must not read as a failure)
  const t = useFixtureServer({ retryBackoff: { min: 5_000, max: 60_000 } })

  it('keeps serving the last good page with 200 when regeneration throws, backs off, and recovers', async () => {
    t.db.fail = 'throw'
    t.clock.advance(61_000)
    const first = await t.server.get('/blog/1')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('STALE')
    expect(await first.text()).toContain('First post')
    await expect.poll(() => t.server.logs.some((l) => l.includes('regenerating /blog/1 failed'))).toBe(true)
    expect(t.server.logs.join('\n')).toContain('database unavailable while loading /blog/1')

    // within the back-off: requests are served stale and do not retry
    for (let i = 0; i < 5; i++) expect((await t.server.get('/blog/1')).status).toBe(200)
    expect(t.db.renders['/blog/1']).toBe(1)

    // past the back-off, with the fault gone: one retry, then the new page
    t.db.fail = false
    t.db.posts['1'].title = 'Recovered post'
    t.clock.advance(5_001)
    expect((await t.server.get('/blog/1')).headers.get('x-isr-cache')).toBe('STALE')
    await expect.poll(async () => (await (await t.server.get('/blog/1')).text()).includes('Recovered post')).toBe(true)
    expect(t.db.renders['/blog/1']).toBe(2)
  })

  it('renders the error page with 500 when a first render fails, and caches nothing', async () => {
    t.db.fail = 'throw'
    const res = await t.server.get('/blog/3')
    expect(res.status).toBe(500)
    expect(res.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
    const html = await res.text()
    expect(html).toContain('Something went wrong')
    // the error's message stays on the server
    expect(html).not.toContain('database unavailable')
    t.db.fail = false
    const next = await t.server.get('/blog/3')
    expect(next.status).toBe(200)
    expect(next.headers.get('x-isr-cache')).toBe('MISS')
    expect(t.db.renders['/blog/3']).toBe(2)
  })

  it('serves the old copy when a page expired by revalidatePath fails to render (stale-if-error)', async () => {
    t.db.fail = 'throw'
    t.clock.advance(1)
    await t.server.get('/api/revalidate?path=/blog/1', { method: 'POST' })
    t.clock.advance(1)
    const res = await t.server.get('/blog/1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-isr-cache')).toBe('STALE')
    expect(await res.text()).toContain('First post')
  })
})

describe('a hung render', () => {
  // the only render here is the hung one: a short timeout cannot cut a good render short
  const t = useFixtureServer({ renderTimeout: 200 })

  it('ends a hung regeneration after the render timeout and keeps serving the stale page', async () => {
    t.db.fail = 'hang'
    t.clock.advance(61_000)
    expect((await t.server.get('/blog/2')).status).toBe(200)
    await expect.poll(() => t.server.logs.some((l) => l.includes('timed out after 200ms'))).toBe(true)
    const res = await t.server.get('/blog/2')
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Second post')
  })
})

describe('timeouts longer than a Node timer can wait', () => {
  it('are refused in the factory with a TypeError naming the option and the 2147483647 ms bound, which itself is accepted', async () => {
    for (const name of ['renderTimeout', 'closeTimeoutMs', 'cacheReadTimeoutMs'] as const) {
      await expect(startServer({ distDir: BASIC_DIST, [name]: 2 ** 31 })).rejects.toThrow(
        new TypeError(`[vite-isr] createISRHandler: ${name} must be at most 2147483647 milliseconds (about 24.8 days), the longest timer Node keeps; a longer one would fire at once (got 2147483648)`),
      )
    }
    const cache = tempCacheDir()
    const server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, renderTimeout: 2 ** 31 - 1, closeTimeoutMs: 2 ** 31 - 1, cacheReadTimeoutMs: 2 ** 31 - 1 })
    try {
      resetDb()
      const res = await server.get('/blog/3')
      expect(res.status).toBe(200)
      expect(res.headers.get('x-isr-cache')).toBe('MISS')
      expect(await res.text()).toContain('Only rendered on demand.')
      expect(server.logs.join('\n')).not.toContain('timed out')
    } finally {
      await server.close()
      cache.remove()
    }
  })
})
