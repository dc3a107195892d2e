/**
 * Request paths -> cache keys. Every path is checked here before it can reach a
 * router, a renderer or a cache store: a path that fails is answered 400 or 404.
 */

export const MAX_PATH_LENGTH = 1024
export const MAX_SEGMENT_LENGTH = 255

export type PathCheck = { ok: true; pathname: string } | { ok: false; status: 400 | 404; reason: string }

/**
 * Decode and normalise the pathname of a request URL (`/blog/1/?x` -> `/blog/1`).
 * Rejects encoded slashes and backslashes, NUL and control characters, invalid
 * percent-encoding or UTF-8, `.` / `..` segments, empty segments and over-long paths.
 */
export function normalizePathname(url: string): PathCheck {
  const q = url.indexOf('?')
  let raw = q === -1 ? url : url.slice(0, q)
  const h = raw.indexOf('#')
  if (h !== -1) raw = raw.slice(0, h)
  if (raw.length === 0 || raw.charCodeAt(0) !== 47 /* / */) return { ok: false, status: 400, reason: 'path must start with /' }
  // A cheap bound before decoding: one UTF-16 unit is at most 9 raw characters (3 bytes, `%XX` each).
  if (raw.length > MAX_PATH_LENGTH * 9) return { ok: false, status: 404, reason: 'path too long' }
  if (/%(?:2f|5c|00)/i.test(raw)) return { ok: false, status: 400, reason: 'encoded slash, backslash or NUL' }
  let pathname: string
  try {
    pathname = raw.indexOf('%') === -1 ? raw : decodeURIComponent(raw)
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' }
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(pathname) || pathname.includes('\uFFFD')) {
    return { ok: false, status: 400, reason: 'control character, backslash or invalid UTF-8' }
  }
  if (pathname === '/') return { ok: true, pathname }
  // Only after the root check: `//` must not collapse to `/` (its empty segment is rejected below).
  if (pathname.endsWith('/')) pathname = pathname.slice(0, -1)
  if (pathname.length > MAX_PATH_LENGTH) return { ok: false, status: 404, reason: 'path too long' }
  const segments = pathname.slice(1).split('/')
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') return { ok: false, status: 404, reason: 'empty, . or .. segment' }
    if (segment.length > MAX_SEGMENT_LENGTH) return { ok: false, status: 404, reason: 'segment too long' }
  }
  return { ok: true, pathname }
}
