/**
 * The file-system handler's tag invalidations: an append-only `tags.log` of JSON lines
 * (`{"tag","at","mode"}`), held in memory as a bounded `TagTimeStore` so `getTagTimes`
 * answers synchronously.
 *
 * The log is read in chunks, line by line, never into one string (a log past 512 MiB used to
 * stop the server from starting), and rewritten atomically from memory once it holds far more
 * lines than live records: at start, and whenever appends have made it so.
 */
import fs, { createReadStream } from 'node:fs'
import { createTagTimes, type TagTimeStore, type TagTimesOptions } from './tag-times.js'
import type { TagInvalidation } from './types.js'

/** A longer line is not one of ours (tags are at most 256 characters): it is skipped. */
const MAX_LINE_BYTES = 16 * 1024
/** Compact once the log holds more than twice its live records and this many lines besides. */
const COMPACT_SLACK_LINES = 1_000
const CHUNK_BYTES = 64 * 1024
/** Bytes read from the log at a time (the memory a start spends on it, whatever its size). */
const READ_BYTES = 1024 * 1024

export interface TagLogOptions extends TagTimesOptions {
  /** Replace the log's content atomically with `chunks` (temp file, fsync, rename). */
  rewrite(chunks: Buffer[]): Promise<void>
  /** Bound on each read of the log (ms): past it, start fails rather than hang. */
  readTimeoutMs: number
  /** The clock (ms since the epoch) of the entries' `lastModified`. */
  now: () => number
  warn: (message: string) => void
}

/** Never through a symlink, never blocking on a FIFO (constants absent on Windows are 0). */
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)
const APPEND_FLAGS = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)

/** What opening `tags.log` met in place of a regular file (a symlink, a FIFO, a folder): not ours. */
class NotOurs extends Error {
  readonly code = 'EFTYPE'
}

export interface TagLog {
  readonly times: TagTimeStore
  /** Record the invalidation in memory, then append it to the log (compacting it when due). */
  append(tags: readonly string[], invalidation: TagInvalidation): Promise<void>
  /** Lines the log file holds now. */
  readonly lines: number
  /** Resolves once every append and compaction started so far is done. */
  settled(): Promise<void>
}

export async function openTagLog(file: string, options: TagLogOptions): Promise<TagLog> {
  const times = createTagTimes(options)
  let read: { lines: number; damaged: boolean }
  try {
    read = await readTagLog(file, times, options.readTimeoutMs)
  } catch (error) {
    if (!(error instanceof NotOurs)) throw error
    // Whatever was planted is neither read nor written through: the rewrite below renames a
    // file of ours over it. Its invalidations are unknown, so every entry stored so far
    // counts as invalidated (each renders once more) rather than risk serving one past them.
    options.warn(`${error.message}; it is replaced, and every cached entry renders once more`)
    times.raiseFloor({ expired: options.now(), stale: 0 })
    read = { lines: 0, damaged: true }
  }
  let lines = read.lines
  let queue: Promise<unknown> = Promise.resolve()
  // Every record holds at least one time, so below twice the record count nothing is due:
  // the count of live times (a walk of every record) is taken only past that.
  const due = () => lines > 2 * times.size + COMPACT_SLACK_LINES && lines > 2 * liveRecords(times) + COMPACT_SLACK_LINES

  // A failed rewrite (a full or read-only disk) leaves the log as it was, still valid: the
  // next append tries again, and neither the start nor the invalidation fails for it.
  const compact = async () => {
    const { chunks, count } = snapshot(times)
    try {
      await options.rewrite(chunks)
      lines = count
    } catch {
      // kept as it was
    }
  }
  // Rewriting also drops a torn tail, which the next append would otherwise extend into garbage.
  if (read.damaged || lines > 2 * liveRecords(times) + 100) await compact()

  return {
    times,
    get lines() {
      return lines
    },
    async append(tags, invalidation) {
      if (tags.length === 0) return
      // Applied in memory first: if persisting fails, this process still honours it.
      times.record(tags, invalidation)
      const text = tags.map((tag) => JSON.stringify({ tag, at: invalidation.at, mode: invalidation.mode }) + '\n').join('')
      // Serialized so that two calls' lines never interleave, nor land in a file being replaced.
      const write = queue.then(async () => {
        try {
          await appendTo(file, text)
        } catch (error) {
          if (!(error instanceof NotOurs)) throw error
          // Replaced by something else since start: the rewrite puts a file of ours back, with this record.
          options.warn(`${error.message}; it is replaced`)
          const { chunks, count } = snapshot(times)
          await options.rewrite(chunks)
          lines = count
          return
        }
        lines += tags.length
        if (due()) await compact()
      })
      queue = write.catch(() => {})
      await write
    },
    settled: () => queue.then(() => {}),
  }
}

function liveRecords(times: TagTimeStore): number {
  let n = Number(times.floor.expired > 0) + Number(times.floor.stale > 0)
  for (const [, { expired, stale }] of times.records()) n += Number(expired > 0) + Number(stale > 0)
  return n
}

