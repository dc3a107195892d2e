/**
 * A full or read-only disk must not keep the server down (SPEC §11): it starts, serves every
 * page from memory with one warning per outage (not one line per request), and resumes
 * writing entries when the disk takes writes again.
 *
 * The disk is real: a 512 kB tmpfs mounted for the test (test/helpers/small-disk.ts), filled
 * by a ballast file until the kernel answers ENOSPC, or remounted read-only (EROFS). The
 * server is a child process (test/security/disk-server.mjs), so the whole start-up path runs:
 * creating the cache folder, copying the build's prerendered pages into it, the seed marker.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { mountSmallDisk, type SmallDisk } from '../helpers/small-disk.js'
import { startDiskServer, type DiskServer } from './disk-helpers.js'

const OUTAGE = /warning: cannot write to the cache folder/
const RESUMED = /warning: the cache folder .* takes writes again: resumed writing entries/
const RETRY_MS = 5_000

function entryFiles(cacheDir: string): number {
  try {
    return readdirSync(join(cacheDir, 'entries'), { recursive: true }).filter((name) => String(name).endsWith('.entry')).length
  } catch {
    return 0
  }
}

/** `rounds` requests over `pages` distinct on-demand pages: every answer is the page, 200. */
async function serveMany(server: DiskServer, prefix: string, pages: number, rounds: number): Promise<Record<string, number>> {
  const states: Record<string, number> = {}
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: pages }, async (_, i) => {
        const res = await server.get(`/empty-params/${prefix}${i}`)
        const body = await res.text()
        expect(res.status).toBe(200)
        expect(body).toContain(`<p>empty <!-- -->${prefix}${i}</p>`)
        const state = res.headers.get('x-isr-cache') ?? '-'
        states[state] = (states[state] ?? 0) + 1
      }),
    )
  }
  return states
}

describe('a full or read-only disk', () => {
  let disk: SmallDisk | undefined
  let server: DiskServer | undefined
  afterEach(async () => {
    await server?.kill()
    server = undefined
    disk?.remove()
    disk = undefined
  })

  /** The warnings and errors of the outage; errors must be none. */
  const outageLines = (s: DiskServer) => ({ outage: s.grep(OUTAGE), resumed: s.grep(RESUMED), errors: s.lines.filter((line) => /error/i.test(line)) })

  it('starts on a full disk with a fresh cache folder, serves from memory with one warning, and resumes writing once there is room', async () => {
    disk = mountSmallDisk()
    disk.fill()
    const cacheDir = join(disk.dir, 'cache')
    server = await startDiskServer({ cacheDir })

    const states = await serveMany(server, 'full-', 30, 10)
    // The prerendered pages could not be copied: they render on first request, like the rest.
    const blog = await server.get('/blog/1')
    expect(blog.status).toBe(200)
    const lines = outageLines(server)
    console.log(`full disk at start: 300 requests over 30 pages ${JSON.stringify(states)}; log: ${lines.outage.length} outage warning, ${lines.errors.length} error lines; entry files on disk: ${entryFiles(cacheDir)}`)
    expect(states).toEqual({ MISS: 30, HIT: 270 })
    expect(lines.outage).toHaveLength(1)
    expect(lines.outage[0]).toContain('ENOSPC')
    expect(lines.errors).toEqual([])
    expect(entryFiles(cacheDir)).toBe(0)

    disk.free()
    // Still inside the back-off: nothing is tried yet.
    await serveMany(server, 'early-', 1, 1)
    expect(entryFiles(cacheDir)).toBe(0)
    await server.advanceClock(RETRY_MS)
    // The first write after the back-off is the one try; once it succeeds, all writes go through.
    await serveMany(server, 'probe-', 1, 1)
    await serveMany(server, 'after-', 5, 1)
    await expect.poll(() => entryFiles(cacheDir)).toBe(6)
    expect(outageLines(server).resumed).toHaveLength(1)
    expect(outageLines(server).outage).toHaveLength(1)
    expect(server.exitCode).toBe(null)
  })

  it('starts on a read-only disk, serves from memory with one warning, and resumes writing when it is writable again', async () => {
    disk = mountSmallDisk()
    disk.readOnly()
    const cacheDir = join(disk.dir, 'cache')
    server = await startDiskServer({ cacheDir })

    const states = await serveMany(server, 'ro-', 30, 10)
    const lines = outageLines(server)
    console.log(`read-only disk at start: 300 requests over 30 pages ${JSON.stringify(states)}; log: ${lines.outage.length} outage warning, ${lines.errors.length} error lines`)
    expect(states).toEqual({ MISS: 30, HIT: 270 })
    expect(lines.outage).toHaveLength(1)
    expect(lines.outage[0]).toContain('EROFS')
    expect(lines.errors).toEqual([])

    disk.writable()
    await server.advanceClock(RETRY_MS)
    await serveMany(server, 'probe-', 1, 1)
    await serveMany(server, 'rw-', 5, 1)
    await expect.poll(() => entryFiles(cacheDir)).toBe(6)
    expect(outageLines(server).resumed).toHaveLength(1)
    expect(server.exitCode).toBe(null)
  })

  it('a running server whose disk fills logs one warning for the outage, not one line per request, and keeps serving', async () => {
    disk = mountSmallDisk()
    const cacheDir = join(disk.dir, 'cache')
    server = await startDiskServer({ cacheDir })
    await serveMany(server, 'before-', 3, 1)
    const before = entryFiles(cacheDir)
    expect(before).toBeGreaterThanOrEqual(3)

    disk.fill()
    const states = await serveMany(server, 'during-', 40, 5)
    const lines = outageLines(server)
    console.log(`disk filled while running: 200 requests over 40 new pages ${JSON.stringify(states)}; log: ${lines.outage.length} outage warning, ${lines.errors.length} error lines; entry files ${before} before, ${entryFiles(cacheDir)} after`)
    expect(states).toEqual({ MISS: 40, HIT: 160 })
    expect(lines.outage).toHaveLength(1)
    expect(lines.errors).toEqual([])
    expect(entryFiles(cacheDir)).toBe(before)

    // Still full after the back-off: one more try fails quietly (no second warning).
    await server.advanceClock(RETRY_MS)
    await serveMany(server, 'still-', 3, 1)
    expect(outageLines(server).outage).toHaveLength(1)
    expect(outageLines(server).errors).toEqual([])

    disk.free()
    await server.advanceClock(2 * RETRY_MS)
    await serveMany(server, 'probe-', 1, 1)
    await serveMany(server, 'after-', 3, 1)
    await expect.poll(() => entryFiles(cacheDir)).toBe(before + 4)
    expect(outageLines(server).resumed).toHaveLength(1)
  })
})
