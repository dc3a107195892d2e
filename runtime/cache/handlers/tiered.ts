import { createMemoryCacheHandler, describeValue } from './memory.js'
import type { CacheEntry, CacheHandler, MaybePromise } from './types.js'

export interface TieredCacheHandlerOptions {
  /**
   * The front tier, asked first on every `get`. It should answer synchronously so that
   * a HIT never awaits; it also holds the `memoryOnly` entries.
   * @default createMemoryCacheHandler()
   */
  memory?: CacheHandler
  /**
   * The back tier: durable or shared (file system, Redis). It is authoritative for tag
   * times and locks, and fills the memory tier on a memory miss.
   */
  store: CacheHandler
}

export interface TieredCacheHandler extends CacheHandler {
  readonly memory: CacheHandler
  readonly store: CacheHandler
}

const METHODS = ['get', 'set', 'delete', 'invalidateTags', 'getTagTimes'] as const

/** A memory tier in front of any handler: hits are answered from memory, misses fill it from the store. */
export function createTieredCacheHandler(options: TieredCacheHandlerOptions): TieredCacheHandler {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`[vite-isr] tiered cache handler options must be an object (got ${describeValue(options)})`)
  }
  const memory = options.memory ?? createMemoryCacheHandler()
  const { store } = options
  checkHandler('memory', memory)
  checkHandler('store', store)
  if (memory === store) throw new TypeError('[vite-isr] memory and store must be two different cache handlers')

  // One store read per key at a time. A set or delete cancels the fill of a read that
  // started before it, so an older entry read from the store never overwrites a newer one.
  interface Fill {
    result: Promise<CacheEntry | undefined>
    cancelled: boolean
  }
  const fills = new Map<string, Fill>()
  const cancelFill = (key: string) => {
    const fill = fills.get(key)
    if (fill === undefined) return
    fill.cancelled = true
    fills.delete(key)
  }
  const fillMemory = (key: string, entry: CacheEntry) => {
    const done = memory.set(key, entry)
    // The entry was read fine; failing to keep a copy in memory only costs a later read.
    if (isPromise(done)) done.catch(() => {})
  }

  const fromStore = (key: string): MaybePromise<CacheEntry | undefined> => {
    const pending = fills.get(key)
    if (pending !== undefined) return pending.result
    const found = store.get(key)
    if (!isPromise(found)) {
      if (found !== undefined) fillMemory(key, found)
      return found
    }
    const fill: Fill = { cancelled: false, result: undefined! }
    fill.result = found
      .then((entry) => {
        if (entry !== undefined && !fill.cancelled) fillMemory(key, entry)
        return entry
      })
      .finally(() => {
        if (fills.get(key) === fill) fills.delete(key)
      })
    fills.set(key, fill)
    return fill.result
  }

  const handler: TieredCacheHandler = {
    name: `${memory.name}+${store.name}`,
    // Tag times are read from the store (getTagTimes below): its retention is the one that counts.
    tagRetention: store.tagRetention,
    memory,
    store,
    get(key) {
      const hit = memory.get(key)
      if (isPromise(hit)) return hit.then((entry) => entry ?? fromStore(key))
      return hit ?? fromStore(key)
    },
    peek(key) {
      if (memory.peek) return memory.peek(key)
      const hit = memory.get(key)
      return isPromise(hit) ? undefined : hit
    },
    countTagged(tag) {
      return memory.countTagged?.(tag) ?? 0
    },
    set(key, entry, setOptions) {
      cancelFill(key)
      const inMemory = memory.set(key, entry)
      // The store must not keep serving an older entry under a key now held only in memory.
      const inStore = setOptions?.memoryOnly ? store.delete(key) : store.set(key, entry)
      return all(inMemory, inStore)
    },
    delete(key) {
      cancelFill(key)
      return all(memory.delete(key), store.delete(key))
    },
    invalidateTags(tags, invalidation) {
      const inStore = store.invalidateTags(tags, invalidation)
      if (isPromise(inStore)) return inStore.then(() => memory.invalidateTags(tags, invalidation))
      return memory.invalidateTags(tags, invalidation)
    },
    getTagTimes(tags) {
      return store.getTagTimes(tags)
    },
    dispose() {
      fills.clear()
      return all(memory.dispose?.(), store.dispose?.())
    },
  }
  if (typeof store.lock === 'function') {
    const lock = store.lock.bind(store)
    handler.lock = (key, ttlMs) => lock(key, ttlMs)
  }
  // Another process replaced or deleted a key in a shared store: our copy is out of date.
  const unwatch = store.watch?.((key) => {
    if (key === null) {
      for (const pending of [...fills.keys()]) cancelFill(pending)
      ;(memory as { clear?: () => void }).clear?.()
      return
    }
    cancelFill(key)
    const done = memory.delete(key)
    if (isPromise(done)) done.catch(() => {})
  })
  const dispose = handler.dispose!
  handler.dispose = () => {
    unwatch?.()
    return dispose()
  }
  return handler
}

function checkHandler(option: string, handler: unknown): asserts handler is CacheHandler {
  if (handler === null || typeof handler !== 'object') {
    throw new TypeError(`[vite-isr] ${option} must be a cache handler (got ${describeValue(handler)})`)
  }
  const missing = METHODS.filter((method) => typeof (handler as Record<string, unknown>)[method] !== 'function')
  if (missing.length > 0) {
    throw new TypeError(`[vite-isr] ${option} must be a cache handler (missing method ${missing.join(', ')})`)
  }
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function'
}

function all(...results: MaybePromise<void>[]): MaybePromise<void> {
  if (!results.some(isPromise)) return
  return Promise.all(results).then(() => {})
}
