/** `route.ts` modules: Web-standard handlers named after HTTP methods, never cached. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Params } from '../routes/route-table.js'
import { sendWebResponse, toWebRequest } from './web-request.js'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
type Handler = (request: Request, context: { params: Params }) => Response | Promise<Response>

/** Calls the module's handler for the request's method; 405 with `Allow` when it has none. */
export async function callRouteHandler(
  mod: Record<string, unknown>,
  req: IncomingMessage,
  res: ServerResponse,
  params: Params,
  file: string,
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
  const response = await handler(toWebRequest(req), { params })
  if (!(response instanceof Response)) {
    throw new TypeError(`[vite-isr] ${file}: ${method} must return a Response (got ${response === null ? 'null' : typeof response})`)
  }
  await sendWebResponse(req, res, response)
}
