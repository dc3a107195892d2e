/**
 * The contract between vite-isr and a cache store.
 *
 * A cache handler stores two things and nothing else: entries (rendered pages and
 * data-cache results) and tag invalidation times. It knows nothing of HTTP, React
 * or revalidation windows: deciding whether an entry is fresh, stale or expired is
 * the stale-while-revalidate core's job (`runtime/cache/swr.ts`), which reads the times
 * stored here. This keeps `revalidateTag` O(1): it writes one timestamp per tag and
 * the next `get` of an entry carrying that tag compares times, without a scan.
 *
 * Methods may return plain values instead of promises; the core only awaits when it
 * is handed a promise, so a memory-backed handler answers a HIT synchronously.
 */

export type MaybePromise<T> = T | Promise<T>

/** One cached item: a rendered page or a data-cache value. */
export interface CacheEntry {
  /** `page` for rendered HTML (or a redirect), `data` for `cache()` / `fetch()` results. */
  kind: 'page' | 'data'
  /** The body: HTML bytes for a page, JSON bytes for data. */
  value: Buffer
  /** When the render that produced this entry started (ms since the epoch). */
  lastModified: number
  /** Seconds the entry stays fresh; `false` keeps it until revalidated on demand. */
  revalidate: number | false
  /**
   * Seconds after `lastModified` past which the entry is not served stale any more: the next
   * reader waits for a new render, and gets this entry only if that render fails (stale-if-error).
   */
  expire: number
  /** Explicit tags (from `cache()` / `fetch()`) and implicit ones (path, route, layouts). */
  tags: string[]
  /** The build that rendered it; entries of another build are never served. */
  buildId: string
  /** HTTP status of a page (200, 404, or a redirect status); 200 for data. */
  status: number
  /** Response headers owned by the entry (content-type, location). Lower-case names. */
  headers: Record<string, string>
  /**
   * Set when a page is prepared for serving, before it is stored: the opaque part of its
   * ETag (a hash of `value`). Stores that keep bytes keep it with the entry.
   */
  etag?: string
  /** Compressed copies of `value`, made when a page is stored (never while serving it). */
  encodings?: EntryEncodings
  /**
   * A page's data payload (JSON for client navigation), made by the same render as `value`
   * and stored in the same entry, so the two can never disagree. Prepared with it.
   */
  payload?: EntryPayload
}

/** The payload representation of a page entry: its bytes, ETag and compressed bodies. */
export interface EntryPayload {
  value: Buffer
  etag?: string
  encodings?: EntryEncodings
}

/** A page's compressed bodies, by `Content-Encoding`. */
export interface EntryEncodings {
  gzip?: Buffer
  br?: Buffer
}

/** Latest invalidation times (ms since the epoch, 0 = never) over a set of tags. */
export interface TagTimes {
  /** Entries older than this must not be served without a fresh render attempt. */
  expired: number
  /** Entries older than this are served stale while they regenerate. */
  stale: number
}

export interface TagInvalidation {
  /** When the invalidation happened (ms since the epoch). */
  at: number
  /** `expire`: the next request renders fresh. `stale`: served stale, regenerated in the background. */
  mode: 'expire' | 'stale'
}

export interface SetOptions {
  /**
   * Keep the entry only in a memory tier, never in durable storage (used for 404s,
   * so that a crawler asking for random URLs cannot fill a disk or a Redis).
   * Handlers without a memory tier drop such entries, and an older durable entry under
   * the key is removed (a page that became a 404 must not come back from disk).
   */
  memoryOnly?: boolean
}

/** A lock taken in the store so that a key regenerates once across instances. */
export interface Lock {
  release(): Promise<void>
}

export interface CacheHandler {
  /** Short name shown in logs, e.g. `file-system`. */
  readonly name: string
  /**
   * Optional: seconds the handler keeps an invalidation time before forgetting it. The core
   * then counts every entry older than this as expired whatever its tags say (rendered anew
   * on the next request; served only as the last good copy if that fails), so a forgotten
   * invalidation can never let an entry it covered be served fresh. Without it, times are
   * taken to be kept for ever.
   */
  readonly tagRetention?: number
  /** The entry stored under `key`, or `undefined`. A damaged entry reads as `undefined`. */
  get(key: string): MaybePromise<CacheEntry | undefined>
  /**
   * Optional: the entry under `key` if it is held in memory, synchronously, without
   * touching slower storage. Lets a cached page be answered before any await.
   * Counts as a use for eviction, like `get`.
   */
  peek?(key: string): CacheEntry | undefined
  /** Store `entry` under `key`, replacing any previous one. Atomic: readers see the old or the new entry. */
  set(key: string, entry: CacheEntry, options?: SetOptions): MaybePromise<void>
  /** Remove the entry under `key`, if any. */
  delete(key: string): MaybePromise<void>
  /** Record an invalidation of every tag in `tags`. Resolves once it is durable and visible to all readers. */
  invalidateTags(tags: readonly string[], invalidation: TagInvalidation): MaybePromise<void>
  /** The latest invalidation times over `tags`. */
  getTagTimes(tags: readonly string[]): MaybePromise<TagTimes>
  /**
   * Optional: take a lock on `key` for at most `ttlMs`, or resolve `null` when another
   * instance holds it. Handlers shared by several processes implement it; without it a
   * key regenerates once per process.
   */
  lock?(key: string, ttlMs: number): Promise<Lock | null>
  /**
   * Optional, for stores shared by several processes: call `onChange(key)` when another
   * process replaced or deleted `key`, so a memory tier in front drops its copy, and
   * `onChange(null)` when anything may have changed unseen (after a lost connection).
   * Returns a function that stops watching.
   */
  watch?(onChange: (key: string | null) => void): () => void
  /** Optional: how many entries held in memory carry `tag` (for the debug log; must not scan). */
  countTagged?(tag: string): number
  /** Optional: release connections, timers and file handles. */
  dispose?(): MaybePromise<void>
}

export const NO_TAG_TIMES: TagTimes = Object.freeze({ expired: 0, stale: 0 })
