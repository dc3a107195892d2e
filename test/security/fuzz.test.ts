/**
 * Fuzz: 10,000 requests (FUZZ_REQUESTS) with random bytes in the path, in headers, and in
 * the values a loader puts in `Location` (`/go/[to]`, `/go-query?to=`) or a route handler
 * puts in a header (`/echo/[value]`, `/echo/x?v=`), alternating between the Express
 * middleware server and the `isr.wrap(app)` fast path, in a child process
 * (server-child.mjs). The run is split in phases; between phases the process is restarted
 * over the same cache folders, and redirects cached before are served again from disk.
 * If the process ever ends by itself, the inputs in flight are recorded, it is restarted,
 * and the test fails printing them. Asserted: 0 process exits, 0 5xx except the documented
 * ones (a render that fails answers the app's error page; a route handler whose Response
 * cannot be sent answers 500), and every answer's headers are sendable bytes.
 * FUZZ_SEED reproduces a run.
 */
import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { copyBasicDist } from '../faults/helpers.js'
import { tempCacheDir } from '../helpers/fixture-db.js'
import { startChild, type ChildServer } from './child.js'

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000)
const SEED = Number(process.env.FUZZ_SEED ?? 0x5ec12)
const PHASES = 4
const CONCURRENCY = 16

/** mulberry32, as in test/faults/hostile-input.test.ts: the same seed gives the same inputs. */
function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]
  return { next, int, pick }
}
type Random = ReturnType<typeof prng>

const TRICKS = ['\r\n', '\r\nSet-Cookie: sid=x', '\n', '\r', '\u0000', '\u2028', '\ufeff', '%', '%0d%0a', '..', '.', '\\', '//', '?', '#', '@', 'http://evil.example', '//evil.example', '/\\evil.example', '[', 'xn--', ' ', '\t']
// eslint-disable-next-line no-control-regex
const PATH_TRICKS = TRICKS.filter((trick) => !/[\u0000-\u001f]/.test(trick))

/**
 * Random text: ASCII, C0 controls, Latin-1, the BMP above it, astral planes, lone surrogates,
 * and known tricks. `controls` is the share of C0 controls: the path checks answer 400 to
 * any, so a path parameter gets few, to reach the loader most of the time; a query gets many.
 */
function randomText(r: Random, maxLength: number, controls: number): string {
  let text = ''
  const n = 1 + r.int(maxLength)
  for (let i = 0; i < n; i++) {
    const roll = r.next()
    if (r.next() < controls) text += String.fromCharCode(r.int(0x20))
    else if (roll < 0.45) text += String.fromCharCode(0x20 + r.int(0x5f))
    else if (roll < 0.55) text += String.fromCharCode(0x7f + r.int(0x81))
    else if (roll < 0.8) text += String.fromCharCode(0x100 + r.int(0xd700))
    else if (roll < 0.85) text += String.fromCodePoint(0x10000 + r.int(0x100000))
    else if (roll < 0.88) text += controls < 0.01 ? '\u00e9' : String.fromCharCode(0xd800 + r.int(0x800))
    else text += r.pick(controls < 0.01 ? PATH_TRICKS : TRICKS)
  }
  return text
}

/** Percent-encode all but unreserved characters (lone surrogates become U+FFFD); in a path, sometimes with a raw invalid byte. */
function percent(r: Random, text: string, inPath = true): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) out += /[\w.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  return inPath && r.next() < 0.05 ? out + '%' + r.pick(['ff', 'c0', 'e6%97', 'zz', '']) : out
}

type Kind = 'location' | 'location-query' | 'header' | 'header-query' | 'raw-path' | 'raw-header'
type Server = 'middleware' | 'fast-path'

interface Input {
  n: number
  kind: Kind
  server: Server
  /** What the request carries: a path (fetch), or request bytes (latin1) for raw kinds. */
  path: string
  raw?: string
  /** For echo requests: the value the route handler puts in `x-echo`. */
  value?: string
}

