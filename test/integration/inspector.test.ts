import { afterEach, describe, expect, it } from 'vitest'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, useFixtureServer, type TestServer } from '../helpers/server.js'

const TOKEN = 'inspector-token-0123456789'

const auth = { 'x-isr-inspector-token': TOKEN }

describe('the cache inspector at /__isr', () => {
  const t = useFixtureServer({ inspector: { token: TOKEN } })

  it('lists the cached pages with state, window, tags and size, and the counters', async () => {
    await t.server.get('/blog/1')
    await t.server.get('/blog/1')
    await t.server.get('/blog/3')
    t.clock.advance(61_000)
    await t.server.get('/blog/2')
    const data = await (await t.server.get('/__isr/data.json', { headers: auth })).json()
    expect(data.totals).toMatchObject({ HIT: 2, MISS: 1, STALE: 1 })
    const byPath = Object.fromEntries(data.entries.map((e: { path: string }) => [e.path, e]))
    expect(byPath['/blog/1']).toMatchObject({ state: 'stale', status: 200, revalidate: 60 })
    expect(byPath['/blog/3'].size).toBeGreaterThan(500)
    expect(['regenerating', 'fresh']).toContain(byPath['/blog/2'].state)
    const html = await (await t.server.get('/__isr', { headers: auth })).text()
    expect(html).toContain('<table id="entries">')
    expect(html).toContain('<a href="/blog/3">/blog/3</a>')
    expect(html).toMatch(/hit <b id="hit">2<\/b>/)
    expect(html).toContain('<svg id="chart"')
  })

  it('revalidates a path or a tag from its forms', async () => {
    await t.server.get('/blog/3')
    t.clock.advance(1)
    const res = await t.server.get('/__isr/revalidate', {
      method: 'POST',
      headers: { ...auth, origin: t.server.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'path=%2Fblog%2F3',
    })
    // post/redirect/get: a reload of the result does not revalidate again
    expect(res.status).toBe(303)
    const location = res.headers.get('location')!
    expect(location).toBe('/__isr?done=revalidatePath(%2Fblog%2F3)%20done')
    expect(await (await t.server.get(location, { headers: auth })).text()).toContain('<p class="msg">revalidatePath(/blog/3) done</p>')
    t.clock.advance(1)
    expect((await t.server.get('/blog/3')).headers.get('x-isr-cache')).toBe('MISS')
  })

  it('refuses a form posted from another origin', async () => {
    const res = await t.server.get('/__isr/revalidate', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'tag=posts',
    })
    expect(res.status).toBe(403)
  })
})

describe('the cache inspector, guarded', () => {
  let server: TestServer | undefined
  const cache = tempCacheDir()
  const env = process.env.NODE_ENV
  afterEach(async () => {
    await server?.close()
    server = undefined
    process.env.NODE_ENV = env
  })

  it('is off by default', async () => {
    resetDb()
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir })
    expect((await server.get('/__isr')).status).toBe(404)
  })

  it('requires its token, then remembers a session in a cookie', async () => {
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, inspector: { token: TOKEN } })
    expect((await server.get('/__isr')).status).toBe(401)
    expect((await server.get('/__isr?token=wrong-token-wrong-token')).status).toBe(401)
    const ok = await server.get(`/__isr?token=${TOKEN}`)
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/__isr')
    const cookie = ok.headers.get('set-cookie')!
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/)
    expect(cookie).not.toContain(TOKEN)
    expect((await server.get('/__isr', { headers: { cookie: cookie.split(';')[0] } })).status).toBe(200)
    expect((await server.get('/__isr/data.json', { headers: auth })).status).toBe(200)
  })

  it('is not served without a token, in production or not', async () => {
    for (const nodeEnv of ['production', 'development']) {
      process.env.NODE_ENV = nodeEnv
      server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, inspector: true })
      expect((await server.get('/__isr')).status).toBe(404)
      expect(server.logs.join('\n')).toContain('the cache inspector stays off')
      await server.close()
      server = undefined
    }
  })

  it('rejects a short token', async () => {
    await expect(startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, inspector: { token: 'short' } })).rejects.toThrow(/at least 16 characters/)
  })
})
