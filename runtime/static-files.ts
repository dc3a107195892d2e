/** The client build's files (hashed assets and `public/`), served by sirv. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import sirv from 'sirv'

export const IMMUTABLE = 'public, max-age=31536000, immutable'
const REVALIDATE = 'public, max-age=0, must-revalidate'

export type StaticHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

/** `req.url` must be relative to Vite's `base` (the handler strips it). */
export function createStaticHandler(clientDir: string, assetsDir: string): StaticHandler {
  const hashed = `/${assetsDir.replace(/^\/|\/$/g, '')}/`
  return sirv(clientDir, {
    dev: false,
    etag: true,
    extensions: [],
    setHeaders(res, pathname) {
      // Files under assetsDir carry a content hash in their name: cache them for good.
      res.setHeader('Cache-Control', pathname.startsWith(hashed) ? IMMUTABLE : REVALIDATE)
    },
  }) as StaticHandler
}
