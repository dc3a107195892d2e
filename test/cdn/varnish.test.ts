/**
 * `vite-isr/cdn/varnish` against a real varnishd running the README's VCL
 * (example-app/varnish/default.vcl, its backend port the only change) in front of a real
 * Express server with the data fixture (pages tagged `posts` and `authors`) and
 * `cdnTagHeader: true`. Varnish's own clock cannot be injected; the origin's is.
 */
import { request } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { createVarnishPurger } from 'vite-isr/cdn/varnish'
import { afterBuild, createClock, tick, type TestClock } from '../helpers/clock.js'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { freePort } from '../helpers/local-servers.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { startVarnish, type Varnish } from '../helpers/varnish.js'
import type { DataSource } from '../fixtures/data/server/source.js'

interface Seen {
  status: number
  cache: string | null
  body: string
  headers: Headers
}

/** Start the origin (with the purger) and Varnish in front of it; both on fresh ports. */
async function startPair(options: { cdnTagHeader: boolean }) {
  const clock = createClock(afterBuild(DATA_DIST))
  const cache = tempCacheDir()
  const varnishPort = await freePort()
  const origin = await startServer({
    distDir: DATA_DIST,
    cacheDir: cache.dir,
    now: clock.now,
    cdnTagHeader: options.cdnTagHeader,
    onRevalidate: createVarnishPurger({ url: `http://127.0.0.1:${varnishPort}` }),
  })
  const varnish = await startVarnish(Number(new URL(origin.url).port), varnishPort)
  const viaVarnish = async (path: string): Promise<Seen> => {
    const res = await fetch(varnish.url + path)
    return { status: res.status, cache: res.headers.get('x-cache'), body: await res.text(), headers: res.headers }
  }
  return {
    clock,
    origin,
    varnish,
    viaVarnish,
    async stop() {
      await varnish.stop()
      await origin.close()
      cache.remove()
    },
  }
}

/** Revalidate the way a webhook does, on the origin's clock: after the data changed, before the next request. */
async function revalidate(clock: TestClock, fn: () => Promise<void>): Promise<void> {
  clock.advance(1)
  await fn()
  clock.advance(1)
}

/** A request from another address than 127.0.0.1 (all of 127/8 is loopback on Linux). */
function fromOtherAddress(url: string, method: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress: '127.0.0.2' }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
    })
    req.once('error', reject)
    req.end()
  })
}

