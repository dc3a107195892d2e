/**
 * After both builds: run `generateStaticParams`, render every static and ISR page with
 * the runtime's own renderer (in parallel), write them into the cache seed and write
 * `prerender-manifest.json`. The same `renderPage` + `toGenerated` as at run time.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createAssetResolver, type ClientManifest } from '../runtime/assets.js'
import { CLIENT_DIR, DEFAULT_CACHE_DIR, SERVER_ENTRY_FILE } from '../runtime/build-output.js'
import { createFileSystemCacheHandler } from '../runtime/cache-handlers/file-system.js'
import { PRERENDER_MANIFEST, PRERENDER_MANIFEST_VERSION, type PrerenderManifest } from '../runtime/manifest.js'
import { pageKey, toGenerated } from '../runtime/page-entry.js'
import { renderPage, type RenderApp } from '../runtime/render.js'
import { fillPattern, routeRegex, type Params, type RouteDefinition, type ServerEntry } from '../runtime/route-table.js'
import type { Plugin } from 'vite'
import { progressReporter, routeTable } from './report.js'
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
  return checkParamsShape(route, value).map((params) => ({ route, pathname: fillPattern(route, params), params }))
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}

export async function prerender(options: PrerenderOptions): Promise<PrerenderOutcome> {
  const { distDir } = options
  const entry = (await import(pathToFileURL(join(distDir, SERVER_ENTRY_FILE)).href + `?build=${Date.now()}`)) as ServerEntry
  const clientManifest = JSON.parse(readFileSync(join(distDir, CLIENT_DIR, '.vite', 'manifest.json'), 'utf8')) as ClientManifest
  const app: RenderApp = { entry, assets: createAssetResolver(clientManifest, options.base) }
  const buildId = randomBytes(12).toString('base64url')

  const seedDir = join(distDir, DEFAULT_CACHE_DIR)
  rmSync(seedDir, { recursive: true, force: true })
  const seed = await createFileSystemCacheHandler({ dir: seedDir })

  const manifest: PrerenderManifest = {
    version: PRERENDER_MANIFEST_VERSION,
    buildId,
    base: options.base,
    assetsDir: options.assetsDir,
    routes: {},
    dynamicRoutes: {},
    notFoundRoutes: [],
    dynamicPages: [],
  }
  const pages = entry.routes.filter((r) => r.kind === 'page')
  const jobs: Job[] = []
  const seen = new Set<string>()
  for (const route of pages) {
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

  let done = 0
  await runPool(jobs, options.concurrency, async ({ route, pathname, params }) => {
    const startedAt = Date.now()
    let generated
    try {
      const result = await renderPage(app, { route, params, pathname })
      generated = toGenerated(result, { pathname, route, startedAt, buildId, expireTime: options.expireTime })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      throw new RouteError(`[vite-isr] ${route.file}: prerendering ${pathname} failed: ${message}. Fix the page or its loader; to skip it at build, leave ${pathname} out of generateStaticParams.`, route.file, 1, 1, error instanceof Error ? error.stack : undefined)
    }
    const { entry: page } = generated
    if (page.status === 404) manifest.notFoundRoutes.push(pathname)
    else {
      if (generated.store === 'durable') await seed.set(pageKey(buildId, pathname), page)
      manifest.routes[pathname] = {
        initialRevalidateSeconds: page.revalidate,
        srcRoute: route.pattern,
        initialStatus: page.status,
        tags: page.tags.filter((tag) => !tag.startsWith('_isr_')),
        size: page.value.length,
      }
    }
    options.onProgress?.(++done, jobs.length)
  })
  await seed.dispose?.()
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
      logger.info('\n' + routeTable(outcome.routes, outcome.manifest) + '\n')
    },
  }
}
