/**
 * After both builds: run `generateStaticParams`, render every static and ISR page with
 * the runtime's own renderer (in parallel), write them into the cache seed and write
 * `prerender-manifest.json`. The same `renderPage` + `toGenerated` as at run time.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createAssetResolver, type ClientManifest } from '../runtime/render/assets.js'
import { CLIENT_DIR, DEFAULT_CACHE_DIR, SERVER_ENTRY_FILE } from '../runtime/render/build-output.js'
import { createFileSystemCacheHandler } from '../runtime/cache/handlers/file-system.js'
import type { CacheHandler } from '../runtime/cache/handlers/types.js'
import { PRERENDER_MANIFEST, PRERENDER_MANIFEST_VERSION, type PrerenderManifest } from '../runtime/render/manifest.js'
import { pageKey, toGenerated } from '../runtime/render/page-entry.js'
import { prepareEntry } from '../runtime/render/prepare.js'
import { registerDataCache, type DataCache } from '../runtime/cache/data-cache.js'
import { createLogger, type Logger } from '../runtime/inspect/debug.js'
import { normalizePathname } from '../runtime/routes/path.js'
import { renderPage, type RenderApp } from '../runtime/render/render.js'
import { renderRoute, toRouteGenerated, UncachedResponse } from '../runtime/render/route-entry.js'
import { DEFAULT_MAX_BODY_SIZE_BYTES } from '../runtime/cache/defaults.js'
import { isImplicitTag } from '../runtime/cache/revalidate.js'
import { createSWR } from '../runtime/cache/swr.js'
import { fillPattern, isCachedRouteHandler, routeRegex, type Params, type RouteDefinition, type ServerEntry } from '../runtime/routes/route-table.js'
import type { Plugin } from 'vite'
import { progressReporter, routeTable, stylerFor } from './report.js'
import { RouteError } from './routes.js'
import type { PluginState } from './state.js'

export interface PrerenderOptions {
  distDir: string
  base: string
  assetsDir: string
  concurrency: number
  expireTime: number
  /** Progress: called after each page. */
  onProgress?: (done: number, total: number) => void
}

export interface PrerenderOutcome {
  manifest: PrerenderManifest
  routes: RouteDefinition[]
}

interface Job {
  route: RouteDefinition
  pathname: string
  params: Params
}

function checkParamsShape(route: RouteDefinition, value: unknown): Params[] {
  const fix = `Return an array of params objects, e.g. [{ ${route.segments.filter((s) => s.type !== 'static').map((s) => (s.type === 'dynamic' ? `${s.name}: '1'` : `${s.name}: ['a', 'b']`)).join(', ')} }].`
  if (!Array.isArray(value)) {
    throw new RouteError(`[vite-isr] ${route.file}: generateStaticParams() must return an array (got ${value === null ? 'null' : typeof value}). ${fix}`, route.file)
  }
  value.forEach((params, i) => {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new RouteError(`[vite-isr] ${route.file}: generateStaticParams() returned ${JSON.stringify(params)} at index ${i}, not an object. ${fix}`, route.file)
    }
    try {
      fillPattern(route, params as Params)
    } catch (error) {
      throw new RouteError(`[vite-isr] ${route.file}: generateStaticParams() returned ${JSON.stringify(params)} at index ${i}: ${(error as Error).message.replace('[vite-isr] ', '')}. ${fix}`, route.file)
    }
  })
  return value as Params[]
}

async function jobsFor(entry: ServerEntry, route: RouteDefinition): Promise<Job[]> {
  const dynamic = route.segments.some((s) => s.type !== 'static')
  if (!dynamic) return [{ route, pathname: route.pattern, params: {} }]
  if (!route.hasGenerateStaticParams) return []
  const mod = await entry.modules[route.file]()
  let value: unknown
  try {
    value = await (mod.generateStaticParams as () => unknown)()
  } catch (error) {
    throw new RouteError(`[vite-isr] ${route.file}: generateStaticParams() threw: ${(error as Error)?.message ?? error}. Fix the function, or remove it to render every path on its first request.`, route.file)
  }
  return checkParamsShape(route, value).map((params) => ({ route, pathname: servedPath(route, params), params }))
}

/**
 * The path a request for these params is served under, decoded as the server's normaliser
 * decodes it (`{ slug: 'é' }` -> `/fixed/é`, requested as `/fixed/%C3%A9`): cache keys and the
 * manifest hold that form. A value no request can reach (`'..'`, one with a `/`) keeps its
 * encoded form, so it is never mistaken for another page.
 */
