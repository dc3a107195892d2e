/**
 * Issue 12, item 4: the inspector is locked by default. It needs a token of 16+ characters
 * whatever NODE_ENV says (option or environment), answers only a Host the server was started
 * or configured for (no DNS rebinding), takes a POST only with its own Origin (no cross-site
 * form), keeps its session in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS) and
 * never writes the token into a page.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import express from 'express'
import { createISRHandler } from 'vite-isr/runtime'
import { afterEach, describe, expect, it } from 'vitest'
import { afterBuild, createClock } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type ServeMode, type ServerOptions, type TestServer } from '../helpers/server.js'

const TOKEN = 'inspector-token-0123456789abcdef'
const FORM = 'application/x-www-form-urlencoded'

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Plain node:http, so the test sets `Host` and `Origin` as an attacker's browser would send them. */
function call(url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

const cookieOf = (answer: Answer) => (answer.headers['set-cookie']?.[0] ?? '').split(';')[0]

async function login(server: TestServer, headers: Record<string, string> = {}): Promise<Answer> {
  const answer = await call(server.url, `/__isr?token=${TOKEN}`, { headers })
  expect(answer.status).toBe(303)
  return answer
}

describe('the inspector needs a token of at least 16 characters, whatever NODE_ENV says', () => {
  const saved = { ...process.env }
  let server: TestServer | undefined
  const cache = tempCacheDir()
  afterEach(async () => {
    await server?.close()
    server = undefined
    for (const name of ['NODE_ENV', 'ISR_INSPECTOR', 'ISR_INSPECTOR_TOKEN']) {
      if (saved[name] === undefined) delete process.env[name]
      else process.env[name] = saved[name]
    }
  })

  it('refuses to make the handler with a short token option', async () => {
    for (const token of ['a', 'fifteen-chars-x']) {
      await expect(startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, inspector: { token } })).rejects.toThrow(
        /^\[vite-isr\] createISRHandler: inspector\.token must be a string of at least 16 characters \(got \d+ characters\)/,
      )
    }
  })

  for (const nodeEnv of [undefined, 'development', 'production']) {
    it(`keeps the inspector off, with one warning, when ISR_INSPECTOR_TOKEN is short or missing (NODE_ENV ${nodeEnv ?? 'unset'})`, async () => {
      if (nodeEnv === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = nodeEnv
      process.env.ISR_INSPECTOR = '1'
      for (const [token, said] of [['a', '1 characters long'], [undefined, 'not set']] as const) {
        if (token === undefined) delete process.env.ISR_INSPECTOR_TOKEN
        else process.env.ISR_INSPECTOR_TOKEN = token
        for (const inspector of [undefined, true]) {
          resetDb()
          server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, inspector })
          const warnings = server.logs.filter((line) => line.includes('inspector'))
          expect(warnings).toEqual([`[vite-isr] warning: the cache inspector stays off: it needs a token of at least 16 characters and ISR_INSPECTOR_TOKEN is ${said}. Set ISR_INSPECTOR_TOKEN (e.g. to the output of \`openssl rand -hex 24\`) or pass createISRHandler({ inspector: { token } }).`])
          // not the inspector: the app's own 404 page
          for (const path of ['/__isr', `/__isr?token=${token}`, '/__isr/data.json']) {
            const res = await server.get(path)
            expect(res.status, path).toBe(404)
            expect(await res.text()).not.toContain('vite-isr cache')
          }
          await server.close()
          server = undefined
        }
      }
    })

    it(`answers 401 without the token (NODE_ENV ${nodeEnv ?? 'unset'})`, async () => {
      if (nodeEnv === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = nodeEnv
      process.env.ISR_INSPECTOR = '1'
      process.env.ISR_INSPECTOR_TOKEN = TOKEN
      server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir })
      expect((await call(server.url, '/__isr')).status).toBe(401)
      expect((await call(server.url, '/__isr/data.json')).status).toBe(401)
      expect((await call(server.url, '/__isr?token=wrong-token-wrong-token')).status).toBe(401)
      expect((await call(server.url, '/__isr', { headers: { cookie: 'isr_inspector=99999999999.forged' } })).status).toBe(401)
      const post = await call(server.url, '/__isr/revalidate', { method: 'POST', headers: { 'content-type': FORM, origin: server.url }, body: 'tag=posts' })
      expect(post.status).toBe(401)
      expect((await call(server.url, '/__isr/data.json', { headers: { 'x-isr-inspector-token': TOKEN } })).status).toBe(200)
    })
  }
})

