/**
 * A real cache handler whose reads and writes each wait a random few milliseconds first,
 * as a busy disk or network store would: it changes when things land, not what they are.
 */
import type { CacheHandler } from 'vite-isr/runtime'

const pause = (maxMs: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs))

export function withRandomDelays(handler: CacheHandler, maxMs: () => number): CacheHandler {
  return new Proxy(handler, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      // Without a synchronous peek, every read goes through the delayed get.
      if (prop === 'peek') return undefined
      if (prop === 'get' || prop === 'set' || prop === 'getTagTimes' || prop === 'invalidateTags') {
        return async (...args: unknown[]) => {
          await pause(maxMs())
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
      return value.bind(target)
    },
  })
}
