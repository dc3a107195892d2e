import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFileSystemCacheHandler } from '../../runtime/cache/handlers/file-system.js'
import type { FileSystemCacheHandler } from '../../runtime/cache/handlers/file-system.js'
import { createMemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import type { MemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import { createTieredCacheHandler } from '../../runtime/cache/handlers/tiered.js'
import type { TieredCacheHandler } from '../../runtime/cache/handlers/tiered.js'
import type { CacheEntry, CacheHandler } from '../../runtime/cache/handlers/types.js'
import { makeEntry, testCacheHandler } from './contract.js'

let dir: string
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vite-isr-tiered-'))
})
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

testCacheHandler('tiered memory+memory', () =>
  createTieredCacheHandler({ memory: createMemoryCacheHandler(), store: createMemoryCacheHandler() }),
)
testCacheHandler(
  'tiered memory+file-system',
  async () => createTieredCacheHandler({ memory: createMemoryCacheHandler(), store: await createFileSystemCacheHandler({ dir }) }),
  { durable: true },
)

/** A store whose reads resolve only when the test says so. */
function deferredStore(): CacheHandler & { reads: number; resolve(entry: CacheEntry | undefined): void } {
  const backing = createMemoryCacheHandler()
  let release: ((entry: CacheEntry | undefined) => void) | undefined
  return {
    ...backing,
    name: 'deferred',
    reads: 0,
    get() {
      this.reads++
      return new Promise<CacheEntry | undefined>((resolve) => (release = resolve))
    },
    resolve(entry) {
      release!(entry)
    },
  }
}

