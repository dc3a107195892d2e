import { EXPIRE_TIME_RULE, normalizeExpireTime, ONE_YEAR_SECONDS } from '../runtime/environment.js'

export interface IsrPluginOptions {
  /**
   * The routes folder, relative to the Vite root.
   * @default 'app'
   * @example isr({ appDir: 'src/app' })
   */
  appDir?: string
  /**
   * How many pages the build renders at once while prerendering.
   * @default 8
   */
  prerenderConcurrency?: number
  /**
   * Seconds after which a page must not be served stale any more (Next.js's `expireTime`),
   * used for the entries written at build. `Infinity` (never) counts as 4294967294 seconds,
   * as in `createISRHandler`.
   * @default 31536000 (one year)
   */
  expireTime?: number
  /**
   * A module (relative to the Vite root) whose default export is a `CacheHandler`, or a
   * function returning one (sync or async). It is bundled into the server at build and
   * used by `createISRHandler` unless that is given its own `cacheHandler`.
   * @example isr({ cacheHandler: './cache-handler.ts' })
   * // cache-handler.ts
   * import { createRedisCacheHandler } from 'vite-isr/cache-handlers/redis'
   * export default () => createRedisCacheHandler({ url: process.env.REDIS_URL! })
   */
  cacheHandler?: string
  /**
   * Default `cacheDir` of the server (relative paths resolve against its working directory).
   * @default `<distDir>/isr-cache`
   */
  cacheDir?: string
  /**
   * Default `cacheMaxMemorySize` of the server, in bytes; `0` turns the memory tier off.
   * @default 52428800 (50 MB)
   */
  cacheMaxMemorySize?: number
  /**
   * `vite` (dev) prints a line per request (method, path, status, milliseconds). `true`
   * silences it; `--logLevel warn` or `silent` does too.
   * @default false
   */
  quiet?: boolean
}

export interface ResolvedPluginOptions {
  appDir: string
  prerenderConcurrency: number
  expireTime: number
  cacheHandler: string | undefined
  quiet: boolean
  /** Defaults handed to the runtime through the server entry. */
  runtimeDefaults: { cacheDir?: string; cacheMaxMemorySize?: number }
}

export function resolvePluginOptions(options: IsrPluginOptions = {}): ResolvedPluginOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('[vite-isr] isr(options): options must be an object')
  const { appDir = 'app', prerenderConcurrency = 8, expireTime = ONE_YEAR_SECONDS, cacheHandler, cacheDir, cacheMaxMemorySize, quiet = false } = options
  if (typeof appDir !== 'string' || appDir === '' || appDir.startsWith('/') || appDir.includes('..')) {
    throw new TypeError(`[vite-isr] isr({ appDir }) must be a folder inside the Vite root such as 'app' or 'src/app' (got ${JSON.stringify(appDir)})`)
  }
  if (!Number.isInteger(prerenderConcurrency) || prerenderConcurrency < 1) {
    throw new TypeError(`[vite-isr] isr({ prerenderConcurrency }) must be a positive integer (got ${prerenderConcurrency})`)
  }
  const expire = normalizeExpireTime(expireTime)
  if (expire === undefined) throw new TypeError(`[vite-isr] isr(): ${EXPIRE_TIME_RULE} (got ${expireTime})`)
  if (cacheHandler !== undefined && (typeof cacheHandler !== 'string' || cacheHandler === '')) {
    throw new TypeError(`[vite-isr] isr({ cacheHandler }) must be the path of a module, e.g. './cache-handler.ts' (got ${JSON.stringify(cacheHandler)}); pass an instance to createISRHandler instead`)
  }
  if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir === '')) throw new TypeError(`[vite-isr] isr({ cacheDir }) must be a non-empty string (got ${JSON.stringify(cacheDir)})`)
  if (cacheMaxMemorySize !== undefined && !(Number.isSafeInteger(cacheMaxMemorySize) && cacheMaxMemorySize >= 0)) {
    throw new TypeError(`[vite-isr] isr({ cacheMaxMemorySize }) must be a non-negative integer of bytes (got ${cacheMaxMemorySize})`)
  }
  if (typeof quiet !== 'boolean') throw new TypeError(`[vite-isr] isr({ quiet }) must be true or false (got ${JSON.stringify(quiet)})`)
  const runtimeDefaults: ResolvedPluginOptions['runtimeDefaults'] = {}
  if (cacheDir !== undefined) runtimeDefaults.cacheDir = cacheDir
  if (cacheMaxMemorySize !== undefined) runtimeDefaults.cacheMaxMemorySize = cacheMaxMemorySize
  return { appDir: appDir.replace(/\/+$/, ''), prerenderConcurrency, expireTime: expire, cacheHandler, quiet, runtimeDefaults }
}
