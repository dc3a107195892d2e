import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, brotliDecompressSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort()
}

describe('HTTP behaviour', () => {
  let server: TestServer
  let cache: ReturnType<typeof tempCacheDir>

  beforeAll(async () => {
    resetDb()
    cache = tempCacheDir()
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir })
  })
  afterAll(async () => {
    await server.close()
    cache.remove()
  })

  it('answers 304 to a matching If-None-Match (exact, weak, or in a list) with no body', async () => {
    const etag = (await server.get('/blog/1')).headers.get('etag')!
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await server.get('/blog/1', { headers: { 'if-none-match': header } })
      expect(res.status).toBe(304)
      expect(res.headers.get('etag')).toBe(etag)
      expect(res.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
      expect(await res.text()).toBe('')
    }
    expect((await server.get('/blog/1', { headers: { 'if-none-match': '"other"' } })).status).toBe(200)
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await server.get('/blog/1')
    const head = await server.get('/blog/1', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'))
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'))
    expect(await head.text()).toBe('')
  })

  it('sends gzip and brotli bodies made once per entry, with Vary and a distinct ETag', async () => {
    const plain = await (await server.get('/blog/2', { headers: { 'accept-encoding': 'identity' } })).text()
    const gz = await fetch(server.url + '/blog/2', { headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers.get('vary')).toBe('Accept-Encoding')
    const raw = await import('node:http')
    const body = await new Promise<{ headers: Record<string, unknown>; data: Buffer }>((resolve, reject) => {
      raw.get(server.url + '/blog/2', { headers: { 'accept-encoding': 'br' } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ headers: res.headers, data: Buffer.concat(chunks) }))
      }).on('error', reject)
    })
    expect(body.headers['content-encoding']).toBe('br')
    expect(brotliDecompressSync(body.data).toString()).toBe(plain)
    const gzipped = await new Promise<Buffer>((resolve, reject) => {
      raw.get(server.url + '/blog/2', { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        expect(res.headers['content-encoding']).toBe('gzip')
        expect(res.headers.etag).toMatch(/-gz"$/)
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve(Buffer.concat(chunks)))
      }).on('error', reject)
    })
    expect(gunzipSync(gzipped).toString()).toBe(plain)
  })

  it('serves hashed client assets as immutable', async () => {
    const html = await (await server.get('/blog/1')).text()
    const src = /<script type="module" src="([^"]+)"/.exec(html)![1]
    const res = await server.get(src)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(res.headers.get('content-type')).toMatch(/javascript/)
  })

  it('answers hostile paths with 400 or 404, never 5xx, and writes nothing for them', async () => {
    const before = listTree(cache.dir)
    const hostile = [
      '/blog/..%2f..%2fetc%2fpasswd',
      '/blog/%2e%2e/%2e%2e/etc/passwd',
      '/..%5c..%5cwindows',
      '/blog/%00',
      '/blog/a%00b',
      '/blog/%ff',
      '/blog/%zz',
      '/blog/' + 'a'.repeat(300),
      '/' + 'a/'.repeat(600),
      '//blog/1',
    ]
    for (const path of hostile) {
      const res = await server.get(path)
      expect([400, 404], `${path} -> ${res.status}`).toContain(res.status)
    }
    // the raw `..` never reaches the server through fetch (it normalises); send it as is
    const net = await import('node:net')
    const port = new URL(server.url).port
    const status = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /blog/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
      let data = ''
      socket.on('data', (d) => (data += d))
      socket.on('end', () => resolve(data.split('\r\n')[0]))
    })
    expect(status).toMatch(/ 40[04] /)
    expect(listTree(cache.dir)).toEqual(before)
  })

  it('hands other methods on page paths to the next middleware', async () => {
    const res = await server.get('/blog/1', { method: 'POST' })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-isr-cache')).toBeNull()
  })

  it('answers 405 with Allow for a method a route handler does not export', async () => {
    const res = await server.get('/api/revalidate', { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST')
  })
})
