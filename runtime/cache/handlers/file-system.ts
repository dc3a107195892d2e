import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { DiskIndex } from './disk-index.js'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import { appendFile, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { describeValue, maxTagTimes, recordInvalidation } from './memory.js'
import type { TagTimeMap } from './memory.js'
import type { CacheEntry, CacheHandler, SetOptions, TagInvalidation, TagTimes } from './types.js'

export interface FileSystemCacheHandlerOptions {
  /**
   * Directory holding the cache (created if missing). Entries live in
   * `<dir>/entries/<2 hex>/<16 hex>.entry` (the first 64 bits of the key's SHA-256; each file
   * also holds its key, so the rare collision is a miss, never another key's entry), tag
   * invalidations in `<dir>/tags.log`.
   * Tag times are read once at start: processes sharing a directory share entries but
   * not each other's later invalidations (use a shared store such as Redis for that).
   */
  dir: string
  /**
   * Upper bound, in bytes, of the entry files. Past it the least recently used entries are
   * deleted (recency counts reads and writes of this process; files already there at start
   * rank by modification time). `Infinity` for no bound.
   * @default Infinity
   */
  maxSize?: number
  /**
   * How `set` writes a file. `'atomic'`: to a temp file renamed over the entry, so a reader
   * never sees half an entry. `'direct'`: straight to the entry's name, synchronously (no
   * temp file, no rename, no thread-pool round trips), for a directory that this handler
   * alone fills while nothing reads it: the build writes its seed this way. A file torn by
   * a crash still fails its checksum and reads as a miss.
   * @default 'atomic'
   */
  writes?: 'atomic' | 'direct'
}

export interface FileSystemCacheHandler extends CacheHandler {
  readonly name: 'file-system'
  /** Absolute path of the cache directory. */
  readonly dir: string
  /** Bytes of entry files this handler knows of (bounded by `maxSize`). */
  readonly diskSize: number
  get(key: string): Promise<CacheEntry | undefined>
  set(key: string, entry: CacheEntry, options?: SetOptions): Promise<void>
  delete(key: string): Promise<void>
  invalidateTags(tags: readonly string[], invalidation: TagInvalidation): Promise<void>
  getTagTimes(tags: readonly string[]): TagTimes
  dispose(): Promise<void>
}

/** Temp files younger than this may belong to a write in flight in another process. */
const STALE_TEMP_MS = 60_000

/**
 * A durable cache in a directory: one checksummed file per entry, written atomically
 * (temp file + rename), and an append-only log of tag invalidations kept in memory so
 * `getTagTimes` answers synchronously. Entries set with `memoryOnly` are not written.
 */
export async function createFileSystemCacheHandler(
  options: FileSystemCacheHandlerOptions,
): Promise<FileSystemCacheHandler> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`[vite-isr] file-system cache handler options must be an object (got ${describeValue(options)})`)
  }
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw new TypeError(`[vite-isr] dir must be a non-empty string (got ${describeValue(options.dir)})`)
  }
  const maxSize = options.maxSize ?? Infinity
  if (typeof maxSize !== 'number' || !(maxSize > 0) || (maxSize !== Infinity && !Number.isSafeInteger(maxSize))) {
    throw new TypeError(`[vite-isr] maxSize must be a positive integer of bytes or Infinity (got ${describeValue(maxSize)})`)
  }
  const writes = options.writes ?? 'atomic'
  if (writes !== 'atomic' && writes !== 'direct') {
    throw new TypeError(`[vite-isr] writes must be 'atomic' or 'direct' (got ${describeValue(writes)})`)
  }
  const dir = path.resolve(options.dir)
  const entriesDir = path.join(dir, 'entries')
  const logFile = path.join(dir, 'tags.log')

  await mkdir(entriesDir, { recursive: true })
  const existing = await sweepEntries(dir, entriesDir)
  const tagTimes = await loadTagLog(logFile)

  // Concatenated, not path.join()ed: the name is hex and the folder already resolved.
  const fileOf = (name: string) => `${entriesDir}${path.sep}${name.slice(0, 2)}${path.sep}${name}.entry`
  // 16 hex digits, not 64: the disk index below holds one name per file (100,000 files:
  // 3 MB of names instead of 8 MB, which the JS heap then multiplies by its growth room).
  // Encoded from the first 8 bytes, not sliced from the 64-digit string: a slice is a view
  // that keeps its whole parent string alive for as long as the index holds it.
  const hashOf = (key: string) => createHash('sha256').update(key).digest().toString('hex', 0, 8)
  // The disk LRU: file sizes by file name (without `.entry`; names of any length found at
  // start are kept as they are, so files of an older layout are still bounded and evicted),
  // least recently used first out; eviction deletes the file.
  const files = new DiskIndex({ maxSize, evict: (hash) => void removeFile(fileOf(hash)).catch(() => {}) })
  for (const { hash, size } of existing) files.set(hash, size)
  let appending: Promise<unknown> = Promise.resolve()

  return {
    name: 'file-system',
    dir,
    get diskSize() {
      return files.totalSize
    },
    async get(key) {
      const hash = hashOf(key)
      const file = fileOf(hash)
      let data: Buffer
      try {
        data = await readFile(file)
      } catch (error) {
        if (isCode(error, 'ENOENT')) {
          files.delete(hash)
          return undefined
        }
        throw error
      }
      const entry = decodeEntry(data, key)
      if (entry === undefined) {
        // A damaged entry is a miss whatever happens to its removal; the next set replaces it.
        files.delete(hash)
        await removeFile(file).catch(() => {})
      } else if (!files.touch(hash)) files.set(hash, data.length)
      return entry
    },
    async set(key, entry, setOptions) {
      const hash = hashOf(key)
      const file = fileOf(hash)
      files.delete(hash)
      // Not written, but an older entry under the key must not outlive its replacement.
      if (setOptions?.memoryOnly) return removeFile(file)
      const chunks = encodeEntry(key, entry)
      const size = chunks.reduce((n, chunk) => n + chunk.length, 0)
      if (size > maxSize) return removeFile(file)
      if (writes === 'direct') writeDirect(file, chunks)
      else await writeAtomic(file, chunks)
      files.set(hash, size)
    },
    delete(key) {
      const hash = hashOf(key)
      files.delete(hash)
      return removeFile(fileOf(hash))
    },
    async invalidateTags(tags, invalidation) {
      if (tags.length === 0) return
      // Applied in memory first: if persisting fails, this process still honours it.
      recordInvalidation(tagTimes, tags, invalidation)
      const lines = tags.map((tag) => JSON.stringify({ tag, at: invalidation.at, mode: invalidation.mode }) + '\n')
      // Serialized so that two calls' lines never interleave in the log.
      const write = appending.then(() => appendFile(logFile, lines.join('')))
      appending = write.catch(() => {})
      await write
    },
    getTagTimes(tags) {
      return maxTagTimes(tagTimes, tags)
    },
    async dispose() {
      await appending
    },
  }
}

