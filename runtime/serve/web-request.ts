/** node:http <-> Web `Request` / `Response`, for loaders and `route.ts` handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

function originOf(req: IncomingMessage): string {
  const host = typeof req.headers.host === 'string' && /^[\w.-]+(:\d+)?$/.test(req.headers.host) ? req.headers.host : 'localhost'
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted
  return `${encrypted ? 'https' : 'http'}://${host}`
}

export function toWebRequest(req: IncomingMessage & { body?: unknown }): Request {
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
      // A body parser (express.json(), ...) ran first and consumed the stream.
      init.body = typeof req.body === "string" ? req.body : Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : JSON.stringify(req.body)
    } else if (!req.readableEnded) {
      init.body = Readable.toWeb(req) as ReadableStream
      init.duplex = 'half'
    }
  }
  return new Request(originOf(req) + (req.url ?? '/'), init)
}

export async function sendWebResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  res.writeHead(response.status, response.statusText || undefined, headers)
  if (!response.body || req.method === 'HEAD') {
    res.end()
    return
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
  }
  res.end()
}
