/**
 * A bound on page renders running at once (`renderConcurrency`), with a bounded FIFO queue
 * (`renderQueueSize`) for the requests that wait for one. Each render holds its page's data,
 * React tree, HTML and compressed copies until it is stored: without a bound, a burst of
 * requests for distinct uncached paths holds all of them at once (60 pages of 5 MB took RSS
 * from 306 MB to 597 MB). A request joining a render already running takes nothing here:
 * the SWR core asks only when it starts a new one.
 *
 * Hand-written: p-limit and p-queue queue without bound and never refuse a task (p-queue's
 * `timeout` bounds a task's run, not its wait), and this is a counter, a queue and a timer.
 */

import { MAX_TIMER_MS } from './defaults.js'

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void

/**
 * A render refused a slot: the queue was full, or none freed within the wait bound. Not a
 * render failure: nothing is backed off or logged as an error; a waiting request is answered
 * 503 with `Retry-After`, a background regeneration is simply not started.
 */
export class RenderBusyError extends Error {
  readonly reason: 'queue-full' | 'wait-timeout' | 'background'
  constructor(reason: RenderBusyError['reason'], label: string) {
    super(`[vite-isr] no render slot for ${label} (${reason}); raise renderConcurrency or renderQueueSize if the server has room`)
    this.name = 'RenderBusyError'
    this.reason = reason
  }
}

export interface RenderLimiterOptions {
  /** Renders that may run at once. */
  concurrency: number
  /** Renders that may wait for a slot; past it a new one is refused at once. */
  queueSize: number
  /** Milliseconds a render may wait for a slot before it is refused. */
  maxWaitMs: number
}

export interface RenderLimiter {
  /**
   * A slot for a render: at once (a `Release`) when one is free and nobody waits; a promise
   * of one for a request that waits (FIFO), rejected with `RenderBusyError` past the queue or
   * the wait bound; with `background`, never a wait: a `RenderBusyError` thrown at once, so a
   * regeneration nobody waits for never takes a place from a request that does.
   */
  acquire(label: string, background: boolean): Release | Promise<Release>
  readonly running: number
  readonly waiting: number
}

interface Waiter {
  grant(release: Release): void
  timer: NodeJS.Timeout
}

export function createRenderLimiter(options: RenderLimiterOptions): RenderLimiter {
  const { concurrency, queueSize, maxWaitMs } = options
  let running = 0
  // A Set keeps insertion order (FIFO) and lets a waiter that timed out leave from the middle.
  const queue = new Set<Waiter>()

  function slot(): Release {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = queue.values().next()
      if (next.done) {
        running--
        return
      }
      // The slot passes straight to the longest waiter: `running` does not change.
      queue.delete(next.value)
      clearTimeout(next.value.timer)
      next.value.grant(slot())
    }
  }

  return {
    acquire(label, background) {
      if (running < concurrency && queue.size === 0) {
        running++
        return slot()
      }
      if (background) throw new RenderBusyError('background', label)
      if (queue.size >= queueSize) return Promise.reject(new RenderBusyError('queue-full', label))
      return new Promise<Release>((resolve, reject) => {
        const waiter: Waiter = {
          grant: resolve,
          timer: setTimeout(() => {
            queue.delete(waiter)
            reject(new RenderBusyError('wait-timeout', label))
          }, Math.min(maxWaitMs, MAX_TIMER_MS)),
        }
        waiter.timer.unref()
        queue.add(waiter)
      })
    },
    get running() {
      return running
    },
    get waiting() {
      return queue.size
    },
  }
}