describe('tiered cache handler', () => {
  let memory: MemoryCacheHandler
  let store: FileSystemCacheHandler
  let tiered: TieredCacheHandler

  beforeEach(async () => {
    memory = createMemoryCacheHandler()
    store = await createFileSystemCacheHandler({ dir })
    tiered = createTieredCacheHandler({ memory, store })
  })
  afterEach(async () => {
    await tiered.dispose?.()
  })

  it('is named after its tiers', () => {
    expect(tiered.name).toBe('memory+file-system')
  })

  it('fills memory from the store, so the next get is served without the store', async () => {
    const entry = makeEntry({ value: Buffer.from('from disk') })
    await store.set('/page', entry)
    expect(memory.peek('/page')).toBeUndefined()
    expect(await tiered.get('/page')).toEqual(entry)
    await store.delete('/page')
    expect(tiered.get('/page')).toEqual(entry)
  })

  it('answers a memory hit synchronously even though the store is async', async () => {
    await tiered.set('/page', makeEntry())
    const hit = tiered.get('/page')
    expect(hit).not.toBeInstanceOf(Promise)
    expect(hit).toEqual(makeEntry())
    expect(tiered.getTagTimes(['x'])).not.toBeInstanceOf(Promise)
  })

  it('peeks into the memory tier only', async () => {
    await store.set('/disk', makeEntry())
    expect(tiered.peek!('/disk')).toBeUndefined()
    await tiered.get('/disk')
    expect(tiered.peek!('/disk')).toEqual(makeEntry())
    await tiered.set('/404', makeEntry({ status: 404 }), { memoryOnly: true })
    expect(tiered.peek!('/404')?.status).toBe(404)
  })

  it('writes to both tiers and deletes from both', async () => {
    const entry = makeEntry()
    await tiered.set('/page', entry)
    expect(memory.peek('/page')).toEqual(entry)
    expect(await store.get('/page')).toEqual(entry)
    await tiered.delete('/page')
    expect(memory.peek('/page')).toBeUndefined()
    expect(await store.get('/page')).toBeUndefined()
  })

  it('keeps memoryOnly entries out of the store, and drops an older store entry under the key', async () => {
    await tiered.set('/404', makeEntry({ status: 404 }), { memoryOnly: true })
    expect(tiered.get('/404')).toEqual(makeEntry({ status: 404 }))
    expect(await store.get('/404')).toBeUndefined()
    expect(await fs.readdir(path.join(dir, 'entries'))).toEqual([])

    await tiered.set('/removed', makeEntry({ status: 200 }))
    await tiered.set('/removed', makeEntry({ status: 404 }), { memoryOnly: true })
    expect(await store.get('/removed')).toBeUndefined()
    memory.clear()
    expect(await tiered.get('/removed')).toBeUndefined()
  })

  it('records invalidations in the store first, then in memory, and reads tag times from the store', async () => {
    const order: string[] = []
    const spyStore = createMemoryCacheHandler()
    const spyMemory = createMemoryCacheHandler()
    vi.spyOn(spyStore, 'invalidateTags').mockImplementation(() => void order.push('store'))
    vi.spyOn(spyMemory, 'invalidateTags').mockImplementation(() => void order.push('memory'))
    const handler = createTieredCacheHandler({ memory: spyMemory, store: spyStore })
    await handler.invalidateTags(['t'], { at: 1, mode: 'expire' })
    expect(order).toEqual(['store', 'memory'])

    await store.invalidateTags(['elsewhere'], { at: 99, mode: 'stale' })
    expect(tiered.getTagTimes(['elsewhere'])).toEqual({ expired: 0, stale: 99 })
  })

  it('reads the store once for concurrent misses of a key', async () => {
    const slow = deferredStore()
    const handler = createTieredCacheHandler({ store: slow })
    const a = handler.get('/k')
    const b = handler.get('/k')
    slow.resolve(makeEntry())
    expect(await a).toEqual(makeEntry())
    expect(await b).toEqual(makeEntry())
    expect(slow.reads).toBe(1)
  })

  it('does not let a store read that started before a set overwrite the newer entry', async () => {
    const slow = deferredStore()
    const front = createMemoryCacheHandler()
    const handler = createTieredCacheHandler({ memory: front, store: slow })
    const read = handler.get('/k')
    const newer = makeEntry({ value: Buffer.from('newer') })
    await handler.set('/k', newer)
    slow.resolve(makeEntry({ value: Buffer.from('older') }))
    await read
    expect(handler.get('/k')).toEqual(newer)
  })

  it('does not refill memory with an entry deleted while it was being read', async () => {
    const slow = deferredStore()
    const front = createMemoryCacheHandler()
    const handler = createTieredCacheHandler({ memory: front, store: slow })
    const read = handler.get('/k')
    await handler.delete('/k')
    slow.resolve(makeEntry())
    await read
    expect(front.peek('/k')).toBeUndefined()
  })

  it('delegates lock to the store when it has one, and has none otherwise', async () => {
    expect(tiered.lock).toBeUndefined()
    const lock = { release: vi.fn(async () => {}) }
    const locking = { ...createMemoryCacheHandler(), lock: vi.fn(async () => lock) }
    const handler = createTieredCacheHandler({ store: locking })
    expect(await handler.lock!('/k', 5000)).toBe(lock)
    expect(locking.lock).toHaveBeenCalledWith('/k', 5000)
  })

  it('disposes both tiers', async () => {
    const a = createMemoryCacheHandler()
    const b = createMemoryCacheHandler()
    const disposeA = vi.spyOn(a, 'dispose')
    const disposeB = vi.spyOn(b, 'dispose')
    await createTieredCacheHandler({ memory: a, store: b }).dispose?.()
    expect(disposeA).toHaveBeenCalledOnce()
    expect(disposeB).toHaveBeenCalledOnce()
  })

  it('defaults the memory tier to a memory handler', () => {
    const handler = createTieredCacheHandler({ store })
    expect(handler.name).toBe('memory+file-system')
  })

  it.each([
    [undefined, 'tiered cache handler options must be an object (got undefined)'],
    [{}, 'store must be a cache handler (got undefined)'],
    [{ store: { get() {} } }, 'store must be a cache handler (missing method set, delete, invalidateTags, getTagTimes)'],
    [{ store: createMemoryCacheHandler(), memory: 'fast' }, 'memory must be a cache handler (got "fast")'],
  ])('throws a TypeError for invalid options %#', (options, message) => {
    const create = () => createTieredCacheHandler(options as never)
    expect(create).toThrow(TypeError)
    expect(create).toThrow(`[vite-isr] ${message}`)
  })

  it('throws a TypeError when memory and store are the same handler', () => {
    const same = createMemoryCacheHandler()
    expect(() => createTieredCacheHandler({ memory: same, store: same })).toThrow(
      new TypeError('[vite-isr] memory and store must be two different cache handlers'),
    )
  })
})
