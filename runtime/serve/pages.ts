/**
 * Serving pages: a matched route goes through the stale-while-revalidate core (ISR and
 * on-demand pages), or is rendered per request (revalidate = 0). Framework-free: it
 * speaks node:http. One function serves; the `wrap()` fast path is its synchronous
 * first step (answer from memory, or say it cannot), the middleware runs it to the end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CacheEntry, CacheHandler } from '../cache/handlers/types.js'
import type { Invalidation, RevalidateEvent, RevalidationTarget } from '../cache/revalidate.js'
import type { Generate, Resolved, SWR, SyncReadOptions } from '../cache/swr.js'
import { RenderBusyError } from '../cache/render-limiter.js'
import { RENDER_BUSY_RETRY_AFTER_SECONDS } from '../cache/defaults.js'
import { isClosingError } from '../cache/drain.js'
import type { Logger } from '../inspect/debug.js'
import type { CacheStats } from '../inspect/stats.js'
import { pageKey, toGenerated } from '../render/page-entry.js'
import { prepareEntry } from '../render/prepare.js'
import { renderError, renderNotFound, renderPage, renderShell, type RenderApp, type RenderResult } from '../render/render.js'
import { DEFAULT_MAX_BODY_SIZE_BYTES } from '../cache/defaults.js'
import { renderRoute, toRouteGenerated, UncachedResponse } from '../render/route-entry.js'
import type { Router, RouteMatch } from '../routes/router.js'
import { abortResponse, answerStopping, createResponder, NO_EXTRAS, NO_STORE, responseState, type HeaderExtras, type ResponseState } from './response.js'
import type { DraftModeServer } from './draft-mode.js'
import { draftScope } from '../cache/render-context.js'
import { toWebRequest } from './web-request.js'
import { pageUrlOfPayload, payloadView } from './payload.js'
import { isBot } from './bots.js'

/** What `target` sends of `entry`: the HTML, or the payload (`undefined` when the entry has none). */
function representationOf(target: PageTarget, entry: CacheEntry): CacheEntry | undefined {
  return target.representation === 'payload' ? payloadView(entry) : entry
}

export interface PageServerOptions {
  app: RenderApp
  router: Router
  swr: SWR
  handler: CacheHandler
  buildId: string
  expireTime: number
  /** Paths prerendered at build: with `dynamicParams = false` only these exist. */
  prerendered: { has(pathname: string): boolean }
  now: () => number
  log: Logger
  onRevalidate?: (event: RevalidateEvent) => void | Promise<void>
  /** Header carrying each cached page's tags for a CDN (lower case), or none. */
  tagHeader?: string
  /** Counts every page response by state, for the inspector. */
  stats?: CacheStats
  /** The dev server's differences (its store keeps nothing); unset in production. */
  dev?: DevServing
  /** Draft mode: requests with its valid cookie are rendered per request, nothing stored. */
  draft?: DraftModeServer
  /** Bytes a cached route handler's response body may have (`maxBodySize`). */
  maxBodySize?: number
}

/**
 * How the dev server's answers differ from production's, on purpose: nothing is kept, so no
 * browser or proxy may keep anything either (Cache-Control: no-store); the 404 page is rendered
 * per request like every page (its files change while you work); a failed render goes to
 * Vite's error page and overlay instead of `error.tsx`, with the same 500 status.
 */
export interface DevServing {
  renderFailed(req: IncomingMessage, res: ServerResponse, error: unknown): void
  /**
   * The render a loading shell started, held for the payload request the shell makes once
   * hydrated: with nothing stored, that request would otherwise render the page again.
   */
  shells: {
    hold(key: string, render: Promise<Resolved>): void
    join(key: string): Promise<Resolved> | undefined
  }
}

const BUSY_WARNING_INTERVAL_MS = 60_000
const BUSY_PAGE = Buffer.from(
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Service Unavailable</title></head>' +
    '<body><h1>Service Unavailable</h1><p>The server is busy. Please try again in a moment.</p></body></html>',
)

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
  /** `payload`: answer with the page's data payload (serve/payload.ts) instead of its HTML. */
  readonly representation?: 'payload'
}

