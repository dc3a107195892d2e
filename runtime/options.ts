import { join, resolve } from 'node:path'
import { DEFAULT_CACHE_DIR } from './render/build-output.js'
import type { CacheHandler } from './cache/handlers/types.js'
import type { RevalidateEvent } from './cache/revalidate.js'
import type { InspectorOptions, ResolvedInspectorOptions } from './serve/inspector.js'
import { DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_STORE_READ_TIMEOUT_MS, DEFAULT_DISK_MAX_ENTRIES, DEFAULT_DISK_MAX_SIZE_BYTES, DEFAULT_MAX_BODY_SIZE_BYTES, DEFAULT_MEMORY_MAX_SIZE_BYTES, DEFAULT_RENDER_TIMEOUT_MS, DEFAULT_RETRY_BACKOFF_MS, defaultRenderConcurrency, INFINITE_EXPIRE_TIME_SECONDS, MAX_TIMER_MS, MIN_DRAFT_SECRET_LENGTH, ONE_YEAR_SECONDS, RENDER_QUEUE_PER_SLOT } from './cache/defaults.js'

export type { RevalidateEvent }

export interface ISRHandlerOptions {
  /**
   * The folder `vite build` wrote (with `client/`, `server/` and `prerender-manifest.json`).
   * @default 'dist'
   */
  distDir?: string
  /**
   * Where the default filesystem cache lives. The build seeds `<distDir>/isr-cache`; any
   * other folder is seeded from it on first start of a build.
   * @default `${distDir}/isr-cache`
   * @example createISRHandler({ cacheDir: '/var/cache/my-site' })
   */
  cacheDir?: string
  /**
   * A custom store implementing `CacheHandler` (see `vite-isr/cache-handlers/redis`), or a
   * promise of one (`createRedisCacheHandler(...)` needs no `await` here).
   * The memory tier stays in front of it unless `cacheMaxMemorySize` is 0.
   * @default the filesystem handler at `cacheDir`
   */
  cacheHandler?: CacheHandler | PromiseLike<CacheHandler>
  /**
   * Bytes of the in-memory LRU in front of the store; `0` turns it off.
   * @default 52428800 (50 MB)
   */
  cacheMaxMemorySize?: number
  /**
   * Bytes of disk the default filesystem cache may use, counted in whole file-system blocks
   * (a 300-byte entry takes 4096 bytes on most disks); past it the least recently used
   * entries are deleted (they render again on demand). `Infinity` for no bound.
   * @default 1073741824 (1 GiB)
   */
  cacheMaxDiskSize?: number
  /**
   * Number of entry files the default filesystem cache may hold (each costs an inode and a
   * directory entry whatever its size); past it the least recently used are deleted.
   * `Infinity` for no bound.
   * @default 1000000
   */
  cacheMaxDiskEntries?: number
  /**
   * Milliseconds a read of the default filesystem cache may take (an entry, or a chunk of
   * `tags.log` at start). A slower entry read counts as a miss: the page renders, and one
   * warning a minute at most is logged. A slower `tags.log` read fails the start.
   * At most 2147483647 (about 24.8 days, the longest timer Node keeps).
   * @default 5000
   */
  cacheReadTimeoutMs?: number
  /**
   * Milliseconds `close()` waits for running renders and their writes before it gives up on
   * them (and logs how many); the cache is then flushed and released.
   * At most 2147483647 (about 24.8 days, the longest timer Node keeps).
   * @default 10000
   */
  closeTimeoutMs?: number
  /**
   * Seconds a page's last good copy may be old and still answer when its fresh render fails
   * (after `revalidateTag` without a profile, or past `expireTime`); older, the error page
   * answers instead (RFC 5861's stale-if-error).
   * @default 31536000 (one year)
   */
  staleIfError?: number
  /**
   * Seconds after which a page must not be served stale any more (Next.js's `expireTime`).
   * Sent as `stale-while-revalidate=expireTime - revalidate`. `Infinity` (never) counts as
   * 4294967294 seconds (about 136 years), as in Next.js, so the header stays finite.
   * An entry older than the cache handler's `tagRetention` (a year and a day by default)
   * counts as expired even so, since invalidations that old are forgotten.
   * @default 31536000 (one year)
   */
  expireTime?: number
  /**
   * Milliseconds a render may take before it counts as failed (the stale page keeps being served).
   * At most 2147483647 (about 24.8 days, the longest timer Node keeps): there is no "no timeout".
   * @default 30000
   */
  renderTimeout?: number
  /**
   * Number of page renders (MISS, expired, stale regenerations) that may run at once. Requests
   * for a page already rendering share that render and take no slot; route handlers and
   * `revalidate = 0` pages are the app's own code and are not counted. A request that needs a
   * render past the bound waits in a queue (`renderQueueSize`) for at most `renderTimeout` ms,
   * then gets `503 Service Unavailable` with `Retry-After: 2`, `Cache-Control: private, no-store`
   * (an expired page with a last good copy answers that copy instead). A stale page's background
   * regeneration never waits or answers 503: with no free slot it is not started, the stale
   * page is served, and the next request after a slot frees starts it. `Infinity` for no bound.
   * @default Math.max(2, 2 * os.availableParallelism())
   */
  renderConcurrency?: number
  /**
   * Number of requests that may wait for a render slot (`renderConcurrency`), first come
   * first served; past it a request needing a render gets 503 at once. `0`: none waits.
   * @default 50 * renderConcurrency
   */
  renderQueueSize?: number
  /**
   * Back-off after a failed regeneration: the first retry waits `min` ms, each further failure doubles it up to `max`.
   * @default { min: 2000, max: 60000 }
   */
  retryBackoff?: { min: number; max: number }
  /**
   * Called after each `revalidatePath` / `revalidateTag` is stored, e.g. to purge a CDN.
   * `tags` are the tags written (including the implicit path and route tags that
   * `cdnTagHeader` sends); `paths` are the paths `revalidatePath` was called with.
   * A failure is logged; the invalidation itself stands.
   * @example onRevalidate: ({ tags }) => purgeCloudflareTags(tags)
   */
  onRevalidate?: (event: RevalidateEvent) => void | Promise<void>
  /**
   * Send each cached page's tags in a response header, for a CDN that purges by tag:
   * `true` for `Cache-Tag` (comma-separated), or a header name (`Surrogate-Key` is
   * space-separated). Off by default: tags are never sent to clients unless asked.
   * @default false
   */
  cdnTagHeader?: boolean | string
  /**
   * Serve the cache inspector at `/__isr`: `true` or `{ token, allowedHosts }`. It always
   * needs a token of at least 16 characters (here or in `ISR_INSPECTOR_TOKEN`): a shorter
   * one given here throws; a missing or short `ISR_INSPECTOR_TOKEN` leaves the inspector off
   * with a warning.
   * @default process.env.ISR_INSPECTOR === '1', with process.env.ISR_INSPECTOR_TOKEN
   * @example inspector: { token: process.env.INSPECTOR_TOKEN, allowedHosts: ['www.example.com'] }
   */
  inspector?: boolean | InspectorOptions
  /**
   * Bytes of request body a route handler may read. A larger `Content-Length` is answered
   * `413 Payload Too Large` without reading; a streamed body is cut off (and answered 413)
   * once it passes the limit. A body an Express body parser already read is left to that
   * parser's own limit. `Infinity` for no bound.
   * @default 1048576 (1 MiB)
   */
  maxBodySize?: number
  /**
   * The key that signs draft mode cookies (HMAC-SHA256), at least 32 characters. Without one,
   * `draftMode().enable()` throws and no draft cookie is honoured. Keep it secret: anyone who
   * has it can see unpublished content. A shorter value here throws; a shorter
   * `ISR_DRAFT_SECRET` leaves draft mode off with a warning.
   * @default process.env.ISR_DRAFT_SECRET
   * @example draftModeSecret: process.env.PREVIEW_SECRET
   */
  draftModeSecret?: string
  /**
   * The clock, in ms since the epoch. Tests inject one to move time without sleeping.
   * @default Date.now
   */
  now?: () => number
  /**
   * Print one line per cache event to stderr.
   * @default process.env.ISR_DEBUG_CACHE or process.env.NEXT_PRIVATE_DEBUG_CACHE
   */
  debug?: boolean
  /**
   * Where log lines go.
   * @default a line to process.stderr
   */
  log?: (line: string) => void
}

