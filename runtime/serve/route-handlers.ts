/** `route.ts` modules: Web-standard handlers named after HTTP methods, never cached. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../inspect/debug.js'
import { draftScope } from '../cache/render-context.js'
import type { Params } from '../routes/route-table.js'
import type { DraftModeServer } from './draft-mode.js'
import { PayloadTooLargeError, sendWebResponse, toWebRequest, type BodyLimit } from './web-request.js'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
type Handler = (request: Request, context: { params: Params }) => Response | Promise<Response>

/** Calls the module's handler for the request's method; 405 with `Allow` when it has none. */
export async function callRouteHandler(
  mod: Record<string, unknown>,
  req: IncomingMessage,
  res: ServerResponse,
  params: Params,
  file: string,
  limit?: BodyLimit,
  draft?: DraftModeServer,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase()
  // As Next.js: HEAD falls back to GET (the body is dropped when sent).
  const handler = (mod[method] ?? (method === 'HEAD' ? mod.GET : undefined)) as Handler | undefined
  if (typeof handler !== 'function') {
    const allow = METHODS.filter((m) => typeof mod[m] === 'function' || (m === 'HEAD' && typeof mod.GET === 'function'))
    res.writeHead(405, { allow: allow.join(', '), 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
    res.end('Method Not Allowed')
    return
  }
  const call = () => handler(toWebRequest(req, limit), { params })
  const scoped = draft?.routeScope(req)
  const response = await (scoped ? draftScope.run(scoped.scope, call) : call())
  // Whatever the handler made of the error, a body over the limit is answered 413.
  if (limit?.exceeded) throw new PayloadTooLargeError(limit.max)
  if (!(response instanceof Response)) {
    throw new TypeError(`[vite-isr] ${file}: ${method} must return a Response (got ${response === null ? 'null' : typeof response})`)
  }
  const cookie = scoped?.cookie()
  await sendWebResponse(req, res, cookie === undefined ? response : withCookie(response, cookie))
}

/** `response` with one more `Set-Cookie` (its own headers may be immutable, as `Response.redirect()`'s are). */
function withCookie(response: Response, cookie: string): Response {
  const headers = new Headers(response.headers)
  headers.append('set-cookie', cookie)
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}

export interface RouteHandlerOptions {
  /** Bytes of request body a handler may read; `Infinity` for no bound. */
  maxBodySize: number
  log: Logger
  /** Draft mode, for `draftMode()` in handlers. */
  draft?: DraftModeServer
}

const STATUS_TEXT = { 400: 'Bad Request', 413: 'Payload Too Large', 500: 'Internal Server Error' } as const

/**
 * After a 413 the rest of the body is read and dropped for a moment before the connection
 * is closed: closing with unread data makes TCP send a reset, which can destroy the 413 before
 * the client reads it (the "lingering close" of Apache and nginx). Bounded in time and bytes;
 * nothing is kept.
 */
const LINGER_MS = 1_000
const LINGER_BYTES = 16 * 1024 * 1024

function discardRest(req: IncomingMessage): void {
  const socket = req.socket
  let dropped = 0
  const close = () => socket.destroy()
  const timer = setTimeout(close, LINGER_MS)
  timer.unref()
  req.once('end', () => clearTimeout(timer))
  socket.once('close', () => clearTimeout(timer))
  req.removeAllListeners('data')
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.byteLength
    if (dropped > LINGER_BYTES) close()
  })
  req.resume()
}

function sendError(req: IncomingMessage, res: ServerResponse, status: keyof typeof STATUS_TEXT): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = STATUS_TEXT[status]
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
  res.end(body)
  if (status === 413 && !req.readableEnded) discardRest(req)
}

/**
 * The production entry for a route handler. vite-isr answers its failures itself, never
 * through Express's `next(err)` (whose error page shows the stack and absolute paths unless
 * NODE_ENV is production): a thrown error is logged with the file and answered with a plain
 * 500, a body over `maxBodySize` with 413 (before reading, when `Content-Length` says so), a
 * body `request.json()` / `formData()` cannot parse with 400.
 */
export async function serveRouteHandler(
  load: () => Promise<Record<string, unknown>>,
  req: IncomingMessage,
  res: ServerResponse,
  params: Params,
  file: string,
  options: RouteHandlerOptions,
): Promise<void> {
  const limit: BodyLimit = { max: options.maxBodySize, exceeded: false, unparsable: false }
  const declared = Number(req.headers['content-length'])
  if (!req.readableEnded && Number.isFinite(declared) && declared > limit.max) return sendError(req, res, 413)
  try {
    await callRouteHandler(await load(), req, res, params, file, limit, options.draft)
  } catch (error) {
    if (limit.exceeded) return sendError(req, res, 413)
    if (limit.unparsable) return sendError(req, res, 400)
    options.log.error(`${file}: ${req.method} ${JSON.stringify((req.url ?? '/').slice(0, 200))} failed`, error)
    sendError(req, res, 500)
  }
}
