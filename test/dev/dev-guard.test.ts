/**
 * `vite` (dev) must not hand the browser what only the server may read: server modules,
 * route handlers, configuration, databases, `.env`, or the raw source of a page (its
 * loader). A real Vite dev server on a scratch copy of the basic fixture, over HTTP.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { reachableFromNetwork } from '../../plugin/dev.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'

const SECRET = 'dev-secret-3b9f0c-never-served'
let dev: DevServer
let dir: string

const get = (path: string) => dev.get(path)

beforeAll(async () => {
  dev = await startDevServer({
    as: 'dev-guard',
    prepare(scratch) {
      writeFileSync(join(scratch, '.env'), `SECRET=${SECRET}\n`)
      writeFileSync(join(scratch, 'blog.db'), SECRET)
      writeFileSync(join(scratch, 'server/secret.ts'), `export const secret = '${SECRET}'\n`)
    },
  })
  dir = dev.dir
})

afterAll(async () => {
  await dev?.close()
})

describe('the dev server keeps server-only files from the browser', () => {
  it.each([
    '/server/secret.ts',
    '/server/secret.ts?raw',
    '/server/secret.ts?import&raw',
    '/server/db.ts',
    '/vite.config.ts?raw',
    '/package.json',
    '/app/api/revalidate/route.ts',
    '/app/api/revalidate/route.ts?raw',
    '/app/blog/[id]/page.tsx?raw',
    '/app/blog/%5Bid%5D/page.tsx?raw',
    '/blog.db',
    '/.env',
    '/.env?raw',
  ])('refuses %s with a plain 404', async (path) => {
    const res = await get(path)
    expect(res.status).toBe(404)
    const body = await res.text()
    expect(body).not.toContain(SECRET)
    expect(body).not.toContain(dir)
  })

  it('refuses a server module by its absolute /@fs/ path too', async () => {
    const res = await get(`/@fs${dir}/server/secret.ts?raw`)
    expect(res.status).toBe(404)
    expect(await res.text()).not.toContain(SECRET)
  })

  it('serves the client modules a rendered page imports, with the loader and its imports stripped, and still not the modules only loaders import', async () => {
    const html = await (await get('/blog/1')).text()
    const entry = /src="([^"]+client-entry[^"]*)"/.exec(html)?.[1]
    expect(entry).toBeDefined()
    expect((await get(entry!)).status).toBe(200)
    const page = await get('/app/blog/[id]/page.tsx')
    expect(page.status).toBe(200)
    const code = await page.text()
    expect(code).toContain('createHotContext')
    expect(code).not.toContain('server/db')
    expect(code).not.toContain('readFileSync')
    // rendering the page loaded server/db.ts on the server: still not the browser's
    expect((await get('/server/db.ts')).status).toBe(404)
  })

  it('counts only servers bound beyond loopback as reachable from the network (error source is then kept in the terminal)', () => {
    const at = (host: string | boolean | undefined) => reachableFromNetwork({ config: { server: { host } } } as never)
    expect(at(undefined)).toBe(false)
    expect(at(false)).toBe(false)
    expect(at('localhost')).toBe(false)
    expect(at('127.0.0.1')).toBe(false)
    expect(at('::1')).toBe(false)
    expect(at(true)).toBe(true)
    expect(at('0.0.0.0')).toBe(true)
    expect(at('192.168.1.5')).toBe(true)
  })
})
