/**
 * The file-system handler's walk of its folder at start, in the background: it counts the
 * entry files already there into the disk index and removes temp files of crashed writes.
 */
import { opendir, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { DiskIndex } from './disk-index.js'

/** Temp files younger than this may belong to a write in flight in another process. */
const STALE_TEMP_MS = 60_000
/** Files the walk handles between two turns of the event loop. */
const WALK_BATCH = 16
/** The walk waits this long after start, so it never competes with start-up and the first requests. */
const WALK_DELAY_MS = 500

export interface FolderWalk {
  /** Settles when the walk is over (never rejects). */
  done: Promise<void>
  /** Ends the walk early; resolves once it has stopped. */
  stop(): Promise<void>
}

/**
 * The start-up walk, in the background: counts the entry files already in the folder into
 * `files` (with the disk each takes, from `stat`), and removes temp files left by writes
 * that crashed (old enough not to be in flight elsewhere). It starts a moment after start-up
 * and streams each folder with
 * `opendir`, a batch at a time, so neither a huge folder nor a slow disk holds memory or
 * the event loop: requests are served meanwhile.
 */
export function walkFolder(dir: string, entriesDir: string, files: DiskIndex): FolderWalk {
  let stopped = false
  let wake: () => void = () => {}
  const cutoff = Date.now() - STALE_TEMP_MS
  const visit = async (folder: string, name: string) => {
    const isTemp = name.endsWith('.tmp')
    if (!isTemp && !(folder !== dir && name.endsWith('.entry'))) return
    const file = `${folder}${path.sep}${name}`
    const hash = name.slice(0, -'.entry'.length)
    if (!isTemp && files.has(hash)) return
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) return
    // Known meanwhile (set or read by this process) means used since start: that rank stands.
    if (!isTemp) files.addFound(hash, info.blocks * 512)
    else if (info.mtimeMs < cutoff) await unlink(file).catch(() => {})
  }
  const walkOne = async (folder: string, onFolder?: (name: string) => void) => {
    let handle
    try {
      handle = await opendir(folder, { bufferSize: WALK_BATCH })
    } catch {
      return // not there (yet), or not readable: nothing to count
    }
    const batch: Promise<void>[] = []
    try {
      for await (const dirent of handle) {
        if (stopped) break
        // Some file systems do not say what an entry is (DT_UNKNOWN): `visit` stats files
        // anyway, and opening a folder that is not one fails quietly.
        const isEntryName = dirent.name.endsWith('.entry') || dirent.name.endsWith('.tmp')
        if (onFolder && !isEntryName && !dirent.isFile()) onFolder(dirent.name)
        else if (!dirent.isDirectory()) batch.push(visit(folder, dirent.name))
        if (batch.length >= WALK_BATCH) {
          await Promise.all(batch.splice(0))
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      await Promise.all(batch)
    } catch {
      // A folder removed during the walk: what it held is gone too.
    }
  }
  const done = (async () => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WALK_DELAY_MS)
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    if (stopped) return
    await walkOne(dir)
    // Shard names are collected first (at most 256 of them, plus any stray folder).
    const shards: string[] = []
    await walkOne(entriesDir, (name) => shards.push(name))
    for (const shard of shards) {
      if (stopped) return
      await walkOne(`${entriesDir}${path.sep}${shard}`)
    }
  })()
  return {
    done,
    stop() {
      stopped = true
      wake()
      return done
    },
  }
}
