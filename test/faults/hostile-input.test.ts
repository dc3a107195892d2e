/**
 * Hostile input: ~10,000 requests over raw sockets (bytes fetch would never send) and
 * fetch: encoded traversal, NUL, overlong segments, invalid UTF-8, huge headers, odd
 * methods, garbage If-None-Match and Accept-Encoding. No 5xx, no file written (or read)
 * outside the cache folder, nothing hostile stored, and the server still serves afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetDb } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { checkEntryFile, copyBasicDist, diffTrees, entryFiles, figure, listTree, type ListedFile } from './helpers.js'
import { prng, type Random } from '../helpers/prng.js'

const RAW_REQUESTS = 6_000
const FETCH_REQUESTS = 4_000
const CONCURRENCY = 32
const SEED = Number(process.env.FAULTS_SEED ?? 0x15ad)
/** Planted outside the client folder: no answer may ever contain it. */
const CANARY = 'canary-7f3a9c-must-never-be-served'


const PREFIXES = ['/', '/blog/', '/blog/1/', '/docs/', '/docs/a/', '/assets/', '/static/', '/api/revalidate/', '/shop/', '/fixed/', '/empty-params/', '/isr-cache/', '/server/', '/client/']
const NASTY = [
  '..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '..%2f', '..%2F', '..%5c', '..\\', '%252e%252e', '%252f', '%25', '%c0%ae%c0%ae', '%c0%af', '..%c0%af', '%e0%80%ae',
  '%00', '%00.html', 'a%00b', '%ff', '%fe%ff', '%80', '%ed%a0%80', '%f4%90%80%80', '%e2%82', '%', '%zz', '%2', '%u002e', '..;', '....//', '.../',
  '%0d%0aSet-Cookie:%20x=1', '%0a', '%09', '%7f', '%e2%80%a8', '%ef%bf%bd', '~', '%7e', 'index.html', '.env', '.git/config', 'isr-cache', 'prerender-manifest.json',
  'server/entry.js', 'etc/passwd', 'canary.txt', '%2e%2e%2fcanary.txt', 'assets', 'blog', 'docs', '1', '__proto__', 'constructor', 'prototype', '%3Cscript%3E', '<script>',
  '"', "'", '`', '{', '}', '|', '^', '[', ']', '@', ':', ';', '=', '&', '+', '$', ',', '%20', ' ',
]
/** Raw bytes (latin1) fetch would escape: control characters and non-ASCII in the request line. */
const RAW_ONLY = ['\u0000', '\u0001', '\u007f', '\u0080', '\u00ff', '\u00c0\u00ae', '\t', '#frag', '?q=../../x', '?%00', '\\..\\..\\', '//', '///etc/passwd']
const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'TRACE', 'CONNECT', 'BREW', 'get', 'GeT', 'G\u0000ET', 'M'.repeat(200), '', 'GET GET']
const INM = ['*', '""', '"', 'W/', 'W/""', ',', ','.repeat(5_000), 'W/"x", *, "', '"a"-gz', '"--"', '"-"', '"x"'.repeat(2_000), 'garbage', '\u00ff\u00fe', '*, *']
const AE = ['br;q=abc', '*;q=0', 'gzip;q=1e999', 'br;q=-1', 'identity;q=0', ','.repeat(10 * 1024), 'gzip, '.repeat(1_000), ';;;;', 'q=1', 'br;q=NaN', '*', 'x'.repeat(8_000), 'br ; q = 0.5 , gzip;q=1.0']

function nastyPath(r: Random, raw: boolean): string {
  const parts = raw ? [...NASTY, ...RAW_ONLY] : NASTY
  let path = r.pick(PREFIXES)
  const n = 1 + r.int(6)
  for (let i = 0; i < n; i++) {
    const roll = r.next()
    if (roll < 0.06) path += 'a'.repeat(200 + r.int(1_200)) // overlong segments (limit 255)
    else if (roll < 0.1) path += Array.from({ length: 1 + r.int(8) }, () => '%' + r.int(256).toString(16).padStart(2, '0')).join('') // random bytes, mostly invalid UTF-8
    else if (roll < 0.14) path += String.fromCodePoint(0x80 + r.int(0x2fff)) // raw Unicode
    else path += r.pick(parts)
    if (r.next() < 0.7) path += '/'
  }
  if (r.next() < 0.03) path += '/x'.repeat(600 + r.int(1_000)) // over the 1024 path limit
  return path
}

