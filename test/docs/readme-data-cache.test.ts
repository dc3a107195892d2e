/**
 * The README's Data cache section on top of the quick start and the webhook: `server/posts.ts`
 * (cache() and fetch()) and the page that reads it, built and served; the page carries the
 * data's tag, and `revalidateTag('posts')` through the webhook refreshes it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tick } from '../helpers/clock.js'
import { ReadmeApp, typeCheckedFiles } from './readme.js'

describe('README: Data cache (server/posts.ts and a page reading it)', () => {
  const app = new ReadmeApp('data-cache')

  beforeAll(async () => {
    await app.follow()
    await app.build()
    await app.start('server.js', { REVALIDATE_SECRET: 's3cret' })
  }, 180_000)
  afterAll(() => app.close())

  const cacheState = async (path: string) => {
    const res = await fetch(app.server!.url + path)
    return { state: res.headers.get('x-isr-cache'), body: await res.text() }
  }

  it('type-checks every TypeScript file with the template tsconfig (tsc -b)', async () => {
    const checked = await typeCheckedFiles(app.dir)
    for (const [path, { line }] of app.files) if (/\.tsx?$/.test(path)) expect(checked, `${path} (README.md:${line}) is outside tsconfig includes`).toContain(path)
  })

  it('gives the page the tags of the data it reads, in the manifest and the route table', () => {
    const manifest = JSON.parse(readFileSync(join(app.dir, 'dist/prerender-manifest.json'), 'utf8')) as { routes: Record<string, { tags: string[]; initialRevalidateSeconds: number | false }> }
    const pages = Object.entries(manifest.routes).filter(([, r]) => r.tags.includes('posts')).map(([path]) => path)
    expect(pages.length, 'a README page reads getPosts()').toBeGreaterThan(0)
    for (const path of pages) {
      // the lowest of the page's segment config (none: false) and its data's revalidate (3600)
      expect(manifest.routes[path].initialRevalidateSeconds).toBe(3600)
      expect(app.buildOutput).toMatch(new RegExp(`^${path.replace(/[/[\]]/g, '\\$&')}\\s.*\\bposts\\b`, 'm'))
    }
  })

  it('serves the page, and revalidateTag("posts") through the webhook renders it anew', async () => {
    const first = await cacheState('/blog')
    expect(first.state).toBe('HIT')
    expect(first.body).toContain('href="/blog/20"')
    const res = await fetch(`${app.server!.url}/api/revalidate`, {
      method: 'POST',
      headers: { 'x-revalidate-secret': 's3cret', 'content-type': 'application/json' },
      body: JSON.stringify({ tag: 'posts' }),
    })
    expect(await res.json()).toEqual({ revalidated: true })
    await tick()
    expect((await cacheState('/blog')).state).toBe('MISS')
    expect((await cacheState('/blog')).state).toBe('HIT')
  })
})
