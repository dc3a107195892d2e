/**
 * The cache folder is verified, not trusted: whatever another process plants in it (a FIFO
 * or a symlink in place of an entry, of `tags.log` or of a shard folder), a real server on it
 * keeps answering, reads and writes nothing through a link, creates what it writes private to
 * its user even under `umask 000`, and a read stuck on the disk neither hangs a request past
 * `cacheReadTimeoutMs` nor keeps the process from stopping on SIGTERM.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { afterBuild } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { killStopChildren, MARGIN_MS, startStopChild, type StopChild } from '../faults/stop-child.js'

let cache: ReturnType<typeof tempCacheDir>
let outside: ReturnType<typeof tempCacheDir>
const servers: TestServer[] = []
beforeEach(() => {
  const db = resetDb()
  for (const id of ['4', '5', '6', '7', '8']) db.posts[id] = { title: `Post ${id}`, body: '.' }
  cache = tempCacheDir()
  outside = tempCacheDir()
})
afterEach(async () => {
  killStopChildren()
  await Promise.all(servers.splice(0).map((s) => s.close()))
  cache.remove()
  outside.remove()
})

const start = async () => {
  const anchor = afterBuild(BASIC_DIST)
  const server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: () => anchor })
  servers.push(server)
  return server
}

function walk(dir: string, found: string[] = [], dirs: string[] = []): { files: string[]; dirs: string[] } {
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, item.name)
    if (item.isDirectory()) {
      dirs.push(full)
      walk(full, found, dirs)
    } else found.push(full)
  }
  return { files: found, dirs }
}
const entryFiles = () => walk(cache.dir).files.filter((f) => f.endsWith('.entry'))

it('keeps answering when every entry file is replaced by a FIFO', async () => {
  const first = await start()
  const paths = ['/blog/3', '/blog/4', '/blog/5', '/blog/6', '/blog/7', '/blog/8']
  for (const path of paths) await first.get(path)
  await first.close()
  servers.length = 0
  const entries = entryFiles()
  expect(entries.length).toBeGreaterThanOrEqual(paths.length)
  for (const file of entries) {
    unlinkSync(file)
    execFileSync('mkfifo', [file])
  }

  const server = await start()
  const started = performance.now()
  const statuses = await Promise.all(paths.map(async (path) => (await server.get(path, { signal: AbortSignal.timeout(5_000) })).status))
  console.log(`[security] ${entries.length} entries replaced by FIFOs: ${paths.length} requests answered ${statuses.join(', ')} in ${Math.round(performance.now() - started)} ms`)
  expect(statuses).toEqual(paths.map(() => 200))
})

it('never reads an entry through a symlink', async () => {
  const first = await start()
  expect((await first.get('/blog/3')).status).toBe(200)
  await first.close()
  servers.length = 0
  const [file] = entryFiles().filter((f) => readFileSync(f).includes('Third post'))
  const target = join(outside.dir, 'planted.entry')
  renameSync(file, target)
  symlinkSync(target, file)

  const server = await start()
  const res = await server.get('/blog/3')
  await res.text()
  console.log(`[security] entry replaced by a symlink to a valid entry elsewhere: ${res.headers.get('x-isr-cache')}`)
  expect(res.headers.get('x-isr-cache')).toBe('MISS')
  expect(readFileSync(target).includes('Third post')).toBe(true) // the link's target is left alone
})

it('creates its folders 0700 and its files 0600 even under umask 000', async () => {
  const previous = process.umask(0)
  try {
    const server = await start()
    for (const path of ['/blog/3', '/blog/4']) expect((await server.get(path)).status).toBe(200)
  } finally {
    process.umask(previous)
  }
  const { files, dirs } = walk(cache.dir)
  const modes = new Set([...files.map((f) => (statSync(f).mode & 0o777).toString(8)), ...dirs.map((d) => (statSync(d).mode & 0o777).toString(8))])
  const entryModes = [...new Set(entryFiles().map((f) => (statSync(f).mode & 0o777).toString(8)))]
  const dirModes = [...new Set(dirs.map((d) => (statSync(d).mode & 0o777).toString(8)))]
  console.log(`[security] under umask 000: entry files ${entryModes.join(', ')}, folders ${dirModes.join(', ')} (all modes seen: ${[...modes].join(', ')})`)
  expect(entryModes).toEqual(['600'])
  expect(dirModes.every((m) => m === '700')).toBe(true)
})

/** A server process on the cache folder (the example's stop handler), with `isrOptions`. */
const startProcess = (isrOptions: object = {}, env: Record<string, string> = {}) =>
  startStopChild({ CACHE_DIR: cache.dir, ISR_OPTIONS: JSON.stringify(isrOptions), ...env })

