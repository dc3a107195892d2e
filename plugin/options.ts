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
   * used for the entries written at build.
   * @default 31536000 (one year)
   */
  expireTime?: number
}

export interface ResolvedPluginOptions {
  appDir: string
  prerenderConcurrency: number
  expireTime: number
}

export function resolvePluginOptions(options: IsrPluginOptions = {}): ResolvedPluginOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('[vite-isr] isr(options): options must be an object')
  const { appDir = 'app', prerenderConcurrency = 8, expireTime = 31_536_000 } = options
  if (typeof appDir !== 'string' || appDir === '' || appDir.startsWith('/') || appDir.includes('..')) {
    throw new TypeError(`[vite-isr] isr({ appDir }) must be a folder inside the Vite root such as 'app' or 'src/app' (got ${JSON.stringify(appDir)})`)
  }
  if (!Number.isInteger(prerenderConcurrency) || prerenderConcurrency < 1) {
    throw new TypeError(`[vite-isr] isr({ prerenderConcurrency }) must be a positive integer (got ${prerenderConcurrency})`)
  }
  if (typeof expireTime !== 'number' || !(expireTime > 0)) throw new TypeError(`[vite-isr] isr({ expireTime }) must be a positive number of seconds (got ${expireTime})`)
  return { appDir: appDir.replace(/\/+$/, ''), prerenderConcurrency, expireTime }
}