async function loadTagLog(logFile: string): Promise<TagTimeMap> {
  const map: TagTimeMap = new Map()
  let data: Buffer
  try {
    data = await readFile(logFile)
  } catch (error) {
    if (isCode(error, 'ENOENT')) return map
    throw error
  }
  // A crash mid-append leaves a last line without its newline: ignore it.
  const end = data.lastIndexOf(0x0a) + 1
  let lineCount = 0
  for (const line of data.toString('utf8', 0, end).split('\n')) {
    if (line === '') continue
    lineCount++
    try {
      const { tag, at, mode } = JSON.parse(line)
      if (typeof tag === 'string' && Number.isFinite(at) && (mode === 'expire' || mode === 'stale')) {
        recordInvalidation(map, [tag], { at, mode })
      }
    } catch {
      // A damaged line only loses its own invalidation.
    }
  }
  let records = 0
  for (const times of map.values()) records += Number(times.expired > 0) + Number(times.stale > 0)
  // Rewriting also drops a torn tail, which the next append would otherwise extend into garbage.
  if (end < data.length || lineCount > 2 * records + 100) {
    let text = ''
    for (const [tag, { expired, stale }] of map) {
      if (expired > 0) text += JSON.stringify({ tag, at: expired, mode: 'expire' }) + '\n'
      if (stale > 0) text += JSON.stringify({ tag, at: stale, mode: 'stale' }) + '\n'
    }
    await writeAtomic(logFile, [Buffer.from(text, 'utf8')], true)
  }
  return map
}