const PAGES = ['/', '/blog/1', '/blog/3', '/static', '/go/abc', '/echo/x', '/docs/a/b', '/shop', '/now']
const HEADER_NAMES = ['If-None-Match', 'Accept-Encoding', 'Cookie', 'Host', 'Accept', 'User-Agent', 'Range', 'If-Modified-Since', 'X-Forwarded-Proto', 'Content-Type', 'Referer', 'X-Random']

function randomBytes(r: Random, max: number, allowLineBreaks: boolean): string {
  let s = ''
  const n = 1 + r.int(max)
  for (let i = 0; i < n; i++) {
    let byte = r.int(256)
    if (!allowLineBreaks && (byte === 10 || byte === 13)) byte = 0x41
    s += String.fromCharCode(byte)
  }
  return s
}

/** `.` and `..` as a whole segment are resolved away by fetch's URL parser, so the request would go elsewhere. */
const segment = (text: string): string => (text === '.' || text === '..' ? text + 'x' : text)

function makeInput(r: Random, n: number): Input {
  const server: Server = n % 2 === 0 ? 'middleware' : 'fast-path'
  const roll = r.next()
  if (roll < 0.3) return { n, server, kind: 'location', path: '/go/' + percent(r, segment(randomText(r, 40, 0.002))) }
  if (roll < 0.4) return { n, server, kind: 'location-query', path: '/go-query?to=' + percent(r, (r.next() < 0.5 ? '/' : '') + randomText(r, 40, 0.1), false) }
  if (roll < 0.5) {
    const value = segment(randomText(r, 30, 0.002))
    return { n, server, kind: 'header', path: '/echo/' + percent(r, value), value }
  }
  if (roll < 0.6) {
    const value = randomText(r, 30, 0.1)
    return { n, server, kind: 'header-query', path: '/echo/x?v=' + percent(r, value, false), value }
  }
  if (roll < 0.8) {
    // Random bytes in the request target, as no client library would send them.
    const target = r.pick(['/', '/go/', '/blog/', '/echo/', '/static/', '/docs/']) + randomBytes(r, 60, r.next() < 0.05).replace(/ /g, r.next() < 0.5 ? '%20' : ' ')
    return { n, server, kind: 'raw-path', path: target, raw: `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n` }
  }
  const path = r.pick(PAGES)
  let head = `${r.next() < 0.8 ? 'GET' : 'HEAD'} ${path} HTTP/1.1\r\n`
  if (r.next() < 0.9) head += 'Host: 127.0.0.1\r\n'
  for (let i = 1 + r.int(4); i > 0; i--) {
    const name = r.next() < 0.9 ? r.pick(HEADER_NAMES) : randomBytes(r, 12, false).replace(/[:\s]/g, 'x')
    head += `${name}: ${randomBytes(r, 80, r.next() < 0.05)}\r\n`
  }
  return { n, server, kind: 'raw-header', path, raw: head + 'Connection: close\r\n\r\n' }
}

interface Answer {
  status: number | undefined
  headers: Map<string, string>
  body: string
}

function rawRequest(base: string, bytes: string): Promise<Answer> {
  const port = Number(new URL(base).port)
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let failed: Error | undefined
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')))
    socket.on('connect', () => socket.write(Buffer.from(bytes, 'latin1')))
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', (error) => (failed = error))
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      if (!match && failed) return reject(failed)
      const end = text.indexOf('\r\n\r\n')
      const headers = new Map<string, string>()
      for (const line of text.slice(0, end === -1 ? undefined : end).split('\r\n').slice(1)) {
        const colon = line.indexOf(':')
        if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
      }
      resolve({ status: match ? Number(match[1]) : undefined, headers, body: end === -1 ? '' : text.slice(end + 4) })
    })
  })
}

async function fetchRequest(base: string, path: string): Promise<Answer> {
  const res = await fetch(base + path, { redirect: 'manual' })
  const headers = new Map<string, string>()
  res.headers.forEach((value, name) => headers.set(name, value))
  return { status: res.status, headers, body: await res.text() }
}

