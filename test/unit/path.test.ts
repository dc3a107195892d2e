import { describe, expect, it } from 'vitest'
import { MAX_PATH_LENGTH, MAX_SEGMENT_LENGTH, normalizePathname } from '../../runtime/routes/path.js'

const ok = (pathname: string) => ({ ok: true, pathname })
const moved = (pathname: string, redirect: string) => ({ ok: true, pathname, redirect })
const status = (url: string) => {
  const check = normalizePathname(url)
  return check.ok ? 200 : check.status
}

describe('normalizePathname', () => {
  it('keeps a plain path and the root as they are', () => {
    expect(normalizePathname('/')).toEqual(ok('/'))
    expect(normalizePathname('/blog/1')).toEqual(ok('/blog/1'))
  })

  it('leaves the query out of the pathname', () => {
    expect(normalizePathname('/blog/1?x=1&y=/..')).toEqual(ok('/blog/1'))
    expect(normalizePathname('/?x')).toEqual(ok('/'))
    expect(normalizePathname('/blog/1?q=%2f%00#x')).toEqual(ok('/blog/1'))
  })

  it('redirects a trailing slash to the path without it, keeping the query', () => {
    expect(normalizePathname('/blog/1/')).toEqual(moved('/blog/1', '/blog/1'))
    expect(normalizePathname('/blog/1/?x=1&y=%20')).toEqual(moved('/blog/1', '/blog/1?x=1&y=%20'))
  })

  it('refuses a fragment in the request target as 400 (no client sends one)', () => {
    expect(normalizePathname('/blog/1#top')).toMatchObject({ ok: false, status: 400 })
    expect(normalizePathname('/blog/1#top?x')).toMatchObject({ ok: false, status: 400 })
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

  it.each(['/a/../b', '/..', '/a/%2e%2e/b', '/a/%2E%2E', '/a/.%2e/b', '/a/%2e./b', '/a/..?x'])('rejects the .. segment in %s as 404', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 404 })
  })

  it.each([
    ['/a/.', '/a'],
    ['/./a', '/a'],
    ['/a/./b', '/a/b'],
    ['/%2e', '/'],
    ['/.', '/'],
    ['/a/%2E/b', '/a/b'],
    ['/.//a', '/a'],
  ])('redirects the . segment in %s to %s', (url, location) => {
    expect(normalizePathname(url)).toEqual(moved(location, location))
  })

  it('accepts segments that merely contain dots', () => {
    expect(normalizePathname('/a/..b/c.d/...')).toEqual(ok('/a/..b/c.d/...'))
  })

  it.each(['/caf%ff', '/%C3', '/%C0%AE', '/%C0%AF', '/%E0%80%AE', '/%ED%A0%80', '/%E6%97', '/a\uD800'])('rejects invalid UTF-8 in %s as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it.each(['/%zz', '/a%', '/a%2', '/%%41'])('rejects the malformed percent-encoding in %s as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it.each(['/a\tb', '/a\nb', '/a%0ab', '/a%0D%0Ab', '/a%1fb', '/a%7fb', '/a\u007fb', '/a\\b'])('rejects the control character or backslash in %j as 400', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 400 })
  })

  it('decodes unicode paths, canonical in upper-case percent-encoded UTF-8', () => {
    expect(normalizePathname('/caf%C3%A9')).toEqual(ok('/café'))
    expect(normalizePathname('/%E4%B8%AD%E6%96%87')).toEqual(ok('/中文'))
    expect(normalizePathname('/blog/%E6%97%A5')).toEqual(ok('/blog/日'))
    expect(normalizePathname('/caf%c3%a9/')).toEqual(moved('/café', '/caf%C3%A9'))
    expect(normalizePathname('/caf%C3%a9')).toEqual(moved('/café', '/caf%C3%A9'))
    expect(normalizePathname('/café')).toEqual(moved('/café', '/caf%C3%A9'))
    expect(normalizePathname('/blog/日')).toEqual(moved('/blog/日', '/blog/%E6%97%A5'))
  })

  it('redirects percent-encoded unreserved characters to the characters themselves', () => {
    expect(normalizePathname('/%62log/1')).toEqual(moved('/blog/1', '/blog/1'))
    expect(normalizePathname('/%62%6C%6f%67/%31')).toEqual(moved('/blog/1', '/blog/1'))
    expect(normalizePathname('/%7Euser/a%2Db%2Ec%5Fd')).toEqual(moved('/~user/a-b.c_d', '/~user/a-b.c_d'))
    expect(normalizePathname('/%62log/1?utm=a%62')).toEqual(moved('/blog/1', '/blog/1?utm=a%62'))
  })

  it('keeps sub-delims, : and @ raw and redirects their percent-encoded forms to them', () => {
    expect(normalizePathname("/a;b,c=d/e:f@g!$&'()*+")).toEqual(ok("/a;b,c=d/e:f@g!$&'()*+"))
    expect(normalizePathname('/a%3Bb%2Cc%3Dd/e%3Af%40g%21%24%26%27%28%29%2A%2B')).toEqual(moved("/a;b,c=d/e:f@g!$&'()*+", "/a;b,c=d/e:f@g!$&'()*+"))
  })

  it('keeps reserved characters that end a path percent-encoded, and encodes what is not a pchar', () => {
    expect(normalizePathname('/a%3Fb%23c%40d%2Be%3Af')).toEqual(moved('/a?b#c@d+e:f', '/a%3Fb%23c@d+e:f'))
    expect(normalizePathname('/a%3Fb%23c')).toEqual(ok('/a?b#c'))
    expect(normalizePathname('/a%20b%22c%25d%5Be%5D%7C')).toEqual(ok('/a b"c%d[e]|'))
    expect(normalizePathname('/a b"c[e]|')).toEqual(moved('/a b"c[e]|', '/a%20b%22c%5Be%5D%7C'))
    expect(normalizePathname('/a%3fb')).toEqual(moved('/a?b', '/a%3Fb'))
  })

  it('decodes percent-encoded characters once only (double encoding is a literal %)', () => {
    expect(normalizePathname('/a%2520b')).toEqual(ok('/a%20b'))
    expect(normalizePathname('/a%252fb')).toEqual(ok('/a%2fb'))
    expect(normalizePathname('/%252e%252e/a')).toEqual(ok('/%2e%2e/a'))
  })

  it.each(['//', '//a', '///', '//evil.example/blog/1', '//evil.example', '//%2e'])('refuses the leading // in %s as 404 rather than redirect to another origin', (url) => {
    expect(normalizePathname(url)).toMatchObject({ ok: false, status: 404 })
  })

  it.each([
    ['/a//b', '/a/b'],
    ['/a//', '/a'],
    ['/a///b//c/', '/a/b/c'],
    ['/./%2e//evil.example', '/evil.example'],
  ])('redirects the empty segments in %s to %s', (url, location) => {
    expect(normalizePathname(url)).toEqual(moved(location, location))
  })

  it('never gives a redirect that a browser reads as another origin', () => {
    const tricks = ['/.//evil.example', '/%2e//evil.example', '/.%2f/evil.example', '/%5C/evil.example', '/%09/evil.example', '/\\evil.example', '/./\\evil.example', '/%2F%2Fevil.example', '/ /evil.example']
    for (const url of tricks) {
      const check = normalizePathname(url)
      if (check.ok && check.redirect !== undefined) expect(check.redirect, url).toMatch(/^\/[^/\\]/)
    }
    expect(normalizePathname('/ /evil.example')).toEqual(moved('/ /evil.example', '/%20/evil.example'))
  })

  it('encodes what cannot go in a Location header when it keeps the query', () => {
    expect(normalizePathname('/%62?q=\u00e9\u0001 #x')).toEqual(moved('/b', '/b?q=%C3%A9%01%20%23x'))
  })

  it(`accepts a path of ${MAX_PATH_LENGTH} characters and rejects a longer one as 404`, () => {
    const segment = 'a'.repeat(200)
    const longest = ('/' + segment).repeat(6).slice(0, MAX_PATH_LENGTH)
    expect(longest).toHaveLength(MAX_PATH_LENGTH)
    expect(normalizePathname(longest)).toEqual(ok(longest))
    expect(normalizePathname(longest + '/')).toEqual(moved(longest, longest))
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