/** The store as log lines, in chunks of about `CHUNK_BYTES`: the floor first, then each record. */
function snapshot(times: TagTimeStore): { chunks: Buffer[]; count: number } {
  const chunks: Buffer[] = []
  let text = ''
  let count = 0
  const line = (record: object) => {
    text += JSON.stringify(record) + '\n'
    count++
    if (text.length >= CHUNK_BYTES) {
      chunks.push(Buffer.from(text, 'utf8'))
      text = ''
    }
  }
  const { floor } = times
  if (floor.expired > 0) line({ floor: true, at: floor.expired, mode: 'expire' })
  if (floor.stale > 0) line({ floor: true, at: floor.stale, mode: 'stale' })
  for (const [tag, { expired, stale }] of times.records()) {
    if (expired > 0) line({ tag, at: expired, mode: 'expire' })
    if (stale > 0) line({ tag, at: stale, mode: 'stale' })
  }
  if (text !== '') chunks.push(Buffer.from(text, 'utf8'))
  return { chunks, count }
}

/**
 * Stream `file` into `times`. A damaged line only loses its own invalidation; `damaged` says
 * whether anything was skipped (a torn last line, an over-long or unreadable one), so the
 * caller rewrites the log.
 */
function call<T = void>(start: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))))
}

/** An fd of `file` opened with `flags`, if it is a regular file; else `NotOurs` (ELOOP: a symlink). */
async function openRegular(file: string, flags: number): Promise<number> {
  let fd: number
  try {
    fd = await call<number>((done) => fs.open(file, flags, 0o600, done))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new NotOurs(`the tag log ${file} is a symbolic link, which vite-isr never follows`)
    throw error
  }
  const stats = await call<fs.Stats>((done) => fs.fstat(fd, done)).catch(async (error) => {
    await call((done) => fs.close(fd, done)).catch(() => {})
    throw error
  })
  if (!stats.isFile()) {
    await call((done) => fs.close(fd, done)).catch(() => {})
    throw new NotOurs(`the tag log ${file} is not a regular file`)
  }
  return fd
}

async function appendTo(file: string, text: string): Promise<void> {
  const fd = await openRegular(file, APPEND_FLAGS)
  try {
    await call((done) => fs.write(fd, text, null, 'utf8', (error) => done(error)))
  } finally {
    await call((done) => fs.close(fd, done)).catch(() => {})
  }
}

/** `next()` of `chunks`, or a rejection after `ms`: a stuck disk fails the start instead of hanging it. */
async function nextWithin<T>(chunks: AsyncIterator<T>, ms: number, file: string): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`[vite-isr] reading the tag log ${file} took longer than ${ms} ms; check the disk holding the cache folder`)), ms)
  })
  try {
    return await Promise.race([chunks.next(), timedOut])
  } finally {
    clearTimeout(timer)
  }
}

async function readTagLog(file: string, times: TagTimeStore, readTimeoutMs: number): Promise<{ lines: number; damaged: boolean }> {
  let lines = 0
  let damaged = false
  let pending: Buffer[] = []
  let pendingBytes = 0
  let skipping = false
  const take = (line: Buffer) => {
    lines++
    if (!applyLine(times, line)) damaged = true
  }
  let fd: number
  try {
    fd = await openRegular(file, READ_FLAGS)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, damaged: false }
    throw error
  }
  const stream = createReadStream('', { fd, highWaterMark: READ_BYTES })
  const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  try {
    for (let next = await nextWithin(chunks, readTimeoutMs, file); !next.done; next = await nextWithin(chunks, readTimeoutMs, file)) {
      const chunk = next.value
      let start = 0
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl)
        start = nl + 1
        if (skipping || pendingBytes + piece.length > MAX_LINE_BYTES) {
          skipping = false
          damaged = true
          lines++
        } else {
          take(pending.length === 0 ? piece : Buffer.concat([...pending, piece]))
        }
        pending = []
        pendingBytes = 0
      }
      if (skipping) continue
      const rest = chunk.subarray(start)
      if (pendingBytes + rest.length > MAX_LINE_BYTES) {
        // A line this long is not ours: drop what was gathered and skip to its end.
        skipping = true
        pending = []
        pendingBytes = 0
      } else if (rest.length > 0) {
        // Copied: the stream may reuse its chunk's memory.
        pending.push(Buffer.from(rest))
        pendingBytes += rest.length
      }
    }
  } finally {
    stream.destroy()
  }
  // A crash mid-append leaves a last line without its newline: it is ignored.
  if (skipping || pendingBytes > 0) damaged = true
  return { lines, damaged }
}

function applyLine(times: TagTimeStore, line: Buffer): boolean {
  if (line.length === 0) return true
  let record: { tag?: unknown; floor?: unknown; at?: unknown; mode?: unknown }
  try {
    record = JSON.parse(line.toString('utf8'))
  } catch {
    return false
  }
  if (typeof record !== 'object' || record === null) return false
  const { tag, at, mode } = record
  if (typeof at !== 'number' || !Number.isFinite(at) || (mode !== 'expire' && mode !== 'stale')) return false
  if (record.floor === true) {
    times.raiseFloor(mode === 'expire' ? { expired: at, stale: 0 } : { expired: 0, stale: at })
    return true
  }
  if (typeof tag !== 'string') return false
  times.record([tag], { at, mode })
  return true
}
