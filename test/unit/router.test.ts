import { describe, expect, it } from 'vitest'
import { fillPattern, type RouteDefinition, type RouteSegment } from '../../runtime/routes/route-table.js'
import { createRouter } from '../../runtime/routes/router.js'

/** A route as the plugin would hand it over, from its folder pattern (`/blog/[id]`). */
function route(pattern: string): RouteDefinition {
  const segments: RouteSegment[] = pattern === '/' ? [] : pattern.slice(1).split('/').map(parseSegment)
  return {
    kind: 'page',
    pattern,
    segments,
    file: `app${pattern === '/' ? '' : pattern}/page.tsx`,
    layouts: ['app/layout.tsx'],
    revalidate: 60,
    dynamicParams: true,
    dynamic: 'auto',
    hasGenerateStaticParams: false,
  }
}

function parseSegment(part: string): RouteSegment {
  let m = /^\[\[\.\.\.(\w+)\]\]$/.exec(part)
  if (m) return { type: 'optional-catch-all', name: m[1] }
  m = /^\[\.\.\.(\w+)\]$/.exec(part)
  if (m) return { type: 'catch-all', name: m[1] }
  m = /^\[(\w+)\]$/.exec(part)
  if (m) return { type: 'dynamic', name: m[1] }
  return { type: 'static', value: part }
}

/** The matched pattern and params for `pathname`, or null. */
function resolve(routes: RouteDefinition[], pathname: string) {
  const match = createRouter(routes).match(pathname)
  return match && { pattern: match.route.pattern, params: match.params }
}

describe('createRouter', () => {
  it('matches the root route for /', () => {
    expect(resolve([route('/'), route('/[id]')], '/')).toEqual({ pattern: '/', params: {} })
  })

  it('returns null when no route matches', () => {
    const routes = [route('/'), route('/blog/[id]'), route('/about')]
    expect(resolve(routes, '/contact')).toBeNull()
    expect(resolve(routes, '/blog')).toBeNull()
    expect(resolve(routes, '/blog/1/comments')).toBeNull()
    expect(resolve([], '/')).toBeNull()
  })

  it('answers a static route from its map even when a dynamic route would also match', () => {
    const dynamic = route('/blog/[id]')
    const staticRoute = route('/blog/new')
    // The dynamic route first in the list: order of definition must not matter.
    const router = createRouter([dynamic, staticRoute])
    expect(router.match('/blog/new')).toEqual({ route: staticRoute, params: {} })
    expect(router.match('/blog/new')?.route).toBe(staticRoute)
    expect(router.match('/blog/1')).toEqual({ route: dynamic, params: { id: '1' } })
  })

  it('extracts a dynamic param as a string', () => {
    expect(resolve([route('/blog/[id]')], '/blog/hello')).toEqual({ pattern: '/blog/[id]', params: { id: 'hello' } })
    expect(resolve([route('/[org]/[repo]')], '/vitejs/vite')).toEqual({ pattern: '/[org]/[repo]', params: { org: 'vitejs', repo: 'vite' } })
  })

  it('extracts a catch-all param as an array of one or more segments, and never matches zero', () => {
    const routes = [route('/docs/[...slug]')]
    expect(resolve(routes, '/docs/a')).toEqual({ pattern: '/docs/[...slug]', params: { slug: ['a'] } })
    expect(resolve(routes, '/docs/a/b/c')).toEqual({ pattern: '/docs/[...slug]', params: { slug: ['a', 'b', 'c'] } })
    expect(resolve(routes, '/docs')).toBeNull()
  })

  it('leaves an absent optional catch-all param out, and gives a present one as an array', () => {
    const routes = [route('/shop/[[...filters]]')]
    const bare = resolve(routes, '/shop')
    expect(bare).toEqual({ pattern: '/shop/[[...filters]]', params: {} })
    expect(bare && 'filters' in bare.params).toBe(false)
    expect(resolve(routes, '/shop/red')).toEqual({ pattern: '/shop/[[...filters]]', params: { filters: ['red'] } })
    expect(resolve(routes, '/shop/red/xl')).toEqual({ pattern: '/shop/[[...filters]]', params: { filters: ['red', 'xl'] } })
  })

  it('matches an optional catch-all at the root for / and for any path', () => {
    const routes = [route('/[[...slug]]')]
    expect(resolve(routes, '/')).toEqual({ pattern: '/[[...slug]]', params: {} })
    expect(resolve(routes, '/a/b')).toEqual({ pattern: '/[[...slug]]', params: { slug: ['a', 'b'] } })
  })

  it('prefers static over dynamic over catch-all over optional catch-all, whatever the order of definition', () => {
    const routes = [route('/docs/[[...rest]]'), route('/docs/[...slug]'), route('/docs/[id]'), route('/docs/intro'), route('/docs/[id]/edit')]
    for (const order of [routes, [...routes].reverse()]) {
      expect(resolve(order, '/docs/intro')?.pattern).toBe('/docs/intro')
      expect(resolve(order, '/docs/setup')).toEqual({ pattern: '/docs/[id]', params: { id: 'setup' } })
      expect(resolve(order, '/docs/setup/edit')).toEqual({ pattern: '/docs/[id]/edit', params: { id: 'setup' } })
      expect(resolve(order, '/docs/a/b')).toEqual({ pattern: '/docs/[...slug]', params: { slug: ['a', 'b'] } })
      expect(resolve(order, '/docs')).toEqual({ pattern: '/docs/[[...rest]]', params: {} })
    }
  })

  it('prefers a static segment early in the path over a dynamic one, and falls back when the rest does not match', () => {
    const routes = [route('/[category]/[item]'), route('/blog/[id]'), route('/[...all]')]
    for (const order of [routes, [...routes].reverse()]) {
      expect(resolve(order, '/blog/1')).toEqual({ pattern: '/blog/[id]', params: { id: '1' } })
      expect(resolve(order, '/shoes/42')).toEqual({ pattern: '/[category]/[item]', params: { category: 'shoes', item: '42' } })
      expect(resolve(order, '/blog/1/2')).toEqual({ pattern: '/[...all]', params: { all: ['blog', '1', '2'] } })
      expect(resolve(order, '/blog')).toEqual({ pattern: '/[...all]', params: { all: ['blog'] } })
    }
  })

  it('matches decoded segments literally', () => {
    expect(resolve([route('/blog/[id]')], '/blog/café')).toEqual({ pattern: '/blog/[id]', params: { id: 'café' } })
  })
})

