/**
 * The client build's files (hashed assets and `public/`), served by sirv. The build wrote a
 * `.br` and a `.gz` beside each compressible asset; the variant the request accepts is sent
 * with `Content-Encoding` and `Vary`, and nothing is compressed here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import sirv from 'sirv'
import { negotiateEncoding } from './response.js'

export const IMMUTABLE = 'public, max-age=31536000, immutable'
const REVALIDATE = 'public, max-age=0, must-revalidate'

export type StaticHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

/** `req.url` must be relative to Vite's `base` (the handler strips it). */
export function createStaticHandler(clientDir: string, assetsDir: string): StaticHandler {
  const hashed = `/${assetsDir.replace(/^\/|\/$/g, '')}/`
  const serve = sirv(clientDir, {
    dev: false,
    etag: true,
    extensions: [],
    gzip: true,
    brotli: true,
    setHeaders(res, pathname) {
      // Files under assetsDir carry a content hash in their name: cache them for good.
      res.setHeader('Cache-Control', pathname.startsWith(hashed) ? IMMUTABLE : REVALIDATE)
    },
  }) as StaticHandler
  return function serveStatic(req, res, next) {
    // sirv matches `gzip` / `br` as substrings, so `br;q=0` would still get brotli: it is
    // handed the one encoding our negotiation (q-values and all) chose.
    const accepted = req.headers['accept-encoding']
    req.headers['accept-encoding'] = negotiateEncoding(typeof accepted === 'string' ? accepted : undefined)
    try {
      serve(req, res, () => {
        req.headers['accept-encoding'] = accepted
        next()
      })
    } finally {
      req.headers['accept-encoding'] = accepted
    }
  }
}
