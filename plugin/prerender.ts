/**
 * After both builds: run `generateStaticParams`, render every static and ISR page with
 * the runtime's own renderer (in parallel), write them into the cache seed and write
 * `prerender-manifest.json`. Through the runtime's render environment: the same render and
 * entry preparation as a regeneration at run time.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Plugin } from 'vite'
import {
  createEnvironment,
  createFileSystemCacheHandler,
  createLogger,
  DEFAULT_CACHE_DIR,
  isCachedRouteHandler,
  isImplicitTag,
  PRERENDER_MANIFEST,
  PRERENDER_MANIFEST_VERSION,
  prerenderSource,
  routeRegex,
  StaticParamsError,
  UncachedResponse,
  type Environment,
} from '../runtime/environment.js'
import type { DynamicRoute, PrerenderManifest } from '../runtime/render/manifest.js'
import type { Params, RouteDefinition } from '../runtime/routes/route-table.js'
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

async function jobsFor(env: Environment, route: RouteDefinition): Promise<Job[]> {
  try {
    return (await env.staticPaths(route)).map(({ params, pathname }) => ({ route, pathname, params }))
  } catch (error) {
    if (error instanceof StaticParamsError) throw new RouteError(error.message, error.file)
    throw error
  }
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

/** `dynamicRoutes[*].fallback` as Next.js writes it. */
export function fallbackOf(route: RouteDefinition): DynamicRoute['fallback'] {
  if (!route.dynamicParams) return false
  return route.fallback === 'shell' ? `${route.pattern}.html` : null
}

/** Every path to prerender; fills the manifest's dynamic routes and per-request pages on the way. */
async function collectJobs(env: Environment, manifest: PrerenderManifest): Promise<Job[]> {
  const jobs: Job[] = []
  const seen = new Set<string>()
  for (const route of env.entry.routes) {
    if (route.kind !== 'page' && !isCachedRouteHandler(route)) continue
    if (route.segments.some((s) => s.type !== 'static')) {
      manifest.dynamicRoutes[route.pattern] = { routeRegex: routeRegex(route.segments), fallback: fallbackOf(route), revalidate: route.revalidate }
    }
    if (route.revalidate === 0) {
      manifest.dynamicPages.push(route.pattern)
      continue
    }
    for (const job of await jobsFor(env, route)) {
      if (seen.has(job.pathname)) continue
      seen.add(job.pathname)
      jobs.push(job)
    }
  }
  return jobs
}

/** Render one page in the environment and store it in the seed, as a regeneration would. */
async function prerenderPage(env: Environment, { route, pathname, params }: Job, manifest: PrerenderManifest): Promise<void> {
  let generated
  try {
    generated = await env.render(pathname, { route, params })
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
  await env.store.set(env.pages.target(pathname, { route, params }).key, page)
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
  const source = await prerenderSource(distDir, options.base)
  const buildId = source.buildId

  const seedDir = join(distDir, DEFAULT_CACHE_DIR)
  rmSync(seedDir, { recursive: true, force: true })
  // A fresh folder nothing reads before the build ends: no temp file and rename per page.
  const seed = await createFileSystemCacheHandler({ dir: seedDir, writes: 'direct' })
  // Data fetched through cache() / fetch() while prerendering is shared by every page of the
  // build (one query for a thousand pages) and lands in the seed, so the server starts warm.
  const env = createEnvironment(source, { store: seed, log: createLogger(), expireTime: options.expireTime, renderTimeoutMs: 60_000, retryBackoffMs: { min: 1, max: 1 } })

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
    const jobs = await collectJobs(env, manifest)
    let done = 0
    await runPool(jobs, options.concurrency, async (job) => {
      await prerenderPage(env, job, manifest)
      options.onProgress?.(++done, jobs.length)
    })
  } finally {
    env.close()
    await seed.dispose?.()
  }
  manifest.builtAt = Date.now()
  manifest.notFoundRoutes.sort()
  const sorted: PrerenderManifest['routes'] = {}
  for (const key of Object.keys(manifest.routes).sort()) sorted[key] = manifest.routes[key]
  manifest.routes = sorted
  writeFileSync(join(distDir, PRERENDER_MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
  return { manifest, routes: env.entry.routes }
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
