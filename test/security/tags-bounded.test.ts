/**
 * SPEC §11: the tag store does not grow without bound. Invalidation times that no live entry
 * can carry any more are dropped, a flood of distinct tags is bounded without ever serving
 * an entry past its invalidation, and `tags.log` is compacted and read line by line.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createFileSystemCacheHandler } from '../../runtime/cache/handlers/file-system.js'
import { createMemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import { createTieredCacheHandler } from '../../runtime/cache/handlers/tiered.js'
import type { CacheHandler } from '../../runtime/cache/handlers/types.js'
import { createLogger } from '../../runtime/inspect/debug.js'
import { createSWR } from '../../runtime/cache/swr.js'
import { createClock } from '../helpers/clock.js'
import { makeEntry } from '../cache-handlers/contract.js'

const DAY = 24 * 3600_000
const T0 = 1_800_000_000_000
const DISTINCT_TAGS = 1_000_000

let dir: string
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vite-isr-tags-'))
})
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const lineCount = async (file: string) => (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean).length

describe('a flood of distinct tags', () => {
  it(`keeps at most maxTags records after ${DISTINCT_TAGS.toLocaleString('en')} distinct tags, and still expires the entries invalidated first`, () => {
    const memory = createMemoryCacheHandler()
    memory.invalidateTags(['victim'], { at: T0, mode: 'expire' })
    for (let i = 0; i < DISTINCT_TAGS; i += 1_000) {
      memory.invalidateTags(Array.from({ length: 1_000 }, (_, j) => `attacker-${i + j}`), { at: T0 + 1 + i, mode: 'expire' })
    }
    console.log(`[security] tag records in memory after ${DISTINCT_TAGS} distinct tags: ${memory.tagCount}`)
    expect(memory.tagCount).toBeLessThanOrEqual(100_000)
    // Folded, not forgotten: an entry rendered before its invalidation is still expired.
    expect(memory.getTagTimes(['victim']).expired).toBeGreaterThanOrEqual(T0)
    expect(memory.getTagTimes(['attacker-999999']).expired).toBe(T0 + 999_001)
  })

  it('keeps the file-system store bounded across a restart, with the floor written to tags.log', async () => {
    const first = await createFileSystemCacheHandler({ dir, maxTags: 1_000 })
    await first.invalidateTags(['victim'], { at: T0, mode: 'expire' })
    for (let i = 0; i < 20_000; i += 500) {
      await first.invalidateTags(Array.from({ length: 500 }, (_, j) => `attacker-${i + j}`), { at: T0 + 1 + i, mode: 'expire' })
    }
    await first.dispose()
    const lines = await lineCount(path.join(dir, 'tags.log'))
    console.log(`[security] lines in tags.log after 20001 distinct tags with maxTags 1000: ${lines}`)
    expect(lines).toBeLessThanOrEqual(2 * 1_000 + 1_000 + 500)
    const second = await createFileSystemCacheHandler({ dir, maxTags: 1_000 })
    expect(second.getTagTimes(['victim']).expired).toBeGreaterThanOrEqual(T0)
    await second.dispose()
  })
})

describe('invalidation times past the retention', () => {
  it('are dropped once newer ones arrive, and entries that old count as expired', async () => {
    const retention = 3_600
    const memory = createMemoryCacheHandler({ tagRetention: retention })
    memory.invalidateTags(['old'], { at: T0, mode: 'expire' })
    const later = T0 + retention * 1000 + DAY + 1
    memory.invalidateTags(['new'], { at: later, mode: 'expire' })
    expect(memory.tagCount).toBe(1)
    expect(memory.getTagTimes(['old'])).toEqual({ expired: 0, stale: 0 })

    // The entry 'old' covered is still not served: past the retention it is expired anyway.
    const clock = createClock(later)
    const swr = createSWR({ handler: memory, buildId: 'build-1', now: clock.now, timeout: 1_000, retry: { min: 10, max: 10 }, log: createLogger({ debug: false, write: () => {} }) })
    memory.set('page:/p', makeEntry({ lastModified: T0 - 1, revalidate: false, expire: 31_536_000, tags: ['old'] }))
    const resolved = await swr.get('page:/p', async ({ startedAt }) => ({ entry: makeEntry({ lastModified: startedAt, value: Buffer.from('new') }), store: 'durable' }), '/p')
    expect(resolved.state).toBe('MISS')
    expect(resolved.entry.value.toString()).toBe('new')
  })

  it('are dropped from tags.log when it is compacted at start', async () => {
    const file = path.join(dir, 'tags.log')
    const old = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ tag: `old-${i}`, at: T0 + i, mode: 'expire' }) + '\n').join('')
    await fs.writeFile(file, old + JSON.stringify({ tag: 'recent', at: T0 + 400 * DAY, mode: 'expire' }) + '\n')
    const handler = await createFileSystemCacheHandler({ dir })
    expect(handler.getTagTimes(['old-1'])).toEqual({ expired: 0, stale: 0 })
    expect(handler.getTagTimes(['recent']).expired).toBe(T0 + 400 * DAY)
    await handler.dispose()
    expect(await lineCount(file)).toBe(1)
  })
})

describe('tags.log', () => {
  it('is compacted while the server runs when the same tags are invalidated again and again', async () => {
    const handler: CacheHandler = await createFileSystemCacheHandler({ dir })
    const tiered = createTieredCacheHandler({ store: handler })
    for (let i = 0; i < 4_000; i++) await tiered.invalidateTags([`tag-${i % 10}`], { at: T0 + i, mode: i % 2 ? 'stale' : 'expire' })
    await tiered.dispose?.()
    const lines = await lineCount(path.join(dir, 'tags.log'))
    console.log(`[security] lines in tags.log after 4000 invalidations of 10 tags: ${lines}`)
    expect(lines).toBeLessThanOrEqual(2 * 20 + 1_000 + 1)
    const reopened = await createFileSystemCacheHandler({ dir })
    expect(reopened.getTagTimes(['tag-9'])).toEqual({ expired: 0, stale: T0 + 3_999 })
    expect(reopened.getTagTimes(['tag-8'])).toEqual({ expired: T0 + 3_998, stale: 0 })
    await reopened.dispose()
  })

  it('is read line by line: a 600 MiB log (past the longest string V8 can hold) does not stop the start', async () => {
    const file = path.join(dir, 'tags.log')
    // A hole of 600 MiB (no disk blocks) with no newline in it, then a valid line.
    await fs.writeFile(file, JSON.stringify({ tag: 'before', at: T0, mode: 'expire' }) + '\n')
    await fs.truncate(file, 600 * 1024 * 1024)
    await fs.appendFile(file, '\n' + JSON.stringify({ tag: 'after', at: T0 + 1, mode: 'stale' }) + '\n')
    const started = Date.now()
    const handler = await createFileSystemCacheHandler({ dir })
    console.log(`[security] start with a 600 MiB tags.log: ${Date.now() - started} ms, then ${(await fs.stat(file)).size} bytes after compaction`)
    expect(handler.getTagTimes(['before'])).toEqual({ expired: T0, stale: 0 })
    expect(handler.getTagTimes(['after'])).toEqual({ expired: 0, stale: T0 + 1 })
    expect((await fs.stat(file)).size).toBeLessThan(1_000)
    await handler.dispose()
  })
})
