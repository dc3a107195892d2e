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

/** Copy the prerendered pages of this build into `target`, unless an earlier start did. */
export async function importSeed(build: BuildOutput, target: CacheHandler, log: Logger): Promise<number> {
  const marker = seedMarker(build.manifest.buildId)
  if (await target.get(marker)) return 0
  const seed = await createFileSystemCacheHandler({ dir: seedDir(build.distDir) })
  let count = 0
  for (const pathname of Object.keys(build.manifest.routes)) {
    const key = pageKey(build.manifest.buildId, pathname)
    const entry = await seed.get(key)
    if (entry && entry.status !== 404) {
      await target.set(key, entry)
      count++
    }
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
  await seed.dispose?.()
  log.debug('seed', target.name, { entries: count })
  return count
}

export async function openDefaultStore(build: BuildOutput, cacheDir: string, maxSize: number, log: Logger): Promise<CacheHandler> {
  const store = await createFileSystemCacheHandler({ dir: cacheDir, maxSize })
  if (resolve(cacheDir) !== resolve(seedDir(build.distDir))) await importSeed(build, store, log)
  return store
}
