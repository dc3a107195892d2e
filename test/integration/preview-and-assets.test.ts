/**
 * What a user meets after `vite build`: `vite preview` serves the build through the ISR
 * handler (same headers as `node server.js`), hashed assets go out precompressed by content
 * negotiation, `public/` lands in the client build only, and a cache handler may be handed
 * over as a promise.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { preview, type PreviewServer } from 'vite'
import { createMemoryCacheHandler } from 'vite-isr/runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFixture, viteBuild } from '../helpers/build.js'
import { startServer, type TestServer } from '../helpers/server.js'

let dir: string
let dist: string
let node: TestServer
let vitePreview: PreviewServer
let previewUrl: string
let asset: string

beforeAll(async () => {
  dir = copyFixture('minimal', 'preview')
  mkdirSync(join(dir, 'public'), { recursive: true })
  writeFileSync(join(dir, 'public/hello.txt'), 'hello from public\n')
  const result = await viteBuild(dir)
  if (result.code !== 0) throw new Error(result.output)
  dist = join(dir, 'dist')
  node = await startServer({ distDir: dist, cacheDir: join(dir, 'node-cache') })
  vitePreview = await preview({ root: dir, configFile: join(dir, 'vite.config.ts'), preview: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' })
  previewUrl = `http://127.0.0.1:${(vitePreview.httpServer.address() as AddressInfo).port}`
  asset = readdirSync(join(dist, 'client/assets')).find((name) => /^client-entry-.*\.js$/.test(name))!
})

afterAll(async () => {
  await vitePreview?.close()
  await node?.close()
})

const HEADERS = ['status', 'content-type', 'cache-control', 'etag', 'x-isr-cache', 'vary', 'content-encoding'] as const
async function answer(base: string, path: string, init?: RequestInit) {
  const res = await fetch(base + path, { redirect: 'manual', ...init })
  const headers = Object.fromEntries(HEADERS.map((h) => [h, h === 'status' ? String(res.status) : res.headers.get(h)]))
  return { headers, body: Buffer.from(await res.arrayBuffer()) }
}

describe('vite preview', () => {
  it('serves pages through the ISR handler with the same status, headers and body as node server.js', async () => {
    for (const path of ['/', '/no-such-page']) {
      const fromPreview = await answer(previewUrl, path)
      const fromNode = await answer(node.url, path)
      expect(fromPreview.headers).toEqual(fromNode.headers)
      expect(fromPreview.body.equals(fromNode.body)).toBe(true)
    }
    expect((await answer(previewUrl, '/')).headers['x-isr-cache']).toBe('HIT')
  })

  it('serves hashed assets as node server.js does, and nothing of the server build or the cache', async () => {
    const path = `/assets/${asset}`
    expect((await answer(previewUrl, path, { headers: { 'accept-encoding': 'br' } })).headers).toEqual(
      (await answer(node.url, path, { headers: { 'accept-encoding': 'br' } })).headers,
    )
    for (const secret of ['/server/entry.js', '/prerender-manifest.json', '/isr-cache/tags.log', '/client/.vite/manifest.json']) {
      expect((await fetch(previewUrl + secret)).status, secret).toBe(404)
    }
  })
})

describe('precompressed assets', () => {
  it('writes a .br and a .gz beside each compressible asset at build, smaller than the file', () => {
    const file = join(dist, 'client/assets', asset)
    const raw = readFileSync(file)
    expect(brotliDecompressSync(readFileSync(file + '.br')).equals(raw)).toBe(true)
    expect(gunzipSync(readFileSync(file + '.gz')).equals(raw)).toBe(true)
    expect(readFileSync(file + '.br').length).toBeLessThan(raw.length)
  })

  it('sends the variant the request accepts, with Content-Encoding, Vary, its own length and immutable caching', async () => {
    const path = `/assets/${asset}`
    const file = join(dist, 'client/assets', asset)
    const cases = [
      ['gzip, deflate, br', 'br', '.br'],
      ['gzip', 'gzip', '.gz'],
      ['br;q=0, gzip', 'gzip', '.gz'],
      ['identity', null, ''],
      ['', null, ''],
    ] as const
    for (const [accept, encoding, suffix] of cases) {
      const res = await fetch(node.url + path, { headers: { 'accept-encoding': accept } })
      const body = Buffer.from(await res.arrayBuffer())
      expect(res.headers.get('content-encoding'), accept).toBe(encoding)
      expect(res.headers.get('vary')).toBe('Accept-Encoding')
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      // fetch decodes what it is sent: compare with the file, and the length with what was sent
      expect(body.equals(readFileSync(file)), accept).toBe(true)
      expect(Number(res.headers.get('content-length'))).toBe(readFileSync(file + suffix).length)
    }
  })
})

describe('the build output', () => {
  it('copies public/ into the client build only', () => {
    expect(readFileSync(join(dist, 'client/hello.txt'), 'utf8')).toBe('hello from public\n')
    expect(existsSync(join(dist, 'server/hello.txt'))).toBe(false)
  })
})

describe('createISRHandler({ cacheHandler })', () => {
  it('accepts the handler as a promise (createRedisCacheHandler without await)', async () => {
    const handler = { ...createMemoryCacheHandler({ maxSize: 1_000_000 }), name: 'promised' }
    const server = await startServer({ distDir: dist, cacheHandler: Promise.resolve(handler), cacheMaxMemorySize: 0 })
    try {
      expect(server.isr.cache.name).toBe('promised')
      expect((await server.get('/')).status).toBe(200)
    } finally {
      await server.close()
    }
  })
})
