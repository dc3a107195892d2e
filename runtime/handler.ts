/**
 * `createISRHandler`: the Express middleware (and the `wrap()` fast path) over the
 * build output: the server's store (memory tier in front of the filesystem, or the app's
 * own handler) under the one render environment, and revalidation on the instance.
 */
import { buildSource, createEnvironment } from './environment.js'
import { loadBuildOutput } from './render/build-output.js'
import { createMemoryCacheHandler } from './cache/handlers/memory.js'
import { createTieredCacheHandler } from './cache/handlers/tiered.js'
import type { CacheHandler } from './cache/handlers/types.js'
import { createLogger, type Logger } from './inspect/debug.js'
import { handlerFromBuild, isThenable, resolveDistDir, resolveHandlerOptions, type ISRHandlerOptions } from './options.js'
import { createDraftMode } from './serve/draft-mode.js'
import type { NextFunction, Pipeline } from './serve/pipeline.js'
import { applyPathRevalidation, pathRevalidation, registerRevalidationTarget, tagRevalidation, type RevalidatePathOptions, type RevalidatePathType, type RevalidateTagProfile } from './cache/revalidate.js'
import { importSeed, openDefaultStore } from './seed.js'
import { DEFAULT_TAG_RETENTION } from './cache/handlers/tag-times.js'
import { createRenderLimiter } from './cache/render-limiter.js'
import { closeCache } from './cache/drain.js'

export type { NextFunction }

export interface ISRHandler extends Pipeline {
  /**
   * `revalidatePath` in this handler only (the module-level `revalidatePath` reaches every
   * live handler of the process). Same arguments and checks.
   */
  revalidatePath(path: string, typeOrOptions?: RevalidatePathType | RevalidatePathOptions): Promise<void>
  /** `revalidateTag` in this handler only. Same arguments and checks. */
  revalidateTag(tag: string, profile?: RevalidateTagProfile): Promise<void>
  /** The cache store in use (memory tier in front of the configured handler). */
  readonly cache: CacheHandler
  readonly buildId: string
  /**
   * Stop gracefully: no new render starts (a stale page is still answered; a request that
   * needs a render gets 503 with `Retry-After`), running renders and their writes are awaited
   * up to `closeTimeoutMs`, then pending writes are flushed and the cache handler released
   * (temp files, Redis connections, timers). Never rejects; idempotent.
   */
  close(): Promise<void>
}

let warnedNodeEnv = false
/** Once per process: a test suite or a cluster starting many handlers gets one line, not one each. */
function warnUnlessProduction(log: Logger): void {
  if (warnedNodeEnv || process.env.NODE_ENV === 'production') return
  warnedNodeEnv = true
  log.warn(
    `NODE_ENV is ${process.env.NODE_ENV ? `"${process.env.NODE_ENV}"` : 'not set'}: when middleware in front of vite-isr fails, Express shows the client its stack trace and file paths (vite-isr's own answers never carry them). Start the server with NODE_ENV=production.`,
  )
}

export async function createISRHandler(userOptions: ISRHandlerOptions = {}): Promise<ISRHandler> {
  if (isThenable(userOptions?.cacheHandler)) userOptions = { ...userOptions, cacheHandler: await userOptions.cacheHandler }
  const build = await loadBuildOutput(resolveDistDir(userOptions))
  const { manifest, entry } = build
  const options = resolveHandlerOptions(userOptions, entry.config)
  const log = createLogger({ debug: options.debug, write: options.log })
  for (const warning of options.warnings) log.warn(warning)
  warnUnlessProduction(log)
  const buildId = manifest.buildId

  const custom = options.cacheHandler ?? (await handlerFromBuild(entry.cacheHandler))
  // Tag times must outlive every entry that may still be served: a year and a day, or
  // expireTime and a day when that is longer (expireTime: Infinity keeps pages for good).
  const tagRetention = Math.max(DEFAULT_TAG_RETENTION, options.expireTime + 86_400)
  const store = custom ?? (await openDefaultStore(build, { readTimeoutMs: options.cacheReadTimeoutMs, dir: options.cacheDir, maxSize: options.cacheMaxDiskSize, maxEntries: options.cacheMaxDiskEntries, now: options.now, tagRetention }, log))
  if (custom) await importSeed(build, custom, log)
  const cache =
    options.cacheMaxMemorySize > 0
      ? createTieredCacheHandler({ memory: createMemoryCacheHandler({ maxSize: options.cacheMaxMemorySize }), store })
      : store

  const env = createEnvironment(buildSource(build), {
    store: cache,
    log,
    expireTime: options.expireTime,
    now: options.now,
    renderTimeoutMs: options.renderTimeout,
    retryBackoffMs: options.retryBackoff,
    staleIfErrorSeconds: options.staleIfError,
    maxBodySize: options.maxBodySize,
    onRevalidate: options.onRevalidate,
    tagHeader: options.cdnTagHeader,
    inspector: options.inspector,
    draft: createDraftMode({ secret: options.draftModeSecret, now: options.now }),
    renderLimiter: createRenderLimiter({ concurrency: options.renderConcurrency, queueSize: options.renderQueueSize, maxWaitMs: options.renderTimeout }),
  })
  const { pages } = env
  const unregister = registerRevalidationTarget(pages)
  const middleware = env.pipeline as ISRHandler

  Object.defineProperties(middleware, {
    cache: { value: cache, enumerable: true },
    buildId: { value: buildId, enumerable: true },
  })
  middleware.revalidatePath = (path, typeOrOptions) => {
    try {
      return applyPathRevalidation(pathRevalidation(path, typeOrOptions), [pages])
    } catch (error) {
      return Promise.reject(error)
    }
  }
  middleware.revalidateTag = (tag, profile) => {
    try {
      return pages.invalidate(tagRevalidation(tag, profile))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  let closed: Promise<void> | undefined
  middleware.close = () => {
    closed ??= Promise.resolve().then(() => {
      unregister()
      env.close()
      return closeCache({ swr: env.swr, handler: cache, timeoutMs: options.closeTimeoutMs, log })
    })
    return closed
  }
  return middleware
}
