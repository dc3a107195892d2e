/**
 * Crashes: a real server process is killed with SIGKILL while it writes many entries,
 * again and again on the same cache folder; then a server restarts on it. No truncated or
 * mixed entry is ever served: every body served from the cache is one that was rendered
 * whole. Entry files damaged anyway (a torn write after a power loss, simulated here by
 * zeroing or cutting files) are found, dropped and rendered anew.
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync, writeSync, truncateSync, statSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { checkEntryFile, copyBasicDist, entryFiles, figure, runLoad } from './helpers.js'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.mjs')
/** The figures: 1,000 entries, 20 kills. About 1.5 s per round on 2 cores. */
const ROUNDS = 20
const COUNT = 1_000
const KILL_AFTER_MS = { min: 300, max: 1_800 }
/**
 * No kill before this many entry files exist: on a loaded machine a timed kill alone could
 * land before much was written, and the restart below needs most pages in the folder.
 */
const FIRST_KILL_ENTRIES = Math.floor(COUNT * 0.7)
const FIRST_KILL_WAIT_MS = 60_000

interface Round {
  /** Entry files in the folder once the child was killed. */
  entries: number
}

/** One child: start it, let it write for a random while, kill -9 it. */
async function crashOnce(distDir: string, cacheDir: string, round: number): Promise<Round> {
  const child = spawn(process.execPath, [CHILD, distDir, cacheDir, String(round), String(COUNT)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk))
  child.stderr.on('data', (chunk: Buffer) => (err += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => child.stdout.on('data', () => out.includes('ready ') && resolve(true))),
    exited.then(() => false),
  ])
  if (!ready) throw new Error(`crash-child round ${round} exited before it was ready:\n${out}\n${err}`)
  const waitUntil = Date.now() + FIRST_KILL_WAIT_MS
  while (entryFiles(cacheDir).length < FIRST_KILL_ENTRIES) {
    if (Date.now() > waitUntil) throw new Error(`crash-child round ${round} wrote fewer than ${FIRST_KILL_ENTRIES} entries in ${FIRST_KILL_WAIT_MS} ms:\n${err}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS.min + Math.random() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min)))
  child.kill('SIGKILL')
  const { signal } = await exited
  expect(signal, `round ${round} ended by ${signal}, stderr:\n${err}`).toBe('SIGKILL')
  return { entries: entryFiles(cacheDir).length }
}

function tempFiles(cacheDir: string): number {
  const entries = join(cacheDir, 'entries')
  return readdirSync(entries, { recursive: true }).filter((name) => String(name).endsWith('.tmp')).length
}

/** What a whole render of /blog/<id> by the child holds; a reason when it is not that. */
function wholeVersion(id: string, html: string): string | undefined {
  if (!html.startsWith('<!DOCTYPE html>') || !html.trimEnd().endsWith('</html>')) return 'not a whole document'
  if (html.includes('\u0000')) return 'NUL bytes'
  if (!html.includes(`<h1>Post ${id}</h1>`)) return 'another page'
  const text = /<p id="body">([^<]*)<\/p>/.exec(html)?.[1]
  const version = text && /^r(\d+)p(\d+) id (c\d+) len (\d+) (x*)$/.exec(text)
  if (!version) return `body ${JSON.stringify(text?.slice(0, 60))}`
  if (version[3] !== id) return `body of ${version[3]}`
  if (version[5].length !== Number(version[4])) return `body cut: ${version[5].length} of ${version[4]}`
  const script = /<script id="__ISR_DATA__" type="application\/json">([^<]*)<\/script>/.exec(html)?.[1]
  try {
    const payload = JSON.parse(script ?? '') as { data?: { body?: string } }
    if (payload.data?.body !== text) return 'data payload of another version'
  } catch {
    return 'data payload not JSON'
  }
  return undefined
}

describe('crashes', () => {
  const cache = tempCacheDir()
  const dist = copyBasicDist('faults-crash')
  let server: TestServer | undefined
  afterAll(async () => {
    await server?.close()
    cache.remove()
    dist.remove()
  })

  it(`kill -9 while writing ${COUNT} entries, ${ROUNDS} times, then restart: only whole entries are served, damaged ones are dropped`, async () => {
    const started = Date.now()
    const rounds: Round[] = []
    for (let round = 0; round < ROUNDS; round++) rounds.push(await crashOnce(dist.dir, cache.dir, round))
    const leftTemp = tempFiles(cache.dir)
    figure(
      `crash: ${ROUNDS} kill -9 in ${((Date.now() - started) / 1000).toFixed(1)} s while writing ${COUNT} pages (${rounds.map((r) => r.entries).join(' ')} entry files after each kill), ` +
        `${leftTemp} temp files of interrupted writes left (never read as entries)`,
    )
    // Every entry file the kills left is whole: a write is a temp file renamed into place.
    const afterKills = entryFiles(cache.dir).map((file) => ({ file, check: checkEntryFile(file) }))
    const corruptedByKills = afterKills.filter((f) => !f.check.ok)
    figure(`crash: corrupted entry files after the kills: ${corruptedByKills.length} of ${afterKills.length}`)
    expect(corruptedByKills.map((f) => `${f.file}: ${!f.check.ok && f.check.reason}`)).toEqual([])
    // The kills were real and landed while entries were being written (rewritten: every pass
    // after the first regenerates each page).
    expect(rounds.at(-1)!.entries).toBeGreaterThanOrEqual(FIRST_KILL_ENTRIES)
    expect(leftTemp).toBeGreaterThan(0)

    // A power loss can still tear a file (entries are not fsynced): zero a block in the
    // middle of 10 of them (same length, only the checksum tells) and cut 10 others short.
    const pages = afterKills.flatMap((f) => (f.check.ok && /^page:[^:]+:\/blog\/c\d+$/.test(f.check.key) ? [{ file: f.file, key: f.check.key }] : []))
    const torn = new Map<string, string>()
    for (const [i, { file, key }] of pages.slice(0, 20).entries()) {
      const size = statSync(file).size
      if (i % 2 === 0) {
        const fd = openSync(file, 'r+')
        writeSync(fd, Buffer.alloc(4096), 0, 4096, Math.floor(size / 2))
        closeSync(fd)
      } else truncateSync(file, Math.floor(size / 2))
      torn.set(key.slice(key.lastIndexOf(':') + 1), file)
    }
    const corruptedBefore = entryFiles(cache.dir).filter((file) => !checkEntryFile(file).ok).length
    expect(corruptedBefore).toBe(20)

    // Restart on the same folder. Pages this server renders itself say so. Its clock reads
    // the time before the first child started: every entry the children wrote is then a
    // fresh HIT, served from the cache without a background regeneration.
    const db = resetDb()
    db.posts = new Proxy({} as typeof db.posts, {
      get: (_, id) => (typeof id === 'string' && /^c\d+$/.test(id) ? { title: `Post ${id}`, body: `rendered after restart ${id}` } : undefined),
    })
    const verifyStart = Date.now()
    server = await startServer({ distDir: dist.dir, cacheDir: cache.dir, now: () => started - 1, mode: 'fast-path' })
    let fromCache = 0
    let rendered = 0
    const servedTorn: string[] = []
    const load = await runLoad({
      url: server.url,
      concurrency: 16,
      total: COUNT,
      path: (i) => `/blog/c${i}`,
      check(path, res, body) {
        const id = path.slice('/blog/'.length)
        if (res.status !== 200) return `status ${res.status}`
        const state = res.headers.get('x-isr-cache')
        if (state !== 'HIT' && state !== 'MISS') return `state ${state}`
        if (state === 'MISS') {
          rendered++
          return body.includes(`rendered after restart ${id}`) ? undefined : 'MISS with another body'
        }
        fromCache++
        if (torn.has(id)) servedTorn.push(id)
        return wholeVersion(id, body)
      },
    })
    const corruptedAfter = entryFiles(cache.dir).filter((file) => !checkEntryFile(file).ok).length
    figure(
      `crash: after restart ${load.requests} pages read in ${Date.now() - verifyStart} ms: ${fromCache} served from the cache, all whole; ${rendered} absent or dropped and rendered anew; ` +
        `${corruptedBefore} corrupted entries found (torn on purpose), ${corruptedBefore - corruptedAfter} dropped`,
    )
    expect(load.problems).toEqual([])
    expect(servedTorn).toEqual([])
    expect(fromCache).toBeGreaterThan(COUNT / 2)
    expect(rendered).toBeGreaterThanOrEqual(torn.size)
    expect(corruptedAfter).toBe(0)
  }, 120_000)
})
