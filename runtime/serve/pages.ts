/**
 * Serving pages: a matched route goes through the stale-while-revalidate core (ISR and
 * on-demand pages), or is rendered per request (revalidate = 0). Framework-free: it
 * speaks node:http, so the Express middleware and the `wrap()` fast path share it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CacheEntry, CacheHandler } from '../cache/handlers/types.js'
import type { Logger } from '../inspect/debug.js'
import type { RevalidateEvent } from '../options.js'
import { pageKey, toGenerated } from '../render/page-entry.js'
import { renderError, renderNotFound, renderPage, type RenderApp, type RenderResult } from '../render/render.js'
import type { Invalidation, RevalidationTarget } from '../cache/revalidate.js'
import type { Router, RouteMatch } from '../routes/router.js'
import { NO_STORE, sendEntry as send, type ResponseState, type SendOptions } from './response.js'
import type { CacheStats } from '../inspect/stats.js'
import type { Generate, Resolved, SWR } from '../cache/swr.js'
import { toWebRequest } from './web-request.js'

export interface PageServerOptions {
  app: RenderApp
  router: Router
  swr: SWR
  handler: CacheHandler
  buildId: string
  expireTime: number
  /** Paths prerendered at build: with `dynamicParams = false` only these exist. */
  prerendered: ReadonlySet<string>
  now: () => number
  log: Logger
  onRevalidate?: (event: RevalidateEvent) => void | Promise<void>
  /** Header carrying each cached page's tags for a CDN (lower case), or none. */
  tagHeader?: string
  /** Counts every page response by state, for the inspector. */
  stats?: CacheStats
}

/**
 * What serving one path needs: its route match, cache key and render closure. Made once per
 * path and kept by the caller (the handler's memo of page URLs), so a HIT builds no key
 * string and no closure.
 */
export interface PageTarget {
  readonly pathname: string
  readonly match: RouteMatch
  readonly key: string
  readonly generate: Generate
}

export interface PageServer extends RevalidationTarget {
  /** The target for `match` at `pathname` (a new object: the caller decides whether to keep it). */
  target(pathname: string, match: RouteMatch): PageTarget
  /** Serve a page, or the 404 page for `null`; synchronous for a HIT held in memory. Never rejects: failures answer the error page. */
  serve(req: IncomingMessage, res: ServerResponse, target: PageTarget | null): Promise<void> | void
  /** Answer from memory without awaiting, or return false (fresh or stale entries only). */
  serveFromMemory(req: IncomingMessage, res: ServerResponse, target: PageTarget, poweredBy: boolean): boolean
}

function resultEntry(result: RenderResult, buildId: string): CacheEntry {
  return {
    kind: 'page',
    value: result.body,
    lastModified: 0,
    revalidate: 0,
    expire: 0,
    tags: [],
    buildId,
    status: result.status,
    headers: result.headers,
  }
}

