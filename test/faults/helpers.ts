/**
 * Small tools shared by the fault tests: a load loop of concurrent fetches, file-system
 * listings and sizes, an entry-file reader independent of the runtime's codec, and the
 * `[faults]` figure lines each test prints.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import zlib from 'node:zlib'
import { REPO } from '../helpers/build.js'
import { BASIC_DIST } from '../helpers/fixture-db.js'

/**
 * A private copy of the built basic fixture under test/.tmp (inside the repo, so its server
 * bundle still resolves react and vite-isr): a test that spans several server processes
 * keeps one build id even if the fixture is rebuilt meanwhile.
 */
export function copyBasicDist(name: string): { dir: string; remove(): void } {
  const parent = join(REPO, 'test/.tmp')
  mkdirSync(parent, { recursive: true })
  const dir = mkdtempSync(join(parent, `${name}-`))
  cpSync(BASIC_DIST, dir, { recursive: true })
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Print one figure line, e.g. `[faults] failing origin: 1234 requests, 0 non-2xx`. */
export function figure(line: string): void {
  console.log(`[faults] ${line}`)
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} kB`

export interface LoadResult {
  requests: number
  /** Responses by status code. */
  statuses: Record<number, number>
  /** Responses by X-ISR-Cache value. */
  states: Record<string, number>
  /** Requests that failed without a response (connection errors). */
  errors: number
  /** How many answers were unexpected (status or body), connection errors included. */
  problemCount: number
  /** Descriptions of the first few of them. */
  problems: string[]
  /** Highest latency seen, ms (printed, never asserted: the machine is shared). */
  maxLatencyMs: number
}

export interface LoadOptions {
  /** The base URL, e.g. http://127.0.0.1:1234 */
  url: string
  /** Concurrent requests in flight. */
  concurrency: number
  /** Request path number `i` (0, 1, 2 … in the order they are sent). */
  path(i: number): string
  /** Stop after this many requests … */
  total?: number
  /** … or when this resolves / after this many ms of real time. */
  until?: Promise<unknown>
  durationMs?: number
  /** Judge one answer; return a description of what is wrong, or undefined. */
  check?(path: string, res: Response, body: string): string | undefined
  /** Called after every answer (e.g. to sample a memory figure). */
  onResponse?(i: number): void
  init?: RequestInit
}

/** A fault window of real load: `concurrency` loops of `fetch`, each sending its next request as soon as the last is answered. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { requests: 0, statuses: {}, states: {}, errors: 0, problemCount: 0, problems: [], maxLatencyMs: 0 }
  const problem = (text: string) => {
    result.problemCount++
    if (result.problems.length < 10) result.problems.push(text)
  }
  let stop = false
  const timer = options.durationMs === undefined ? undefined : setTimeout(() => (stop = true), options.durationMs)
  options.until?.then(() => (stop = true))
  let next = 0
  const worker = async () => {
    while (!stop && (options.total === undefined || next < options.total)) {
      const i = next++
      const path = options.path(i)
      const started = performance.now()
      try {
        const res = await fetch(options.url + path, { redirect: 'manual', ...options.init })
        const body = await res.text()
        result.maxLatencyMs = Math.max(result.maxLatencyMs, performance.now() - started)
        result.requests++
        result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1
        const state = res.headers.get('x-isr-cache') ?? '-'
        result.states[state] = (result.states[state] ?? 0) + 1
        const wrong = options.check?.(path, res, body)
        if (wrong !== undefined) problem(`${path}: ${wrong}`)
      } catch (error) {
        result.requests++
        result.errors++
        problem(`${path}: ${(error as Error).message}`)
      }
      options.onResponse?.(i)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  clearTimeout(timer)
  return result
}

export const countWhere = (statuses: Record<number, number>, test: (status: number) => boolean): number =>
  Object.entries(statuses).reduce((n, [status, count]) => n + (test(Number(status)) ? count : 0), 0)

export interface ListedFile {
  size: number
  mtimeMs: number
}

/** Every file under `dir` (recursively) by path relative to it, with size and mtime. */
export function listTree(dir: string): Map<string, ListedFile> {
  const out = new Map<string, ListedFile>()
  for (const dirent of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = join(dirent.parentPath, dirent.name)
    const info = statSync(file, { throwIfNoEntry: false })
    if (!info) continue
    const rel = relative(dir, file).split(sep).join('/')
    out.set(dirent.isDirectory() ? rel + '/' : rel, { size: dirent.isDirectory() ? 0 : info.size, mtimeMs: dirent.isDirectory() ? 0 : info.mtimeMs })
  }
  return out
}

/** Files under `dir` (recursively): how many and their total bytes. */
export function diskUse(dir: string): { files: number; bytes: number } {
  let files = 0
  let bytes = 0
  for (const [path, info] of listTree(dir)) {
    if (path.endsWith('/')) continue
    files++
    bytes += info.size
  }
  return { files, bytes }
}

/** What changed between two listings: added, removed and modified paths. */
export function diffTrees(before: Map<string, ListedFile>, after: Map<string, ListedFile>): string[] {
  const changes: string[] = []
  for (const [path, info] of after) {
    const old = before.get(path)
    if (!old) changes.push(`added ${path}`)
    else if (old.size !== info.size || old.mtimeMs !== info.mtimeMs) changes.push(`modified ${path}`)
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push(`removed ${path}`)
  return changes
}

export type EntryFileCheck = { ok: true; key: string; body: Buffer; status: number } | { ok: false; reason: string }

const MAGIC = Buffer.from('VISR', 'latin1')

/**
 * Read one `.entry` file of the filesystem handler on our own (not with the runtime's codec,
 * so a broken codec cannot vouch for itself): the frame's magic, version and header length,
 * the crc32 over the JSON header and the body, the header's fields and the body length.
 */
export function checkEntryFile(file: string): EntryFileCheck {
  const data = readFileSync(file)
  if (data.length < 13 || !data.subarray(0, 4).equals(MAGIC)) return { ok: false, reason: 'bad magic' }
  if (data[4] !== 3) return { ok: false, reason: `version ${data[4]}` }
  const headerEnd = 13 + data.readUInt32BE(5)
  if (headerEnd > data.length) return { ok: false, reason: 'header cut' }
  if (zlib.crc32(data.subarray(13)) !== data.readUInt32BE(9)) return { ok: false, reason: 'checksum' }
  let header: { key?: unknown; bodyLength?: unknown; status?: unknown; encodings?: { gzip?: number; br?: number }; payload?: { length: number; gzip?: number; br?: number } }
  try {
    header = JSON.parse(data.toString('utf8', 13, headerEnd))
  } catch {
    return { ok: false, reason: 'header not JSON' }
  }
  if (typeof header.key !== 'string' || typeof header.bodyLength !== 'number') return { ok: false, reason: 'header fields' }
  // The body is followed by its gzip and brotli copies when the page was prepared with them,
  // then by the page's data payload and its own compressed copies.
  const payload = header.payload ? header.payload.length + (header.payload.gzip ?? 0) + (header.payload.br ?? 0) : 0
  const stored = header.bodyLength + (header.encodings?.gzip ?? 0) + (header.encodings?.br ?? 0) + payload
  if (headerEnd + stored !== data.length) return { ok: false, reason: `length ${data.length - headerEnd} != ${stored}` }
  return { ok: true, key: header.key, body: data.subarray(headerEnd, headerEnd + header.bodyLength), status: Number(header.status) }
}

/** Every `.entry` file under `<cacheDir>/entries`. */
export function entryFiles(cacheDir: string): string[] {
  return [...listTree(join(cacheDir, 'entries')).keys()].filter((p) => p.endsWith('.entry')).map((p) => join(cacheDir, 'entries', p))
}

/** A garbage collection, so that heap figures before and after compare live objects only. */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
}

export function memory(): { rss: number; live: number } {
  const usage = process.memoryUsage()
  return { rss: usage.rss, live: usage.heapUsed + usage.external }
}