export interface ResolvedHandlerOptions {
  distDir: string
  cacheDir: string
  cacheHandler: CacheHandler | undefined
  cacheMaxMemorySize: number
  cacheMaxDiskSize: number
  cacheMaxDiskEntries: number
  cacheReadTimeoutMs: number
  closeTimeoutMs: number
  staleIfError: number
  expireTime: number
  renderTimeout: number
  renderConcurrency: number
  renderQueueSize: number
  retryBackoff: { min: number; max: number }
  now: () => number
  onRevalidate: ((event: RevalidateEvent) => void | Promise<void>) | undefined
  inspector: ResolvedInspectorOptions | undefined
  maxBodySize: number
  draftModeSecret: string | undefined
  cdnTagHeader: string | undefined
  debug: boolean | undefined
  log: ((line: string) => void) | undefined
  /** Problems found in the environment, for the factory to log once it has its logger. */
  warnings: string[]
}

/** What `expireTime: Infinity` stands for: Next.js's INFINITE_CACHE, finite so that JSON and headers can carry it. */
export const INFINITE_EXPIRE_TIME = INFINITE_EXPIRE_TIME_SECONDS

/**
 * The one rule for `expireTime`, in `isr()` and `createISRHandler()`: seconds > 0, or
 * `Infinity`, which becomes `INFINITE_EXPIRE_TIME`. Returns `undefined` for a wrong value.
 */
