/**
 * `vite` (dev) on a scratch copy of the handlers fixture: metadata routes answer their files
 * and cached route handlers run on every request, as pages do in dev (nothing is cached).
 */
import { rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createServer, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFixture } from '../helpers/build.js'

let server: ViteDevServer
let base: string
let dir: string

const get = (path: string) => fetch(base + path, { redirect: 'manual', signal: AbortSignal.timeout(15_000) })

beforeAll(async () => {
  dir = copyFixture('handlers', 'dev-handlers')
  server = await createServer({ root: dir, configFile: join(dir, 'vite.config.ts'), server: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' })
  await server.listen()
  base = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`
})

afterAll(async () => {
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('route handlers and metadata routes in dev', () => {
  it('answers /sitemap.xml and /robots.txt from app/sitemap.ts and app/robots.ts', async () => {
    const sitemap = await get('/sitemap.xml')
    expect(sitemap.status).toBe(200)
    expect(sitemap.headers.get('content-type')).toBe('application/xml')
    expect(await sitemap.text()).toContain('<loc>https://example.com/posts/2?a=1&amp;b=&quot;2&quot;</loc>')
    const robots = await get('/robots.txt')
    expect(robots.headers.get('content-type')).toBe('text/plain')
    expect(await robots.text()).toContain('Disallow: /api/\n')
  })

  it('runs a cached route handler on every request, caching nothing', async () => {
    const a = await get('/api/counter')
    const b = await get('/api/counter')
    // Dev answers a cached GET as it answers pages: through the pipeline, rendered anew (MISS), kept by no one.
    expect([a.headers.get('x-isr-cache'), b.headers.get('x-isr-cache')]).toEqual(['MISS', 'MISS'])
    expect(b.headers.get('cache-control')).toMatch(/no-store/)
    expect((await b.json()).render).toBe((await a.json()).render + 1)
  })
})
