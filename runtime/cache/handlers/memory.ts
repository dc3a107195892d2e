import { LRUCache } from 'lru-cache'
import { checkTagTimesOptions, createTagTimes, DEFAULT_TAG_RETENTION } from './tag-times.js'
import type { CacheEntry, CacheHandler, SetOptions, TagInvalidation, TagTimes } from './types.js'
import { DEFAULT_MEMORY_MAX_SIZE_BYTES } from '../defaults.js'

export interface MemoryCacheHandlerOptions {
  /**
   * Upper bound, in bytes, of the entries kept (body, compressed bodies, and a rough
   * estimate of the metadata). Least recently used entries are evicted to stay under it; an entry
   * larger than the whole budget is not stored. `0` disables entry storage: every `get`
   * misses, while tag invalidations are still recorded.
   * @default 52_428_800 (50 MB)
   */
  maxSize?: number
  /**
   * Seconds an invalidation time is kept; an entry older than this counts as expired
   * whatever its tags say (see `CacheHandler.tagRetention`).
   * @default 31622400 (a year and a day)
   */
  tagRetention?: number
  /**
   * Tag records kept in memory. Past it, the records raised longest ago are folded into one
   * time that applies to every tagged entry: entries older than it render once more, none is
   * served past an invalidation.
   * @default 100000
   */
  maxTags?: number
}

export interface MemoryCacheHandler extends CacheHandler {
  readonly name: 'memory'
  /** Number of entries held. */
  readonly size: number
  readonly tagRetention: number
  /** Tag records held (bounded by `maxTags`). */
  readonly tagCount: number
  /** Estimated bytes held, as counted against `maxSize`. */
  readonly calculatedSize: number
  get(key: string): CacheEntry | undefined
  set(key: string, entry: CacheEntry, options?: SetOptions): void
  delete(key: string): void
  invalidateTags(tags: readonly string[], invalidation: TagInvalidation): void
  getTagTimes(tags: readonly string[]): TagTimes
  /** Same as `get`: every entry is in memory. A page served from `peek` counts as used. */
  peek(key: string): CacheEntry | undefined
  /** The entries held, most recently used first, without touching their recency. */
  entries(): IterableIterator<[string, CacheEntry]>
  /** How many entries held carry `tag` (kept as entries come and go: no scan). */
  countTagged(tag: string): number
  /** Drop every entry and every tag time. */
  clear(): void
  dispose(): void
}

export const DEFAULT_MEMORY_MAX_SIZE = DEFAULT_MEMORY_MAX_SIZE_BYTES

/**
 * Fixed overhead charged per entry, in bytes: the object, its fields, the LRU bookkeeping,
 * and the header lists the serving path keeps for it.
 */
const ENTRY_OVERHEAD = 1_000

/**
 * Bytes an entry is charged against `maxSize`: its body, its payload and the compressed bodies
 * they were prepared with (their real sizes), and a rough metadata estimate.
 */
export function estimateEntrySize(key: string, entry: CacheEntry): number {
  return (
    entry.value.length +
    (entry.encodings?.gzip?.length ?? 0) +
    (entry.encodings?.br?.length ?? 0) +
    (entry.etag?.length ?? 0) +
    (entry.payload ? entry.payload.value.length + (entry.payload.encodings?.gzip?.length ?? 0) + (entry.payload.encodings?.br?.length ?? 0) : 0) +
    key.length +
    entry.buildId.length +
    JSON.stringify(entry.tags).length +
    JSON.stringify(entry.headers).length +
    ENTRY_OVERHEAD
  )
}

/**
 * Entries and tag times in process memory. Every method answers synchronously, so a
 * cache HIT never waits on the event loop. Entries are stored by reference: callers
 * must treat a `CacheEntry` (and its `value` buffer) as immutable once handed over.
 */
export function createMemoryCacheHandler(options: MemoryCacheHandlerOptions = {}): MemoryCacheHandler {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`[vite-isr] memory cache handler options must be an object (got ${describeValue(options)})`)
  }
  const maxSize = options.maxSize ?? DEFAULT_MEMORY_MAX_SIZE
  if (typeof maxSize !== 'number' || !Number.isSafeInteger(maxSize) || maxSize < 0) {
    throw new TypeError(`[vite-isr] maxSize must be a non-negative integer (got ${describeValue(maxSize)})`)
  }

  checkTagTimesOptions('createMemoryCacheHandler', options.tagRetention, options.maxTags)

  const tagCounts = new Map<string, number>()
  const count = (entry: CacheEntry, by: 1 | -1) => {
    for (const tag of entry.tags) {
      const n = (tagCounts.get(tag) ?? 0) + by
      if (n > 0) tagCounts.set(tag, n)
      else tagCounts.delete(tag)
    }
  }
  // lru-cache refuses maxSize 0, and a disabled cache needs no structure at all.
  const lru =
    maxSize === 0
      ? undefined
      : new LRUCache<string, CacheEntry>({
          maxSize,
          sizeCalculation: (entry, key) => estimateEntrySize(key, entry),
          onInsert: (entry, _key, reason) => reason !== 'update' && count(entry, 1),
          dispose: (entry) => count(entry, -1),
        })
  const tagTimes = createTagTimes({ retention: options.tagRetention, maxTags: options.maxTags })

  return {
    name: 'memory',
    tagRetention: options.tagRetention ?? DEFAULT_TAG_RETENTION,
    get tagCount() {
      return tagTimes.size
    },
    get size() {
      return lru?.size ?? 0
    },
    get calculatedSize() {
      return lru?.calculatedSize ?? 0
    },
    get(key) {
      return lru?.get(key)
    },
    // Not lru-cache's peek: pages answered through peek are the hottest and must stay recent.
    peek(key) {
      return lru?.get(key)
    },
    set(key, entry) {
      // An oversized entry is dropped by lru-cache, which also removes the previous
      // entry under the key: a replaced entry must never be served again.
      lru?.set(key, entry)
    },
    delete(key) {
      lru?.delete(key)
    },
    invalidateTags(tags, invalidation) {
      tagTimes.record(tags, invalidation)
    },
    getTagTimes(tags) {
      return tagTimes.max(tags)
    },
    countTagged(tag) {
      return tagCounts.get(tag) ?? 0
    },
    entries() {
      return lru ? lru.entries() : [][Symbol.iterator]()
    },
    clear() {
      lru?.clear()
      tagTimes.clear()
    },
    dispose() {
      lru?.clear()
      tagTimes.clear()
    },
  }
}

/** Render a bad option value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  return typeof value
}