async function stop(child: StopChild): Promise<{ code: number | null; ms: number }> {
  const sent = performance.now()
  child.process.kill('SIGTERM')
  const late = new Promise<undefined>((resolve) => (setTimeout(resolve, 3 * MARGIN_MS) as unknown as NodeJS.Timeout).unref())
  const exit = await Promise.race([child.exited, late])
  if (!exit) throw new Error(`the server process did not exit within ${3 * MARGIN_MS} ms of SIGTERM:\n${child.stderr.slice(-2_000)}`)
  return { code: exit.code, ms: Math.round(exit.atMs - sent) }
}

/** Renders `/blog/<id>` for each id in a first process, which then stops. */
async function renderInProcess(ids: string[]): Promise<void> {
  const child = await startProcess()
  for (const id of ids) expect((await fetch(`${child.url}/blog/${id}`)).status).toBe(200)
  expect((await stop(child)).code).toBe(0)
}

it('answers a page whose entry file is a FIFO with a render within cacheReadTimeoutMs, and still stops on SIGTERM', async () => {
  await renderInProcess(['s0', 's1'])
  for (const file of entryFiles()) {
    unlinkSync(file)
    execFileSync('mkfifo', [file])
  }
  const child = await startProcess({ cacheReadTimeoutMs: 1_000 })
  const started = performance.now()
  const res = await fetch(`${child.url}/blog/s0`, { signal: AbortSignal.timeout(20_000) })
  const ms = Math.round(performance.now() - started)
  expect(res.status).toBe(200)
  expect(res.headers.get('x-isr-cache')).toBe('MISS')
  expect(await res.text()).toContain('version 0 of s0')
  const stopped = await stop(child)
  console.log(`[security] entry file replaced by a FIFO: MISS answered in ${ms} ms; SIGTERM: exit ${stopped.code} in ${stopped.ms} ms`)
  expect(stopped.code).toBe(0)
  expect(stopped.ms).toBeLessThan(MARGIN_MS)
})

/** A FIFO outside the cache folder whose blocking open holds the child's only thread-pool thread (a stuck disk). */
function jamFifo(): { fifo: string; release(): void } {
  const fifo = join(outside.dir, 'jam')
  execFileSync('mkfifo', [fifo])
  return {
    fifo,
    // Opening the write end completes the child's blocked open: its thread is free again.
    release: () => closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)),
  }
}

const STUCK_WARNING = /a read of the cache folder .* took longer than 400 ms/g

it('counts an entry read stuck on the disk as a miss after cacheReadTimeoutMs, with one warning for all of them', async () => {
  await renderInProcess(['s0', 's1'])
  const jam = jamFifo()
  // One thread in libuv's pool: the jam holds every file-system call of the process.
  const child = await startProcess({ cacheReadTimeoutMs: 400 }, { UV_THREADPOOL_SIZE: '1' })
  await child.post('/__test/jam', { fifo: jam.fifo })
  const pages = ['s0', 's1'].map((id) => fetch(`${child.url}/blog/${id}`))
  await expect.poll(() => child.stderr.match(STUCK_WARNING)?.length ?? 0, { timeout: 10_000 }).toBe(1)
  // Both reads gave up; their renders now wait for the disk to write what they rendered.
  await child.post('/__test/db', { version: 1 })
  jam.release()
  const answers = await Promise.all(pages)
  expect(answers.map((res) => res.headers.get('x-isr-cache'))).toEqual(['MISS', 'MISS'])
  expect(await answers[0].text()).toContain('of s0')
  expect(child.stderr.match(STUCK_WARNING)).toHaveLength(1)
  console.log(`[security] entry reads stuck behind a jammed disk: answered as MISS after cacheReadTimeoutMs 400; warnings: ${child.stderr.match(STUCK_WARNING)?.length}`)
  expect((await stop(child)).code).toBe(0)
})

