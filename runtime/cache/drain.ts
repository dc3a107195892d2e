/**
 * The graceful stop of the stale-while-revalidate core: once closing, no render starts
 * that is not nested in one already running (a page's `cache()` reads must still finish),
 * and `close` waits for the renders, their writes and their lock releases, up to a bound.
 * Writes are rename-based, so giving up at the bound never leaves half an entry.
 */

import type { CacheHandler } from './handlers/types.js'
import type { Logger } from '../inspect/debug.js'
import type { SWR } from './swr.js'

/** What a render refused because the server is stopping rejects with. */
export class ClosingError extends Error {
  readonly code = 'ISR_CLOSING'
  constructor(label: string) {
    super(`[vite-isr] not rendering ${label}: the server is stopping`)
  }
}

export function isClosingError(error: unknown): error is ClosingError {
  return error instanceof ClosingError
}

export interface Drain {
  /** Whether `close` was called. */
  readonly closing: boolean
  /** Counts `work` as running until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T>
  /**
   * Stop, wait for what runs (and what it starts meanwhile) for at most `timeoutMs`.
   * Resolves with how many pieces of work were still running at the bound (0: all done).
   * Idempotent: later calls share the first one's result.
   */
  close(timeoutMs: number): Promise<number>
}

export function createDrain(): Drain {
  const running = new Set<Promise<unknown>>()
  let closed: Promise<number> | undefined

  async function waitFor(timeoutMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        timedOut = true
        resolve()
      }, timeoutMs)
    })
    try {
      // Work settling may start more (a nested write, a lock release): wait again until none is left.
      while (running.size > 0 && !timedOut) await Promise.race([Promise.allSettled([...running]), bound])
    } finally {
      clearTimeout(timer)
    }
    return running.size
  }

  return {
    get closing() {
      return closed !== undefined
    },
    track(work) {
      running.add(work)
      const forget = () => void running.delete(work)
      work.then(forget, forget)
      return work
    },
    close(timeoutMs) {
      closed ??= waitFor(timeoutMs)
      return closed
    },
  }
}

/** The store's own flush and release get at least this long, even when the renders took the whole bound. */
const RELEASE_MIN_MS = 1_000

/**
 * A handler's graceful stop: drain the core (`SWR.close`), then flush and release the store
 * (pending tag-log appends, temp files, connections, timers), all within `timeoutMs` (plus a
 * moment for the release). Never rejects: a stop that cannot finish something says so and ends.
 */
export async function closeCache(options: { swr: SWR; handler: CacheHandler; timeoutMs: number; log: Logger }): Promise<void> {
  const { swr, handler, timeoutMs, log } = options
  const started = performance.now()
  const left = await swr.close(timeoutMs)
  if (left > 0) {
    log.warn(`closing: ${left} render${left === 1 ? '' : 's'} or write${left === 1 ? '' : 's'} still running after closeTimeoutMs (${timeoutMs} ms), given up on; entries they were writing stay as they were`)
  }
  const remaining = Math.max(RELEASE_MIN_MS, timeoutMs - (performance.now() - started))
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), remaining)
  })
  try {
    const released = Promise.resolve()
      .then(() => handler.dispose?.())
      .then(
        () => 'done' as const,
        (error: unknown) => {
          log.error(`closing: releasing the ${handler.name} cache failed`, error)
          return 'done' as const
        },
      )
    if ((await Promise.race([released, late])) === 'late') log.warn(`closing: the ${handler.name} cache did not release within ${Math.round(remaining)} ms; given up on`)
  } finally {
    clearTimeout(timer)
  }
}