export interface PageServer extends RevalidationTarget {
  /** The build whose pages (and page data payloads) this server answers. */
  readonly buildId: string
  /** The target for `match` at `pathname` (a new object: the caller decides whether to keep it). */
  target(pathname: string, match: RouteMatch): PageTarget
  /**
   * Serve a page, or the 404 page for `null`. Answered synchronously (returns `true`) when the
   * page is held in memory, fresh or stale. With `sync`, that is all it does: it returns `false`
   * having written nothing when the answer needs a wait, or once middleware in front of the
   * handler was seen setting a cookie (the fast path runs before that middleware, so only the
   * app can answer those requests). Otherwise it never rejects: failures answer the error page.
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
  const { app, router, swr, handler, buildId, log, draft } = options
  const responder = createResponder({ tagHeader: options.tagHeader })
  const whyUnsendable = responder.whyUnsendable
  const stats = options.stats
  const dev = options.dev
  /**
   * Set once a page goes out with a `Set-Cookie` from middleware in front. Which requests such
   * middleware answers with a cookie depends on the request (a new visitor, a consent banner),
   * not only on the URL, so from then on the fast path steps aside for every URL.
   */
  let cookiesInFront = false

  /**
   * Write `entry`; false when it cannot be sent (nothing was written). A write that throws
   * midway (a header refused, middleware hooked on writeHead failing) is answered here: the
   * entry under `key` is dropped, so the next request renders anew, and 500 or a closed
   * connection goes out. Never throws.
   */
  const sendEntry = (req: IncomingMessage, res: ServerResponse, entry: CacheEntry, state: ResponseState, key?: string, extras: HeaderExtras = NO_EXTRAS): boolean => {
    const cookie = res.getHeader('set-cookie') !== undefined
    if (cookie) cookiesInFront = true
    try {
      if (!responder.send(req, res, entry, state, extras, cookie || dev !== undefined)) return false
    } catch (error) {
      log.error(`sending ${req.url?.slice(0, 200)} failed${key ? '; its cache entry is dropped' : ''}`, error)
      // The 500 waits for the drop: the client's next request must not find the entry again.
      if (key && !res.headersSent) void drop(key).then(() => abortResponse(res))
      else {
        if (key) void drop(key)
        abortResponse(res)
      }
      return true
    }
    stats?.count(responseState(entry, state))
    return true
  }

  const drop = (key: string): Promise<void> =>
    Promise.resolve()
      .then(() => handler.delete(key))
      .catch((error: unknown) => log.error(`dropping ${key} from the ${handler.name} cache failed`, error))
  let notFoundPage: Promise<CacheEntry> | undefined
  let lastInvalidationAt = 0
  let busySince = 0
  let busyCount = 0
  let busyWarnedAt = -Infinity

