/**
 * The file-system handler's tag invalidations: an append-only `tags.log` of JSON lines
 * (`{"tag","at","mode"}`), held in memory as a bounded `TagTimeStore` so `getTagTimes`
 * answers synchronously.
 *
 * The log is read in chunks, line by line, never into one string (a log past 512 MiB used to
 * stop the server from starting), and rewritten atomically from memory once it holds far more
 * lines than live records: at start, and whenever appends have made it so.
 */
import { createReadStream } from 'node:fs'
import { appendFile } from 'node:fs/promises'
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
  const read = await readTagLog(file, times)
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
        await appendFile(file, text)
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
async function readTagLog(file: string, times: TagTimeStore): Promise<{ lines: number; damaged: boolean }> {
  let lines = 0
  let damaged = false
  let pending: Buffer[] = []
  let pendingBytes = 0
  let skipping = false
  const take = (line: Buffer) => {
    lines++
    if (!applyLine(times, line)) damaged = true
  }
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: READ_BYTES }) as AsyncIterable<Buffer>) {
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
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, damaged: false }
    throw error
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
