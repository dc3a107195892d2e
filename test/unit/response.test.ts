import { describe, expect, it } from 'vitest'
import { NO_STORE, cacheControlFor, matchesIfNoneMatch, negotiateEncoding } from '../../runtime/serve/response.js'

describe('cacheControlFor', () => {
  it('sends s-maxage and stale-while-revalidate up to expire for a revalidated page, as Next.js does', () => {
    expect(cacheControlFor({ revalidate: 60, expire: 31_536_000, status: 200 })).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(cacheControlFor({ revalidate: 10, expire: 100, status: 200 })).toBe('s-maxage=10, stale-while-revalidate=90')
  })

  it('sends s-maxage alone when expire leaves no stale window', () => {
    expect(cacheControlFor({ revalidate: 60, expire: 60, status: 200 })).toBe('s-maxage=60')
  })

  it('sends a year of s-maxage for revalidate false', () => {
    expect(cacheControlFor({ revalidate: false, expire: 31_536_000, status: 200 })).toBe('s-maxage=31536000')
  })

  it('sends no-store for revalidate 0, a 404 and a 5xx', () => {
    expect(NO_STORE).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
    expect(cacheControlFor({ revalidate: 0, expire: 31_536_000, status: 200 })).toBe(NO_STORE)
    expect(cacheControlFor({ revalidate: 10, expire: 31_536_000, status: 404 })).toBe(NO_STORE)
    expect(cacheControlFor({ revalidate: 10, expire: 31_536_000, status: 500 })).toBe(NO_STORE)
  })

  it('caches a redirect like a page', () => {
    expect(cacheControlFor({ revalidate: 60, expire: 31_536_000, status: 308 })).toBe('s-maxage=60, stale-while-revalidate=31535940')
  })
})

describe('negotiateEncoding', () => {
  it('prefers br whenever the client accepts it', () => {
    expect(negotiateEncoding('gzip, deflate, br')).toBe('br')
    expect(negotiateEncoding('br')).toBe('br')
    expect(negotiateEncoding('gzip;q=1.0, br;q=0.5')).toBe('br')
    expect(negotiateEncoding('BR, GZIP')).toBe('br')
  })

  it('falls back to gzip when br is refused with q=0 or not offered', () => {
    expect(negotiateEncoding('br;q=0, gzip')).toBe('gzip')
    expect(negotiateEncoding('gzip, br;q=0.0')).toBe('gzip')
    expect(negotiateEncoding('gzip, deflate')).toBe('gzip')
    expect(negotiateEncoding('br;q=0, *')).toBe('gzip')
  })

  it('accepts any encoding for *, and none for *;q=0', () => {
    expect(negotiateEncoding('*')).toBe('br')
    expect(negotiateEncoding('*;q=0')).toBe('identity')
    expect(negotiateEncoding('gzip, *;q=0')).toBe('gzip')
  })

  it('honours optional whitespace around the q parameter', () => {
    expect(negotiateEncoding('gzip ;q=1.0, br ; q=1.0')).toBe('br')
    expect(negotiateEncoding('br ;q=0, gzip ;q=0.8')).toBe('gzip')
    expect(negotiateEncoding('br ;q=0, *')).toBe('gzip')
  })

  it('answers identity for a missing, empty or meaningless header', () => {
    expect(negotiateEncoding(undefined)).toBe('identity')
    expect(negotiateEncoding('')).toBe('identity')
    expect(negotiateEncoding('identity')).toBe('identity')
    expect(negotiateEncoding('deflate')).toBe('identity')
    expect(negotiateEncoding(';;;,,,===')).toBe('identity')
    expect(negotiateEncoding('br;q=abc, gzip;q=0')).toBe('identity')
  })

  it('gives the same answer for a header it has already seen', () => {
    expect(negotiateEncoding('gzip, br;q=0')).toBe('gzip')
    expect(negotiateEncoding('gzip, br;q=0')).toBe('gzip')
  })
})

describe('matchesIfNoneMatch', () => {
  const tag = 'AbC_dEf-123'

  it('matches the exact strong tag', () => {
    expect(matchesIfNoneMatch(`"${tag}"`, tag)).toBe(true)
  })

  it('matches a weak tag by weak comparison', () => {
    expect(matchesIfNoneMatch(`W/"${tag}"`, tag)).toBe(true)
  })

  it('matches when the tag is anywhere in a list', () => {
    expect(matchesIfNoneMatch(`"other", W/"another" ,  "${tag}"`, tag)).toBe(true)
    expect(matchesIfNoneMatch(`"other","${tag}"`, tag)).toBe(true)
  })

  it('matches * alone', () => {
    expect(matchesIfNoneMatch('*', tag)).toBe(true)
    expect(matchesIfNoneMatch(' * ', tag)).toBe(true)
  })

  it('matches the gzip and brotli variants of the tag', () => {
    expect(matchesIfNoneMatch(`"${tag}-gz"`, tag)).toBe(true)
    expect(matchesIfNoneMatch(`"${tag}-br"`, tag)).toBe(true)
    expect(matchesIfNoneMatch(`W/"${tag}-gz"`, tag)).toBe(true)
  })

  it('does not match other tags, prefixes of the tag, or garbage', () => {
    expect(matchesIfNoneMatch('"other"', tag)).toBe(false)
    expect(matchesIfNoneMatch('"other-gz"', tag)).toBe(false)
    expect(matchesIfNoneMatch('"AbC_dEf"', tag)).toBe(false)
    expect(matchesIfNoneMatch(`"${tag}x"`, tag)).toBe(false)
    expect(matchesIfNoneMatch(tag, tag)).toBe(false)
    expect(matchesIfNoneMatch(`"${tag}`, tag)).toBe(false)
    expect(matchesIfNoneMatch('"', tag)).toBe(false)
    expect(matchesIfNoneMatch('', tag)).toBe(false)
    expect(matchesIfNoneMatch('W/', tag)).toBe(false)
    expect(matchesIfNoneMatch(',,,', tag)).toBe(false)
  })
})
