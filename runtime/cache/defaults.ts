/**
 * Every default of vite-isr, with its unit in its name: the options' docs, the plugin, the
 * handlers and the prerender read them here, so a default is written once.
 */
import { availableParallelism } from 'node:os'

/** Seconds in a year: the default `expireTime` and `staleIfError`, and `revalidate: false`'s `s-maxage`. */
export const ONE_YEAR_SECONDS = 31_536_000

/** What `expireTime: Infinity` stands for (Next.js's INFINITE_CACHE), so entries and headers stay finite. */
export const INFINITE_EXPIRE_TIME_SECONDS = 0xfffffffe

/** The memory tier's budget (`cacheMaxMemorySize`). */
export const DEFAULT_MEMORY_MAX_SIZE_BYTES = 50 * 1024 * 1024

/** The filesystem cache's budget (`cacheMaxDiskSize`). */
export const DEFAULT_DISK_MAX_SIZE_BYTES = 1024 * 1024 * 1024

/** The filesystem cache's bound on files (`cacheMaxDiskEntries`). */
export const DEFAULT_DISK_MAX_ENTRIES = 1_000_000

/** A route handler's request body bound (`maxBodySize`). */
export const DEFAULT_MAX_BODY_SIZE_BYTES = 1024 * 1024

/**
 * The longest delay Node's timers keep (2^31 - 1 ms, about 24.8 days): a longer one fires at
 * once, with only a warning. Options that become a timer (`renderTimeout`, `closeTimeoutMs`,
 * `cacheReadTimeoutMs`) are refused above it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** `renderTimeout`. */
export const DEFAULT_RENDER_TIMEOUT_MS = 30_000

/** `retryBackoff`. */
export const DEFAULT_RETRY_BACKOFF_MS = Object.freeze({ min: 2_000, max: 60_000 })

/** The folder under `distDir` the build seeds with prerendered pages; the default `cacheDir`. */
export const SEED_DIR_NAME = 'isr-cache'

/** A 404 from `notFound()` stays fresh this long, and only in memory. */
export const NOT_FOUND_REVALIDATE_SECONDS = 10

/**
 * How long a draft mode cookie is honoured after `enable()`: the signed value carries its
 * expiry (a copied cookie stops working), and the browser drops it then too.
 */
export const DRAFT_MODE_MAX_AGE_SECONDS = 86_400

/** Characters a draft mode secret must have at least (`draftModeSecret`, `ISR_DRAFT_SECRET`). */
export const MIN_DRAFT_SECRET_LENGTH = 32

/**
 * `renderConcurrency`: renders running at once. A render mostly waits (loaders reading data)
 * between bursts of CPU (React, compression), so twice the cores keeps every core busy while
 * half the renders wait on I/O; more would only hold more pages in memory at once without
 * finishing any sooner. At least 2, so one slow render never holds up every other.
 */
export const defaultRenderConcurrency = (): number => Math.max(2, 2 * availableParallelism())

/**
 * `renderQueueSize`, per render slot: requests that may wait for a slot. A waiting request
 * holds a socket and a few kB, not a page, and waits at most `renderTimeout`, so the queue
 * can be deep: fifty per slot absorbs the bursts of ordinary clients (a load tester or a
 * crawler opening 50–100 connections) and refuses only a flood.
 */
export const RENDER_QUEUE_PER_SLOT = 50

/** `Retry-After` on the 503 a request gets when no render slot frees for it. */
export const RENDER_BUSY_RETRY_AFTER_SECONDS = 2

/** `closeTimeoutMs`: how long `close()` waits for running renders and writes. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000

/** `cacheReadTimeoutMs`: a read of the cache folder slower than this counts as a miss. */
export const DEFAULT_STORE_READ_TIMEOUT_MS = 5_000