describe('createVarnishPurger with a real Varnish in front (cdnTagHeader on)', () => {
  let pair: Awaited<ReturnType<typeof startPair>>
  let source: DataSource
  beforeAll(async () => {
    pair = await startPair({ cdnTagHeader: true })
  }, 60_000)
  afterAll(async () => {
    await pair?.stop()
  })
  beforeEach(async () => {
    source = resetDataSource()
    // Start every test from a Varnish with nothing in it and an origin with the seed data.
    await revalidate(pair.clock, () => revalidateTag('posts'))
    await revalidate(pair.clock, () => revalidateTag('authors'))
  })

  /** Two GETs through Varnish: the second must be Varnish's cached copy. */
  async function warm(path: string): Promise<string> {
    await pair.viaVarnish(path)
    const second = await pair.viaVarnish(path)
    expect(second.cache, `${path} is cached by Varnish`).toBe('HIT')
    return second.body
  }

  it('caches a page for its s-maxage, keeps it in grace for its stale-while-revalidate, and never shows the tags to clients', async () => {
    const first = await pair.viaVarnish('/posts/1')
    expect(first.status).toBe(200)
    expect(first.cache).toBe('MISS')
    const second = await pair.viaVarnish('/posts/1')
    expect(second.cache).toBe('HIT')
    expect(second.body).toBe(first.body)
    expect(second.headers.get('cache-tag')).toBeNull()
    // /posts/1 has revalidate 60, expireTime one year: `s-maxage=60, stale-while-revalidate=31535940`.
    const ttl = pair.varnish.ttlRecords().filter((r) => r.startsWith('RFC '))
    expect(ttl, 'Varnish took TTL and grace from Cache-Control').toContainEqual(expect.stringMatching(/^RFC 60 31535940 /))
  })

  it("after revalidateTag('posts') serves the new page at once instead of its cached copy", async () => {
    expect(await warm('/posts/1')).toContain('<h1>Post one</h1>')
    expect(await warm('/posts')).toContain('<li>Post one</li>')

    source.posts['1'].title = 'Edited'
    await revalidate(pair.clock, () => revalidateTag('posts'))

    const page = await pair.viaVarnish('/posts/1')
    expect(page.cache).toBe('MISS')
    expect(page.body).toContain('<h1>Edited</h1>')
    const list = await pair.viaVarnish('/posts')
    expect(list.cache).toBe('MISS')
    expect(list.body).toContain('<li>Edited</li>')
    expect(pair.origin.logs.join('\n')).not.toContain('onRevalidate failed')
  })

  it('bans only whole tags: a tag that is the prefix or the suffix of another leaves the other cached', async () => {
    await warm('/posts/1')
    source.posts['1'].title = 'Edited'
    // `post` and `author` begin `posts` and `authors`, `osts` ends `posts`: no page carries them.
    for (const tag of ['post', 'author', 'osts']) await revalidate(pair.clock, () => revalidateTag(tag))
    const page = await pair.viaVarnish('/posts/1')
    expect(page.cache).toBe('HIT')
    expect(page.body).toContain('<h1>Post one</h1>')
    expect(pair.origin.logs.join('\n')).not.toContain('onRevalidate failed')
  })

  it("revalidatePath('/posts') purges that page, not /posts/1 whose path it is the prefix of", async () => {
    await warm('/posts')
    await warm('/posts/1')
    source.posts['1'].title = 'Edited'
    await revalidate(pair.clock, () => revalidatePath('/posts'))
    expect(await pair.viaVarnish('/posts')).toMatchObject({ cache: 'MISS', body: expect.stringContaining('<li>Edited</li>') })
    expect(await pair.viaVarnish('/posts/1')).toMatchObject({ cache: 'HIT', body: expect.stringContaining('<h1>Post one</h1>') })
  })

  it("revalidatePath('/posts/[id]', 'page') bans every page of the route by its tag, brackets matched literally", async () => {
    await warm('/posts/1')
    await warm('/posts/2')
    await warm('/posts')
    source.posts['1'].title = 'Edited'
    source.posts['2'].title = 'Edited too'
    await revalidate(pair.clock, () => revalidatePath('/posts/[id]', 'page'))
    expect(await pair.viaVarnish('/posts/1')).toMatchObject({ cache: 'MISS', body: expect.stringContaining('<h1>Edited</h1>') })
    expect(await pair.viaVarnish('/posts/2')).toMatchObject({ cache: 'MISS', body: expect.stringContaining('<h1>Edited too</h1>') })
    expect((await pair.viaVarnish('/posts')).cache, 'another route keeps its copy').toBe('HIT')
  })

  it('keeps a page the origin answered STALE for one second only, so the regenerated page follows from grace', async () => {
    await warm('/posts/1')
    pair.clock.advance(61_000) // past the page's 60 s window on the origin
    // Varnish drops its copy (a PURGE as any purger sends it) and asks the origin again.
    expect((await fetch(`${pair.varnish.url}/posts/1`, { method: 'PURGE' })).status).toBe(200)
    const stale = await pair.viaVarnish('/posts/1')
    expect(stale.cache).toBe('MISS')
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    expect(stale.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(pair.varnish.ttlRecords(), 'the VCL cut the TTL of a STALE answer to 1 s, grace kept').toContainEqual(expect.stringMatching(/^VCL 1 31535940 0 /))
  })

  it('answers PURGE and BAN only from the addresses in its ACL', async () => {
    expect(await fromOtherAddress(`${pair.varnish.url}/posts/1`, 'PURGE')).toBe(405)
    expect(await fromOtherAddress(`${pair.varnish.url}/`, 'BAN', { 'x-ban-tag': 'posts' })).toBe(405)
    await warm('/posts/1')
    expect((await pair.viaVarnish('/posts/1')).cache, 'nothing was purged').toBe('HIT')
  })
})

describe('createVarnishPurger with a real Varnish in front (cdnTagHeader off)', () => {
  let pair: Awaited<ReturnType<typeof startPair>>
  beforeAll(async () => {
    resetDataSource()
    pair = await startPair({ cdnTagHeader: false })
  }, 60_000)
  afterAll(async () => {
    await pair?.stop()
  })

  it('still purges a concrete path given to revalidatePath, by PURGE of its URL', async () => {
    const source = resetDataSource()
    await pair.viaVarnish('/posts/1')
    expect((await pair.viaVarnish('/posts/1')).cache).toBe('HIT')
    source.posts['1'].title = 'Edited'
    await revalidate(pair.clock, () => revalidatePath('/posts/1'))
    expect(await pair.viaVarnish('/posts/1')).toMatchObject({ cache: 'MISS', body: expect.stringContaining('<h1>Edited</h1>') })
  })
})

describe('createVarnishPurger when Varnish does not answer', () => {
  let silent: TcpServer
  const sockets = new Set<Socket>()
  let origin: TestServer
  let cache: ReturnType<typeof tempCacheDir>
  beforeAll(async () => {
    // Accepts connections and never answers: a Varnish that hangs.
    silent = createTcpServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cache = tempCacheDir()
    origin = await startServer({
      distDir: DATA_DIST,
      cacheDir: cache.dir,
      cdnTagHeader: true,
      onRevalidate: createVarnishPurger({ url: `http://purger:hunter2-secret@127.0.0.1:${(silent.address() as AddressInfo).port}`, timeout: 300, headers: { 'x-purge-token': 'token-never-logged' } }),
    })
  })
  afterAll(async () => {
    await origin?.close()
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
    cache.remove()
  })

  it('rejects after its timeout, so the handler logs "onRevalidate failed" without the credentials, and the invalidation stands', async () => {
    resetDataSource()
    const started = Date.now()
    await revalidateTag('posts')
    const took = Date.now() - started
    console.log(`revalidateTag with a Varnish that never answers returned after ${took} ms (timeout 300 ms)`)
    expect(took).toBeLessThan(3000)
    const logs = origin.logs.join('\n')
    expect(logs).toContain('onRevalidate failed')
    expect(logs).toMatch(/BAN posts: no answer within 300 ms/)
    expect(logs).not.toContain('hunter2')
    expect(logs).not.toContain('token-never-logged')
    await tick()
    expect((await origin.get('/posts/1')).headers.get('x-isr-cache'), 'the origin renders anew all the same').toBe('MISS')
  })
})

/**
 * A bare HTTP/1.1 server over TCP: Node's own HTTP server refuses the BAN method (400), so
 * this one reads request lines by hand. `answer` gives the status; it answers after 20 ms.
 */
async function startRawServer(answer: (method: string, headers: Record<string, string>) => number) {
  const seen: string[] = []
  let inFlight = 0
  let maxInFlight = 0
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    let buffer = ''
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1')
      for (let end = buffer.indexOf('\r\n\r\n'); end !== -1; end = buffer.indexOf('\r\n\r\n')) {
        const [line, ...rest] = buffer.slice(0, end).split('\r\n')
        buffer = buffer.slice(end + 4)
        const headers = Object.fromEntries(rest.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]))
        const [method, path] = line.split(' ')
        seen.push(`${method} ${path} ${headers['x-ban-tag'] ?? headers.host}`)
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        const status = answer(method, headers)
        setTimeout(() => {
          inFlight--
          socket.write(`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Not Allowed'}\r\ncontent-length: 0\r\n\r\n`)
        }, 20)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    maxInFlight: () => maxInFlight,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe('createVarnishPurger', () => {
  let server: Awaited<ReturnType<typeof startRawServer>>
  beforeEach(async () => {
    server = await startRawServer((_method, headers) => (headers['x-ban-tag'] === 'refused' ? 405 : 200))
  })
  afterEach(async () => {
    await server.close()
  })

  it('sends at most `concurrency` requests at once, and every one of them', async () => {
    const purge = createVarnishPurger({ url: server.url, concurrency: 3, host: 'www.example.com' })
    const tags = Array.from({ length: 20 }, (_, i) => `tag-${i}`)
    await purge({ paths: ['/blog/a b'], tags: [...tags, '_isr_path:/blog/a b'] })
    console.log(`purge requests: ${server.seen.length}, most in flight at once: ${server.maxInFlight()} (concurrency 3)`)
    expect(server.maxInFlight()).toBe(3)
    expect(server.seen).toHaveLength(22)
    expect(server.seen).toContain('PURGE /blog/a%20b www.example.com')
    for (const tag of tags) expect(server.seen).toContain(`BAN / ${tag}`)
  })

  it('sends no PURGE for a route pattern, only the ban on its tag', async () => {
    await createVarnishPurger({ url: server.url })({ paths: ['/blog/[id]'], tags: ['_isr_route:/blog/[id]/page'] })
    expect(server.seen).toEqual(['BAN / _isr_route:/blog/[id]/page'])
  })

  it('rejects with each failed request and why, after sending the others', async () => {
    const purge = createVarnishPurger({ url: server.url })
    await expect(purge({ paths: [], tags: ['fine', 'refused', 'line\nbreak'] })).rejects.toThrow(
      /2 of 3 purge requests failed[\s\S]*BAN "line\\nbreak": not sent[\s\S]*BAN refused: 405 Not Allowed \(is this server's address in the VCL's `purgers` ACL\?\)/,
    )
    expect(server.seen).toEqual(['BAN / fine', 'BAN / refused'])
  })

  it('checks its options once, with a TypeError that says what to write', () => {
    const url = server.url
    expect(() => createVarnishPurger({ url: 'varnish:6081' })).toThrow(TypeError)
    expect(() => createVarnishPurger({ url: 'ftp://127.0.0.1' })).toThrow(/url must start with http:\/\/ or https:\/\//)
    expect(() => createVarnishPurger({ url: 'http://user:pw@' })).toThrow(/got an invalid URL/)
    expect(() => createVarnishPurger({ url, concurrency: 0 })).toThrow(/concurrency must be a positive integer/)
    expect(() => createVarnishPurger({ url, timeout: -1 })).toThrow(/timeout must be a positive number of milliseconds/)
    expect(() => createVarnishPurger({ url, host: 'a b' })).toThrow(/host must be a host name/)
  })
})
