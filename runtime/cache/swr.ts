/**
 * The stale-while-revalidate core: fresh / stale / expired / miss, one pending
 * regeneration per key, back-off after failures, a timeout on every render.
 * It knows nothing of HTTP or React: it stores what `generate` produces and decides,
 * from the entry and its tags' invalidation times, what a reader gets.
 *
 * What happens on a stale hit: `get` answers the stale entry at once (state STALE) and
 * starts `regenerate` in the background, unless one is already running for the key,
 * a recent failure is still backing off, or another instance holds the store's lock.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { CacheEntry, CacheHandler, TagTimes } from './handlers/types.js'
import { formatBytes, type Logger } from '../inspect/debug.js'
import { RenderBusyError, type Release } from './render-limiter.js'
import { ClosingError, createDrain } from './drain.js'

export type CacheState = 'HIT' | 'STALE' | 'MISS'
export type Freshness = 'fresh' | 'stale' | 'expired'

export interface Generated {
  entry: CacheEntry
  /** `durable`: store everywhere; `memory`: memory tier only (404s); `none`: serve once, never store. */
  store: 'durable' | 'memory' | 'none'
}

/**
 * A render that ended in an answer the app chose but that must not be cached (a route
 * handler's 500, as in Next.js): a failure to back off from, and the last good copy stays, but
 * no crash: it is logged as a warning, without a stack.
 */
export class UncacheableResult extends Error {
  override name = 'UncacheableResult'
}

export interface GenerateContext {
  /** When this render started; becomes the entry's `lastModified`. */
  startedAt: number
  /** Aborted when the render exceeds the timeout. */
  signal: AbortSignal
}

export type Generate = (context: GenerateContext) => Promise<Generated>

export interface Resolved {
  entry: CacheEntry
  state: CacheState
}

export interface ReadOptions {
  /**
   * Tags that count as the entry's own for this read only: the implicit tags of the page
   * reading a data entry, so `revalidatePath` also refreshes the data that page used (Next.js).
   */
  softTags?: readonly string[]
  /**
   * Wait for a stale entry to render anew instead of answering it stale (the last good copy
   * is still the answer if that fails). Used for data read inside a page render: the render
   * already runs in the background or for a waiting MISS, and a page built on stale data
   * would keep it for a whole window.
   */
  refreshStale?: boolean
  /**
   * Called, synchronously, when the read finds no entry of this build and starts (or joins)
   * its render: the caller may answer something else at once while that one render runs
   * (the bot-aware fallback's loading shell). The returned promise still settles with it.
   */
  onMiss?: () => void
}

/**
 * A read that must answer without waiting: from the entry the handler holds in memory
 * (`CacheHandler.peek`), fresh or stale (a stale one starts its background regeneration),
 * else `undefined` with no side effect. The fast path's first step.
 */
export interface SyncReadOptions {
  sync: true
}

export interface SWROptions {
  handler: CacheHandler
  /** Entries of any other build are treated as missing. */
  buildId: string
  /** The clock (ms since the epoch). */
  now: () => number
  /** A render slower than this (ms) fails; the stale entry keeps being served. */
  timeout: number
  /** Back-off after a failed regeneration: first wait, doubled per failure up to `max` (ms). */
  retry: { min: number; max: number }
  /**
   * Seconds an expired entry may be old (since its render) and still answer when its new
   * render fails; older, the failure is the answer. Unset: no limit.
   */
  staleIfError?: number
  /**
   * A slot for a new render of `key` that no other render encloses (`renderConcurrency`):
   * `undefined` when the key is not bounded, else a `Release` or a promise of one; throws or
   * rejects with `RenderBusyError` when there is none. `background` for a regeneration
   * nobody waits for. A request joining a render already running asks nothing.
   */
  admit?: (key: string, label: string, background: boolean) => Release | Promise<Release> | undefined
  log: Logger
}

