import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { createDiskHealth, isDiskTrouble } from './disk-health.js'
import { DiskIndex } from './disk-index.js'
import { walkFolder } from './disk-walk.js'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import { lstat, mkdir, stat, statfs, unlink } from 'node:fs/promises'
import { DEFAULT_STORE_READ_TIMEOUT_MS } from '../defaults.js'
import path from 'node:path'
import { describeValue } from './memory.js'
import { openTagLog } from './tag-log.js'
import { checkTagTimesOptions, DEFAULT_TAG_RETENTION } from './tag-times.js'
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
   * Upper bound, in bytes of disk allocated (whole file-system blocks, not content bytes: a
   * 300-byte entry takes 4096 bytes on most file systems), of the entry files. Past it the
   * least recently used entries are deleted (recency counts reads and writes of this process;
   * files already there at start rank below them). `Infinity` for no bound.
   * @default Infinity
   */
  maxSize?: number
  /**
   * Upper bound on the number of entry files (each also costs an inode and a directory
   * entry, whatever its size). Past it the least recently used entries are deleted.
   * `Infinity` for no bound.
   * @default Infinity
   */
  maxEntries?: number
  /**
   * How `set` writes a file. `'atomic'`: to a temp file renamed over the entry, so a reader
   * never sees half an entry. `'direct'`: straight to the entry's name, synchronously (no
   * temp file, no rename, no thread-pool round trips), for a directory that this handler
   * alone fills while nothing reads it: the build writes its seed this way. A file torn by
   * a crash still fails its checksum and reads as a miss.
   * @default 'atomic'
   */
  writes?: 'atomic' | 'direct'
  /**
   * Seconds an invalidation time is kept in `tags.log`; an entry older than this counts as
   * expired whatever its tags say (see `CacheHandler.tagRetention`).
   * @default 31622400 (a year and a day)
   */
  tagRetention?: number
  /**
   * Tag records kept. Past it, the records raised longest ago are folded into one time that
   * applies to every tagged entry (entries older than it render once more; none is served
   * past an invalidation).
   * @default 100000
   */
  maxTags?: number
  /**
   * Where warnings go: one when the folder cannot be written (full, read-only, no
   * permission) and one when writing resumes.
   * @default a line to process.stderr
   */
  warn?: (message: string) => void
  /**
   * The clock, in ms since the epoch, for the back-off between write attempts while the
   * folder cannot be written.
   * @default Date.now
   */
  now?: () => number
  /**
   * Milliseconds a read of the folder may take (an entry, or a chunk of `tags.log` at start).
   * A slower entry read counts as a miss (the page renders; one warning a minute at most);
   * a slower `tags.log` read fails the start.
   * @default 5000
   */
  readTimeoutMs?: number
}

export interface FileSystemCacheHandler extends CacheHandler {
  readonly name: 'file-system'
  /** Absolute path of the cache directory. */
  readonly dir: string
  /** Bytes of disk (whole blocks) taken by the entry files this handler knows of (bounded by `maxSize`). */
  readonly diskSize: number
  readonly tagRetention: number
  /** Entry files this handler knows of (bounded by `maxEntries`). */
  readonly diskEntries: number
  /**
   * Settles once the files already in the folder at start are counted (a walk in the
   * background: start-up never waits for it). Until then the bounds apply to what is known.
   */
  readonly indexed: Promise<void>
  get(key: string): Promise<CacheEntry | undefined>
  set(key: string, entry: CacheEntry, options?: SetOptions): Promise<void>
  delete(key: string): Promise<void>
  invalidateTags(tags: readonly string[], invalidation: TagInvalidation): Promise<void>
  getTagTimes(tags: readonly string[]): TagTimes
  dispose(): Promise<void>
}

