/**
 * The cache folder is verified, not trusted: whatever another process plants in it (a FIFO
 * or a symlink in place of an entry), a real server on it keeps answering, reads nothing
 * through a link, and creates what it writes private to its user even under `umask 000`.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { afterBuild } from '../helpers/clock.js'
import { BASIC_DIST, resetDb, tempCacheDir } from '../helpers/fixture-db.js'
import { startServer, type TestServer } from '../helpers/server.js'

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
