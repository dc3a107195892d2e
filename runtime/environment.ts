/**
 * The one render environment: build output + router + render + data cache + SWR core + store,
 * and the serving pipeline over them. `createISRHandler`, the dev server and the prerender all
 * make theirs here, so the three cannot differ in how they route, render, store or answer;
 * they differ only in where the build comes from and in the store they pass (the server's
 * tiers, a store that keeps nothing in dev, the seed folder at build).
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createAssetResolver, type ClientManifest } from './render/assets.js'
import { CLIENT_DIR, loadBuildOutput, SERVER_ENTRY_FILE, type BuildOutput } from './render/build-output.js'
import { admittedPaths } from './render/manifest.js'
import { pageKey } from './render/page-entry.js'
import type { RenderLimiter } from './cache/render-limiter.js'
import { registerDataCache, type DataCache } from './cache/data-cache.js'
import { DEFAULT_RENDER_TIMEOUT_MS, DEFAULT_RETRY_BACKOFF_MS } from './cache/defaults.js'
import type { CacheHandler } from './cache/handlers/types.js'
import type { RevalidateEvent } from './cache/revalidate.js'
import { createSWR, type Generated, type SWR } from './cache/swr.js'
import type { Logger } from './inspect/debug.js'
import { createCacheStats, type CacheStats } from './inspect/stats.js'
import type { RenderApp } from './render/render.js'
import type { RouteDefinition, ServerEntry } from './routes/route-table.js'
import { normalizePathname } from './routes/path.js'
import { createRouter, type RouteMatch, type Router } from './routes/router.js'
import { staticPathsOf, type StaticPath } from './routes/static-params.js'
import { createInspector, type ResolvedInspectorOptions } from './serve/inspector.js'
import type { DraftModeServer } from './serve/draft-mode.js'
import { createPageServer, type DevServing, type PageServer } from './serve/pages.js'
import { createPipeline, type Pipeline } from './serve/pipeline.js'
import { createStaticHandler } from './serve/static-files.js'

// What the build side (the Vite plugin) takes from the runtime besides the environment.
export { CLIENT_DIR, DEFAULT_CACHE_DIR } from './render/build-output.js'
export { DATA_SCRIPT_ID } from './render/document.js'
export { PRERENDER_MANIFEST, PRERENDER_MANIFEST_VERSION } from './render/manifest.js'
export { createFileSystemCacheHandler } from './cache/handlers/file-system.js'
export { createNullCacheHandler } from './cache/handlers/null.js'
export { createLogger, formatBytes } from './inspect/debug.js'
export { isImplicitTag, registerRevalidationTarget } from './cache/revalidate.js'
export { lowerRevalidate } from './cache/render-context.js'
export { isCachedRouteHandler, routeRegex } from './routes/route-table.js'
export { UncachedResponse } from './render/route-entry.js'
export { DEV_BUILD_ID } from './render/render.js'
export { StaticParamsError, type StaticPath } from './routes/static-params.js'
export { EXPIRE_TIME_RULE, normalizeExpireTime, resolveDraftSecret } from './options.js'
export { createDraftMode } from './serve/draft-mode.js'
export { MIN_DRAFT_SECRET_LENGTH, ONE_YEAR_SECONDS } from './cache/defaults.js'
export type { DevServing }

/** Where an environment's app comes from: a build on disk, the build being made, or Vite in dev. */
export interface EnvironmentSource {
  entry: ServerEntry
  buildId: string
  assets: RenderApp['assets']
  /** Vite's `base`. */
  base: string
  /** Paths prerendered at build: a route with `dynamicParams = false` has only these. */
  prerendered: { has(pathname: string): boolean }
  /** The client build's folder and its assets folder name, when static files are served. */
  client?: { dir: string; assetsDir: string; files: ReadonlySet<string> }
}

export interface EnvironmentOptions {
  /** Where entries and tag times go. */
  store: CacheHandler
  log: Logger
  /** Seconds a page may be served stale at most. */
  expireTime: number
  /** @default Date.now */
  now?: () => number
  /** Milliseconds a render may take. @default 30000 */
  renderTimeoutMs?: number
  /** Milliseconds of back-off after a failed regeneration. @default { min: 2000, max: 60000 } */
  retryBackoffMs?: { min: number; max: number }
  /** Seconds an expired entry may still answer when its new render fails. */
  staleIfErrorSeconds?: number
  /** Bytes of request body a route handler may read. @default Infinity */
  maxBodySize?: number
  onRevalidate?: (event: RevalidateEvent) => void | Promise<void>
  /** The CDN tag header (lower case), or none. */
  tagHeader?: string
  inspector?: ResolvedInspectorOptions
  /** Set by the dev server (see `DevServing`). */
  dev?: DevServing
  /** Draft mode (its cookie's secret); none in the prerender. */
  draft?: DraftModeServer
  /** The bound on concurrent page renders (`renderConcurrency`); none in dev and in the prerender. */
  renderLimiter?: RenderLimiter
}