/**
 * A durable cache in a directory: one checksummed file per entry, written atomically
 * (temp file + rename), and an append-only log of tag invalidations kept in memory so
 * `getTagTimes` answers synchronously. Entries set with `memoryOnly` are not written.
 *
 * Start-up does not read the folder: entries are read by name when asked for, and the
 * files already there are counted for the bounds by a walk in the background (`indexed`).
 * When the folder cannot be written (full, read-only), `set` keeps nothing on disk and
 * resolves (a memory tier in front still holds the entry), with one warning, and tries
 * again after a back-off.
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
  const maxEntries = options.maxEntries ?? Infinity
  if (typeof maxEntries !== 'number' || !(maxEntries > 0) || (maxEntries !== Infinity && !Number.isSafeInteger(maxEntries))) {
    throw new TypeError(`[vite-isr] maxEntries must be a positive integer or Infinity (got ${describeValue(maxEntries)})`)
  }
  const writes = options.writes ?? 'atomic'
  if (writes !== 'atomic' && writes !== 'direct') {
    throw new TypeError(`[vite-isr] writes must be 'atomic' or 'direct' (got ${describeValue(writes)})`)
  }
  checkTagTimesOptions('createFileSystemCacheHandler', options.tagRetention, options.maxTags)
  if (options.warn !== undefined && typeof options.warn !== 'function') {
    throw new TypeError(`[vite-isr] warn must be a function (got ${describeValue(options.warn)})`)
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new TypeError(`[vite-isr] now must be a function returning ms since the epoch (got ${describeValue(options.now)})`)
  }
  const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_STORE_READ_TIMEOUT_MS
  if (typeof readTimeoutMs !== 'number' || !(readTimeoutMs > 0) || !Number.isFinite(readTimeoutMs)) {
    throw new TypeError(`[vite-isr] readTimeoutMs must be a positive number of milliseconds (got ${describeValue(readTimeoutMs)})`)
  }
  const warn = options.warn ?? ((message: string) => void process.stderr.write(`[vite-isr] warning: ${message}\n`))
  const now = options.now ?? Date.now
  const dir = path.resolve(options.dir)
  const entriesDir = path.join(dir, 'entries')
  const logFile = path.join(dir, 'tags.log')
  const health = createDiskHealth(options.dir, now, warn)
  const inFlight: Writes = { stopped: false, running: new Set() }
  let disposed = false

  try {
    await replacePlanted(entriesDir, warn)
    await makeFolder(entriesDir)
  } catch (error) {
    // A full or read-only disk must not stop start-up: serve from memory until it can be written.
    if (!isDiskTrouble(error)) throw error
    health.failed(error)
  }
  const blockSize = await statfs(dir).then(
    (info) => (info.bsize >= 512 ? info.bsize : 4096),
    () => 4096,
  )
  // Disk a file of `size` bytes takes: whole blocks (a 300-byte entry takes a 4 kB block).
  const allocated = (size: number) => Math.max(1, Math.ceil(size / blockSize)) * blockSize
  const tagLog = await openTagLog(logFile, {
    retention: options.tagRetention,
    maxTags: options.maxTags,
    rewrite: (chunks) => writeAtomic(logFile, chunks, inFlight, true),
    readTimeoutMs,
    now,
    warn,
  })

  // Concatenated, not path.join()ed: the name is hex and the folder already resolved.
  const fileOf = (name: string) => `${entriesDir}${path.sep}${name.slice(0, 2)}${path.sep}${name}.entry`
  const shardOf = (name: string) => `${entriesDir}${path.sep}${name.slice(0, 2)}`
  const stuck = { warnedAt: -Infinity, since: 0 }
  /** A read slower than the bound: a miss, and a warning at most once a minute (with how many since the last). */
  const readTimedOut = () => {
    stuck.since++
    if (now() - stuck.warnedAt < 60_000) return
    warn(`a read of the cache folder ${options.dir} took longer than ${readTimeoutMs} ms (${stuck.since} such read${stuck.since === 1 ? '' : 's'} since the last warning); answered as a miss and rendered. Check the disk, or raise cacheReadTimeoutMs`)
    stuck.warnedAt = now()
    stuck.since = 0
  }
  // 16 hex digits, not 64: the disk index below holds one name per file (100,000 files:
  // 3 MB of names instead of 8 MB, which the JS heap then multiplies by its growth room).
  // Encoded from the first 8 bytes, not sliced from the 64-digit string: a slice is a view
  // that keeps its whole parent string alive for as long as the index holds it.
  const hashOf = (key: string) => createHash('sha256').update(key).digest().toString('hex', 0, 8)
  // The disk LRU: bytes of disk by file name (without `.entry`; names of any length found at
  // start are kept as they are, so files of an older layout are still bounded and evicted),
  // least recently used first out; eviction deletes the file.
  const files = new DiskIndex({ maxSize, maxCount: maxEntries, evict: (hash) => void removeFile(fileOf(hash)).catch(() => {}) })
  const walk = walkFolder(dir, entriesDir, files)
  /** Shard folders a direct write has checked (see `writes`). */
  const directShards = new Set<string>()

  /** Removes an outdated file; a disk that refuses is the outage `health` already reports. */
  const removeQuietly = (file: string) => removeFile(file).catch((error) => {
    if (!isDiskTrouble(error)) throw error
  })

  return {
    name: 'file-system',
    dir,
    tagRetention: options.tagRetention ?? DEFAULT_TAG_RETENTION,
    get diskSize() {
      return files.totalSize
    },
    get diskEntries() {
      return files.count
    },
    indexed: walk.done,
    async get(key) {
      const hash = hashOf(key)
      const file = fileOf(hash)
      let data: Buffer
      try {
        const read = await within(readEntryFile(shardOf(hash), file), readTimeoutMs)
        if (read === TIMED_OUT) {
          readTimedOut()
          return undefined
        }
        data = read
      } catch (error) {
        if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) {
          files.delete(hash)
          return undefined
        }
        if (isCode(error, 'ELOOP') || isCode(error, 'EFTYPE')) {
          // A symlink, FIFO, socket or device planted in the cache folder: never followed or read; a miss, and removed.
          files.delete(hash)
          await removeFile(file).catch(() => {})
          return undefined
        }
        if (!isDiskTrouble(error)) throw error
        health.failed(error)
        return undefined
      }
      const entry = decodeEntry(data, key)
      if (entry === undefined) {
        // A damaged entry is a miss whatever happens to its removal; the next set replaces it.
        files.delete(hash)
        await removeFile(file).catch(() => {})
      } else if (!files.touch(hash)) files.set(hash, allocated(data.length))
      return entry
    },
    async set(key, entry, setOptions) {
      const hash = hashOf(key)
      const file = fileOf(hash)
      files.delete(hash)
      // Not written, but an older entry under the key must not outlive its replacement.
      if (setOptions?.memoryOnly) return removeQuietly(file)
      const chunks = encodeEntry(key, entry)
      const bytes = allocated(chunks.reduce((n, chunk) => n + chunk.length, 0))
      if (disposed) return
      if (bytes > maxSize || !health.mayWrite()) return removeQuietly(file)
      try {
        if (writes === 'direct') {
          // This handler alone fills the folder: a shard folder checked once stays ours (256 at most).
          const shard = shardOf(hash)
          if (!directShards.has(shard)) {
            replacePlantedSync(shard, warn)
            directShards.add(shard)
          }
          writeDirect(file, chunks)
        } else {
          await replacePlanted(shardOf(hash), warn)
          await writeAtomic(file, chunks, inFlight)
        }
      } catch (error) {
        if (!isDiskTrouble(error)) {
          health.settled()
          throw error
        }
        health.failed(error)
        return removeQuietly(file)
      }
      health.succeeded()
      files.set(hash, bytes)
    },
    delete(key) {
      const hash = hashOf(key)
      files.delete(hash)
      return removeQuietly(fileOf(hash))
    },
    invalidateTags(tags, invalidation) {
      return tagLog.append(tags, invalidation)
    },
    getTagTimes(tags) {
      return tagLog.times.max(tags)
    },
    async dispose() {
      disposed = true
      await walk.stop()
      await tagLog.settled()
      // Writes still running (given up on by a bounded close) stop at their next step and
      // remove their temp file: the entry stays as it was.
      inFlight.stopped = true
      await Promise.allSettled([...inFlight.running])
    },
  }
}