// Node cannot end a process one of whose thread-pool threads is stuck in a system call
// (process.exit joins the pool), so the stop is bounded up to that point: isr.close() resolves.
it('resolves isr.close() within closeTimeoutMs on SIGTERM while every disk call of the process is stuck', async () => {
  await renderInProcess(['s0'])
  const jam = jamFifo()
  const child = await startProcess({ cacheReadTimeoutMs: 400, closeTimeoutMs: 1_000 }, { UV_THREADPOOL_SIZE: '1' })
  await child.post('/__test/jam', { fifo: jam.fifo })
  void fetch(`${child.url}/blog/s0`).catch(() => {})
  await expect.poll(() => child.stderr.match(STUCK_WARNING)?.length ?? 0, { timeout: 10_000 }).toBe(1)
  child.process.kill('SIGTERM')
  await expect.poll(() => /closed (\d+)/.exec(child.stdout)?.[1], { timeout: 1_000 + 1_000 + MARGIN_MS }).toBeDefined()
  const ms = Number(/closed (\d+)/.exec(child.stdout)![1])
  console.log(`[security] SIGTERM with the disk stuck: isr.close() resolved in ${ms} ms (closeTimeoutMs 1000)`)
  expect(ms).toBeLessThan(1_000 + 1_000 + MARGIN_MS)
  expect(child.stderr).toMatch(/closing: 1 render or write still running after closeTimeoutMs \(1000 ms\), given up on/)
  jam.release()
  expect((await child.exited).code).toBe(0)
})

it('starts, serves and records invalidations when tags.log is a FIFO', async () => {
  execFileSync('mkfifo', [join(cache.dir, 'tags.log')])
  const server = await Promise.race([start(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('start hung on a FIFO tags.log')), 20_000))])
  expect((await server.get('/blog/3')).status).toBe(200)
  await server.isr.revalidateTag('posts')
  expect(lstatSync(join(cache.dir, 'tags.log')).isFile()).toBe(true)
  expect(readFileSync(join(cache.dir, 'tags.log'), 'utf8')).toContain('"tag":"posts"')
})

it('never writes through a symlinked tags.log, planted before start or after it', async () => {
  const log = join(cache.dir, 'tags.log')
  const target = join(outside.dir, 'elsewhere.log')
  writeFileSync(target, 'untouched\n')
  symlinkSync(target, log)
  const server = await start()
  expect(server.logs.join('\n')).toMatch(/tags\.log is a symbolic link/)
  await server.isr.revalidateTag('posts')
  expect(lstatSync(log).isFile()).toBe(true)
  expect(readFileSync(log, 'utf8')).toContain('"tag":"posts"')

  unlinkSync(log)
  symlinkSync(target, log)
  await server.isr.revalidateTag('comments')
  expect(readFileSync(target, 'utf8')).toBe('untouched\n')
  expect(lstatSync(log).isFile()).toBe(true)
  expect(readFileSync(log, 'utf8')).toMatch(/"tag":"posts"[^]*"tag":"comments"|"tag":"comments"[^]*"tag":"posts"/)
  console.log('[security] tags.log replaced by a symlink (before start, then while serving): both refused and replaced, the target untouched')
})

it('never reads or writes an entry through a symlinked shard folder', async () => {
  const first = await start()
  expect((await first.get('/blog/3')).status).toBe(200)
  await first.close()
  servers.length = 0
  const [file] = entryFiles().filter((f) => readFileSync(f).includes('Third post'))
  const shard = dirname(file)
  const moved = join(outside.dir, 'shard')
  renameSync(shard, moved)
  symlinkSync(moved, shard)
  const listing = () => Object.fromEntries(readdirSync(moved).map((name) => [name, readFileSync(join(moved, name)).toString('base64')]))
  const before = listing()

  const server = await start()
  const res = await server.get('/blog/3')
  await res.text()
  expect(res.headers.get('x-isr-cache')).toBe('MISS')
  expect(listing()).toEqual(before)
  expect(lstatSync(shard).isDirectory()).toBe(true)
  expect(readFileSync(file).includes('Third post')).toBe(true)
  console.log(`[security] shard folder replaced by a symlink: ${res.headers.get('x-isr-cache')}, the link replaced by a folder, ${Object.keys(before).length} file(s) behind it untouched`)
})