export interface Environment {
  readonly buildId: string
  readonly entry: ServerEntry
  readonly router: Router
  readonly app: RenderApp
  readonly swr: SWR
  readonly dataCache: DataCache
  readonly store: CacheHandler
  readonly pages: PageServer
  readonly stats: CacheStats
  /** The one serving pipeline (the Express middleware, with `wrap()` for the fast path). */
  readonly pipeline: Pipeline
  /** Render a page into a prepared entry, as a regeneration does (the prerender's one step). */
  render(pathname: string, match: RouteMatch): Promise<Generated>
  /** The route a request URL reaches, as the pipeline resolves it; null for none or a refused path. */
  match(url: string): RouteMatch | null
  /** The paths a route has ahead of time: its own, or its `generateStaticParams()`. */
  staticPaths(route: RouteDefinition): Promise<StaticPath[]>
  /** Unregister the data cache. The store is the caller's to dispose of. */
  close(): void
}

const NOT_PASSED = () => {}

export function createEnvironment(source: EnvironmentSource, options: EnvironmentOptions): Environment {
  const { entry, buildId } = source
  const { store, log } = options
  const now = options.now ?? Date.now
  const router = createRouter(entry.routes)
  const limiter = options.renderLimiter
  const pagesPrefix = pageKey(buildId, '')
  const swr = createSWR({
    handler: store,
    buildId,
    now,
    timeout: options.renderTimeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS,
    retry: options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS,
    staleIfError: options.staleIfErrorSeconds,
    // Page renders only: data the app reads outside a page (route handlers) is its own code's.
    admit: limiter && ((key, label, background) => (key.startsWith(pagesPrefix) ? limiter.acquire(label, background) : undefined)),
    log,
  })
  const dataCache: DataCache = { swr, buildId, expireTime: options.expireTime, log }
  // Code outside a render (a route handler's cache()) reaches the latest server's data cache;
  // a dev server in the same process must not take that place from a production one.
  const unregisterData = options.dev ? NOT_PASSED : registerDataCache(dataCache)
  const app: RenderApp = { entry, assets: source.assets, dataCache }
  const stats = createCacheStats(now)
  const pages = createPageServer({
    app,
    router,
    swr,
    handler: store,
    buildId,
    expireTime: options.expireTime,
    prerendered: source.prerendered,
    now,
    log,
    onRevalidate: options.onRevalidate,
    tagHeader: options.tagHeader,
    stats,
    dev: options.dev,
    draft: options.draft,
    maxBodySize: options.maxBodySize,
  })
  const inspect = options.inspector ? createInspector({ cache: store, swr, stats, now, buildId, options: options.inspector }) : undefined
  const pipeline = createPipeline({
    router,
    pages,
    staticFiles: source.client?.files ?? new Set(),
    serveStatic: source.client ? createStaticHandler(source.client.dir, source.client.assetsDir) : (_req, _res, next) => next(),
    base: source.base,
    modules: entry.modules,
    inspect,
    maxBodySize: options.maxBodySize ?? Infinity,
    draft: options.draft,
    log,
  })

  return {
    buildId,
    entry,
    router,
    app,
    swr,
    dataCache,
    store,
    pages,
    stats,
    pipeline,
    render: (pathname, match) => pages.target(pathname, match).generate({ startedAt: now(), signal: new AbortController().signal }),
    match(url) {
      const checked = normalizePathname(url)
      return checked.ok && checked.redirect === undefined ? router.match(checked.pathname) : null
    },
    staticPaths: (route) => staticPathsOf(entry, route),
    close: unregisterData,
  }
}

/** The source of a finished build (what `createISRHandler` serves). */
export function buildSource(build: BuildOutput): EnvironmentSource {
  const { manifest } = build
  return {
    entry: build.entry,
    buildId: manifest.buildId,
    assets: createAssetResolver(build.clientManifest, manifest.base),
    base: manifest.base,
    prerendered: admittedPaths(manifest),
    client: { dir: build.clientDir, assetsDir: manifest.assetsDir, files: build.staticFiles },
  }
}

export { loadBuildOutput, type BuildOutput }

/**
 * The source of the build being made, before it has a prerender manifest: a new build id and
 * the server entry imported anew (a second build in one process must not get the first's).
 */
export async function prerenderSource(distDir: string, base: string): Promise<EnvironmentSource> {
  const entry = (await import(pathToFileURL(join(distDir, SERVER_ENTRY_FILE)).href + `?build=${Date.now()}`)) as ServerEntry
  const clientManifest = JSON.parse(readFileSync(join(distDir, CLIENT_DIR, '.vite', 'manifest.json'), 'utf8')) as ClientManifest
  return { entry, buildId: randomBytes(12).toString('base64url'), assets: createAssetResolver(clientManifest, base), base, prerendered: new Set() }
}
