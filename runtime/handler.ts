/**
 * `createISRHandler`: the Express middleware (and the `wrap()` fast path) over the
 * build output. A thin adapter: path checks, then static files, route handlers or
 * pages, each in its own module.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { createAssetResolver } from './render/assets.js'
import { loadBuildOutput } from './render/build-output.js'
import { createMemoryCacheHandler } from './cache/handlers/memory.js'
import { createTieredCacheHandler } from './cache/handlers/tiered.js'
import type { CacheHandler } from './cache/handlers/types.js'
import { createLogger } from './inspect/debug.js'
import { handlerFromBuild, isThenable, resolveDistDir, resolveHandlerOptions, type ISRHandlerOptions } from './options.js'
import { createPageServer } from './serve/pages.js'
import { createResolver } from './serve/resolve.js'
import { NO_EXTRAS, POWERED_BY_EXPRESS } from './serve/response.js'
import { registerRevalidationTarget } from './cache/revalidate.js'
import { callRouteHandler } from './serve/route-handlers.js'
import { createRouter } from './routes/router.js'
import { importSeed, openDefaultStore } from './seed.js'
import { createStaticHandler } from './serve/static-files.js'
import { createSWR } from './cache/swr.js'
import { createCacheStats } from './inspect/stats.js'
import { createInspector, INSPECTOR_PATH } from './serve/inspector.js'
import { registerDataCache, type DataCache } from './cache/data-cache.js'

export type NextFunction = (error?: unknown) => void

export interface ISRHandler {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void
  /**
   * The fast path: a request listener for `http.createServer(isr.wrap(app))` that answers
   * cached pages (HIT, STALE, 304) from memory before `app` runs, and hands every other
   * request to `app` unchanged.
   */
  wrap(app: RequestListener): RequestListener
  /** The cache store in use (memory tier in front of the configured handler). */
  readonly cache: CacheHandler
  readonly buildId: string
  /** Stop answering revalidations and release the cache handler. */
  close(): Promise<void>
}

function sendPlain(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

export async function createISRHandler(userOptions: ISRHandlerOptions = {}): Promise<ISRHandler> {
  if (isThenable(userOptions?.cacheHandler)) userOptions = { ...userOptions, cacheHandler: await userOptions.cacheHandler }
  const build = await loadBuildOutput(resolveDistDir(userOptions))
  const { manifest, entry } = build
  const options = resolveHandlerOptions(userOptions, entry.config)
  const log = createLogger({ debug: options.debug, write: options.log })
  const buildId = manifest.buildId

  const custom = options.cacheHandler ?? (await handlerFromBuild(entry.cacheHandler))
  const store = custom ?? (await openDefaultStore(build, options.cacheDir, options.cacheMaxDiskSize, log))
  if (custom) await importSeed(build, custom, log)
  const cache =
    options.cacheMaxMemorySize > 0
      ? createTieredCacheHandler({ memory: createMemoryCacheHandler({ maxSize: options.cacheMaxMemorySize }), store })
      : store

  const router = createRouter(entry.routes)
  const swr = createSWR({
    handler: cache,
    buildId,
    now: options.now,
    timeout: options.renderTimeout,
    retry: options.retryBackoff,
    staleIfError: options.staleIfError,
    log,
  })
  const dataCache: DataCache = { swr, buildId, expireTime: options.expireTime, log }
  const unregisterData = registerDataCache(dataCache)
  const app = { entry, assets: createAssetResolver(build.clientManifest, manifest.base), dataCache }
  const stats = createCacheStats(options.now)
  const pages = createPageServer({
    app,
    router,
    swr,
    handler: cache,
    buildId,
    expireTime: options.expireTime,
    prerendered: new Set(Object.keys(manifest.routes)),
    now: options.now,
    log,
    onRevalidate: options.onRevalidate,
    tagHeader: options.cdnTagHeader,
    stats,
  })
  const inspect = options.inspector
    ? createInspector({ cache, swr, stats, now: options.now, buildId, options: options.inspector, production: process.env.NODE_ENV === 'production' })
    : undefined
  const unregister = registerRevalidationTarget(pages)
  const serveStatic = createStaticHandler(build.clientDir, manifest.assetsDir)
  const base = manifest.base

  const resolver = createResolver({
    router,
    staticFiles: build.staticFiles,
    inspectorPath: inspect ? INSPECTOR_PATH : undefined,
    target: (pathname, match) => pages.target(pathname, match),
  })

  function handle(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const url = req.url ?? '/'
    const resolved = resolver.resolve(url, req.method)
    switch (resolved.kind) {
      case 'page':
        void pages.serve(req, res, resolved.target)
        return
      case 'reject':
        log.debug('reject', JSON.stringify(url.slice(0, 80)), { status: resolved.status, reason: resolved.reason })
        return sendPlain(res, resolved.status, resolved.status === 400 ? 'Bad Request' : 'Not Found')
      case 'redirect':
        log.debug('redirect', JSON.stringify(url.slice(0, 80)), { location: resolved.location.slice(0, 80) })
        return req.method === 'GET' || req.method === 'HEAD' ? sendPlain(res, 308, 'Permanent Redirect', { location: resolved.location }) : sendPlain(res, 404, 'Not Found')
      case 'inspector':
        inspect!(req, res, resolved.pathname)
        return
      case 'static':
        if (base !== '/') req.url = '/' + url.slice(base.length)
        return serveStatic(req, res, () => {
          req.url = url
          next()
        })
      case 'route': {
        const { match } = resolved
        entry.modules[match.route.file]()
          .then((mod) => callRouteHandler(mod, req, res, match.params, match.route.file))
          .catch(next)
        return
      }
      case 'next':
        return next()
    }
  }

  const middleware = function isrHandler(req: IncomingMessage, res: ServerResponse, next?: NextFunction) {
    const fallthrough: NextFunction =
      next ??
      ((error?: unknown) => {
        if (error) log.error(`${req.method} ${req.url} failed`, error)
        if (!res.headersSent) sendPlain(res, error ? 500 : 404, error ? 'Internal Server Error' : 'Not Found')
      })
    try {
      handle(req, res, fallthrough)
    } catch (error) {
      fallthrough(error)
    }
  } as ISRHandler

  middleware.wrap = (listener: RequestListener): RequestListener => {
    // An Express app's answers carry X-Powered-By unless it was disabled; so do the fast
    // path's, read per request as Express does (the setting may change after wrap()).
    const app = listener as RequestListener & { enabled?: (setting: string) => boolean }
    const express = typeof app.enabled === 'function'
    return function isrFastPath(req, res) {
      // The pipeline's synchronous first step, for URLs already resolved to pages: anything
      // new goes through the app first (path checks, static files, the inspector, route handlers).
      if (req.method === 'GET' || req.method === 'HEAD') {
        const known = resolver.known(req.url ?? '/')
        if (known !== undefined && pages.serve(req, res, known, express && app.enabled!('x-powered-by') ? POWERED_BY_EXPRESS : NO_EXTRAS, true) === true) return
      }
      listener(req, res)
    }
  }

  Object.defineProperties(middleware, {
    cache: { value: cache, enumerable: true },
    buildId: { value: buildId, enumerable: true },
  })
  middleware.close = async () => {
    unregister()
    unregisterData()
    await cache.dispose?.()
  }
  return middleware
}
