/**
 * The build prerenders into `<distDir>/isr-cache` (the filesystem handler's format).
 * When the server's store is that folder, there is nothing to do; any other store
 * (another `cacheDir`, Redis) is filled from it once per build.
 */
import { join, resolve } from 'node:path'
import type { BuildOutput } from './render/build-output.js'
import { DEFAULT_CACHE_DIR } from './render/build-output.js'
import { createFileSystemCacheHandler } from './cache/handlers/file-system.js'
import type { CacheHandler } from './cache/handlers/types.js'
import type { Logger } from './inspect/debug.js'
import { pageKey } from './render/page-entry.js'
import { ONE_YEAR_SECONDS } from './cache/defaults.js'

export function seedDir(distDir: string): string {
  return join(distDir, DEFAULT_CACHE_DIR)
}

const seedMarker = (buildId: string) => `seed:${buildId}`

/**
 * Copy the prerendered pages of this build into `target`, unless an earlier start did.
 * A store that cannot take them (a full disk, a lost connection) does not stop start-up:
 * the pages render on first request, and the next start tries again.
 */
export async function importSeed(build: BuildOutput, target: CacheHandler, log: Logger): Promise<number> {
  try {
    return await copySeed(build, target, log)
  } catch (error) {
    log.warn(`could not copy the prerendered pages into the ${target.name} cache (${(error as Error)?.message ?? error}); they render on first request instead`)
    return 0
  }
}

async function copySeed(build: BuildOutput, target: CacheHandler, log: Logger): Promise<number> {
  const marker = seedMarker(build.manifest.buildId)
  if (await target.get(marker)) return 0
  const seed = await createFileSystemCacheHandler({ dir: seedDir(build.distDir) })
  let count = 0
  try {
    for (const pathname of Object.keys(build.manifest.routes)) {
      const key = pageKey(build.manifest.buildId, pathname)
      const entry = await seed.get(key)
      if (entry && entry.status !== 404) {
        await target.set(key, entry)
        count++
      }
    }
  } finally {
    await seed.dispose?.()
  }
  await target.set(marker, {
    kind: 'data',
    value: Buffer.from(String(count)),
    lastModified: Date.now(),
    revalidate: false,
    expire: ONE_YEAR_SECONDS,
    tags: [],
    buildId: build.manifest.buildId,
    status: 200,
    headers: {},
  })
  log.debug('seed', target.name, { entries: count })
  return count
}

export interface DefaultStoreOptions {
  dir: string
  /** Bytes of disk (whole blocks). */
  maxSize: number
  /** Entry files. */
  maxEntries: number
  now: () => number
  /** Seconds tag times are kept (see `CacheHandler.tagRetention`). */
  tagRetention?: number
  /** Bound on each read of the folder, ms. */
  readTimeoutMs?: number
}

export async function openDefaultStore(build: BuildOutput, options: DefaultStoreOptions, log: Logger): Promise<CacheHandler> {
  const store = await createFileSystemCacheHandler({ ...options, warn: (message) => log.warn(message) })
  if (resolve(options.dir) !== resolve(seedDir(build.distDir))) await importSeed(build, store, log)
  return store
}
