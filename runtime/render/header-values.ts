/**
 * Header values made from loader or route output. Node refuses to send a header value
 * with characters outside Latin-1 or control characters (`ERR_INVALID_CHAR`), and a
 * thrown `writeHead` must never be the first time such a value is seen: a cached entry
 * holding one would fail on every request, and again after every restart.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http'

const SCHEME = /^[a-z][a-z\d+.-]*:/i
/** The WHATWG URL parser drops these wherever they are (tab, LF, CR) or at either end (C0 and space). */
const STRIPPED = /[\t\n\r]/g
// eslint-disable-next-line no-control-regex
const EDGES = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g
/** Anything but printable ASCII, as UTF-8 percent-encoding. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[^\u0021-\u007e]+/g
const BASE = 'http://vite-isr.invalid'

/**
 * `url` as the browser would request it, in a form every HTTP stack can send: the WHATWG URL
 * serialisation (non-ASCII and spaces percent-encoded, CR/LF/tab removed, IDN hosts in
 * punycode), kept relative when it was relative; printable ASCII only. Throws a TypeError
 * for a URL that does not parse (e.g. `http://exa mple.com`).
 */
export function sendableLocation(url: string): string {
  // Opaque URLs (`mailto:a b`) keep their spaces through the parser: those are encoded too.
  return serialise(url).replace(UNSAFE, percentEncode)
}

function serialise(url: string): string {
  const input = url.replace(STRIPPED, '').replace(EDGES, '')
  // An empty Location would send the browser back to the page that redirects.
  if (input === '') throw new TypeError(`[vite-isr] redirect(${JSON.stringify(url.slice(0, 200))}): not a URL a browser could follow`)
  let parsed: URL
  try {
    parsed = SCHEME.test(input) ? new URL(input) : new URL(input, BASE + '/')
  } catch (error) {
    throw new TypeError(`[vite-isr] redirect(${JSON.stringify(url.slice(0, 200))}): not a URL a browser could follow`, { cause: error })
  }
  if (SCHEME.test(input)) return parsed.href
  if (parsed.origin !== BASE) {
    // Scheme-relative (`//host/x`, or `/\host/x` that browsers read the same way): keep the request's scheme.
    return parsed.href.slice(parsed.protocol.length)
  }
  if (input.startsWith('/')) return parsed.pathname + parsed.search + parsed.hash
  // Path-relative (`a/b`, `../a`, `?q`, `#h`): resolving it would need the request's path, so
  // it is only encoded where it cannot be sent (by the caller), as the URL parser would.
  return input
}

/** `chars` as UTF-8 percent-encoding (a lone surrogate as U+FFFD's bytes). */
export const percentEncode = (chars: string): string =>
  Array.from(Buffer.from(chars, 'utf8'), (byte) => '%' + byte.toString(16).toUpperCase().padStart(2, '0')).join('')

/**
 * Why `status` with `headers` could not be written by `res.writeHead`, or `undefined` when it
 * can: a status outside 100-999, a header name that is not a token, or a value with
 * characters outside Latin-1, control characters, CR or LF.
 */
export function unsendable(status: unknown, headers: Record<string, unknown>): string | undefined {
  if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 999) return `status ${JSON.stringify(status)}`
  for (const name in headers) {
    const value = headers[name]
    if (typeof value !== 'string') return `header ${JSON.stringify(name.slice(0, 64))} is not a string`
    try {
      validateHeaderName(name)
      validateHeaderValue(name, value)
    } catch {
      return `header ${JSON.stringify(name.slice(0, 64))}: ${JSON.stringify(String(value).slice(0, 64))}`
    }
  }
  return undefined
}