export interface SWR {
  /**
   * The entry to serve for `key`, rendering it with `generate` when there is none (or it
   * expired). Resolves synchronously (no promise) for a fresh entry held in memory.
   * Rejects only when there is nothing to serve and the render failed.
   */
  get(key: string, generate: Generate, label: string, read?: ReadOptions): Resolved | Promise<Resolved>
  get(key: string, generate: Generate, label: string, read: SyncReadOptions): Resolved | undefined
  /**
   * Render `key` anew and store it; rejects if that fails. `after` is the time of the
   * invalidation this answers: a render in flight since before it is awaited, not reused,
   * and the new render counts as starting after it.
   */
  refresh(key: string, generate: Generate, label: string, after?: number): Promise<Generated>
  /** Keys with a render in flight. */
  readonly pending: ReadonlyMap<string, Promise<Generated>>
  /** Whether the last render of `key` failed (it is backing off or will retry). */
  failing(key: string): boolean
  /**
   * Stop starting renders (a stale entry is still answered, without its background render; a
   * read that needs a new render rejects with `ClosingError`, unless it is nested in a render
   * already running) and wait, at most `timeoutMs`, for the running renders and their writes.
   * Resolves with how many were still running at the bound. Idempotent.
   */
  close(timeoutMs: number): Promise<number>
}

/**
 * `maxAge`: the handler's `tagRetention` (seconds). An entry older than it counts as expired,
 * since invalidations that old may have been forgotten (runtime/cache-handlers/tag-times.ts).
 */
export function classify(entry: CacheEntry, times: TagTimes, now: number, maxAge = Infinity): Freshness {
  // `>=`, as Next.js: a render that started in the same millisecond as an invalidation may
  // have read the old data, so it does not count as after it.
  if (times.expired >= entry.lastModified) return 'expired'
  const age = now - entry.lastModified
  if (age >= Math.min(entry.expire, maxAge) * 1000) return 'expired'
  if (times.stale >= entry.lastModified) return 'stale'
  if (entry.revalidate !== false && age >= entry.revalidate * 1000) return 'stale'
  return 'fresh'
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | undefined)?.then === 'function'

function runWithTimeout(generate: Generate, startedAt: number, ms: number, label: string): Promise<Generated> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`[vite-isr] rendering ${label} timed out after ${ms}ms`)
      controller.abort(error)
      reject(error)
    }, ms)
    timer.unref()
  })
  const run = Promise.resolve().then(() => generate({ startedAt, signal: controller.signal }))
  return Promise.race([run, timedOut]).finally(() => clearTimeout(timer))
}

const MAX_FAILURE_RECORDS = 10_000

/**
 * The durable writes of the renders nested in one render (the data a page's loader read
 * through `cache()` / `fetch()`), held until that render's outcome is known: a 200 makes
 * them durable, anything else (a 404 from `notFound()`, a redirect, an error, a timeout)
 * leaves them in memory only. Otherwise every unknown slug a crawler asks for would leave
 * its loader's `null` on disk (issue 12).
 */
interface Nested {
  outcome: 'pending' | 'durable' | 'dropped'
  writes: { key: string; entry: CacheEntry; label: string }[]
  /** The render this one is nested in, if any: durable writes climb up to the outermost. */
  parent: Nested | undefined
}