function servedPath(route: RouteDefinition, params: Params): string {
  const filled = fillPattern(route, params)
  const checked = normalizePathname(filled)
  return checked.ok && checked.pathname.split('/').length === filled.split('/').length ? checked.pathname : filled
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

/** Every path to prerender; fills the manifest's dynamic routes and per-request pages on the way. */
async function collectJobs(entry: ServerEntry, manifest: PrerenderManifest): Promise<Job[]> {
  const jobs: Job[] = []
  const seen = new Set<string>()
  for (const route of entry.routes) {
    if (route.kind !== 'page' && !isCachedRouteHandler(route)) continue
    if (route.segments.some((s) => s.type !== 'static')) {
      manifest.dynamicRoutes[route.pattern] = { routeRegex: routeRegex(route.segments), fallback: route.dynamicParams ? null : false, revalidate: route.revalidate }
    }
    if (route.revalidate === 0) {
      manifest.dynamicPages.push(route.pattern)
      continue
    }
    for (const job of await jobsFor(entry, route)) {
      if (seen.has(job.pathname)) continue
      seen.add(job.pathname)
      jobs.push(job)
    }
  }
  return jobs
}

/** Render one page with the runtime's renderer and store it in the seed, as a regeneration would. */
async function prerenderPage(app: RenderApp, { route, pathname, params }: Job, manifest: PrerenderManifest, seed: CacheHandler, expireTime: number, log: Logger): Promise<void> {
  const startedAt = Date.now()
  let generated
  try {
    const context = { pathname, route, startedAt, buildId: manifest.buildId, expireTime }
    if (route.kind === 'route') {
      const result = await renderRoute(app, { route, params, pathname, maxBodySize: DEFAULT_MAX_BODY_SIZE_BYTES })
      generated = toRouteGenerated(result, context)
      if (result.droppedCookies) log.warn(`${route.file}: GET set a cookie, so ${pathname} is not prerendered or cached and the cookie is not sent. Set cookies in another method, or stop caching the route.`)
    } else {
      generated = toGenerated(await renderPage(app, { route, params, pathname }), context)
    }
  } catch (error) {
    // A handler's answer that is never cached (a 500 it chose): rendered on request instead, as in Next.js.
    if (error instanceof UncachedResponse) return
    const message = error instanceof Error ? error.message : String(error)
    throw new RouteError(`[vite-isr] ${route.file}: prerendering ${pathname} failed: ${message}. Fix the page or its loader; to skip it at build, leave ${pathname} out of generateStaticParams.`, route.file, 1, 1, error instanceof Error ? error.stack : undefined)
  }
  const { entry: page } = generated
  if (page.status === 404) {
    manifest.notFoundRoutes.push(pathname)
    return
  }
  // Data with revalidate 0 made the page dynamic: nothing to keep, it renders per request.
  if (generated.store === 'none') {
    if (!manifest.dynamicPages.includes(route.pattern)) manifest.dynamicPages.push(route.pattern)
    return
  }
  // Prepared as a regeneration prepares it: the server reads the ETag and compressed bodies from the seed.
  await seed.set(pageKey(manifest.buildId, pathname), await prepareEntry(page))
  manifest.routes[pathname] = {
    initialRevalidateSeconds: page.revalidate,
    srcRoute: route.pattern,
    initialStatus: page.status,
    tags: page.tags.filter((tag) => !isImplicitTag(tag)),
    size: page.value.length,
    ...(route.kind === 'route' ? { dataRoute: null, initialHeaders: page.headers } : {}),
  }
}

export async function prerender(options: PrerenderOptions): Promise<PrerenderOutcome> {
  const { distDir } = options
  const entry = (await import(pathToFileURL(join(distDir, SERVER_ENTRY_FILE)).href + `?build=${Date.now()}`)) as ServerEntry
  const clientManifest = JSON.parse(readFileSync(join(distDir, CLIENT_DIR, '.vite', 'manifest.json'), 'utf8')) as ClientManifest
  const buildId = randomBytes(12).toString('base64url')

  const seedDir = join(distDir, DEFAULT_CACHE_DIR)
  rmSync(seedDir, { recursive: true, force: true })
  // A fresh folder nothing reads before the build ends: no temp file and rename per page.
  const seed = await createFileSystemCacheHandler({ dir: seedDir, writes: 'direct' })
  // Data fetched through cache() / fetch() while prerendering is shared by every page of the
  // build (one query for a thousand pages) and lands in the seed, so the server starts warm.
  const log = createLogger()
  const dataCache: DataCache = {
    swr: createSWR({ handler: seed, buildId, now: Date.now, timeout: 60_000, retry: { min: 1, max: 1 }, log }),
    buildId,
    expireTime: options.expireTime,
    log,
  }
  const unregisterData = registerDataCache(dataCache)
  const app: RenderApp = { entry, assets: createAssetResolver(clientManifest, options.base), dataCache }

  const manifest: PrerenderManifest = {
    version: PRERENDER_MANIFEST_VERSION,
    buildId,
    builtAt: 0,
    base: options.base,
    assetsDir: options.assetsDir,
    routes: {},
    dynamicRoutes: {},
    notFoundRoutes: [],
    dynamicPages: [],
  }
  try {
    const jobs = await collectJobs(entry, manifest)
    let done = 0
    await runPool(jobs, options.concurrency, async (job) => {
      await prerenderPage(app, job, manifest, seed, options.expireTime, log)
      options.onProgress?.(++done, jobs.length)
    })
  } finally {
    unregisterData()
    await seed.dispose?.()
  }
  manifest.builtAt = Date.now()
  manifest.notFoundRoutes.sort()
  const sorted: PrerenderManifest['routes'] = {}
  for (const key of Object.keys(manifest.routes).sort()) sorted[key] = manifest.routes[key]
  manifest.routes = sorted
  writeFileSync(join(distDir, PRERENDER_MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
  return { manifest, routes: entry.routes }
}

/** Builds the environments Vite has not built yet, then prerenders and prints the route table. */
export function prerenderPlugin(state: PluginState): Plugin {
  return {
    name: 'vite-isr:prerender',
    apply: 'build',
    async buildApp(builder) {
      for (const environment of [builder.environments.client, builder.environments.ssr]) {
        if (environment && !environment.isBuilt) await builder.build(environment)
      }
      const logger = builder.config.logger
      const silent = builder.config.logLevel === 'silent'
      const out = { info: (msg: string) => logger.info(msg), isTTY: !silent && Boolean(process.stdout.isTTY) }
      const outcome = await prerender({
        distDir: state.outDir,
        base: builder.config.base,
        assetsDir: builder.config.build.assetsDir,
        concurrency: state.options.prerenderConcurrency,
        expireTime: state.options.expireTime,
        onProgress: silent ? undefined : progressReporter(out),
      })
      logger.info('\n' + routeTable(outcome.routes, outcome.manifest, stylerFor(out.isTTY)) + '\n')
    },
  }
}
