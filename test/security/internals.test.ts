/**
 * Issue 12, item 6: no stack trace, absolute path or internal detail in any answer vite-isr
 * makes, whatever NODE_ENV is; a warning at start outside production; route handler bodies
 * bounded by `maxBodySize` (413), a streamed body cut off early so memory stays bounded.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { connect } from 'node:net'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from '../helpers/build.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type TestServer } from '../helpers/server.js'

const MB = 1024 * 1024
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`

/** What a leaked error page carries: a stack frame, an absolute path, a dependency folder. */
function expectNoInternals(text: string, where: string): void {
  expect(text, where).not.toMatch(/\bat\s+\S+\s+\(|\n\s+at\s/)
  expect(text, where).not.toMatch(/(?:^|[\s("'=:])\/(?:[\w.@-]+\/)+[\w.@-]*/)
  expect(text, where).not.toMatch(/node_modules|file:\/\/|[A-Z]:\\/)
  expect(text, where).not.toContain(REPO)
}

async function expectPlain(res: Response, status: number, text: string): Promise<void> {
  const body = await res.text()
  const where = `${res.url} answered ${res.status}: ${body.slice(0, 300)}`
  expect(res.status, where).toBe(status)
  expect(res.headers.get('content-type'), where).toBe('text/plain; charset=utf-8')
  expect(body, where).toBe(text)
  expectNoInternals(body, where)
  for (const [name, value] of res.headers) expectNoInternals(value, `header ${name}`)
}

describe.each([
  { nodeEnv: undefined, mode: 'middleware' },
  { nodeEnv: undefined, mode: 'fast-path' },
  { nodeEnv: 'development', mode: 'middleware' },
  { nodeEnv: 'development', mode: 'fast-path' },
] as { nodeEnv: string | undefined; mode: ServeMode }[])('route handler errors with NODE_ENV $nodeEnv ($mode)', ({ nodeEnv, mode }) => {
  let server: TestServer
  const cache = tempCacheDir()
  const saved = process.env.NODE_ENV
  beforeAll(async () => {
    resetDb()
    // Express reads NODE_ENV when the app is made: its error page shows stacks unless it is production.
    if (nodeEnv === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = nodeEnv
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, mode })
  })
  afterAll(async () => {
    await server.close()
    cache.remove()
    process.env.NODE_ENV = saved
  })

  it('answers a route handler that throws with a plain 500, and logs the error with the file', async () => {
    await expectPlain(await server.get('/api/throws'), 500, 'Internal Server Error')
    await expectPlain(await server.get('/api/throws', { method: 'POST', body: 'x' }), 500, 'Internal Server Error')
    const logged = server.logs.filter((line) => line.includes('app/api/throws/route.ts'))
    expect(logged, server.logs.join('\n')).toHaveLength(2)
    expect(logged[0]).toContain('database unreachable')
  })

  it('answers a webhook that JSON.parses an empty body with a plain 500', async () => {
    await expectPlain(await server.get('/api/body', { method: 'POST' }), 500, 'Internal Server Error')
    await expectPlain(await server.get('/api/body', { method: 'POST', body: '{"tag":' }), 500, 'Internal Server Error')
  })

  it('answers a body request.json() cannot parse with a plain 400, without logging it as an error', async () => {
    const before = server.logs.length
    await expectPlain(await server.get('/api/body', { method: 'PUT' }), 400, 'Bad Request')
    await expectPlain(await server.get('/api/body', { method: 'PUT', body: '{"tag":' }), 400, 'Bad Request')
    expect(server.logs.slice(before)).toEqual([])
    // and a body it can parse still reaches the handler
    const ok = await server.get('/api/body', { method: 'PUT', body: '{"tag":"posts"}' })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ type: 'object' })
  })
})

describe('the warning at start outside production', () => {
  // Its own process: the warning is printed once per process.
  const script = `
    import { createISRHandler } from 'vite-isr/runtime'
    const lines = []
    for (let i = 0; i < 3; i++) {
      const isr = await createISRHandler({ distDir: ${JSON.stringify(BASIC_DIST)}, cacheDir: process.env.CACHE_DIR, log: (line) => lines.push(line) })
      await isr.close()
    }
    console.log(JSON.stringify(lines.filter((line) => line.includes('NODE_ENV'))))
  `
  const cache = tempCacheDir()
  afterAll(() => cache.remove())

  async function warnings(nodeEnv: string | undefined): Promise<string[]> {
    const env: NodeJS.ProcessEnv = { ...process.env, CACHE_DIR: cache.dir }
    delete env.NODE_ENV
    if (nodeEnv !== undefined) env.NODE_ENV = nodeEnv
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, env })
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
  }

  it('prints one warning naming NODE_ENV=production for three handlers made in a process without it, and none in production', async () => {
    const unset = await warnings(undefined)
    console.log(`[security] NODE_ENV warnings for 3 handlers: unset ${unset.length}, development ${(await warnings('development')).length}, production ${(await warnings('production')).length}`)
    expect(unset).toHaveLength(1)
    expect(unset[0]).toMatch(/^\[vite-isr\] warning: NODE_ENV is not set: .*Start the server with NODE_ENV=production\.$/)
    expect(await warnings('development')).toEqual([expect.stringContaining('NODE_ENV is "development"')])
    expect(await warnings('production')).toEqual([])
  })
})