export function normalizeExpireTime(value: unknown): number | undefined {
  if (value === Infinity) return INFINITE_EXPIRE_TIME
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined
}

export const EXPIRE_TIME_RULE = 'expireTime must be a positive number of seconds, or Infinity for never'

function check(ok: boolean, message: string): void {
  if (!ok) throw new TypeError(`[vite-isr] createISRHandler: ${message}`)
}

const isNonNegativeInteger = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0
const isPositive = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0

export function resolveDistDir(options: ISRHandlerOptions): string {
  check(typeof options === 'object' && options !== null, 'options must be an object')
  check(options.distDir === undefined || (typeof options.distDir === 'string' && options.distDir !== ''), `distDir must be a non-empty string (got ${JSON.stringify(options.distDir)})`)
  return resolve(options.distDir ?? 'dist')
}

/** `defaults` are those set at build in `isr({ cacheDir, cacheMaxMemorySize })`: options given here win. */
export function resolveHandlerOptions(options: ISRHandlerOptions, defaults: Pick<ISRHandlerOptions, 'cacheDir' | 'cacheMaxMemorySize'> = {}): ResolvedHandlerOptions {
  const distDir = resolveDistDir(options)
  const o = { ...options, cacheDir: options.cacheDir ?? defaults.cacheDir, cacheMaxMemorySize: options.cacheMaxMemorySize ?? defaults.cacheMaxMemorySize }
  check(o.cacheDir === undefined || (typeof o.cacheDir === 'string' && o.cacheDir !== ''), `cacheDir must be a non-empty string (got ${JSON.stringify(o.cacheDir)})`)
  check(o.cacheMaxMemorySize === undefined || isNonNegativeInteger(o.cacheMaxMemorySize), `cacheMaxMemorySize must be a non-negative integer of bytes (got ${o.cacheMaxMemorySize})`)
  const expireTime = o.expireTime === undefined ? ONE_YEAR_SECONDS : normalizeExpireTime(o.expireTime)
  check(expireTime !== undefined, `${EXPIRE_TIME_RULE} (got ${o.expireTime})`)
  check(o.cacheMaxDiskSize === undefined || o.cacheMaxDiskSize === Infinity || (isNonNegativeInteger(o.cacheMaxDiskSize) && o.cacheMaxDiskSize > 0), `cacheMaxDiskSize must be a positive integer of bytes or Infinity (got ${o.cacheMaxDiskSize})`)
  check(o.cacheMaxDiskEntries === undefined || o.cacheMaxDiskEntries === Infinity || (isNonNegativeInteger(o.cacheMaxDiskEntries) && o.cacheMaxDiskEntries > 0), `cacheMaxDiskEntries must be a positive integer number of files or Infinity (got ${o.cacheMaxDiskEntries})`)
  check(o.staleIfError === undefined || (typeof o.staleIfError === 'number' && o.staleIfError >= 0), `staleIfError must be a number of seconds >= 0 (got ${o.staleIfError})`)
  check(o.cacheReadTimeoutMs === undefined || isPositive(o.cacheReadTimeoutMs), `cacheReadTimeoutMs must be a positive number of milliseconds (got ${o.cacheReadTimeoutMs})`)
  check(o.closeTimeoutMs === undefined || (typeof o.closeTimeoutMs === 'number' && o.closeTimeoutMs >= 0 && Number.isFinite(o.closeTimeoutMs)), `closeTimeoutMs must be a number of milliseconds >= 0 (got ${o.closeTimeoutMs})`)
  check(o.renderTimeout === undefined || isPositive(o.renderTimeout), `renderTimeout must be a positive number of milliseconds (got ${o.renderTimeout})`)
  for (const name of ['cacheReadTimeoutMs', 'closeTimeoutMs', 'renderTimeout'] as const) {
    const value = o[name]
    check(value === undefined || value <= MAX_TIMER_MS, `${name} must be at most ${MAX_TIMER_MS} milliseconds (about 24.8 days), the longest timer Node keeps; a longer one would fire at once (got ${value})`)
  }
  check(o.renderConcurrency === undefined || o.renderConcurrency === Infinity || (isNonNegativeInteger(o.renderConcurrency) && o.renderConcurrency > 0), `renderConcurrency must be a positive integer number of renders or Infinity (got ${o.renderConcurrency})`)
  check(o.renderQueueSize === undefined || o.renderQueueSize === Infinity || isNonNegativeInteger(o.renderQueueSize), `renderQueueSize must be an integer number of requests >= 0 or Infinity (got ${o.renderQueueSize})`)
  const renderConcurrency = o.renderConcurrency ?? defaultRenderConcurrency()
  check(
    o.retryBackoff === undefined || (isPositive(o.retryBackoff.min) && isPositive(o.retryBackoff.max) && o.retryBackoff.min <= o.retryBackoff.max),
    `retryBackoff must be { min, max } with 0 < min <= max milliseconds (got ${JSON.stringify(o.retryBackoff)})`,
  )
  check(o.maxBodySize === undefined || o.maxBodySize === Infinity || isNonNegativeInteger(o.maxBodySize), `maxBodySize must be an integer number of bytes >= 0 or Infinity (got ${o.maxBodySize})`)
  check(o.now === undefined || typeof o.now === 'function', 'now must be a function returning ms since the epoch')
  check(o.onRevalidate === undefined || typeof o.onRevalidate === 'function', 'onRevalidate must be a function')
  check(
    o.cdnTagHeader === undefined || typeof o.cdnTagHeader === 'boolean' || (typeof o.cdnTagHeader === 'string' && /^[A-Za-z0-9-]+$/.test(o.cdnTagHeader)),
    `cdnTagHeader must be true, false or a header name such as 'Cache-Tag' (got ${JSON.stringify(o.cdnTagHeader)})`,
  )
  const warnings: string[] = []
  const handler = o.cacheHandler
  check(!isThenable(handler), 'cacheHandler is a promise here: await it first (createISRHandler does)')
  check(handler === undefined || isCacheHandler(handler), 'cacheHandler must implement get, set, delete, invalidateTags and getTagTimes (see the CacheHandler type)')
  return {
    distDir,
    cacheDir: resolve(o.cacheDir ?? join(distDir, DEFAULT_CACHE_DIR)),
    cacheHandler: handler as CacheHandler | undefined,
    cacheMaxMemorySize: o.cacheMaxMemorySize ?? DEFAULT_MEMORY_MAX_SIZE_BYTES,
    cacheMaxDiskSize: o.cacheMaxDiskSize ?? DEFAULT_DISK_MAX_SIZE_BYTES,
    cacheMaxDiskEntries: o.cacheMaxDiskEntries ?? DEFAULT_DISK_MAX_ENTRIES,
    cacheReadTimeoutMs: o.cacheReadTimeoutMs ?? DEFAULT_STORE_READ_TIMEOUT_MS,
    closeTimeoutMs: o.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    staleIfError: o.staleIfError ?? ONE_YEAR_SECONDS,
    expireTime: expireTime!,
    renderTimeout: o.renderTimeout ?? DEFAULT_RENDER_TIMEOUT_MS,
    renderConcurrency,
    renderQueueSize: o.renderQueueSize ?? (renderConcurrency === Infinity ? 0 : RENDER_QUEUE_PER_SLOT * renderConcurrency),
    retryBackoff: { ...(o.retryBackoff ?? DEFAULT_RETRY_BACKOFF_MS) },
    now: o.now ?? Date.now,
    onRevalidate: o.onRevalidate,
    inspector: resolveInspector(o.inspector, warnings),
    maxBodySize: o.maxBodySize ?? DEFAULT_MAX_BODY_SIZE_BYTES,
    draftModeSecret: resolveDraftSecret(o.draftModeSecret, warnings),
    cdnTagHeader: o.cdnTagHeader === true ? 'cache-tag' : o.cdnTagHeader ? o.cdnTagHeader.toLowerCase() : undefined,
    debug: o.debug,
    log: o.log,
    warnings,
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

export function isCacheHandler(value: unknown): value is CacheHandler {
  return typeof value === 'object' && value !== null && ['get', 'set', 'delete', 'invalidateTags', 'getTagTimes'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
}

/** The `isr({ cacheHandler })` module's default export: a handler, or a function making one. */
export async function handlerFromBuild(exported: unknown): Promise<CacheHandler | undefined> {
  if (exported === undefined) return undefined
  const handler = typeof exported === 'function' ? await (exported as () => unknown)() : exported
  if (!isCacheHandler(handler)) {
    throw new TypeError('[vite-isr] the module given as isr({ cacheHandler }) must export by default a CacheHandler, or a function returning one (get, set, delete, invalidateTags, getTagTimes)')
  }
  return handler
}

const MIN_TOKEN_LENGTH = 16

/**
 * A bad value in the code throws (it is wrong everywhere the code runs); a missing or short
 * `ISR_INSPECTOR_TOKEN` only keeps the inspector off, with a warning: the environment differs
 * per deployment, and a debugging page must not stop a site from serving. Either way the
 * inspector never runs without a token.
 */
function resolveInspector(option: ISRHandlerOptions['inspector'], warnings: string[], env: NodeJS.ProcessEnv = process.env): ResolvedInspectorOptions | undefined {
  check(
    option === undefined || typeof option === 'boolean' || (typeof option === 'object' && option !== null),
    `inspector must be true, false or { token, allowedHosts } (got ${JSON.stringify(option)})`,
  )
  const given = typeof option === 'object' ? option : {}
  check(
    given.token === undefined || (typeof given.token === 'string' && given.token.length >= MIN_TOKEN_LENGTH),
    `inspector.token must be a string of at least ${MIN_TOKEN_LENGTH} characters (got ${typeof given.token === 'string' ? `${given.token.length} characters` : typeof given.token}); generate one with \`openssl rand -hex 24\``,
  )
  check(
    given.allowedHosts === undefined || (Array.isArray(given.allowedHosts) && given.allowedHosts.every((h) => typeof h === 'string' && /^\.?[a-z0-9.-]+$/i.test(h))),
    `inspector.allowedHosts must be an array of host names such as 'www.example.com' or '.example.com' (got ${JSON.stringify(given.allowedHosts)})`,
  )
  const enabled = option === undefined ? env.ISR_INSPECTOR === '1' || env.ISR_INSPECTOR === 'true' : option !== false
  if (!enabled) return undefined
  const allowedHosts = given.allowedHosts ?? (env.ISR_INSPECTOR_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean)
  if (given.token !== undefined) return { token: given.token, allowedHosts }
  const token = env.ISR_INSPECTOR_TOKEN ?? ''
  if (token.length < MIN_TOKEN_LENGTH) {
    warnings.push(
      `the cache inspector stays off: it needs a token of at least ${MIN_TOKEN_LENGTH} characters and ISR_INSPECTOR_TOKEN is ${token ? `${token.length} characters long` : 'not set'}. Set ISR_INSPECTOR_TOKEN (e.g. to the output of \`openssl rand -hex 24\`) or pass createISRHandler({ inspector: { token } }).`,
    )
    return undefined
  }
  return { token, allowedHosts }
}

/** As the inspector's token: a wrong value in the code throws, a wrong environment only warns. */
export function resolveDraftSecret(option: unknown, warnings: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  check(
    option === undefined || (typeof option === 'string' && option.length >= MIN_DRAFT_SECRET_LENGTH),
    `draftModeSecret must be a string of at least ${MIN_DRAFT_SECRET_LENGTH} characters (got ${typeof option === 'string' ? `${option.length} characters` : typeof option}); generate one with \`openssl rand -hex 32\``,
  )
  if (option !== undefined) return option as string
  const secret = env.ISR_DRAFT_SECRET
  if (secret === undefined || secret === '') return undefined
  if (secret.length < MIN_DRAFT_SECRET_LENGTH) {
    warnings.push(`draft mode stays off: ISR_DRAFT_SECRET is ${secret.length} characters long and needs at least ${MIN_DRAFT_SECRET_LENGTH}. Set it to e.g. the output of \`openssl rand -hex 32\`.`)
    return undefined
  }
  return secret
}
