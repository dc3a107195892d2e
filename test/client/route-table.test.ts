import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createModuleGuess } from '../../client/route-table.js'
import { clientEntryCode, clientRoutes } from '../../plugin/entries.js'
import { scanApp, type AppTree } from '../../plugin/routes.js'
import { createRouter } from '../../runtime/routes/router.js'
import { REPO } from '../helpers/build.js'

const PAGE = 'export default function Page() { return null }\n'
const LAYOUT = 'export default function Layout({ children }: { children: unknown }) { return children }\n'
const HANDLER = 'export async function GET() { return new Response("ok") }\n'

/** A real `app/` folder, scanned by the plugin as a build would. */
const APP: Record<string, string> = {
  'layout.tsx': LAYOUT,
  'page.tsx': PAGE,
  '(marketing)/layout.tsx': LAYOUT,
  '(marketing)/about/page.tsx': PAGE,
  'blog/layout.tsx': LAYOUT,
  'blog/[id]/page.tsx': PAGE,
  'blog/new/page.tsx': PAGE,
  'docs/[...slug]/page.tsx': PAGE,
  'docs/intro/page.tsx': PAGE,
  'shop/[[...path]]/page.tsx': PAGE,
  'api/[name]/route.ts': HANDLER,
  'api/[[...rest]]/page.tsx': PAGE,
  'files/[dir]/page.tsx': PAGE,
  'files/[...path]/page.tsx': PAGE,
  '日本/page.tsx': PAGE,
}

describe('the client route table', () => {
  const dir = join(REPO, 'test/.tmp/client-route-table')
  let tree: AppTree
  let guess: (pathname: string) => string[]
  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true })
    for (const [path, code] of Object.entries(APP)) {
      mkdirSync(dirname(join(dir, 'app', path)), { recursive: true })
      writeFileSync(join(dir, 'app', path), code)
    }
    tree = scanApp(dir, 'app')
    guess = createModuleGuess(clientRoutes(tree))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('names a page with its layouts from the root down, a route group adding its layout but no URL segment', () => {
    expect(guess('/')).toEqual(['app/page.tsx', 'app/layout.tsx'])
    expect(guess('/about')).toEqual(['app/(marketing)/about/page.tsx', 'app/layout.tsx', 'app/(marketing)/layout.tsx'])
    expect(guess('/blog/1')).toEqual(['app/blog/[id]/page.tsx', 'app/layout.tsx', 'app/blog/layout.tsx'])
  })

  it('prefers a static segment to a dynamic one and a dynamic one to a catch-all, as the server does', () => {
    expect(guess('/blog/new')[0]).toBe('app/blog/new/page.tsx')
    expect(guess('/blog/old')[0]).toBe('app/blog/[id]/page.tsx')
    expect(guess('/docs/intro')[0]).toBe('app/docs/intro/page.tsx')
    expect(guess('/docs/intro/more')[0]).toBe('app/docs/[...slug]/page.tsx')
    expect(guess('/files/a')[0]).toBe('app/files/[dir]/page.tsx')
    expect(guess('/files/a/b')[0]).toBe('app/files/[...path]/page.tsx')
  })

  it('matches an optional catch-all with and without segments, and a catch-all only with one', () => {
    expect(guess('/shop')[0]).toBe('app/shop/[[...path]]/page.tsx')
    expect(guess('/shop/a/b/c')[0]).toBe('app/shop/[[...path]]/page.tsx')
    expect(guess('/docs')).toEqual([])
  })

  it('names no page for a path a route handler answers, nor for a path no route matches', () => {
    expect(guess('/api/users')).toEqual([])
    expect(guess('/api')[0]).toBe('app/api/[[...rest]]/page.tsx')
    expect(guess('/api/users/1')[0]).toBe('app/api/[[...rest]]/page.tsx')
    expect(guess('/blog/1/comments')).toEqual([])
    expect(guess('/nowhere')).toEqual([])
  })

  it('matches the decoded path as the server does, and names nothing for malformed percent-encoding', () => {
    expect(guess(new URL('http://x/日本').pathname)[0]).toBe('app/日本/page.tsx')
    expect(guess('/blog/a%20b')[0]).toBe('app/blog/[id]/page.tsx')
    expect(guess('/blog/%E0%A4%A')).toEqual([])
  })

  it('guesses the route the server router resolves, for every path tried', () => {
    const server = createRouter(tree.routes)
    const paths = ['/', '/about', '/blog', '/blog/1', '/blog/new', '/docs', '/docs/a', '/docs/intro', '/docs/intro/x', '/shop', '/shop/x', '/api', '/api/x', '/api/x/y', '/files/a', '/files/a/b', '/日本', '/x/y/z']
    for (const path of paths) {
      const route = server.match(path)?.route
      expect(guess(path), path).toEqual(route?.kind === 'page' ? [route.file, ...route.layouts] : [])
    }
  })

  it('ships each route as its segments and modules only, in the client entry', () => {
    const code = clientEntryCode(tree, 'isr-data')
    expect(code).toContain(`const routes = ${JSON.stringify(clientRoutes(tree))}`)
    expect(code).toContain('hydratePage(modules, "isr-data", routes)')
    expect(clientRoutes(tree).find((route) => route.files?.[0] === 'app/blog/[id]/page.tsx')).toEqual({
      segments: [
        { type: 'static', value: 'blog' },
        { type: 'dynamic', name: 'id' },
      ],
      files: ['app/blog/[id]/page.tsx', 'app/layout.tsx', 'app/blog/layout.tsx'],
    })
    // revalidate, fallback and the rest stay on the server
    expect(code).not.toContain('revalidate')
  })
})