// Temp names: unique within this process by the counter, across processes (and across
// restarts of a container whose server is always pid 1) by the random part.
const tempPrefix = `${process.pid}.${randomBytes(4).toString('hex')}`
let tempCount = 0

/** Open flags for reading an entry: never through a symlink, never blocking on a FIFO (constants absent on Windows are 0). */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)

const TIMED_OUT = Symbol('timed out')

/** `work`, or `TIMED_OUT` once `ms` have passed (the work goes on, unheard). */
function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms)
  })
  work.catch(() => {})
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

const notOurs = (what: string) => Object.assign(new Error(`[vite-isr] ${what} in the cache folder is not a regular file or folder`), { code: 'EFTYPE' })

/** The entry file's bytes, read only if its shard is a real folder (not a link to elsewhere) and it is a regular file. */
async function readEntryFile(shard: string, file: string): Promise<Buffer> {
  const info = await lstat(shard)
  // Not removed here, nor is anything under it: an unlink through a link would reach elsewhere.
  if (!info.isDirectory()) throw Object.assign(notOurs(path.basename(shard)), { code: 'ENOTDIR' })
  return readRegularFile(file)
}

/**
 * Makes sure `folder` is not something planted in place of a folder of ours (a symlink to
 * elsewhere, a file): such a thing is removed (never what a link points to), so that nothing
 * is written outside the cache folder. A missing folder is left to the write to create.
 */