export function createPageServer(options: PageServerOptions): PageServer {
  const { app, router, swr, handler, buildId, log } = options
  const sendOptions: SendOptions = { tagHeader: options.tagHeader }
  const poweredOptions: SendOptions = { tagHeader: options.tagHeader, poweredBy: true }
  const stats = options.stats
  const sendEntry = (req: IncomingMessage, res: ServerResponse, entry: CacheEntry, state: ResponseState, poweredBy = false) => {
    stats?.count(state)
    send(req, res, entry, state, poweredBy ? poweredOptions : sendOptions)
  }
  let notFoundPage: Promise<CacheEntry> | undefined
  let lastInvalidationAt = 0

  const admits = (match: RouteMatch, pathname: string) => match.route.dynamicParams || options.prerendered.has(pathname)

  function generatorFor(match: RouteMatch, pathname: string): Generate {
    return async ({ startedAt, signal }) => {
      const result = await renderPage(app, { route: match.route, params: match.params, pathname, signal })
      return toGenerated(result, { pathname, route: match.route, startedAt, buildId, expireTime: options.expireTime })
    }
  }

  /** Unknown routes all get the same 404 page: rendered once per process. */
  function sendNotFound(req: IncomingMessage, res: ServerResponse): Promise<void> {
    notFoundPage ??= renderNotFound(app).then((result) => ({ ...resultEntry(result, buildId), revalidate: 0 }))
    notFoundPage.catch(() => (notFoundPage = undefined))
    return notFoundPage.then(
      (entry) => sendEntry(req, res, entry, 'BYPASS'),
      (error) => sendError(req, res, error, req.url ?? ''),
    )
  }

  async function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, pathname: string): Promise<void> {
    log.error(`rendering ${pathname} failed`, error)
    const result = await renderError(app, error)
    sendEntry(req, res, resultEntry(result, buildId), 'BYPASS')
  }

  async function serveDynamic(req: IncomingMessage, res: ServerResponse, pathname: string, match: RouteMatch): Promise<void> {
    log.debug('bypass', pathname, { reason: 'revalidate = 0' })
    const result = await renderPage(app, { route: match.route, params: match.params, pathname, request: toWebRequest(req) })
    const entry = resultEntry(result, buildId)
    if (result.status === 404) entry.headers = { ...entry.headers, 'cache-control': NO_STORE }
    sendEntry(req, res, entry, 'BYPASS')
  }

  function stateOf(entry: CacheEntry, state: ResponseState): ResponseState {
    return entry.revalidate === 0 ? 'BYPASS' : state
  }

  function fail(req: IncomingMessage, res: ServerResponse, error: unknown, pathname: string): Promise<void> | void {
    if (!res.headersSent) return sendError(req, res, error, pathname)
    res.destroy(error as Error)
  }

  return {
    target(pathname, match) {
      return { pathname, match, key: pageKey(buildId, pathname), generate: generatorFor(match, pathname) }
    },

    serve(req, res, target) {
      if (target === null || !admits(target.match, target.pathname)) return sendNotFound(req, res)
      const { pathname, match } = target
      if (match.route.revalidate === 0) return serveDynamic(req, res, pathname, match).catch((error) => fail(req, res, error, pathname))
      let resolved: Resolved | Promise<Resolved>
      try {
        resolved = swr.get(target.key, target.generate, pathname)
      } catch (error) {
        return Promise.resolve(fail(req, res, error, pathname))
      }
      // A HIT from memory is answered right here, without a promise.
      if (!(resolved instanceof Promise)) {
        sendEntry(req, res, resolved.entry, stateOf(resolved.entry, resolved.state))
        return
      }
      return resolved.then(
        (r) => sendEntry(req, res, r.entry, stateOf(r.entry, r.state)),
        (error: unknown) => fail(req, res, error, pathname),
      )
    },

    serveFromMemory(req, res, target, poweredBy) {
      const { pathname, match } = target
      if (match.route.revalidate === 0 || !admits(match, pathname)) return false
      const resolved = swr.peek(target.key, target.generate, pathname)
      if (!resolved) return false
      sendEntry(req, res, resolved.entry, resolved.state, poweredBy)
      return true
    },

    async invalidate(invalidation: Invalidation) {
      const at = options.now()
      lastInvalidationAt = at
      await handler.invalidateTags(invalidation.tags, { at, mode: invalidation.mode })
      if (log.debugEnabled) {
        const [event, subject] = invalidation.paths.length > 0 ? ['revalidatePath', invalidation.paths.join(' ')] : ['revalidateTag', invalidation.tags.join(' ')]
        const entries = handler.countTagged ? invalidation.tags.reduce((n, tag) => n + handler.countTagged!(tag), 0) : undefined
        log.debug(event, subject, { mode: invalidation.mode, tags: invalidation.tags.length, entries })
      }
      if (options.onRevalidate) {
        try {
          await options.onRevalidate({ paths: invalidation.paths, tags: invalidation.tags, mode: invalidation.mode })
        } catch (error) {
          log.error(`onRevalidate failed for ${[...invalidation.paths, ...invalidation.tags].join(' ')} (the invalidation itself is stored)`, error)
        }
      }
    },

    async regenerate(pathname) {
      const match = router.match(pathname)
      if (!match || match.route.kind !== 'page' || match.route.revalidate === 0 || !admits(match, pathname)) return
      try {
        await swr.refresh(pageKey(buildId, pathname), generatorFor(match, pathname), pathname, lastInvalidationAt)
      } catch {
        log.warn(`revalidatePath(${pathname}, { regenerate: true }): the render failed, the previous page stays`)
      }
    },
  }
}
