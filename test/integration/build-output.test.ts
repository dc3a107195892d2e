import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readManifest } from '../helpers/build.js'
import { BASIC_DIST } from '../helpers/fixture-db.js'

const manifest = () => readManifest(BASIC_DIST)

describe('build output', () => {
  it('writes a prerender manifest with routes, dynamic routes and the build id', () => {
    const m = manifest()
    expect(m.version).toBe(1)
    expect(m.buildId).toMatch(/^[\w-]{16}$/)
    expect(Object.keys(m.routes)).toEqual(['/', '/blog/1', '/blog/2', '/fixed/a', '/redirect-me', '/static'])
    expect(m.routes['/blog/1']).toMatchObject({ initialRevalidateSeconds: 60, srcRoute: '/blog/[id]', initialStatus: 200 })
    expect(m.routes['/static']).toMatchObject({ initialRevalidateSeconds: false, srcRoute: '/static' })
    expect(m.routes['/redirect-me'].initialStatus).toBe(308)
    expect(m.dynamicRoutes['/blog/[id]']).toEqual({ routeRegex: '^/blog/([^/]+?)(?:/)?$', fallback: null, revalidate: 60 })
    expect(new RegExp(m.dynamicRoutes['/docs/[...slug]'].routeRegex).exec('/docs/a/b')?.[1]).toBe('a/b')
    expect(new RegExp(m.dynamicRoutes['/shop/[[...slug]]'].routeRegex).test('/shop')).toBe(true)
    expect(m.dynamicRoutes['/fixed/[slug]'].fallback).toBe(false)
    expect(m.dynamicRoutes['/empty-params/[id]']).toEqual({ routeRegex: '^/empty-params/([^/]+?)(?:/)?$', fallback: null, revalidate: 30 })
    expect(m.dynamicPages).toEqual(['/go-query', '/now'])
    expect(m.notFoundRoutes).toEqual([])
  })

  it('keeps loaders, generateStaticParams, node: modules and the database client out of the client bundle', () => {
    const dir = join(BASIC_DIST, 'client/assets')
    const js = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')
    expect(js).toContain('likes') // the page component is there
    for (const serverOnly of ['db-client-secret-marker', 'database unavailable', 'readFileSync', 'node:fs', 'generateStaticParams', 'generateMetadata', 'loader', 'VITE_ISR_NOT_FOUND']) {
      expect(js, serverOnly).not.toContain(serverOnly)
    }
  })

  it('builds the client with the production React runtime', () => {
    const dir = join(BASIC_DIST, 'client/assets')
    expect(readdirSync(dir).some((f) => f.includes('jsx-dev-runtime'))).toBe(false)
  })
})