async function replacePlanted(folder: string, warn: (message: string) => void): Promise<void> {
  const info = await lstat(folder).catch((error) => {
    if (isCode(error, 'ENOENT')) return undefined
    throw error
  })
  if (info === undefined || info.isDirectory()) return
  warn(`${folder} in the cache folder is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; it is removed (vite-isr never writes through links)`)
  await unlink(folder)
}

function replacePlantedSync(folder: string, warn: (message: string) => void): void {
  let info: fs.Stats
  try {
    info = fs.lstatSync(folder)
  } catch (error) {
    if (isCode(error, 'ENOENT')) return
    throw error
  }
  if (info.isDirectory()) return
  warn(`${folder} in the cache folder is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; it is removed (vite-isr never writes through links)`)
  fs.unlinkSync(folder)
}

/** The bytes of `file` if it is a regular file; else rejects with code ELOOP (a symlink) or EFTYPE (anything else). */
async function readRegularFile(file: string): Promise<Buffer> {
  const fd = await call<number>((done) => fs.open(file, READ_FLAGS, done))
  try {
    const stats = await call<fs.Stats>((done) => fs.fstat(fd, done))
    if (!stats.isFile()) throw Object.assign(new Error(`[vite-isr] ${path.basename(file)} in the cache folder is not a regular file`), { code: 'EFTYPE' })
    return await call<Buffer>((done) => fs.readFile(fd, done))
  } finally {
    await call((done) => fs.close(fd, done)).catch(() => {})
  }
}

/**
 * Entries are not fsynced: a file torn by a power loss fails its checksum and reads as a
 * miss. The compacted tag log is (`flush`), since losing it would resurrect stale pages.
 * Callback `fs` rather than `fs/promises`: one `writev` and no FileHandle per write.
 */
async function writeAtomic(file: string, chunks: Buffer[], writes: Writes, flush = false): Promise<void> {
  if (writes.stopped) throw stoppedError()
  const work = writeThroughTemp(file, chunks, writes, flush)
  writes.running.add(work)
  const forget = () => void writes.running.delete(work)
  work.then(forget, forget)
  return work
}

/** The writes in flight of one handler; once `stopped`, each gives up at its next step. */
interface Writes {
  stopped: boolean
  running: Set<Promise<void>>
}

const stoppedError = () => Object.assign(new Error('[vite-isr] the cache was closed during this write; the entry stays as it was'), { code: 'ECLOSED' })

async function writeThroughTemp(file: string, chunks: Buffer[], writes: Writes, flush: boolean): Promise<void> {
  const temp = `${file}.${tempPrefix}.${(tempCount++).toString(36)}.tmp`
  const check = () => {
    if (writes.stopped) throw stoppedError()
  }
  try {
    let fd: number
    try {
      fd = await call<number>((done) => fs.open(temp, 'wx', 0o600, done))
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
      fd = await call<number>((done) => fs.open(temp, 'wx', 0o600, done))
    }
    try {
      check()
      await writeAll(fd, chunks)
      if (flush) await call((done) => fs.fsync(fd, done))
    } finally {
      await call((done) => fs.close(fd, done))
    }
    check()
    await call((done) => fs.rename(temp, file, done))
  } catch (error) {
    await removeFile(temp).catch(() => {})
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
    fd = fs.openSync(file, 'w', 0o600)
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    fd = fs.openSync(file, 'w', 0o600)
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

/** `mkdir -p`, failing with the real reason (EROFS, EACCES…) where `recursive` says only ENOENT. */
async function makeFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 })
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error
    let missing = folder
    while (path.dirname(missing) !== missing && !(await stat(path.dirname(missing)).then(() => true, () => false))) missing = path.dirname(missing)
    await mkdir(missing, { mode: 0o700 })
    throw error
  }
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
