/**
 * Serving pages: a matched route goes through the stale-while-revalidate core (ISR and
 * on-demand pages), or is rendered per request (revalidate = 0). Framework-free: it
 * speaks node:http. One function serves; the `wrap()` fast path is its synchronous
 * first step (answer from memory, or say it cannot), the middleware runs it to the end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CacheEntry, CacheHandler } from '../cache/handlers/types.js'
import type { Logger } from '../inspect/debug.js'
import { pageKey, toGenerated } from '../render/page-entry.js'
import { prepareEntry } from '../render/prepare.js'
import { renderError, renderNotFound, renderPage, type RenderApp, type RenderResult } from '../render/render.js'
import type { Invalidation, RevalidateEvent, RevalidationTarget } from '../cache/revalidate.js'
import type { Router, RouteMatch } from '../routes/router.js'
import { createResponder, NO_EXTRAS, NO_STORE, responseState, type HeaderExtras, type ResponseState } from './response.js'
import type { CacheStats } from '../inspect/stats.js'
import type { Generate, Resolved, SWR, SyncReadOptions } from '../cache/swr.js'
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
  /**
   * Serve a page, or the 404 page for `null`. Answered synchronously (returns `true`) when the
   * page is held in memory, fresh or stale. With `sync`, that is all it does: it returns `false`
   * having written nothing when the answer needs a wait. Otherwise it never rejects: failures
   * answer the error page.
   */
  serve(req: IncomingMessage, res: ServerResponse, target: PageTarget | null, extras?: HeaderExtras, sync?: boolean): boolean | Promise<void>
}

const SYNC_READ: SyncReadOptions = { sync: true }

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
  const responder = createResponder({ tagHeader: options.tagHeader })
  const stats = options.stats
  const sendEntry = (req: IncomingMessage, res: ServerResponse, entry: CacheEntry, state: ResponseState, extras: HeaderExtras = NO_EXTRAS) => {
    stats?.count(responseState(entry, state))
    responder.send(req, res, entry, state, extras)
  }
  let notFoundPage: Promise<CacheEntry> | undefined
  let lastInvalidationAt = 0

  const admits = (match: RouteMatch, pathname: string) => match.route.dynamicParams || options.prerendered.has(pathname)

  function generatorFor(match: RouteMatch, pathname: string): Generate {
    return async ({ startedAt, signal }) => {
      const result = await renderPage(app, { route: match.route, params: match.params, pathname, signal })
      const generated = toGenerated(result, { pathname, route: match.route, startedAt, buildId, expireTime: options.expireTime })
      return { ...generated, entry: await prepareEntry(generated.entry) }
    }
  }

  /** Unknown routes all get the same 404 page: rendered once per process. */
  function sendNotFound(req: IncomingMessage, res: ServerResponse): Promise<void> {
    notFoundPage ??= renderNotFound(app).then((result) => prepareEntry({ ...resultEntry(result, buildId), revalidate: 0 }))
    notFoundPage.catch(() => (notFoundPage = undefined))
    return notFoundPage.then(
      (entry) => sendEntry(req, res, entry, 'BYPASS'),
      (error) => sendError(req, res, error, req.url ?? ''),
    )
  }

  async function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, pathname: string): Promise<void> {
    log.error(`rendering ${pathname} failed`, error)
    const result = await renderError(app, error)
    sendEntry(req, res, await prepareEntry(resultEntry(result, buildId)), 'BYPASS')
  }

  async function serveDynamic(req: IncomingMessage, res: ServerResponse, pathname: string, match: RouteMatch): Promise<void> {
    log.debug('bypass', pathname, { reason: 'revalidate = 0' })
    const result = await renderPage(app, { route: match.route, params: match.params, pathname, request: toWebRequest(req) })
    const entry = resultEntry(result, buildId)
    if (result.status === 404) entry.headers = { ...entry.headers, 'cache-control': NO_STORE }
    sendEntry(req, res, await prepareEntry(entry), 'BYPASS')
  }

  function fail(req: IncomingMessage, res: ServerResponse, error: unknown, pathname: string): Promise<void> | void {
    if (!res.headersSent) return sendError(req, res, error, pathname)
    res.destroy(error as Error)
  }

  return {
    target(pathname, match) {
      return { pathname, match, key: pageKey(buildId, pathname), generate: generatorFor(match, pathname) }
    },

    serve(req, res, target, extras = NO_EXTRAS, sync = false) {
      if (target === null || !admits(target.match, target.pathname)) return sync ? false : sendNotFound(req, res)
      const { pathname, match } = target
      if (match.route.revalidate === 0) return sync ? false : serveDynamic(req, res, pathname, match).catch((error) => fail(req, res, error, pathname))
      let resolved: Resolved | Promise<Resolved> | undefined
      try {
        resolved = sync ? swr.get(target.key, target.generate, pathname, SYNC_READ) : swr.get(target.key, target.generate, pathname)
      } catch (error) {
        if (sync) return false
        return Promise.resolve(fail(req, res, error, pathname))
      }
      if (resolved === undefined) return false
      // A page held in memory is answered right here, without a promise.
      if (!(resolved instanceof Promise)) {
        sendEntry(req, res, resolved.entry, resolved.state, extras)
        return true
      }
      return resolved.then(
        (r) => sendEntry(req, res, r.entry, r.state, extras),
        (error: unknown) => fail(req, res, error, pathname),
      )
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