/** The header value the route handler ends up asking Node to send, and whether both the Fetch API and Node accept it. */
function echoOutcome(value: string): { sendable: boolean; sent: string } {
  const sent = value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '')
  // Fetch: a ByteString (<= U+00FF) without NUL, CR or LF. Node: tab, printable ASCII or 0x80-0xFF.
  return { sendable: /^[\t\u0020-\u007e\u0080-\u00ff]*$/.test(sent), sent }
}

const ERROR_PAGE = '<h1>Something went wrong</h1>'
// eslint-disable-next-line no-control-regex
const SENDABLE_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/

/** What is wrong with an answer, or undefined. `documented500` tells a 500 that the spec promises apart from a failure. */
function judge(input: Input, answer: Answer): { wrong?: string; documented500?: string } {
  const { status } = answer
  for (const [name, value] of answer.headers) if (!SENDABLE_VALUE.test(value)) return { wrong: `header ${name} not sendable` }
  const location = answer.headers.get('location')
  if (location !== undefined && !/^[\u0021-\u007e]+$/.test(location)) return { wrong: `Location ${JSON.stringify(location)} is not printable ASCII` }
  switch (input.kind) {
    case 'location':
      if (status === 307) return location?.startsWith('/dest/') ? {} : { wrong: `307 to ${JSON.stringify(location)}` }
      return status === 308 || status === 400 || status === 404 ? {} : { wrong: `status ${status}` }
    case 'location-query':
      if (status === 307 || status === 308) return location ? {} : { wrong: `${status} without Location` }
      // A target the URL parser refuses (`http://[`) or an empty one fails the render: the error page.
      if (status === 500 && answer.body.includes(ERROR_PAGE)) return { documented500: 'render failed (error page)' }
      return { wrong: `status ${status}` }
    case 'header':
    case 'header-query': {
      if (status === 400 || status === 404 || status === 308) return input.kind === 'header' ? {} : { wrong: `status ${status}` }
      const { sendable, sent } = echoOutcome(input.value!)
      if (sendable) return status === 200 && answer.headers.get('x-echo') === sent ? {} : { wrong: `status ${status}, x-echo ${JSON.stringify(answer.headers.get('x-echo'))} for ${JSON.stringify(sent)}` }
      if (status === 500 && !answer.headers.has('x-echo')) return { documented500: 'route handler refused its header value (Fetch or Node)' }
      return { wrong: `status ${status} for an unsendable ${JSON.stringify(input.value)}` }
    }
    default:
      if (status === undefined) return { wrong: 'no answer' }
      return status >= 500 ? { wrong: `status ${status}` } : {}
  }
}

