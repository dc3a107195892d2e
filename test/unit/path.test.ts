import { describe, expect, it } from 'vitest'
import { MAX_PATH_LENGTH, MAX_SEGMENT_LENGTH, normalizePathname } from '../../runtime/path.js'

const ok = (pathname: string) => ({ ok: true, pathname })
const status = (url: string) => {
  const check = normalizePathname(url)
  return check.ok ? 200 : check.status
}

describe('normalizePathname', () => {
  it('keeps a plain path and the root as they are', () => {
    expect(normalizePathname('/')).toEqual(ok('/'))
    expect(normalizePathname('/blog/1')).toEqual(ok('/blog/1'))
  })

  it('strips a trailing slash, the query and the fragment', () => {
    expect(normalizePathname('/blog/1/')).toEqual(ok('/blog/1'))
    expect(normalizePathname('/blog/1?x=1&y=/..')).toEqual(ok('/blog/1'))
    expect(normalizePathname('/blog/1/?x')).toEqual(ok('/blog/1'))
    expect(normalizePathname('/?x')).toEqual(ok('/'))
    expect(normalizePathname('/blog/1#top')).toEqual(ok('/blog/1'))
  })

  it('rejects a path that does not start with / as 400', () => {
    expect(status('')).toBe(400)
    expect(status('blog')).toBe(400)
    expect(status('?x')).toBe(400)
    expect(status('http://example.com/')).toBe(400)
  })

  it.each(['/a%2fb', '/a%2Fb', '/a%5cb', '/a%5Cb', '/a%00b', '/%2F'])('rejects the encoded slash, backslash or NUL in %s as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it.each(['/a/../b', '/..', '/a/.', '/./a', '/a/%2e%2e/b', '/a/%2E%2E', '/%2e', '/a/.%2e/b'])('rejects the . or .. segment in %s as 404', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 404 })
  })

  it('accepts segments that merely contain dots', () => {
    expect(normalizePathname('/a/..b/c.d/...')).toEqual(ok('/a/..b/c.d/...'))
  })

  it.each(['/caf%ff', '/%C3', '/%C0%AE', '/%ED%A0%80'])('rejects invalid UTF-8 in %s as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it.each(['/%zz', '/a%', '/a%2', '/%%41'])('rejects the malformed percent-encoding in %s as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it.each(['/a\tb', '/a\nb', '/a%0ab', '/a%0D%0Ab', '/a%1fb', '/a%7fb', '/a\u007fb', '/a\\b'])('rejects the control character or backslash in %j as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it('decodes unicode paths', () => {
    expect(normalizePathname('/caf%C3%A9')).toEqual(ok('/café'))
    expect(normalizePathname('/caf%c3%a9/')).toEqual(ok('/café'))
    expect(normalizePathname('/café')).toEqual(ok('/café'))
    expect(normalizePathname('/%E4%B8%AD%E6%96%87')).toEqual(ok('/中文'))
  })

  it('decodes percent-encoded reserved characters other than / and \\', () => {
    expect(normalizePathname('/a%3Fb%23c%40d%2Be%3Af')).toEqual(ok('/a?b#c@d+e:f'))
  })

  it('decodes percent-encoded characters once only', () => {
    expect(normalizePathname('/a%2520b')).toEqual(ok('/a%20b'))
    expect(normalizePathname('/a%252fb')).toEqual(ok('/a%2fb'))
  })

  it.each(['//', '/a//b', '//a', '/a//', '///'])('rejects the empty segment in %s as 404', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 404 })
  })

  it(`accepts a path of ${MAX_PATH_LENGTH} characters and rejects a longer one as 404`, () => {
    const segment = 'a'.repeat(200)
    const longest = ('/' + segment).repeat(6).slice(0, MAX_PATH_LENGTH)
    expect(longest).toHaveLength(MAX_PATH_LENGTH)
    expect(normalizePathname(longest)).toEqual(ok(longest))
    expect(normalizePathname(longest + '/')).toEqual(ok(longest))
    expect(normalizePathname(longest + 'a')).toMatchObject({ ok: false, status: 404 })
    expect(normalizePathname('/a'.repeat(5_000))).toMatchObject({ ok: false, status: 404 })
  })

  it(`counts the length of a percent-encoded path after decoding`, () => {
    // 4 segments of 250 CJK characters: 1004 decoded characters, 9004 raw ones.
    const segment = '中'.repeat(250)
    const decoded = ('/' + segment).repeat(4)
    expect(decoded.length).toBeLessThanOrEqual(MAX_PATH_LENGTH)
    expect(normalizePathname(encodeURI(decoded))).toEqual(ok(decoded))
    const tooLong = decoded + '/' + '中'.repeat(30)
    expect(normalizePathname(encodeURI(tooLong))).toMatchObject({ ok: false, status: 404 })
  })

  it(`accepts a segment of ${MAX_SEGMENT_LENGTH} characters and rejects a longer one as 404`, () => {
    const longest = 'a'.repeat(MAX_SEGMENT_LENGTH)
    expect(normalizePathname(`/x/${longest}`)).toEqual(ok(`/x/${longest}`))
    expect(normalizePathname(`/x/${longest}a`)).toMatchObject({ ok: false, status: 404 })
    expect(normalizePathname(`/x/${encodeURIComponent('é'.repeat(MAX_SEGMENT_LENGTH))}`)).toEqual(ok(`/x/${'é'.repeat(MAX_SEGMENT_LENGTH)}`))
    expect(normalizePathname(`/x/${encodeURIComponent('é'.repeat(MAX_SEGMENT_LENGTH + 1))}`)).toMatchObject({ ok: false, status: 404 })
  })
})
