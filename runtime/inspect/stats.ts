/**
 * Hit / stale / miss / bypass counters, total and per second over the last minutes, for
 * the inspector. Counting is one array increment on the serving path.
 */
/** What a page response was, as the `x-isr-cache` header says. */
export type ResponseState = 'HIT' | 'STALE' | 'MISS' | 'BYPASS'
/** A response state, or `BUSY`: a 503 for want of a render slot (its header says MISS). */
export type CountedState = ResponseState | 'BUSY'

const STATES: readonly CountedState[] = ['HIT', 'STALE', 'MISS', 'BYPASS', 'BUSY']
const WINDOW_SECONDS = 600

export interface CacheStats {
  count(state: CountedState): void
  totals(): Record<CountedState, number>
  /** Counts per second for the last `seconds` (oldest first), per state. */
  series(seconds: number): Record<CountedState, number[]>
}

export function createCacheStats(now: () => number): CacheStats {
  const totals: Record<CountedState, number> = { HIT: 0, STALE: 0, MISS: 0, BYPASS: 0, BUSY: 0 }
  // A ring of per-second buckets; `stamps` says which second a bucket currently holds.
  const buckets = STATES.map(() => new Uint32Array(WINDOW_SECONDS))
  const stamps = new Float64Array(WINDOW_SECONDS).fill(-1)
  const index = (state: CountedState) => STATES.indexOf(state)

  return {
    count(state) {
      totals[state]++
      const second = Math.floor(now() / 1000)
      const slot = second % WINDOW_SECONDS
      if (stamps[slot] !== second) {
        stamps[slot] = second
        for (const bucket of buckets) bucket[slot] = 0
      }
      buckets[index(state)][slot]++
    },
    totals: () => ({ ...totals }),
    series(seconds) {
      const n = Math.min(seconds, WINDOW_SECONDS)
      const last = Math.floor(now() / 1000)
      const out = {} as Record<CountedState, number[]>
      for (const state of STATES) {
        const bucket = buckets[index(state)]
        out[state] = Array.from({ length: n }, (_, i) => {
          const second = last - n + 1 + i
          const slot = ((second % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS
          return stamps[slot] === second ? bucket[slot] : 0
        })
      }
      return out
    },
  }
}
