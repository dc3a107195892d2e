/**
 * The latest invalidation time per tag, kept by every handler in memory, with two bounds so
 * that it cannot grow for ever (issue 12):
 *
 * - **Retention.** A time older than `retention` (plus a day of slack for clocks that
 *   disagree between instances) is dropped. That is sound because the core counts any entry
 *   older than `retention` as expired whatever its tags say (`CacheHandler.tagRetention`,
 *   runtime/swr.ts): an entry rendered before the dropped time is that old, so forgetting the
 *   time changes nothing about how it is served. Entries of every build are covered alike,
 *   which matters on a store shared by two builds during a deploy.
 * - **Count.** Past `maxTags` records (a flood of distinct tags, e.g. `revalidateTag` called
 *   with names taken from requests), the records raised longest ago are folded into one
 *   `floor` time that applies to every tagged entry. Nothing is ever served past an
 *   invalidation: the cost is that entries older than the floor render once more than needed.
 *
 * "Now" is the latest invalidation time seen, not the wall clock: the times come from the
 * app's clock (`now()` option), and a store that receives no invalidations does not grow.
 */
import { NO_TAG_TIMES, type TagInvalidation, type TagTimes } from './types.js'

/** Seconds an invalidation time is kept by default: a year (the default `expireTime`) and a day. */
export const DEFAULT_TAG_RETENTION = 31_536_000 + 86_400
/** Records kept by default before the oldest are folded into the floor. */
export const DEFAULT_MAX_TAGS = 100_000
/** Slack for clocks of several instances that disagree. */
const CLOCK_SLACK_MS = 24 * 60 * 60 * 1000

export interface TagTimesOptions {
  /** Seconds an invalidation time is kept. */
  retention?: number
  /** Records kept before the oldest are folded into the floor. */
  maxTags?: number
}

export interface TagRecord {
  expired: number
  stale: number
}

export interface TagTimeStore {
  /** Raise each tag's time for the invalidation's mode; an earlier `at` never lowers it. Returns whether anything changed. */
  record(tags: readonly string[], invalidation: TagInvalidation): boolean
  /** The max time per mode over `tags` (and the floor, for a non-empty list). */
  max(tags: readonly string[]): TagTimes
  /** Raise the floor (read back from storage). */
  raiseFloor(floor: TagRecord): void
  /** Drop the times no entry can still carry; returns how many records went. */
  prune(): number
  /** The time before which nothing is kept, ms (0 until an invalidation was seen). */
  readonly horizon: number
  /** Records held. */
  readonly size: number
  readonly floor: Readonly<TagRecord>
  /** The records held, least recently raised first. */
  records(): IterableIterator<[string, Readonly<TagRecord>]>
  clear(): void
}

export function checkTagTimesOptions(where: string, retention: unknown, maxTags: unknown): void {
  if (retention !== undefined && !(typeof retention === 'number' && Number.isFinite(retention) && retention > 0)) {
    throw new TypeError(`[vite-isr] ${where}: tagRetention must be a positive number of seconds (got ${String(retention)})`)
  }
  if (maxTags !== undefined && !(typeof maxTags === 'number' && Number.isSafeInteger(maxTags) && maxTags > 0)) {
    throw new TypeError(`[vite-isr] ${where}: maxTags must be a positive integer (got ${String(maxTags)})`)
  }
}

export function createTagTimes(options: TagTimesOptions = {}): TagTimeStore {
  const keepMs = (options.retention ?? DEFAULT_TAG_RETENTION) * 1000 + CLOCK_SLACK_MS
  const maxTags = options.maxTags ?? DEFAULT_MAX_TAGS
  // Insertion order is the order of the last raise: the front holds the oldest times.
  const map = new Map<string, TagRecord>()
  const floor: TagRecord = { expired: 0, stale: 0 }
  let latest = 0
  const horizon = () => (latest === 0 ? 0 : latest - keepMs)

  function prune(): number {
    const before = horizon()
    if (floor.expired < before) floor.expired = 0
    if (floor.stale < before) floor.stale = 0
    let dropped = 0
    for (const [tag, times] of map) {
      // Raises arrive nearly in time order, so the old ones sit at the front: stop at the first young one.
      if (times.expired >= before || times.stale >= before) break
      map.delete(tag)
      dropped++
    }
    return dropped
  }

  function fold(): void {
    // Down to 90 %, so a flood does not fold on every single record.
    const target = Math.floor(maxTags * 0.9)
    for (const [tag, times] of map) {
      if (map.size <= target) break
      if (times.expired > floor.expired) floor.expired = times.expired
      if (times.stale > floor.stale) floor.stale = times.stale
      map.delete(tag)
    }
  }

  return {
    record(tags, { at, mode }) {
      if (at > latest) latest = at
      if (at < horizon()) return false
      const field = mode === 'expire' ? 'expired' : 'stale'
      let changed = false
      for (const tag of tags) {
        const times = map.get(tag)
        if (times === undefined) {
          map.set(tag, field === 'expired' ? { expired: at, stale: 0 } : { expired: 0, stale: at })
        } else if (at > times[field]) {
          times[field] = at
          map.delete(tag)
          map.set(tag, times)
        } else continue
        changed = true
      }
      prune()
      if (map.size > maxTags) fold()
      return changed
    },
    max(tags) {
      if (tags.length === 0) return NO_TAG_TIMES
      let { expired, stale } = floor
      for (const tag of tags) {
        const times = map.get(tag)
        if (times === undefined) continue
        if (times.expired > expired) expired = times.expired
        if (times.stale > stale) stale = times.stale
      }
      return expired === 0 && stale === 0 ? NO_TAG_TIMES : { expired, stale }
    },
    raiseFloor(raised) {
      if (raised.expired > floor.expired) floor.expired = raised.expired
      if (raised.stale > floor.stale) floor.stale = raised.stale
      for (const at of [raised.expired, raised.stale]) if (at > latest) latest = at
      prune()
    },
    prune,
    get horizon() {
      return horizon()
    },
    get size() {
      return map.size
    },
    floor,
    records: () => map.entries(),
    clear() {
      map.clear()
      floor.expired = 0
      floor.stale = 0
      latest = 0
    },
  }
}
