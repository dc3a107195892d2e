import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { copyFixture, viteBuild } from '../helpers/build.js'
import { afterBuild, createClock, type TestClock } from '../helpers/clock.js'
import { BASIC_DIST, tempCacheDir } from '../helpers/fixture-db.js'
import { BROWSER, closeGate, expectFullPage, GOOGLEBOT, LOADING, openGate, renders, resetLateRoute, SHELL_BOUND_MS } from '../helpers/late-route.js'
import { payloadPath } from '../helpers/payload.js'
import { startServer, type TestServer } from '../helpers/server.js'

let dist: string
let buildOutput: string
beforeAll(async () => {
  // A copy of its own: the browser tests build the fixture in its own folder at the same time.
  const dir = copyFixture('navigation', 'fallback')
  const result = await viteBuild(dir)
  if (result.code !== 0) throw new Error(`vite build failed:\n${result.output}`)
  dist = join(dir, 'dist')
  buildOutput = result.output
}, 120_000)

for (const mode of ['middleware', 'fast-path'] as const) {
  describe(`fallback = 'shell' (${mode})`, () => {
    let server: TestServer
    let clock: TestClock
    let cache: ReturnType<typeof tempCacheDir>
    const get = (path: string, userAgent = BROWSER) => server.get(path, { headers: { 'user-agent': userAgent } })
    /** The shell comes at once: a request that waits for the held render gives up after this bound. */
    const getShell = (path: string) => server.get(path, { headers: { 'user-agent': BROWSER }, signal: AbortSignal.timeout(SHELL_BOUND_MS) })
    const payload = (path: string) => get(payloadPath(server.isr.buildId, path))

    beforeEach(async () => {
      resetLateRoute()
      cache = tempCacheDir()
      clock = createClock(afterBuild(dist))
      server = await startServer({ distDir: dist, cacheDir: cache.dir, now: clock.now, mode })
    })
    afterEach(async () => {
      openGate()
      await server.close()
      cache.remove()
    })

    it('answers a browser the loading shell at once for a path never generated, while the one render runs', async () => {
      const open = closeGate()
      const shell = await getShell('/late/a')
      expect(shell.status).toBe(200)
      expect(shell.headers.get('x-isr-cache')).toBe('MISS')
      expect(shell.headers.get('cache-control')).toMatch(/\bprivate\b/)
      expect(shell.headers.get('cache-control')).toMatch(/\bno-store\b/)
      expect(shell.headers.get('etag')).toBeNull()
      const html = await shell.text()
      expect(html).toContain(LOADING)
      expect(html).toContain('id="root-count"')
      expect(html).not.toContain('The content of a')
      expect(html).toMatch(/"shell":true/)
      // The render started with the shell and is still held open: the shell did not wait for it.
      await expect.poll(() => renders('a')).toBe(1)

      const data = payload('/late/a')
      open()
      const body = await data
      expect(body.status).toBe(200)
      expect((await body.json()).data).toEqual({ id: 'a', title: 'Late post a' })

      const page = await get('/late/a')
      expect(page.headers.get('x-isr-cache')).toBe('HIT')
      const full = await page.text()
      expect(full).toContain('The content of a')
      expect(full).not.toContain(LOADING)
      expect(renders('a')).toBe(1)
    })

    it('gives a crawler the full page, blocking, never the shell', async () => {
      const page = await get('/late/b', GOOGLEBOT)
      expect(page.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
      await expectFullPage(page, 'b')
    })

    it('renders a path once when a browser, a crawler and payload requests arrive together, then serves it as a HIT', async () => {
      const open = closeGate()
      const shell = await getShell('/late/c')
      const waiting = [get('/late/c', GOOGLEBOT), payload('/late/c'), payload('/late/c'), get('/late/c', 'Mozilla/5.0 (compatible; bingbot/2.0)')]
      // Another browser while the render is still running gets a shell too: the page is not generated yet.
      const second = await getShell('/late/c')
      expect(await second.text()).toContain(LOADING)
      expect(await shell.text()).toContain(LOADING)
      open()
      const answers = await Promise.all(waiting)
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(await answers[0].text()).toContain('The content of c')
      expect((await answers[1].json()).data.id).toBe('c')
      expect(renders('c')).toBe(1)
      for (const userAgent of [BROWSER, GOOGLEBOT]) {
        const later = await get('/late/c', userAgent)
        expect(later.headers.get('x-isr-cache')).toBe('HIT')
        expect(await later.text()).toContain('The content of c')
      }
      expect(renders('c')).toBe(1)
    })

    it('serves an entry that exists as always: a prerendered page fresh, then stale, never a shell', async () => {
      const fresh = await get('/late/ready')
      expect(fresh.headers.get('x-isr-cache')).toBe('HIT')
      expect(await fresh.text()).toContain('The content of ready')
      clock.advance(61_000)
      const open = closeGate()
      const stale = await server.get('/late/ready', { headers: { 'user-agent': BROWSER }, signal: AbortSignal.timeout(SHELL_BOUND_MS) })
      expect(stale.headers.get('x-isr-cache')).toBe('STALE')
      const html = await stale.text()
      expect(html).toContain('The content of ready')
      expect(html).not.toContain(LOADING)
      open()
    })

    it("answers a browser the page's error after its render failed, not another shell", async () => {
      const shell = await get('/late/broken')
      expect(await shell.text()).toContain(LOADING)
      const data = await payload('/late/broken')
      expect(data.status).toBe(500)
      // The shell's full load after its payload failed: the error page, so no shell loop.
      const page = await get('/late/broken')
      expect(page.status).toBe(500)
      expect(await page.text()).not.toContain(LOADING)
    })

    it("leaves 'blocking' routes as they were: a browser waits for a new page", async () => {
      const page = await get('/posts/9')
      expect(page.headers.get('x-isr-cache')).toBe('MISS')
      const html = await page.text()
      expect(html).toContain('Post 9')
      expect(html).not.toContain(LOADING)
    })
  })
}

describe('fallback in the build output', () => {
  it('writes each dynamic route\'s fallback into prerender-manifest.json as Next.js does', () => {
    const manifest = JSON.parse(readFileSync(join(dist, 'prerender-manifest.json'), 'utf8'))
    expect(manifest.dynamicRoutes['/late/[id]'].fallback).toBe('/late/[id].html')
    expect(manifest.dynamicRoutes['/posts/[id]'].fallback).toBeNull()
    const basic = JSON.parse(readFileSync(join(BASIC_DIST, 'prerender-manifest.json'), 'utf8'))
    expect(basic.dynamicRoutes['/fixed/[slug]'].fallback).toBe(false)
    expect(basic.dynamicRoutes['/blog/[id]'].fallback).toBeNull()
  })

  it('shows a shell route in the route table, and blocking routes as before', () => {
    expect(buildOutput).toMatch(/^\/late\/\[id\]\s+ISR 60s \(fallback: shell\)\s+1 \(\/late\/ready\)/m)
    expect(buildOutput).toMatch(/^\/posts\/\[id\]\s+ISR 60s\s+2 \(/m)
  })

  function appWith(name: string, files: Record<string, string>): string {
    const dir = copyFixture('minimal', `fallback-errors/${name}`)
    for (const [file, code] of Object.entries(files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true })
      writeFileSync(join(dir, file), code)
    }
    return dir
  }

  it("fails the build for fallback = 'shell' without a loading.tsx, saying to add one", async () => {
    const dir = appWith('no-loading', { 'app/items/[id]/page.tsx': "export const fallback = 'shell'\nexport default function Item() { return <p>item</p> }\n" })
    const result = await viteBuild(dir)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain("app/items/[id]/page.tsx exports `fallback = 'shell'` but there is no loading.tsx")
    expect(result.output).toContain('Add app/items/[id]/loading.tsx')
  })

  it('fails the build for a fallback value other than blocking or shell', async () => {
    const dir = appWith('bad-value', { 'app/items/[id]/page.tsx': "export const fallback = true\nexport default function Item() { return <p>item</p> }\n" })
    const result = await viteBuild(dir)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain("app/items/[id]/page.tsx:1: `fallback` must be the string literal 'blocking' or 'shell' (found `true`)")
  })
})