// Temp names: unique within this process by the counter, across processes (and across
// restarts of a container whose server is always pid 1) by the random part.
const tempPrefix = `${process.pid}.${randomBytes(4).toString('hex')}`
let tempCount = 0

/**
 * Entries are not fsynced: a file torn by a power loss fails its checksum and reads as a
 * miss. The compacted tag log is (`flush`), since losing it would resurrect stale pages.
 * Callback `fs` rather than `fs/promises`: one `writev` and no FileHandle per write.
 */
async function writeAtomic(file: string, chunks: Buffer[], flush = false): Promise<void> {
  const temp = `${file}.${tempPrefix}.${(tempCount++).toString(36)}.tmp`
  try {
    let fd: number
    try {
      fd = await call<number>((done) => fs.open(temp, 'wx', done))
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error
      await mkdir(path.dirname(file), { recursive: true })
      fd = await call<number>((done) => fs.open(temp, 'wx', done))
    }
    try {
      await writeAll(fd, chunks)
      if (flush) await call((done) => fs.fsync(fd, done))
    } finally {
      await call((done) => fs.close(fd, done))
    }
    await call((done) => fs.rename(temp, file, done))
  } catch (error) {
    await removeFile(temp)
    throw error
  }
}

/** `writev` until every byte is written (a short write is legal, if rare on files). */
async function writeAll(fd: number, chunks: Buffer[]): Promise<void> {
  let rest = chunks
  while (rest.length > 0) rest = afterWrite(rest, await call<number>((done) => fs.writev(fd, rest, done)))
}

/** What is left of `chunks` once `written` bytes of them are written. */
function afterWrite(chunks: Buffer[], written: number): Buffer[] {
  let i = 0
  while (i < chunks.length && written >= chunks[i].length) written -= chunks[i++].length
  if (i === chunks.length) return []
  return written > 0 ? [chunks[i].subarray(written), ...chunks.slice(i + 1)] : chunks.slice(i)
}

function writeDirect(file: string, chunks: Buffer[]): void {
  let fd: number
  try {
    fd = fs.openSync(file, 'w')
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fd = fs.openSync(file, 'w')
  }
  try {
    let rest = chunks
    while (rest.length > 0) rest = afterWrite(rest, fs.writevSync(fd, rest))
  } finally {
    fs.closeSync(fd)
  }
}

function call<T = void>(start: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))))
}

/**
 * One walk at start: remove temp files left by writes that crashed (old enough not to be
 * in flight elsewhere), and list the entry files, oldest first, for the disk LRU.
 */
async function sweepEntries(dir: string, entriesDir: string): Promise<{ hash: string; size: number }[]> {
  const cutoff = Date.now() - STALE_TEMP_MS
  const found: { hash: string; size: number; mtime: number }[] = []
  const sweep = async (folder: string) => {
    const names = await readdir(folder).catch(() => [] as string[])
    await Promise.all(
      names.map(async (name) => {
        const isTemp = name.endsWith('.tmp')
        if (!isTemp && !(folder !== dir && name.endsWith('.entry'))) return
        const file = path.join(folder, name)
        const info = await stat(file).catch(() => undefined)
        if (!info?.isFile()) return
        if (!isTemp) found.push({ hash: name.slice(0, -'.entry'.length), size: info.size, mtime: info.mtimeMs })
        else if (info.mtimeMs < cutoff) await removeFile(file)
      }),
    )
  }
  const shards = await readdir(entriesDir, { withFileTypes: true })
  await Promise.all([sweep(dir), ...shards.filter((d) => d.isDirectory()).map((d) => sweep(path.join(entriesDir, d.name)))])
  return found.sort((a, b) => a.mtime - b.mtime)
}

async function removeFile(file: string): Promise<void> {
  try {
    await unlink(file)
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code
}
