import { createHash, randomBytes } from 'node:crypto'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import { appendFile, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describeValue, maxTagTimes, recordInvalidation } from './memory.js'
import type { TagTimeMap } from './memory.js'
import type { CacheEntry, CacheHandler, SetOptions, TagInvalidation, TagTimes } from './types.js'

export interface FileSystemCacheHandlerOptions {
  /**
   * Directory holding the cache (created if missing). Entries live in
   * `<dir>/entries/<2 hex>/<sha256(key)>.entry`, tag invalidations in `<dir>/tags.log`.
   * Tag times are read once at start: processes sharing a directory share entries but
   * not each other's later invalidations (use a shared store such as Redis for that).
   */
  dir: string
}

export interface FileSystemCacheHandler extends CacheHandler {
  readonly name: 'file-system'
  /** Absolute path of the cache directory. */
  readonly dir: string
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
  const dir = path.resolve(options.dir)
  const entriesDir = path.join(dir, 'entries')
  const logFile = path.join(dir, 'tags.log')

  await mkdir(entriesDir, { recursive: true })
  await removeStaleTempFiles(dir, entriesDir)
  const tagTimes = await loadTagLog(logFile)

  const entryPath = (key: string) => {
    const hash = createHash('sha256').update(key).digest('hex')
    return path.join(entriesDir, hash.slice(0, 2), `${hash}.entry`)
  }
  let appending: Promise<unknown> = Promise.resolve()

  return {
    name: 'file-system',
    dir,
    async get(key) {
      const file = entryPath(key)
      let data: Buffer
      try {
        data = await readFile(file)
      } catch (error) {
        if (isCode(error, 'ENOENT')) return undefined
        throw error
      }
      const entry = decodeEntry(data, key)
      // A damaged entry is a miss whatever happens to its removal; the next set replaces it.
      if (entry === undefined) await removeFile(file).catch(() => {})
      return entry
    },
    async set(key, entry, setOptions) {
      const file = entryPath(key)
      // Not written, but an older entry under the key must not outlive its replacement.
      if (setOptions?.memoryOnly) return removeFile(file)
      await writeAtomic(file, encodeEntry(key, entry))
    },
    delete(key) {
      return removeFile(entryPath(key))
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

/**
 * Entries are not fsynced: a file torn by a power loss fails its checksum and reads as a
 * miss. The compacted tag log is (`flush`), since losing it would resurrect stale pages.
 */
async function writeAtomic(file: string, chunks: Buffer[], flush = false): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    try {
      await writeFile(temp, chunks, { flag: 'wx', flush })
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(temp, chunks, { flag: 'wx', flush })
    }
    await rename(temp, file)
  } catch (error) {
    await removeFile(temp)
    throw error
  }
}

/** Remove temp files left by writes that crashed (old enough not to be in flight elsewhere). */
async function removeStaleTempFiles(dir: string, entriesDir: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS
  const sweep = async (folder: string) => {
    const names = await readdir(folder).catch(() => [] as string[])
    await Promise.all(
      names
        .filter((name) => name.endsWith('.tmp'))
        .map(async (name) => {
          const file = path.join(folder, name)
          const info = await stat(file).catch(() => undefined)
          if (info?.isFile() && info.mtimeMs < cutoff) await removeFile(file)
        }),
    )
  }
  const shards = await readdir(entriesDir, { withFileTypes: true })
  await Promise.all([sweep(dir), ...shards.filter((d) => d.isDirectory()).map((d) => sweep(path.join(entriesDir, d.name)))])
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