describe('route handler bodies are bounded by maxBodySize (1 MiB by default)', () => {
  let child: ChildProcess
  let port: number
  let stderr = ''
  const cache = tempCacheDir()

  beforeAll(async () => {
    child = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./route-server.mjs', import.meta.url))], {
      cwd: REPO,
      env: { ...process.env, DIST: BASIC_DIST, CACHE_DIR: cache.dir, NODE_ENV: 'production', SERVE_MODE: 'fast-path' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
    port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk
        const match = /listening (\d+)/.exec(out)
        if (match) resolve(Number(match[1]))
      })
      child.once('exit', (code) => reject(new Error(`route-server exited with ${code}:\n${stderr}`)))
    })
  })
  afterAll(() => {
    child.stdin!.end()
    cache.remove()
  })
  afterEach(() => {
    expect(child.exitCode, stderr).toBeNull()
  })

  const memory = async () => (await (await fetch(`http://127.0.0.1:${port}/__memory`)).json()) as { rss: number; maxRss: number }

  /** Raw HTTP, so nothing but the headers is sent: the answer must come without the body. */
  function headersOnly(head: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(head))
      let answer = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => (answer += chunk))
      socket.on('close', () => resolve(answer))
      socket.on('error', reject)
      socket.setTimeout(5_000, () => {
        socket.destroy()
        resolve(answer || 'no answer within 5 s')
      })
    })
  }

  it('answers 413 to a Content-Length over the limit without waiting for the body, and closes the connection soon after', async () => {
    const started = Date.now()
    const answer = await headersOnly(`POST /api/body HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${MB + 1}\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/)
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(answer.endsWith('\r\n\r\nPayload Too Large')).toBe(true)
    // at the limit it is read and handled
    const body = JSON.stringify('x'.repeat(MB - 2))
    const res = await fetch(`http://127.0.0.1:${port}/api/body`, { method: 'POST', body })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ bytes: MB, type: 'string' })
  })

  /** A chunked upload of `total` bytes that, as curl does, looks for an answer between writes and stops sending once there is one. */
  function upload(total: number): Promise<{ status: number; sent: number }> {
    const chunk = Buffer.alloc(64 * 1024, 'x')
    return new Promise((resolve, reject) => {
      let sent = 0
      let answered = false
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/body', headers: { 'content-type': 'application/json' } }, (res) => {
        answered = true
        res.resume()
        resolve({ status: res.statusCode!, sent })
      })
      req.on('error', (error) => {
        if (!answered) reject(error)
      })
      const pump = () => {
        if (answered) return
        if (sent >= total) return void req.end()
        sent += chunk.length
        if (req.write(chunk)) setImmediate(pump)
        else req.once('drain', pump)
      }
      pump()
    })
  }

  it("cuts off a 50 MB chunked body soon after the limit with a 413 the client gets to read, and the server's memory grows far less than the body", async () => {
    await upload(50 * MB) // warm-up: the first request of a process allocates its pools
    const before = await memory()
    // Several rounds: a server that closes at once races the client's writes, and the client
    // then often sees a reset (EPIPE / ECONNRESET) instead of the 413.
    const rounds = []
    for (let i = 0; i < 5; i++) {
      rounds.push(await upload(50 * MB))
      await memory()
    }
    const after = await memory()
    console.log(
      `[security] 5 × 50 MB chunked bodies to a route handler: ${rounds.map((r) => r.status).join(', ')} after ${rounds.map((r) => mb(r.sent)).join(', ')} written by the client (socket buffers included); server RSS ${mb(before.rss)} -> ${mb(after.rss)}, peak ${mb(before.maxRss)} -> ${mb(after.maxRss)}`,
    )
    for (const { status, sent } of rounds) {
      expect(status).toBe(413)
      // the rest is never read: the client stops once it sees the answer
      expect(sent).toBeLessThan(40 * MB)
    }
    // far less than one body, for five of them
    expect(after.rss - before.rss).toBeLessThan(20 * MB)
    expect(after.maxRss - before.maxRss).toBeLessThan(20 * MB)
  })

  it('leaves a body an Express body parser already read to that parser', async () => {
    const cacheDir = tempCacheDir()
    const server = await startServer({
      distDir: BASIC_DIST,
      cacheDir: cacheDir.dir,
      maxBodySize: 16,
      configure: (app) => app.use(async (req, _res, next) => {
        if (req.method !== 'POST') return next()
        let text = ''
        for await (const part of req) text += part
        ;(req as { body?: unknown }).body = text
        next()
      }),
    })
    try {
      const res = await server.get('/api/body', { method: 'POST', body: JSON.stringify('y'.repeat(100)) })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ bytes: 102, type: 'string' })
    } finally {
      await server.close()
      cacheDir.remove()
    }
  })
})

describe('maxBodySize option', () => {
  it('is checked when the handler is made', async () => {
    const { createISRHandler } = await import('vite-isr/runtime')
    await expect(createISRHandler({ distDir: BASIC_DIST, maxBodySize: -1 })).rejects.toThrow(/^\[vite-isr\] createISRHandler: maxBodySize must be an integer number of bytes >= 0 or Infinity \(got -1\)$/)
    await expect(createISRHandler({ distDir: BASIC_DIST, maxBodySize: 1.5 })).rejects.toThrow(TypeError)
  })

  it('bounds a smaller limit too', async () => {
    const cacheDir = tempCacheDir()
    const server = await startServer({ distDir: BASIC_DIST, cacheDir: cacheDir.dir, maxBodySize: 10 })
    try {
      expect((await server.get('/api/body', { method: 'POST', body: '"123456789"' })).status).toBe(413)
      expect((await server.get('/api/body', { method: 'POST', body: '"1234567"' })).status).toBe(200)
    } finally {
      await server.close()
      cacheDir.remove()
    }
  })
})