describe('fillPattern', () => {
  it('fills dynamic, catch-all and optional catch-all params', () => {
    expect(fillPattern(route('/blog/[id]'), { id: '1' })).toBe('/blog/1')
    expect(fillPattern(route('/docs/[...slug]'), { slug: ['a', 'b'] })).toBe('/docs/a/b')
    expect(fillPattern(route('/shop/[[...filters]]'), { filters: ['red', 'xl'] })).toBe('/shop/red/xl')
    expect(fillPattern(route('/shop/[[...filters]]'), {})).toBe('/shop')
    expect(fillPattern(route('/shop/[[...filters]]'), { filters: [] })).toBe('/shop')
    expect(fillPattern(route('/[[...slug]]'), {})).toBe('/')
    expect(fillPattern(route('/'), {})).toBe('/')
  })

  it('percent-encodes each param value, slashes included', () => {
    expect(fillPattern(route('/blog/[id]'), { id: 'a/b c?é' })).toBe('/blog/a%2Fb%20c%3F%C3%A9')
    expect(fillPattern(route('/docs/[...slug]'), { slug: ['x/y', '#'] })).toBe('/docs/x%2Fy/%23')
  })

  it('throws a TypeError naming the param and the route when a required param is missing or empty', () => {
    expect(() => fillPattern(route('/blog/[id]'), {})).toThrow(TypeError)
    expect(() => fillPattern(route('/blog/[id]'), {})).toThrow(/param `id` of \/blog\/\[id\]/)
    expect(() => fillPattern(route('/blog/[id]'), { id: '' })).toThrow(/param `id`/)
    expect(() => fillPattern(route('/blog/[id]'), { id: ['1'] })).toThrow(/param `id`/)
    expect(() => fillPattern(route('/docs/[...slug]'), {})).toThrow(/param `slug` of \/docs\/\[\.\.\.slug\]/)
    expect(() => fillPattern(route('/docs/[...slug]'), { slug: [] })).toThrow(/param `slug`/)
    expect(() => fillPattern(route('/docs/[...slug]'), { slug: 'a' })).toThrow(/param `slug`/)
    expect(() => fillPattern(route('/docs/[...slug]'), { slug: ['a', ''] })).toThrow(/param `slug`/)
    expect(() => fillPattern(route('/shop/[[...filters]]'), { filters: 'red' })).toThrow(/param `filters`/)
  })
})