describe.each(['middleware', 'fast-path'] as ServeMode[])('the inspector behind its token (%s)', (mode) => {
  let server: TestServer | undefined
  const cache = tempCacheDir()
  const start = async (options: ServerOptions = {}) => {
    resetDb()
    server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, mode, inspector: { token: TOKEN }, ...options })
    return server
  }
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it('refuses a Host it was neither started nor configured for: DNS rebinding, with the token and a matching Origin', async () => {
    const s = await start()
    const { port } = new URL(s.url)
    const evil = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }
    const get = await call(s.url, '/__isr/data.json', { headers: { ...evil, 'x-isr-inspector-token': TOKEN } })
    expect(get.status).toBe(421)
    expect(get.body).not.toContain('/blog')
    const cookie = cookieOf(await login(s))
    await s.get('/blog/1')
    const post = await call(s.url, '/__isr/revalidate', { method: 'POST', headers: { ...evil, cookie, 'content-type': FORM }, body: 'path=%2Fblog%2F1' })
    expect(post.status).toBe(421)
    expect((await s.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
    console.log(`[security] inspector, DNS rebinding (Host and Origin evil.example, valid token / session): GET ${get.status}, POST ${post.status}, page still cached`)
    for (const host of ['evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', `user@127.0.0.1:${port}`]) {
      expect((await call(s.url, '/__isr', { headers: { host, cookie } })).status, `Host: ${host}`).not.toBe(200)
    }
    // the names a loopback server is started for
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, 'app.localhost']) {
      expect((await call(s.url, '/__isr', { headers: { host, cookie } })).status, `Host: ${host}`).toBe(200)
    }
  })

  it('answers the hosts given in allowedHosts, a leading dot for subdomains', async () => {
    const s = await start({ inspector: { token: TOKEN, allowedHosts: ['isr.example.com', '.example.org'] } })
    const cookie = cookieOf(await login(s))
    const status = async (host: string) => (await call(s.url, '/__isr', { headers: { host, cookie } })).status
    expect(await status('isr.example.com')).toBe(200)
    expect(await status('ISR.example.com:8443')).toBe(200)
    expect(await status('example.org')).toBe(200)
    expect(await status('a.b.example.org')).toBe(200)
    expect(await status('www.isr.example.com')).toBe(421)
    expect(await status('example.com')).toBe(421)
    expect(await status('evilexample.org')).toBe(421)
  })

  it('refuses a POST without an Origin, or from another origin, even with the session cookie', async () => {
    const s = await start()
    const cookie = cookieOf(await login(s))
    const { port } = new URL(s.url)
    await s.get('/blog/1')
    for (const origin of [undefined, 'null', 'https://evil.example', `http://evil.example:${port}`, `https://127.0.0.1:${port}`, `http://127.0.0.1:${Number(port) + 1}`, `http://localhost:${port}`]) {
      const headers: Record<string, string> = { cookie, 'content-type': FORM }
      if (origin) headers.origin = origin
      const res = await call(s.url, '/__isr/revalidate', { method: 'POST', headers, body: 'path=%2Fblog%2F1' })
      expect(res.status, `Origin: ${origin}`).toBe(403)
      // nor with the token in the header
      const withToken = await call(s.url, '/__isr/revalidate', { method: 'POST', headers: { ...headers, 'x-isr-inspector-token': TOKEN }, body: 'path=%2Fblog%2F1' })
      expect(withToken.status, `Origin: ${origin}`).toBe(403)
    }
    expect((await s.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
    // its own origin: revalidated
    const ok = await call(s.url, '/__isr/revalidate', { method: 'POST', headers: { cookie, origin: s.url, 'content-type': FORM }, body: 'path=%2Fblog%2F1' })
    expect(ok.status).toBe(303)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await s.get('/blog/1')).headers.get('x-isr-cache')).toBe('MISS')
  })

  it('never writes the token into a page, a header or the cookie', async () => {
    const s = await start()
    await s.get('/blog/1')
    const seen: Answer[] = []
    const answer = await login(s)
    seen.push(answer)
    expect(answer.headers.location).toBe('/__isr')
    const cookie = cookieOf(answer)
    expect(answer.headers['set-cookie']![0]).toMatch(/^isr_inspector=\d+\.[\w-]{43}; Path=\/__isr; Max-Age=43200; HttpOnly; SameSite=Strict$/)
    seen.push(await call(s.url, '/__isr', { headers: { cookie } }))
    seen.push(await call(s.url, '/__isr/data.json', { headers: { cookie } }))
    seen.push(await call(s.url, `/__isr/data.json?token=${TOKEN}`))
    seen.push(await call(s.url, '/__isr/revalidate', { method: 'POST', headers: { cookie, origin: s.url, 'content-type': FORM }, body: 'tag=posts' }))
    seen.push(await call(s.url, seen.at(-1)!.headers.location!, { headers: { cookie } }))
    expect(seen.map((a) => a.status)).toEqual([303, 200, 200, 200, 303, 200])
    const html = seen[1].body
    expect(html).toContain('<table id="entries">')
    expect(html).not.toContain('name="token"')
    for (const a of seen) {
      expect(a.body).not.toContain(TOKEN)
      expect(JSON.stringify(a.headers)).not.toContain(TOKEN)
    }
    // no script may run on it, no site may frame it, no other site sees its address
    expect(seen[1].headers['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(seen[1].headers['referrer-policy']).toBe('same-origin')
  })

  it('ends a session after 12 hours, and refuses a cookie signed with another token', async () => {
    const clock = createClock(afterBuild(BASIC_DIST))
    const s = await start({ now: clock.now })
    const cookie = cookieOf(await login(s))
    expect((await call(s.url, '/__isr', { headers: { cookie } })).status).toBe(200)
    clock.advance(12 * 60 * 60 * 1000 - 1_000)
    expect((await call(s.url, '/__isr', { headers: { cookie } })).status).toBe(200)
    clock.advance(1_000)
    expect((await call(s.url, '/__isr', { headers: { cookie } })).status).toBe(401)
    const fresh = cookieOf(await login(s))
    await s.close()
    const other = await start({ now: clock.now, inspector: { token: 'another-token-0123456789' } })
    expect((await call(other.url, '/__isr', { headers: { cookie: fresh } })).status).toBe(401)
  })

  it('marks the session cookie Secure when Express says the request came over HTTPS (trust proxy)', async () => {
    const s = await start({ configure: (app) => app.set('trust proxy', 'loopback') })
    const https = await call(s.url, `/__isr?token=${TOKEN}`, { headers: { 'x-forwarded-proto': 'https' } })
    expect(https.headers['set-cookie']![0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/)
    const http = await call(s.url, `/__isr?token=${TOKEN}`)
    expect(http.headers['set-cookie']![0]).not.toContain('Secure')
    // and a POST through that proxy must come from the https origin
    const cookie = cookieOf(https)
    const headers = { cookie, 'content-type': FORM, 'x-forwarded-proto': 'https' }
    expect((await call(s.url, '/__isr/revalidate', { method: 'POST', headers: { ...headers, origin: s.url }, body: 'tag=posts' })).status).toBe(403)
    expect((await call(s.url, '/__isr/revalidate', { method: 'POST', headers: { ...headers, origin: s.url.replace('http:', 'https:') }, body: 'tag=posts' })).status).toBe(303)
  })
})

describe('the inspector over a real HTTPS server', () => {
  it('marks the session cookie Secure and takes a POST only from the https origin', async () => {
    const dir = tempCacheDir()
    const key = join(dir.dir, 'key.pem')
    const cert = join(dir.dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
    resetDb()
    const isr = await createISRHandler({ distDir: BASIC_DIST, cacheDir: join(dir.dir, 'cache'), inspector: { token: TOKEN }, log: () => {} })
    const app = express()
    app.use(isr)
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const fetchTls = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
      new Promise<Answer>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, rejectUnauthorized: false }, (res) => {
          let body = ''
          res.on('data', (chunk) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
        })
        req.on('error', reject)
        req.end(init.body)
      })
    try {
      const login = await fetchTls(`/__isr?token=${TOKEN}`)
      expect(login.status).toBe(303)
      expect(login.headers['set-cookie']![0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/)
      const cookie = cookieOf(login)
      expect((await fetchTls('/__isr', { headers: { cookie } })).status).toBe(200)
      const post = (origin: string) => fetchTls('/__isr/revalidate', { method: 'POST', headers: { cookie, origin, 'content-type': FORM }, body: 'tag=posts' })
      expect((await post(`http://127.0.0.1:${port}`)).status).toBe(403)
      expect((await post(`https://127.0.0.1:${port}`)).status).toBe(303)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await isr.close()
      dir.remove()
    }
  })
})