function nastyHeaders(r: Random): [string, string][] {
  const headers: [string, string][] = []
  if (r.next() < 0.4) headers.push(['If-None-Match', r.pick(INM)])
  if (r.next() < 0.4) headers.push(['Accept-Encoding', r.pick(AE)])
  if (r.next() < 0.05) headers.push(['X-Big', 'b'.repeat(14_000 + r.int(1_500))]) // near Node's 16 kB header limit
  if (r.next() < 0.03) headers.push(['X-Too-Big', 'b'.repeat(17_000 + r.int(4_000))]) // over it: Node answers 431
  if (r.next() < 0.03) for (let i = 0; i < 300; i++) headers.push([`X-H${i}`, String(i)])
  if (r.next() < 0.05) headers.push(['Range', r.pick(['bytes=0-0,-1', 'bytes=999999999-', 'bytes=-0', 'bytes=abc', 'bytes=' + '0-1,'.repeat(500)])])
  if (r.next() < 0.03) headers.push(['Cookie', 'a='.repeat(3_000)])
  return headers
}

interface RawAnswer {
  status: number | undefined
  body: string
}

/** One request written as bytes on a fresh connection; resolves with the status line's code (or none) once the server closes it. */
function rawRequest(port: number, bytes: Buffer): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.setTimeout(5_000, () => socket.destroy())
    socket.on('connect', () => socket.write(bytes))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      resolve({ status: match ? Number(match[1]) : undefined, body: text })
    })
  })
}

function rawBytes(r: Random): Buffer {
  const method = r.next() < 0.7 ? 'GET' : r.pick(METHODS)
  const target = r.next() < 0.04 ? r.pick(['*', 'http://evil.example/blog/1', 'blog/1', '', '/blog/1 HTTP/1.1\r\nX: y', '%2fblog%2f1']) : nastyPath(r, true)
  const version = r.next() < 0.05 ? r.pick(['HTTP/1.0', 'HTTP/9.9', 'HTTP/1.1 x', 'HTTX/1.1']) : 'HTTP/1.1'
  let head = `${method} ${target} ${version}\r\n`
  if (r.next() > 0.02) head += 'Host: 127.0.0.1\r\n'
  for (const [name, value] of nastyHeaders(r)) head += `${name}: ${value}\r\n`
  let body = ''
  if (method === 'POST' || method === 'PUT' || r.next() < 0.03) {
    body = r.pick(['hello', '{"a":1}', 'x'.repeat(5_000)])
    head += r.next() < 0.2 ? `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n` : `Content-Length: ${body.length}\r\n`
  }
  head += 'Connection: close\r\n\r\n'
  return Buffer.from(head + body, 'latin1')
}

type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'other' | 'no answer'
const classOf = (status: number | undefined): StatusClass =>
  status === undefined ? 'no answer' : status >= 200 && status < 600 ? (`${Math.floor(status / 100)}xx` as StatusClass) : 'other'