export function createSWR(options: SWROptions): SWR {
  const { handler, buildId, now, log } = options
  const maxAge = handler.tagRetention ?? Infinity
  const pending = new Map<string, Promise<Generated>>()
  /** When each render in `pending` started. */
  const pendingSince = new Map<string, number>()
  const failures = new Map<string, { count: number; retryAt: number }>()
  const enclosing = new AsyncLocalStorage<Nested>()
  /**
   * Reads of the store in flight per key, and the last render of each such key that ended
   * meanwhile: a read that started before that render's write landed may come back empty
   * after the render has left `pending`, and would render the key a second time.
   */
  const reading = new Map<string, number>()
  const endedDuringRead = new Map<string, { generated: Generated; seq: number }>()
  let renderSeq = 0
  const drain = createDrain()

  /** A durable write of a nested render, once the render around it has settled as `nested.outcome`. */
  function settleWrite(nested: Nested, write: Nested['writes'][number]): void {
    if (nested.outcome === 'pending') nested.writes.push(write)
    else if (nested.outcome === 'dropped') return
    else if (nested.parent) settleWrite(nested.parent, write)
    // Not if the key rendered again since: the newer entry decides how it is kept.
    else if (!pending.has(write.key) && (!handler.peek || handler.peek(write.key) === write.entry)) void drain.track(store(write.key, { entry: write.entry, store: 'durable' }, write.label))
  }

  function settle(nested: Nested, generated: Generated | undefined): void {
    nested.outcome = generated !== undefined && generated.entry.status === 200 ? 'durable' : 'dropped'
    for (const write of nested.writes.splice(0)) settleWrite(nested, write)
  }

  async function store(key: string, generated: Generated, label: string, parent?: Nested): Promise<void> {
    if (generated.store === 'none') return
    const { entry } = generated
    let memoryOnly = generated.store === 'memory'
    if (parent && !memoryOnly) {
      memoryOnly = true
      settleWrite(parent, { key, entry, label })
    }
    try {
      const written = handler.set(key, entry, memoryOnly ? { memoryOnly: true } : undefined)
      if (isPromise(written)) await written
    } catch (error) {
      // The page rendered fine: serve it, and say the store could not keep it (a full disk, a lost connection).
      log.error(`storing ${label} in the ${handler.name} cache failed; serving it uncached`, error)
      return
    }
    log.debug('set', label, {
      status: entry.status,
      revalidate: entry.revalidate === false ? 'false' : `${entry.revalidate}s`,
      size: formatBytes(entry.value.length),
      memoryOnly: memoryOnly || undefined,
    })
  }

  /** Start (or join) the one render of `key`. Failures are logged here, once per render. */
  function render(key: string, generate: Generate, label: string, after?: number, background = false): Promise<Generated> {
    const inFlight = pending.get(key)
    if (inFlight) return inFlight
    const parent = enclosing.getStore()
    // Renders nested in a running one (its data reads) still run: that render must finish.
    if (drain.closing && parent === undefined) return Promise.reject(new ClosingError(label))
    // A render nested in another (a page's data) runs in its parent's slot.
    let slot: Release | Promise<Release> | undefined
    try {
      slot = parent ? undefined : options.admit?.(key, label, background)
    } catch (error) {
      log.debug('regenerate:deferred', label, { reason: error instanceof RenderBusyError ? error.reason : 'admit failed' })
      return Promise.reject(error)
    }
    const startedAt = after === undefined ? now() : Math.max(now(), after + 1)
    const nested: Nested = { outcome: 'pending', writes: [], parent }
    const run = (release?: Release) => {
      log.debug('regenerate:start', label)
      const running = enclosing.run(nested, () => runWithTimeout(generate, startedAt, options.timeout, label))
      return release ? running.finally(release) : running
    }
    const promise = (slot === undefined ? run() : isPromise(slot) ? slot.then(run) : run(slot))
      .then(async (generated) => {
        await store(key, generated, label, nested.parent)
        if (generated.store !== 'none' && reading.has(key)) endedDuringRead.set(key, { generated, seq: ++renderSeq })
        settle(nested, generated)
        failures.delete(key)
        log.debug('regenerate:done', label, { status: generated.entry.status, in: `${Math.max(0, now() - startedAt)}ms` })
        return generated
      })
      .catch((error: unknown) => {
        if (nested.outcome === 'pending') settle(nested, undefined)
        if (error instanceof RenderBusyError) {
          // Never started: not a failure to back off from.
          log.debug('regenerate:refused', label, { reason: error.reason })
          throw error
        }
        const count = (failures.get(key)?.count ?? 0) + 1
        const wait = Math.min(options.retry.max, options.retry.min * 2 ** (count - 1))
        failures.delete(key)
        failures.set(key, { count, retryAt: now() + wait })
        // Bounded: a crawler asking for many failing paths must not grow this without limit.
        if (failures.size > MAX_FAILURE_RECORDS) failures.delete(failures.keys().next().value!)
        const attempt = `attempt ${count}; next try in ${Math.round(wait / 1000)}s or later`
        if (error instanceof UncacheableResult) {
          const what = error.message.replace(/^\[vite-isr\] /, '')
          log.warn(background ? `regenerating ${label}: ${what}; the last good copy keeps being served (${attempt})` : `${what} (attempt ${count})`)
        } else log.error(`regenerating ${label} failed (${attempt})`, error)
        throw error
      })
      .finally(() => {
        pending.delete(key)
        pendingSince.delete(key)
      })
    pending.set(key, promise)
    pendingSince.set(key, startedAt)
    drain.track(promise.catch(() => {}))
    return promise
  }

  function backingOff(key: string, label: string): boolean {
    const failure = failures.get(key)
    if (!failure || now() >= failure.retryAt) return false
    log.debug('regenerate:backoff', label, { retryIn: `${failure.retryAt - now()}ms` })
    return true
  }

  /** Lock attempts in flight: callers of this process share one instead of contending with each other. */
  const locking = new Map<string, Promise<Generated | undefined>>()

  /** Render under the store's lock when it has one, so that one instance of many renders. */
  function renderLocked(key: string, generate: Generate, label: string, seen: CacheEntry, background = false): Promise<Generated | undefined> {
    const inFlight = pending.get(key) ?? locking.get(key)
    if (inFlight) return inFlight
    if (!handler.lock || drain.closing) return render(key, generate, label, undefined, background)
    const attempt = lockAndRender(key, generate, label, seen, background).finally(() => locking.delete(key))
    locking.set(key, attempt)
    drain.track(attempt.catch(() => {}))
    return attempt
  }

  /**
   * The entry another instance rendered after `seen` and stored, if it is fresh: read from
   * the shared store itself (not a memory tier in front of it) once the lock is held, so an
   * instance that read the old entry just before another released the lock does not render
   * the key a second time.
   */
  async function renderedElsewhere(key: string, seen: CacheEntry): Promise<Generated | undefined> {
    const shared = (handler as { store?: CacheHandler }).store ?? handler
    try {
      const current = await shared.get(key)
      if (!current || current.buildId !== buildId || current.lastModified <= seen.lastModified) return undefined
      if (classify(current, await handler.getTagTimes(current.tags), now(), maxAge) !== 'fresh') return undefined
      return { entry: current, store: 'durable' }
    } catch {
      return undefined
    }
  }

  async function lockAndRender(key: string, generate: Generate, label: string, seen: CacheEntry, background: boolean): Promise<Generated | undefined> {
    let lock
    try {
      lock = await handler.lock!(key, options.timeout + 5_000)
    } catch (error) {
      // The store is unreachable: better one render per instance than none.
      log.error(`taking the regeneration lock for ${label} failed; rendering without it`, error)
      return render(key, generate, label, undefined, background)
    }
    if (!lock) {
      log.debug('regenerate:locked', label)
      return undefined
    }
    try {
      const done = await renderedElsewhere(key, seen)
      if (done) {
        log.debug('regenerate:done-elsewhere', label)
        return done
      }
      return await render(key, generate, label, undefined, background)
    } finally {
      await lock.release()
    }
  }

  function regenerateInBackground(key: string, entry: CacheEntry, generate: Generate, label: string): void {
    if (pending.has(key) || backingOff(key, label)) return
    renderLocked(key, generate, label, entry, true).catch(() => {
      // logged in render(); the stale entry keeps being served (and, when no render slot was
      // free, the next stale read after one frees starts the regeneration)
    })
  }

  const tooOldForError = (entry: CacheEntry) =>
    options.staleIfError !== undefined && now() - entry.lastModified > options.staleIfError * 1000

  async function renderExpired(key: string, entry: CacheEntry, generate: Generate, label: string): Promise<Resolved> {
    if (!backingOff(key, label)) {
      try {
        const generated = await renderLocked(key, generate, label, entry)
        if (generated) return { entry: generated.entry, state: 'MISS' }
      } catch (error) {
        // logged in render(): fall through to the last good copy (stale-if-error), if young enough
        if (tooOldForError(entry)) throw error
      }
    } else if (tooOldForError(entry)) {
      throw new Error(`[vite-isr] ${label} expired, its last render failed and its last good copy is older than staleIfError`)
    }
    log.debug('stale', label, { reason: 'expired, serving last good copy' })
    return { entry, state: 'STALE' }
  }

  function decide(key: string, entry: CacheEntry | undefined, generate: Generate, label: string, read?: ReadOptions): Resolved | Promise<Resolved> {
    if (!entry || entry.buildId !== buildId) {
      log.debug('miss', label, entry ? { reason: `entry of build ${entry.buildId}` } : undefined)
      const rendering = render(key, generate, label).then((generated): Resolved => ({ entry: generated.entry, state: 'MISS' }))
      read?.onMiss?.()
      return rendering
    }
    const times = handler.getTagTimes(read?.softTags?.length ? [...entry.tags, ...read.softTags] : entry.tags)
    if (isPromise(times)) return times.then((t) => serve(key, entry, t, generate, label, read))
    return serve(key, entry, times, generate, label, read)
  }

  function serve(key: string, entry: CacheEntry, times: TagTimes, generate: Generate, label: string, read?: ReadOptions): Resolved | Promise<Resolved> {
    const t = now()
    const freshness = classify(entry, times, t, maxAge)
    if (freshness === 'fresh') {
      if (log.debugEnabled) log.debug('hit', label, { age: `${Math.round((t - entry.lastModified) / 1000)}s`, revalidate: String(entry.revalidate) })
      return { entry, state: 'HIT' }
    }
    // A render of the key may have ended while the tag times were being read: its entry, when
    // these times cover its tags and it is fresh by them, is the answer, not a second render.
    const newer = handler.peek?.(key)
    if (newer && newer !== entry && newer.buildId === buildId && newer.lastModified > entry.lastModified && newer.tags.every((tag) => entry.tags.includes(tag)) && classify(newer, times, t, maxAge) === 'fresh') {
      return { entry: newer, state: 'HIT' }
    }
    if (freshness === 'stale' && !read?.refreshStale) {
      if (log.debugEnabled) log.debug('stale', label, { age: `${Math.round((t - entry.lastModified) / 1000)}s`, revalidate: String(entry.revalidate) })
      regenerateInBackground(key, entry, generate, label)
      return { entry, state: 'STALE' }
    }
    log.debug(freshness, label, freshness === 'stale' ? { refresh: 'inline' } : undefined)
    return renderExpired(key, entry, generate, label)
  }

  /**
   * The entry a store read gives, or the result of a render of the key that ended while the
   * read was in flight, whichever is newer. Rejects with `{ error, entry }` when the read fails.
   */
  function readNewest(key: string, reading$: Promise<CacheEntry | undefined>): Promise<CacheEntry | undefined> {
    const since = renderSeq
    reading.set(key, (reading.get(key) ?? 0) + 1)
    const newest = (entry: CacheEntry | undefined): CacheEntry | undefined => {
      const ended = endedDuringRead.get(key)
      const left = reading.get(key)! - 1
      if (left === 0) {
        reading.delete(key)
        endedDuringRead.delete(key)
      } else reading.set(key, left)
      if (!ended || ended.seq <= since) return entry
      const usable = entry && entry.buildId === buildId
      return usable && entry.lastModified >= ended.generated.entry.lastModified ? entry : ended.generated.entry
    }
    return reading$.then(newest, (error: unknown) => {
      throw { error, entry: newest(undefined) }
    })
  }

  function get(key: string, generate: Generate, label: string, read?: ReadOptions): Resolved | Promise<Resolved>
  function get(key: string, generate: Generate, label: string, read: SyncReadOptions): Resolved | undefined
  function get(key: string, generate: Generate, label: string, read?: ReadOptions | SyncReadOptions): Resolved | Promise<Resolved> | undefined {
    if (read && 'sync' in read) {
      const entry = handler.peek?.(key)
      if (!entry || entry.buildId !== buildId) return undefined
      const times = handler.getTagTimes(entry.tags)
      if (isPromise(times) || classify(entry, times, now(), maxAge) === 'expired') return undefined
      return serve(key, entry, times, generate, label)
    }
    const asyncRead = read as ReadOptions | undefined
    const cached = handler.get(key)
    if (!isPromise(cached)) return decide(key, cached, generate, label, asyncRead)
    return readNewest(key, cached).then(
      (entry) => decide(key, entry, generate, label, asyncRead),
      ({ error, entry }: { error: unknown; entry: CacheEntry | undefined }) => {
        if (!entry) log.error(`reading ${label} from the ${handler.name} cache failed; rendering it`, error)
        return decide(key, entry, generate, label, entry ? asyncRead : undefined)
      },
    )
  }

  return {
    pending,
    failing: (key) => failures.has(key),
    close: (timeoutMs) => drain.close(timeoutMs),
    get,
    async refresh(key, generate, label, after) {
      // A render that started after the invalidation already answers it: join it, or take
      // what it stored, rather than render the key a second time.
      const startedAfter = () => after !== undefined && (pendingSince.get(key) ?? -Infinity) > after
      if (startedAfter()) return pending.get(key)!
      await pending.get(key)?.catch(() => {})
      if (after !== undefined) {
        const stored = await readNewest(key, Promise.resolve(handler.get(key))).catch(() => undefined)
        if (startedAfter()) return pending.get(key)!
        if (stored && stored.buildId === buildId && stored.lastModified > after) return { entry: stored, store: 'durable' }
      }
      return render(key, generate, label, after)
    },
  }
}
