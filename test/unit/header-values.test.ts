import { describe, expect, it } from 'vitest'
import { sendableLocation, unsendable } from '../../runtime/render/header-values.js'
import { toGenerated } from '../../runtime/render/page-entry.js'

describe('sendableLocation', () => {
  it.each([
    ['/dest/日本', '/dest/%E6%97%A5%E6%9C%AC'],
    ['/dest/ÿ', '/dest/%C3%BF'],
    ['/x?a=1&b=ü#ö', '/x?a=1&b=%C3%BC#%C3%B6'],
    ['/a b', '/a%20b'],
    ['/a\r\nSet-Cookie: x=1', '/aSet-Cookie:%20x=1'],
    ['  /padded\t ', '/padded'],
    ['https://日本.example/ü', 'https://xn--wgv71a.example/%C3%BC'],
    ['https://example.com/a b', 'https://example.com/a%20b'],
    ['//evil.example/x', '//evil.example/x'],
    ['/\\evil.example/x', '//evil.example/x'],
    ['mailto:a b@example.com', 'mailto:a%20b@example.com'],
    ['relative/ü', 'relative/%C3%BC'],
    ['../up', '../up'],
    ['?page=2', '?page=2'],
    ['/lone\ud800', '/lone%EF%BF%BD'],
    ['/already%20encoded', '/already%20encoded'],
  ])('sends %j as %j', (input, expected) => {
    expect(sendableLocation(input)).toBe(expected)
    expect(unsendable(307, { location: sendableLocation(input) })).toBeUndefined()
  })

  it('refuses a URL a browser could not follow, with a message that names it', () => {
    expect(() => sendableLocation('http://exa mple.com/')).toThrow(/^\[vite-isr\] redirect\("http:\/\/exa mple.com\/"\): not a URL/)
    expect(() => sendableLocation('http://[::1')).toThrow(TypeError)
    expect(() => sendableLocation('\t\r\n ')).toThrow(/not a URL a browser could follow/)
  })
})

describe('unsendable', () => {
  it('accepts what writeHead accepts', () => {
    expect(unsendable(200, { 'content-type': 'text/html; charset=utf-8', 'x-latin1': 'caf\u00e9', 'x-tab': 'a\tb' })).toBeUndefined()
  })

  it.each([
    [200, { 'x-a': '日本' }, 'header "x-a"'],
    [200, { 'x-a': 'a\r\nb' }, 'header "x-a"'],
    [200, { 'x-a': 'a\u0001b' }, 'header "x-a"'],
    [200, { 'bad name': 'x' }, 'header "bad name"'],
    [200, { 'x-a': 1 }, 'not a string'],
    [1000, {}, 'status 1000'],
    [99, {}, 'status 99'],
    ['200', {}, 'status "200"'],
  ])('refuses status %j with headers %j', (status, headers, reason) => {
    expect(unsendable(status, headers as Record<string, unknown>)).toContain(reason)
  })
})

describe('toGenerated', () => {
  const context = { pathname: '/p', route: { pattern: '/p' }, startedAt: 1, buildId: 'b', expireTime: 100 }
  const result = (status: number, headers: Record<string, string>) => ({ status, headers, body: Buffer.alloc(0), tags: [], revalidate: 60 as const })

  it('makes no entry of a render result Node could not send: the render fails instead', () => {
    expect(() => toGenerated(result(307, { location: '/dest/日本' }), context)).toThrow(/^\[vite-isr\] rendering \/p produced a response Node cannot send \(header "location"/)
    expect(() => toGenerated(result(200, { 'x-a': 'a\r\nb' }), context)).toThrow(/cannot send/)
    expect(toGenerated(result(307, { location: '/dest/%E6%97%A5' }), context).store).toBe('durable')
  })
})