describe('hostile input', () => {
  const root = mkdtempSync(join(tmpdir(), 'vite-isr-faults-hostile-'))
  const cacheDir = join(root, 'cache')
  const dist = copyBasicDist('faults-hostile')
  let server: TestServer
  let port: number
  let rootBefore: Map<string, ListedFile>
  let distBefore: Map<string, ListedFile>

  beforeAll(async () => {
    resetDb()
    writeFileSync(join(root, 'canary.txt'), CANARY)
    writeFileSync(join(dist.dir, 'canary.txt'), CANARY)
    writeFileSync(join(dist.dir, 'server', 'canary.txt'), CANARY)
    server = await startServer({ distDir: dist.dir, cacheDir, mode: 'fast-path' })
    port = Number(new URL(server.url).port)
    rootBefore = listTree(root)
    distBefore = listTree(dist.dir)
  })
  afterAll(async () => {
    await server?.close()
    rmSync(root, { recursive: true, force: true })
    dist.remove()
  })

  it(`${RAW_REQUESTS + FETCH_REQUESTS} hostile requests: no 5xx, nothing written or read outside cacheDir, nothing hostile cached, the server still serves`, async () => {
    const counts: Record<string, Record<StatusClass, number>> = { raw: {} as Record<StatusClass, number>, fetch: {} as Record<StatusClass, number> }
    const bad: string[] = []
    let connects = 0
    const codes: Record<string, number> = {}
    const record = (via: 'raw' | 'fetch', what: string, status: number | undefined, body: string) => {
      // Node's http server closes a CONNECT at once when no 'connect' listener is set (the
      // app never sees it): counted apart, not as a missing answer.
      if (via === 'raw' && status === undefined && what.startsWith('CONNECT ')) {
        connects++
        return
      }
      const cls = classOf(status)
      counts[via][cls] = (counts[via][cls] ?? 0) + 1
      codes[status ?? 'none'] = (codes[status ?? 'none'] ?? 0) + 1
      if ((cls === '5xx' || cls === 'no answer' || cls === 'other') && bad.length < 20) bad.push(`${via} ${status ?? 'no answer'}: ${JSON.stringify(what.slice(0, 200))}`)
      if ((body.includes(CANARY) || body.includes('db-client-secret-marker') || body.includes('"notFoundRoutes"')) && bad.length < 20) bad.push(`${via} leaked a file outside the client folder: ${JSON.stringify(what.slice(0, 200))}`)
    }

    // Over raw sockets: the bytes exactly as written, one connection each.
    const r = prng(SEED)
    let sent = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        // Stop early once enough went wrong (a dead server would make every request wait).
        while (sent < RAW_REQUESTS && bad.length < 20) {
          sent++
          const bytes = rawBytes(r)
          const answer = await rawRequest(port, bytes)
          record('raw', bytes.toString('latin1').split('\r\n')[0], answer.status, answer.body)
        }
      }),
    )

    // With fetch: what a browser or a crawler's HTTP client sends (it encodes what it must).
    const f = prng(SEED + 1)
    let fetched = 0
    let refused = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (fetched < FETCH_REQUESTS && bad.length < 20) {
          fetched++
          const path = nastyPath(f, false)
          const method = f.pick(['GET', 'GET', 'GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'PROPFIND', 'PATCH', 'get'])
          const headers = nastyHeaders(f).filter(([name]) => name !== 'X-Too-Big' && name !== 'X-Big')
          let init: RequestInit
          try {
            init = { method, headers, redirect: 'manual', body: method === 'POST' || method === 'PATCH' ? 'x=1' : undefined }
            const res = await fetch(server.url + path, init)
            record('fetch', `${method} ${path}`, res.status, await res.text())
          } catch (error) {
            // fetch refused to send it (an invalid URL or header): not the server's doing
            if (error instanceof TypeError && !/fetch failed/.test(error.message)) refused++
            else record('fetch', `${method} ${path}: ${(error as Error).message}`, undefined, '')
          }
        }
      }),
    )

    figure(`hostile input: ${sent} raw requests ${JSON.stringify(counts.raw)} (${connects} CONNECT closed by Node); ${fetched} fetch requests ${JSON.stringify(counts.fetch)} (${refused} refused by fetch itself); seed ${SEED}`)
    figure(`hostile input: answers by status ${JSON.stringify(codes)}`)
    expect(bad).toEqual([])
    expect(sent + fetched).toBe(RAW_REQUESTS + FETCH_REQUESTS)
    expect(counts.raw['5xx'] ?? 0).toBe(0)
    expect(counts.fetch['5xx'] ?? 0).toBe(0)

    // Nothing was written outside the cache folder (the dist copy is untouched as well).
    const outside = diffTrees(rootBefore, listTree(root)).filter((change) => !change.split(' ')[1].startsWith('cache/'))
    expect(outside).toEqual([])
    expect(diffTrees(distBefore, listTree(dist.dir))).toEqual([])

    // What was stored is keyed by clean paths only: no `..`, `.`, empty segment, control character or backslash.
    const keys = entryFiles(cacheDir).map((file) => checkEntryFile(file)).flatMap((c) => (c.ok ? [c.key] : []))
    const pagePaths = keys.filter((key) => key.startsWith('page:')).map((key) => key.slice(key.indexOf(':', 'page:'.length) + 1))
    // eslint-disable-next-line no-control-regex
    const unclean = pagePaths.filter((p) => p !== '/' && (p.slice(1).split('/').some((s) => s === '' || s === '.' || s === '..' || s.length > 255) || /[\u0000-\u001f\u007f\\]/.test(p)))
    figure(`hostile input: ${keys.length} entries stored in cacheDir, ${unclean.length} with an unclean path; ${outside.length} files changed outside it`)
    expect(unclean).toEqual([])

    // Still serving.
    const page = await server.get('/blog/1')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('First post')
    const docs = await server.get('/docs/after/the/storm')
    expect(docs.status).toBe(200)
    expect(await docs.text()).toContain('docs after|the|storm')
  }, 120_000)
})