  /**
   * No render slot for a page the request must wait for (`renderConcurrency`): 503 with
   * `Retry-After`, never stored by anyone. `X-ISR-Cache: MISS` stays true: the cache had no
   * page to answer with, and nothing was rendered. Warned at most once a minute.
   */
  function sendBusy(req: IncomingMessage, res: ServerResponse, error: RenderBusyError, pathname: string): void {
    log.debug('busy', pathname, { status: 503, reason: error.reason })
    stats?.count('BUSY')
    const at = options.now()
    if (busyCount === 0) busySince = at
    busyCount++
    if (at - busyWarnedAt >= BUSY_WARNING_INTERVAL_MS) {
      log.warn(`${busyCount} request(s) answered 503 since ${new Date(busySince).toISOString()}: every render slot was taken (renderConcurrency) and the queue full or too slow (renderQueueSize, renderTimeout); raise them if the server has memory and CPU to spare`)
      busyWarnedAt = at
      busyCount = 0
    }
    res.writeHead(503, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': BUSY_PAGE.length,
      'cache-control': 'private, no-store',
      'retry-after': String(RENDER_BUSY_RETRY_AFTER_SECONDS),
      'x-isr-cache': 'MISS',
    })
    res.end(req.method === 'HEAD' ? undefined : BUSY_PAGE)
  }

  const admits = (match: RouteMatch, pathname: string) => match.route.dynamicParams || options.prerendered.has(pathname)

  /** Route handlers that set a cookie in a cached GET: warned about once each. */
  const warnedCookies = new Set<string>()

  function generatorFor(match: RouteMatch, pathname: string): Generate {
    if (match.route.kind === 'route') {
      return async ({ startedAt, signal }) => {
        const { route } = match
        const result = await renderRoute(app, { route, params: match.params, pathname, signal, maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE_BYTES })
        if (result.droppedCookies && !warnedCookies.has(route.file) && warnedCookies.add(route.file)) {
          log.warn(`${route.file}: GET set a cookie, so its answer is not cached and the cookie is not sent (a cached answer is shared by every visitor). Set cookies in another method, or stop caching the route (remove its revalidate / dynamic export).`)
        }
        const generated = toRouteGenerated(result, { pathname, route, startedAt, buildId, expireTime: options.expireTime })
        return { ...generated, entry: await prepareEntry(generated.entry) }
      }
    }
    return async ({ startedAt, signal }) => {
      const result = await renderPage(app, { route: match.route, params: match.params, pathname, signal })
      const generated = toGenerated(result, { pathname, route: match.route, startedAt, buildId, expireTime: options.expireTime })
      return { ...generated, entry: await prepareEntry(generated.entry) }
    }
  }

  /** Unknown routes all get the same 404 page: rendered once per process. */
  function sendNotFound(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const page = notFoundPage ?? renderNotFound(app).then((result) => prepareEntry({ ...resultEntry(result, buildId), revalidate: 0 }))
    if (!dev) {
      notFoundPage = page
      page.catch(() => (notFoundPage = undefined))
    }
    return page
      .then(
        (entry) => sendOwn(req, res, entry),
        (error) => sendError(req, res, error, req.url ?? ''),
      )
      .catch((error: unknown) => lastResort(res, error, req.url ?? ''))
  }

  /** Our own pages (404, 500) are always sendable; if one is not, a plain 500 answers. */
  function sendOwn(req: IncomingMessage, res: ServerResponse, entry: CacheEntry): void {
    if (!sendEntry(req, res, entry, 'BYPASS')) abortResponse(res)
  }

  async function sendError(req: IncomingMessage, res: ServerResponse, error: unknown, pathname: string): Promise<void> {
    if (dev) return dev.renderFailed(req, res, error)
    log.error(`rendering ${pathname} failed`, error)
    const result = await renderError(app, error)
    sendOwn(req, res, await prepareEntry(resultEntry(result, buildId)))
  }

  async function serveDynamic(req: IncomingMessage, res: ServerResponse, target: PageTarget, draft = false): Promise<void> {
    const { pathname, match } = target
    log.debug('bypass', pathname, { reason: draft ? 'draft mode' : 'revalidate = 0' })
    // Only draft mode brings a cached route handler here: its own GET runs, with fresh data.
    // A payload request is rendered for its page's URL (path and query), as a full load of it is.
    const url = target.representation === 'payload' ? pageUrlOfPayload(req.url ?? '/') : undefined
    const result =
      match.route.kind === 'route'
        ? await draftScope.run({ enabled: true }, () => renderRoute(app, { route: match.route, params: match.params, pathname, maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE_BYTES }))
        : await renderPage(app, { route: match.route, params: match.params, pathname, request: toWebRequest(req, undefined, url), draft })
    const entry = resultEntry(result, buildId)
    if (result.status === 404) entry.headers = { ...entry.headers, 'cache-control': NO_STORE }
    if (result.payload) entry.payload = { value: result.payload }
    const prepared = await prepareEntry(entry)
    if (!sendEntry(req, res, representationOf(target, prepared) ?? prepared, 'BYPASS')) throw new Error(`[vite-isr] rendering ${pathname} produced a response Node cannot send (${whyUnsendable(entry)})`)
  }

  /** A cached entry that cannot be sent (damaged, or written by something else) is dropped: the request renders it anew. */
  function dropUnsendable(target: PageTarget, entry: CacheEntry): Promise<void> {
    log.error(`the cached entry for ${target.pathname} cannot be sent (${whyUnsendable(entry)}); dropping it and rendering anew`)
    return drop(target.key)
  }

  function renderAnew(req: IncomingMessage, res: ServerResponse, target: PageTarget, entry: CacheEntry): Promise<void> {
    return dropUnsendable(target, entry)
      .then(() => swr.refresh(target.key, target.generate, target.pathname))
      .then((generated) => {
        const sent = representationOf(target, generated.entry)
        if (sent === undefined || !sendEntry(req, res, sent, 'MISS', target.key)) {
          throw new Error(`[vite-isr] rendering ${target.pathname} produced a response Node cannot send (${whyUnsendable(generated.entry)})`)
        }
      })
      .catch((error: unknown) => fail(req, res, error, target.pathname))
  }

  /**
   * A page stored without a payload (by an older version, or a store that kept only some of
   * the entry) is rendered anew for a payload request, never answered half; a render that
   * started after it was stored is joined.
   */
  function renderWithPayload(req: IncomingMessage, res: ServerResponse, target: PageTarget, entry: CacheEntry): Promise<void> {
    log.debug('miss', target.pathname, { reason: 'cached without its payload' })
    return swr
      .refresh(target.key, target.generate, target.pathname, entry.lastModified)
      .then((generated) => {
        const sent = payloadView(generated.entry)
        if (sent === undefined || !sendEntry(req, res, sent, 'MISS', target.key)) throw new Error(`[vite-isr] rendering ${target.pathname} made no sendable payload`)
      })
      .catch((error: unknown) => fail(req, res, error, target.pathname))
  }

  /** Send what `target` asks of `entry`; false when it cannot be sent as it is. */
  function sendTarget(req: IncomingMessage, res: ServerResponse, target: PageTarget, entry: CacheEntry, state: ResponseState, extras: HeaderExtras): boolean | 'no-payload' {
    const sent = representationOf(target, entry)
    if (sent === undefined) return 'no-payload'
    return sendEntry(req, res, sent, state, target.key, extras)
  }

  /**
   * Whether a miss of `target` answers the loading shell (SPEC §9): a `fallback = 'shell'`
   * route's HTML asked by a browser. Crawlers get the full page, blocking, so no search engine
   * indexes a shell; after a failed render the page's own answer (the error page) is due, not
   * another shell whose payload would fail again.
   */
  const wantsShell = (req: IncomingMessage, target: PageTarget): boolean =>
    target.match.route.fallback === 'shell' && target.representation === undefined && !isBot(req.headers['user-agent']) && !swr.failing(target.key)

  /**
   * The shell, at once: 200, a MISS (the cache had no page), stored by no one. The render it
   * stands in for goes on; if the shell itself cannot be rendered, the request waits for the
   * page as a crawler's does.
   */
  function sendShell(req: IncomingMessage, res: ServerResponse, target: PageTarget, page: Promise<Resolved>, waitForPage: () => Promise<void>): Promise<void> {
    const { route, params } = target.match
    return renderShell(app, { route, params, pathname: target.pathname }).then(
      (body) => {
        log.debug('shell', target.pathname)
        stats?.count('MISS')
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': NO_STORE, 'x-isr-cache': 'MISS' })
        res.end(req.method === 'HEAD' ? undefined : body)
        // The render goes on for the payload request and everyone after; its failure is logged by the core.
        page.catch(() => {})
        dev?.shells.hold(target.key, page)
      },
      (error: unknown) => {
        log.error(`rendering the loading shell of ${target.pathname} failed; the request waits for the page`, error)
        return waitForPage()
      },
    )
  }

  function fail(req: IncomingMessage, res: ServerResponse, error: unknown, pathname: string): Promise<void> | void {
    if (isClosingError(error)) return answerStopping(res)
    if (error instanceof RenderBusyError && !res.headersSent) return sendBusy(req, res, error, pathname)
    // A route handler's own answer that is not cached (a 500 it chose, a 405): sent as it is.
    if (error instanceof UncachedResponse && !res.headersSent) {
      return prepareEntry(error.entry).then((entry) => sendOwn(req, res, entry))
    }
    if (!res.headersSent) return sendError(req, res, error, pathname).catch((last: unknown) => lastResort(res, last, pathname))
    log.error(`serving ${pathname} failed after its headers went out; closing the connection`, error)
    res.destroy()
  }

  /** Nothing on the request path may reject unheard: it would be an unhandled rejection. */
  function lastResort(res: ServerResponse, error: unknown, pathname: string): void {
    log.error(`serving ${pathname} failed`, error)
    abortResponse(res)
  }

  return {
    buildId,
    target(pathname, match) {
      return { pathname, match, key: pageKey(buildId, pathname), generate: generatorFor(match, pathname) }
    },

    serve(req, res, target, extras = NO_EXTRAS, sync = false) {
      if (sync && (cookiesInFront || draft?.requested(req))) return false
      if (target === null || !admits(target.match, target.pathname)) return sync ? false : sendNotFound(req, res)
      const { pathname, match } = target
      // A draft request renders per request; its answer is private, no-store, and never stored.
      const isDraft = !sync && draft !== undefined && draft.verify(req)
      if (match.route.revalidate === 0 || isDraft) return sync ? false : serveDynamic(req, res, target, isDraft).catch((error) => fail(req, res, error, pathname))
      // Dev stores nothing: a payload request takes the render its page's shell started.
      const held = dev !== undefined && target.representation === 'payload' ? dev.shells.join(target.key) : undefined
      let resolved: Resolved | Promise<Resolved> | undefined
      // Settles when the read turns out a miss (the render has started by then), for the shell.
      let missed: Promise<true> | undefined
      try {
        if (sync) resolved = swr.get(target.key, target.generate, pathname, SYNC_READ)
        else if (held !== undefined) resolved = held
        else if (wantsShell(req, target)) {
          let onMiss!: () => void
          missed = new Promise<true>((resolve) => (onMiss = () => resolve(true)))
          resolved = swr.get(target.key, target.generate, pathname, { onMiss })
        } else resolved = swr.get(target.key, target.generate, pathname)
      } catch (error) {
        if (!sync) return Promise.resolve(fail(req, res, error, pathname))
        log.error(`reading ${pathname} from memory failed; handing the request to the app`, error)
        return false
      }
      if (resolved === undefined) return false
      // A page held in memory is answered right here, without a promise.
      if (!(resolved instanceof Promise)) {
        const sent = sendTarget(req, res, target, resolved.entry, resolved.state, extras)
        if (sent === true) return true
        if (sent === 'no-payload') return sync ? false : renderWithPayload(req, res, target, resolved.entry)
        if (!sync) return renderAnew(req, res, target, resolved.entry)
        // The app's path renders it anew once it is gone.
        void dropUnsendable(target, resolved.entry)
        return false
      }
      const page = resolved
      const answer = (): Promise<void> =>
        page.then(
          (r) => {
            const sent = sendTarget(req, res, target, r.entry, r.state, extras)
            if (sent === 'no-payload') return renderWithPayload(req, res, target, r.entry)
            return sent ? undefined : renderAnew(req, res, target, r.entry)
          },
          (error: unknown) => fail(req, res, error, pathname),
        )
      // The miss is known before its render can end (onMiss runs as the render starts).
      const answered = missed === undefined ? answer() : Promise.race([missed, page.then(() => false, () => false)]).then((miss) => (miss ? sendShell(req, res, target, page, answer) : answer()))
      return answered.catch((error: unknown) => lastResort(res, error, pathname))
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
      if (!match || match.route.revalidate === 0 || !admits(match, pathname)) return
      try {
        await swr.refresh(pageKey(buildId, pathname), generatorFor(match, pathname), pathname, lastInvalidationAt)
      } catch {
        log.warn(`revalidatePath(${pathname}, { regenerate: true }): the render failed, the previous page stays`)
      }
    },
  }
}
