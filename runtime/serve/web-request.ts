/** node:http <-> Web `Request` / `Response`, for loaders and `route.ts` handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

function originOf(req: IncomingMessage): string {
  const host = typeof req.headers.host === 'string' && /^[\w.-]+(:\d+)?$/.test(req.headers.host) ? req.headers.host : 'localhost'
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted
  return `${encrypted ? 'https' : 'http'}://${host}`
}

/**
 * How a route handler's body is read: at most `max` bytes (counted as they arrive), and
 * what went wrong with it, so the caller can answer 413 / 400 whatever the handler did with
 * the error.
 */
export interface BodyLimit {
  max: number
  exceeded: boolean
  /** `request.json()` or `request.formData()` could not parse the body. */
  unparsable: boolean
}

export class PayloadTooLargeError extends Error {
  constructor(max: number) {
    super(`[vite-isr] the request body is over maxBodySize (${max} bytes)`)
    this.name = 'PayloadTooLargeError'
  }
}

/**
 * The body as a Web stream that stops at `limit.max` bytes: past it the stream errors and
 * the socket is no longer read (paused, not destroyed, so a 413 can still be sent).
 */
function limitedBody(req: IncomingMessage, limit: BodyLimit): ReadableStream<Uint8Array> {
  let received = 0
  let settled = false
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (error: Error) => {
          if (settled) return
          settled = true
          req.pause()
          controller.error(error)
        }
        req.pause()
        req.on('data', (chunk: Buffer) => {
          if (settled) return
          received += chunk.byteLength
          if (received > limit.max) {
            limit.exceeded = true
            return fail(new PayloadTooLargeError(limit.max))
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) req.pause()
        })
        req.once('end', () => {
          if (settled) return
          settled = true
          controller.close()
        })
        req.once('error', fail)
        req.once('close', () => fail(new Error('the client closed the connection before the request body ended')))
      },
      pull() {
        req.resume()
      },
      cancel() {
        settled = true
        req.pause()
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  )
}

function requestClass(limit: BodyLimit | undefined): typeof Request {
  if (!limit) return Request
  // A body that is not JSON (or form data) is the client's mistake: remember it, so the
  // caller answers 400 instead of 500 when the handler lets the SyntaxError through.
  return class IncomingRequest extends Request {
    override async json(): Promise<unknown> {
      try {
        return await super.json()
      } catch (error) {
        limit.unparsable = true
        throw error
      }
    }
    override async formData(): Promise<FormData> {
      try {
        return await super.formData()
      } catch (error) {
        limit.unparsable = true
        throw error
      }
    }
  }
}

/**
 * `req` as a Web `Request`. `url` is the path and query it is for, `req.url` unless the request
 * stands for another URL (a page's data payload, for the page: the loader sees the same URL
 * on a client navigation as on a full load).
 */
export function toWebRequest(req: IncomingMessage & { body?: unknown }, limit?: BodyLimit, url = req.url ?? '/'): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue
    try {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v)
      else headers.set(name, value)
    } catch {
      // a header value the Fetch spec rejects: leave it out rather than fail the request
    }
  }
  const method = req.method ?? 'GET'
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (method !== 'GET' && method !== 'HEAD') {
    if (req.readableEnded && req.body !== undefined) {
      // A body parser (express.json(), ...) ran first, consumed the stream and applied its own limit.
      init.body = typeof req.body === "string" ? req.body : Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : JSON.stringify(req.body)
    } else if (!req.readableEnded) {
      init.body = limit ? limitedBody(req, limit) : (Readable.toWeb(req) as ReadableStream)
      init.duplex = 'half'
    }
  }
  const WebRequest = requestClass(limit)
  return new WebRequest(originOf(req) + url, init)
}

/**
 * Write a route handler's `Response`. A header Node refuses (the Fetch API lets through
 * control characters Node does not) rejects before anything is sent, with none of the
 * Response's headers left on `res`, so the caller's error answer goes out clean. A body that
 * fails midway closes the connection; a client that goes away stops the body's stream.
 */
export async function sendWebResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  try {
    res.writeHead(response.status, response.statusText || undefined, headers)
  } catch (error) {
    if (!res.headersSent) for (const name in headers) res.removeHeader(name)
    await response.body?.cancel().catch(() => {})
    throw new TypeError(
      `[vite-isr] the route handler's Response cannot be sent (${(error as Error).message}). Header values must be Latin-1 text without control characters: percent-encode anything else.`,
      { cause: error },
    )
  }
  if (!response.body || req.method === 'HEAD') {
    await response.body?.cancel().catch(() => {})
    res.end()
    return
  }
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      // Leaving the loop cancels the stream.
      if (res.destroyed) return
      if (!res.write(chunk)) await drainedOrClosed(res)
    }
  } catch (error) {
    res.destroy()
    throw error
  }
  res.end()
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}
