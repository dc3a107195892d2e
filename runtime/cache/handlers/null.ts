/**
 * A store that keeps nothing: every read misses, every write is dropped. The dev server serves
 * through the same pipeline as production over it, so every request renders.
 */
import { NO_TAG_TIMES, type CacheHandler } from './types.js'

export function createNullCacheHandler(): CacheHandler {
  return {
    name: 'none',
    get: () => undefined,
    peek: () => undefined,
    set: () => {},
    delete: () => {},
    invalidateTags: () => {},
    getTagTimes: () => NO_TAG_TIMES,
  }
}