describe('fuzz', () => {
  const dist = copyBasicDist('security-fuzz')
  const cache = tempCacheDir()
  let child: ChildServer | undefined
  afterAll(async () => {
    await child?.stop()
    cache.remove()
    dist.remove()
  })

  it(`${REQUESTS} requests with random bytes in paths, headers, Location and route handler headers: the process never exits and vite-isr answers no 5xx but the documented ones`, async () => {
    const r = prng(SEED)
    const started = Date.now()
    const start = () => startChild({ distDir: dist.dir, cacheDir: cache.dir })
    child = await start()
    const exits: string[] = []
    const inFlight = new Map<number, Input>()
    let restarting: Promise<void> | undefined
    /** After a connection failure: if the process ended, record what was in flight and start it again. */
    const recoverIfDead = async () => {
      await new Promise((resolve) => setTimeout(resolve, 100))
      if (child!.exit && !restarting) {
        const dead = child!
        exits.push(`exit ${JSON.stringify(dead.exit)} ${dead.fatal ?? ''}\n  inputs in flight: ${[...inFlight.values()].map((i) => JSON.stringify(i.raw ?? i.path)).join('\n    ')}`)
        restarting = start().then((c) => {
          child = c
          restarting = undefined
        })
      }
      await restarting
    }

    const statuses: Record<string, number> = {}
    const documented: Record<string, number> = {}
    const problems: string[] = []
    let problemCount = 0
    const cachedRedirects = new Map<string, string>() // `${server} ${path}` -> Location
    let rereadFromDisk = 0
    const timing: Partial<Record<Kind, { count: number; total: number; max: number }>> = {}

    let n = 0
    const perPhase = Math.ceil(REQUESTS / PHASES)
    for (let phase = 0; phase < PHASES; phase++) {
      const end = Math.min(REQUESTS, (phase + 1) * perPhase)
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (n < end) {
            const input = makeInput(r, n++)
            await restarting
            const base = input.server === 'middleware' ? child!.middleware : child!.fastPath
            inFlight.set(input.n, input)
            let answer: Answer
            const sent = performance.now()
            try {
              answer = input.raw ? await rawRequest(base, input.raw) : await fetchRequest(base, input.path)
            } catch (error) {
              await recoverIfDead()
              problemCount++
              if (problems.length < 10) problems.push(`${input.kind} ${JSON.stringify(input.raw ?? input.path)}: ${(error as Error).message}`)
              inFlight.delete(input.n)
              continue
            }
            inFlight.delete(input.n)
            const ms = performance.now() - sent
            const t = (timing[input.kind] ??= { count: 0, total: 0, max: 0 })
            t.count++
            t.total += ms
            t.max = Math.max(t.max, ms)
            const cls = answer.status === undefined ? 'no answer' : `${String(answer.status)[0]}xx`
            statuses[cls] = (statuses[cls] ?? 0) + 1
            const verdict = judge(input, answer)
            if (verdict.documented500) documented[verdict.documented500] = (documented[verdict.documented500] ?? 0) + 1
            if (verdict.wrong) {
              problemCount++
              if (problems.length < 10) problems.push(`${input.kind} on ${input.server} ${JSON.stringify(input.raw ?? input.path)}: ${verdict.wrong}`)
            }
            if (input.kind === 'location' && answer.status === 307 && cachedRedirects.size < 200) cachedRedirects.set(`${input.server} ${input.path}`, answer.headers.get('location')!)
          }
        }),
      )
      if (phase === PHASES - 1) break
      // A planned restart over the same cache folders: what was cached is read back from disk.
      await restarting
      const old = child!
      await old.stop()
      expect(old.fatal, old.fatal).toBeUndefined()
      expect(old.exit).toEqual({ code: 0, signal: null })
      child = await start()
      for (const [key, location] of [...cachedRedirects].slice(-40)) {
        const [server, path] = key.split(' ')
        const answer = await fetchRequest(server === 'middleware' ? child.middleware : child.fastPath, path)
        expect([path, answer.status, answer.headers.get('location'), answer.headers.get('x-isr-cache')]).toEqual([path, 307, location, 'HIT'])
        rereadFromDisk++
      }
    }
    await restarting
    expect(child!.exit).toBeUndefined()
    for (const base of [child!.middleware, child!.fastPath]) expect((await fetch(base + '/static')).status).toBe(200)

    const seconds = (Date.now() - started) / 1000
    const documentedTotal = Object.values(documented).reduce((a, b) => a + b, 0)
    console.log(
      `[security] fuzz: ${REQUESTS} requests (seed ${SEED}) in ${seconds.toFixed(1)} s over ${PHASES} server processes (${PHASES - 1} planned restarts on the same cache, ${rereadFromDisk} cached redirects served again from disk): ` +
        `process exits ${exits.length}; answers ${JSON.stringify(statuses)}; documented 500s ${documentedTotal} ${JSON.stringify(documented)}; ` +
        `other 5xx or wrong answers ${problemCount}; ms per kind (mean/max) ` +
        Object.entries(timing).map(([kind, t]) => `${kind} ${(t.total / t.count).toFixed(1)}/${t.max.toFixed(0)}`).join(', '),
    )
    expect(exits, exits.join('\n')).toEqual([])
    expect(problems).toEqual([])
    expect(problemCount).toBe(0)
    expect(rereadFromDisk).toBeGreaterThan(0)
  }, 300_000)
})
