/**
 * Request paths -> cache keys. Every path is checked here before it can reach a
 * router, a renderer or a cache store: a path that fails is answered 400 or 404.
 *
 * Express matches mount paths on the raw URL (`app.use('/blog', auth)` does not see
 * `/%62log/1`), while pages are routed on the decoded path. So each decoded path has
 * exactly one raw spelling that may reach a page, its canonical form; any other spelling
 * is redirected there, through the app's middleware again (CVE-2025-29927 is this class).
 */

export const MAX_PATH_LENGTH = 1024
export const MAX_SEGMENT_LENGTH = 255

export type PathCheck =
  | {
      ok: true
      /** The decoded path (`/blog/日`): what routes, cache keys and tags are made of. */
      pathname: string
      /**
       * Set when the raw path is not canonical: the canonical path with the request's query,
       * a relative URL that always starts with one `/` and never with `//`.
       */
      redirect?: string
    }
  | { ok: false; status: 400 | 404; reason: string }

/**
 * RFC 3986 `pchar` minus `%`: unreserved characters, sub-delims, `:` and `@`. These are
 * written as they are in the canonical form, as a browser sends them and as an app writes
 * them in `app.use('/path')`; every other character is percent-encoded (UTF-8, upper-case hex).
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]+)+$/
/** `encodeURIComponent` leaves unreserved and `!'()*` alone; these are the other sub-delims, `:` and `@`. */
const KEEP_RAW = /%(?:24|26|2B|2C|3B|3D|3A|40)/g

const encodeSegment = (segment: string): string => encodeURIComponent(segment).replace(KEEP_RAW, decodeURIComponent)

function fail(status: 400 | 404, reason: string): PathCheck {
  return { ok: false, status, reason }
}

/**
 * Check a request URL's path and find its decoded and canonical forms.
 *
 * Canonical: `.` and empty segments removed, no trailing slash (except `/` itself),
 * percent-encoding only where the character is not a `pchar` (so `%62` is `b`, `%3A` is `:`,
 * `%c3%a9` is `%C3%A9`, a raw `é` is `%C3%A9`). The redirect keeps the query, with only
 * what a header cannot carry (and `#`) percent-encoded.
 *
 * Refused: no leading `/` or a leading `//`, a raw `#` or backslash, encoded `/`, `\` or NUL,
 * control characters, malformed percent-encoding or invalid UTF-8 (overlong forms, lone
 * surrogates) as 400; `..` segments and over-long paths or segments as 404.
 */
/**
 * RFC 9112 §3.2.2: a server must accept the absolute form (`GET http://host/blog/1`); it is
 * routed like its path and query. Any other target comes back unchanged.
 */
export function originForm(url: string): string {
  const authority = /^https?:\/\/[^/?#]*/i.exec(url)
  if (authority === null) return url
  const rest = url.slice(authority[0].length)
  return rest.startsWith('/') ? rest : '/' + rest
}

export function normalizePathname(url: string): PathCheck {
  const q = url.indexOf('?')
  const raw = q === -1 ? url : url.slice(0, q)
  if (raw.length === 0 || raw.charCodeAt(0) !== 47 /* / */) return fail(400, 'path must start with /')
  // A cheap bound before decoding: one UTF-16 unit is at most 9 raw characters (3 bytes, `%XX` each).
  if (raw.length > MAX_PATH_LENGTH * 9) return fail(404, 'path too long')
  if (raw === '/') return { ok: true, pathname: raw }
  // `//host` would be read as another origin by a browser if it ever became a Location.
  if (raw.charCodeAt(1) === 47) return fail(404, 'path starts with //')

  if (PLAIN_PATH.test(raw)) {
    // Nothing to decode: the path is canonical unless it holds a `.` or `..` segment.
    if (raw.includes('/.') && /\/\.\.?(?:\/|$)/.test(raw)) return canonicalize(raw, url, q)
    return checkLengths(raw, raw) ?? { ok: true, pathname: raw }
  }
  return canonicalize(raw, url, q)
}

/** The slow path: decode each segment, re-encode it canonically and compare. */
function canonicalize(raw: string, url: string, q: number): PathCheck {
  if (raw.includes('#')) return fail(400, 'fragment in the request target')
  if (raw.includes('\\')) return fail(400, 'backslash')
  if (/%(?:2f|5c|00)/i.test(raw)) return fail(400, 'encoded slash, backslash or NUL')
  const decoded: string[] = []
  const canonical: string[] = []
  let changed = false
  for (const part of raw.slice(1).split('/')) {
    let segment: string
    let encoded: string
    try {
      segment = part.includes('%') ? decodeURIComponent(part) : part
      encoded = encodeSegment(segment)
    } catch {
      return fail(400, 'malformed percent-encoding or invalid UTF-8')
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(segment) || segment.includes('\uFFFD')) {
      return fail(400, 'control character, backslash or invalid UTF-8')
    }
    if (segment === '..') return fail(404, '.. segment')
    if (segment === '' || segment === '.') {
      changed = true
      continue
    }
    if (encoded !== part) changed = true
    decoded.push(segment)
    canonical.push(encoded)
  }
  const pathname = '/' + decoded.join('/')
  const tooLong = checkLengths(pathname, decoded)
  if (tooLong) return tooLong
  if (!changed) return { ok: true, pathname }
  let query = ''
  if (q !== -1) {
    try {
      // Node's parser lets none of these through; a listener given another req.url might.
      query = url.slice(q).replace(/[^\x21-\x7e]|#/gu, encodeURIComponent)
    } catch {
      return fail(400, 'invalid query')
    }
  }
  return { ok: true, pathname, redirect: '/' + canonical.join('/') + query }
}

function checkLengths(pathname: string, segments: string | string[]): PathCheck | undefined {
  if (pathname.length > MAX_PATH_LENGTH) return fail(404, 'path too long')
  for (const segment of typeof segments === 'string' ? segments.slice(1).split('/') : segments) {
    if (segment.length > MAX_SEGMENT_LENGTH) return fail(404, 'segment too long')
  }
  return undefined
}
