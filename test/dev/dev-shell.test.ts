/**
 * `fallback = 'shell'` in `vite` (dev), over HTTP against a real Vite dev server on a scratch
 * copy of the navigation fixture: a browser gets the loading shell, the payload request its
 * client makes joins the render the shell started (dev keeps nothing, so without that it
 * would render the page again), crawlers get the full page, and a failed render ends in the
 * page's error, not in another shell.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'
import { BROWSER, closeGate, expectFullPage, GOOGLEBOT, LOADING, openGate, renders, resetLateRoute, SHELL_BOUND_MS } from '../helpers/late-route.js'

const NO_STORE = 'private, no-cache, no-store, max-age=0, must-revalidate'

let dev: DevServer
const get = (path: string, userAgent = BROWSER) => dev.get(path, { headers: { 'user-agent': userAgent } })
const getShell = (path: string) => dev.get(path, { headers: { 'user-agent': BROWSER }, signal: AbortSignal.timeout(SHELL_BOUND_MS) })
const payload = (path: string) => get(`/_isr/data/development${path}.json`)

beforeAll(async () => {
  dev = await startDevServer({ as: 'dev-shell', fixture: 'navigation' })
})
afterAll(async () => {
  await dev?.close()
})
beforeEach(resetLateRoute)
afterEach(openGate)

describe("fallback = 'shell' in vite dev", () => {
  it('answers a browser the loading shell at once, not cached, while the one render of the page runs', async () => {
    closeGate()
    const shell = await getShell('/late/a')
    expect(shell.status).toBe(200)
    expect(shell.headers.get('x-isr-cache')).toBe('MISS')
    expect(shell.headers.get('cache-control')).toBe(NO_STORE)
    const html = await shell.text()
    expect(html).toContain(LOADING)
    expect(html).toContain('id="root-count"')
    expect(html).not.toContain('The content of a')
    expect(html).toMatch(/"shell":true/)
    // Vite's client and the app's client entry, so the shell hydrates and HMR runs on it
    expect(html).toContain('/@vite/client')
    expect(html).toContain('virtual:vite-isr/client-entry')
    await expect.poll(() => renders('a')).toBe(1)
  })

  it('answers the payload request that follows the shell from the render the shell started: one render per visit', async () => {
    const open = closeGate()
    expect(await (await getShell('/late/b')).text()).toContain(LOADING)
    await expect.poll(() => renders('b')).toBe(1)
    const data = payload('/late/b')
    open()
    const body = await data
    expect(body.status).toBe(200)
    expect(body.headers.get('cache-control')).toBe(NO_STORE)
    expect((await body.json()).data).toEqual({ id: 'b', title: 'Late post b' })
    expect(renders('b')).toBe(1)
  })

  it('lets the payload request join after the render has ended, and lets the render go once joined', async () => {
    expect(await (await getShell('/late/c')).text()).toContain(LOADING)
    // the render ran to its end without waiting (no gate), and no payload request has come
    await expect.poll(() => renders('c')).toBe(1)
    const first = await payload('/late/c')
    expect((await first.json()).data.id).toBe('c')
    expect(renders('c')).toBe(1)
    // taken: a later payload request renders anew, as every dev request does
    expect((await (await payload('/late/c')).json()).data.id).toBe('c')
    expect(renders('c')).toBe(2)
  })

  it('serves every new visit the shell again and renders once more (dev keeps nothing)', async () => {
    for (const visit of [1, 2]) {
      expect(await (await getShell('/late/d')).text()).toContain(LOADING)
      expect((await (await payload('/late/d')).json()).data.id).toBe('d')
      expect(renders('d')).toBe(visit)
    }
  })

  it('gives a crawler the full page, blocking, never the shell', async () => {
    await expectFullPage(await get('/late/e', GOOGLEBOT), 'e')
    expect(renders('e')).toBe(1)
  })

  it("answers the page's error after the shell's render failed, shown as other dev errors are, not another shell", async () => {
    expect(await (await getShell('/late/broken')).text()).toContain(LOADING)
    const data = await payload('/late/broken')
    expect(data.status).toBe(500)
    expect(await data.text()).toContain('the source of this post is down')
    // the full load the client falls back to: the error, so the browser does not loop on shells
    const page = await get('/late/broken')
    expect(page.status).toBe(500)
    const html = await page.text()
    expect(html).not.toContain(LOADING)
    expect(html).toContain('the source of this post is down')
    expect(renders('broken')).toBe(2)
  })

  it("renders the payload with the page's new code when the page was edited after its shell was served", async () => {
    const file = join(dev.dir, 'app/late/[id]/page.tsx')
    const source = readFileSync(file, 'utf8')
    const title = 'title: `Late post ${params.id}`'
    expect(source).toContain(title)
    const open = closeGate()
    expect(await (await getShell('/late/g')).text()).toContain(LOADING)
    // the shell's render runs the loader as it was
    await expect.poll(() => renders('g')).toBe(1)
    try {
      const edited = source.replace(title, 'title: `Edited post ${params.id}`')
      writeFileSync(file, edited)
      open()
      // the edit has reached the server's module graph (the gate holds every render until open)
      await dev.write(file, edited, async () => (await (await get('/late/probe', GOOGLEBOT)).text()).includes('Edited post probe'))
      expect((await (await payload('/late/g')).json()).data.title).toBe('Edited post g')
    } finally {
      open()
      await dev.write(file, source, async () => (await (await get('/late/probe', GOOGLEBOT)).text()).includes('Late post probe'))
    }
  })

  it('serves the shell again once the failing page is fixed on disk', async () => {
    const file = join(dev.dir, 'app/late/[id]/page.tsx')
    const source = readFileSync(file, 'utf8')
    const failing = "if (params.id === 'broken') throw new Error('the source of this post is down')"
    expect(source).toContain(failing)
    expect((await get('/late/broken', GOOGLEBOT)).status).toBe(500)
    try {
      await dev.write(file, source.replace(failing, ''), async () => (await get('/late/broken', GOOGLEBOT)).status === 200)
      const shell = await getShell('/late/broken')
      expect(await shell.text()).toContain(LOADING)
      expect((await (await payload('/late/broken')).json()).data).toEqual({ id: 'broken', title: 'Late post broken' })
    } finally {
      await dev.write(file, source, async () => (await get('/late/broken', GOOGLEBOT)).status === 500)
    }
  })
})
