/**
 * The one pipeline, for the Express middleware and the `wrap()` fast path alike: resolve
 * the request once (serve/resolve.ts), then hand it to what owns it. The fast path is the
 * page server's synchronous first step on an already-resolved URL, not a copy of it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { Logger } from '../inspect/debug.js'
import type { Router } from '../routes/router.js'
import type { ServerEntry } from '../routes/route-table.js'
import { INSPECTOR_PATH } from './inspector.js'
import type { DraftModeServer } from './draft-mode.js'
import type { PageServer, PageTarget } from './pages.js'
import { PAYLOAD_PREFIX, pagePathOfPayload } from '../render/payload.js'
import { originForm } from '../routes/path.js'
import { createResolver } from './resolve.js'
import { NO_EXTRAS, POWERED_BY_EXPRESS } from './response.js'
import { serveRouteHandler } from './route-handlers.js'
import { asRouteHandlerModule } from '../render/metadata-routes.js'

export type NextFunction = (error?: unknown) => void
type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

export interface PipelineOptions {
  router: Router
  pages: PageServer
  /** URL paths of the client build's files, served by `serveStatic`. */
  staticFiles: ReadonlySet<string>
  serveStatic: Handler
  /** Vite's `base`: stripped before `serveStatic` looks a file up. */
  base: string
  modules: ServerEntry['modules']
  /** Bytes a route handler's request body may have (`maxBodySize`). */
  maxBodySize: number
  /** Draft mode, for route handlers' `draftMode()`. */
  draft?: DraftModeServer
  /** The inspector, when on: answers `/__isr` and below. */
  inspect?: (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean
  log: Logger
}

export interface Pipeline {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void
  /**
   * The fast path: a request listener for `http.createServer(isr.wrap(app))` that answers
   * cached pages (HIT, STALE, 304) from memory before `app` runs, and hands every other
   * request to `app` unchanged.
   */
  wrap(app: RequestListener): RequestListener
}

function sendPlain(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { router, pages, serveStatic, base, modules, inspect, log } = options
  const resolver = createResolver({
    router,
    staticFiles: options.staticFiles,
    inspectorPath: inspect ? INSPECTOR_PATH : undefined,
    target: (pathname, match) => pages.target(pathname, match),
    buildId: pages.buildId,
  })

  /**
   * A payload is its page's content at another URL, so the app's middleware must see it under
   * the page's path (a guard on `/blog` guards `/_isr/data/<buildId>/blog/1.json` too): the
   * request goes through the Express app once more with the page's URL, and is answered with
   * the payload when it comes back here unchanged. Only then may the fast path know its URL.
   */
  const detours = new WeakMap<IncomingMessage, { url: string; pageUrl: string; target: PageTarget }>()

  function detour(req: IncomingMessage, res: ServerResponse, url: string, target: PageTarget): boolean {
    const app = (req as { app?: { handle?: unknown } }).app
    if (detours.has(req) || typeof app?.handle !== 'function' || (req as { baseUrl?: string }).baseUrl) return false
    const q = url.indexOf('?')
    const page = pagePathOfPayload(url.slice(PAYLOAD_PREFIX.length + pages.buildId.length, q === -1 ? undefined : q))
    if (page === undefined) return false
    const pageUrl = q === -1 ? page : page + url.slice(q)
    detours.set(req, { url, pageUrl, target })
    req.url = pageUrl
    ;(app.handle as (req: IncomingMessage, res: ServerResponse, done: NextFunction) => void)(req, res, (error) => {
      if (error) log.error(`GET ${url.slice(0, 200)} failed`, error)
      if (!res.headersSent) sendPlain(res, error ? 500 : 404, error ? 'Internal Server Error' : 'Not Found')
    })
    return true
  }

  function handle(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const detoured = detours.get(req)
    if (detoured !== undefined && req.url === detoured.pageUrl) {
      req.url = detoured.url
      resolver.remember(detoured.url, detoured.target)
      void pages.serve(req, res, detoured.target)
      return
    }
    if (req.url !== undefined && req.url.charCodeAt(0) !== 47 /* / */) req.url = originForm(req.url)
    const url = req.url ?? '/'
    const resolved = resolver.resolve(url, req.method)
    switch (resolved.kind) {
      case 'page':
        if (resolved.target?.representation === 'payload' && detour(req, res, url, resolved.target)) return
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
        const load = modules[match.route.file]
        const module = match.route.metadata ? () => load().then((mod) => asRouteHandlerModule(match.route, mod)) : load
        void serveRouteHandler(module, req, res, match.params, match.route.file, { maxBodySize: options.maxBodySize, log, draft: options.draft })
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
  } as Pipeline

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

  return middleware
}
