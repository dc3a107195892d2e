/**
 * The example app, run the way `npm start` runs it: a real `vite build`, then
 * `node server.js` in its own process with a real SQLite file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, viteBuild } from '../helpers/build.js'
import { tick } from '../helpers/clock.js'
import { startExampleServer, type ExampleServer } from '../helpers/example-app.js'

const APP = join(REPO, 'example-app')
const SECRET = 'example-secret-0123456789'
const DRAFT_SECRET = 'example-draft-secret-0123456789abcdef'

let server: ExampleServer
let url: string
let dataDir: string
let buildOutput = ''

beforeAll(async () => {
  const build = await viteBuild(APP)
  if (build.code !== 0) throw new Error(`example-app build failed:\n${build.output}`)
  buildOutput = build.output
  dataDir = mkdtempSync(join(tmpdir(), 'vite-isr-example-db-'))
  server = await startExampleServer({
    cwd: APP,
    env: { ...process.env, PORT: '0', REVALIDATE_SECRET: SECRET, ISR_DRAFT_SECRET: DRAFT_SECRET, DATABASE_PATH: join(dataDir, 'blog.db'), NODE_ENV: 'production' },
  })
  url = server.url
})

afterAll(async () => {
  await server?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

const get = (path: string, init?: RequestInit) => fetch(url + path, { redirect: 'manual', ...init })

/** The CMS webhook with a JSON body. */
const webhook = (body: unknown, secret: string | null = SECRET) =>
  get('/api/revalidate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret === null ? {} : { 'x-revalidate-secret': secret }) },
    body: JSON.stringify(body),
  })

/** GET `path` until it is served fresh from the cache (HIT; a STALE one may still be regenerating); its HTML. */
async function cached(path: string): Promise<string> {
  let html = ''
  await expect
    .poll(
      async () => {
        const res = await get(path)
        html = await res.text()
        return res.headers.get('x-isr-cache')
      },
      { timeout: 5000, interval: 20 },
    )
    .toBe('HIT')
  return html
}

/** Write to the server's SQLite file directly, as a CMS would, without telling vite-isr. */
function editInDatabase(slug: string, title: string): void {
  const db = new Database(join(dataDir, 'blog.db'), { fileMustExist: true, timeout: 5000 })
  try {
    expect(db.prepare('UPDATE posts SET title = ? WHERE slug = ?').run(title, slug).changes).toBe(1)
  } finally {
    db.close()
  }
}

const h1 = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1]

describe('example-app (node server.js)', () => {
  it('serves the ISR index and prerendered posts from the cache', async () => {
    const index = await get('/')
    expect(index.status).toBe(200)
    expect(index.headers.get('x-isr-cache')).toBe('HIT')
    expect(index.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(await index.text()).toMatch(/href="\/blog\/[a-z-]+"/)
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it("shows a browser the print view's loading shell on a first visit and a crawler the full page; then both the page", async () => {
    const browser = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' }
    const crawler = { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }
    const shell = await get('/print/hello-isr', { headers: browser })
    expect(shell.status).toBe(200)
    expect(shell.headers.get('cache-control')).toContain('no-store')
    expect(await shell.text()).toContain('Preparing the print version')
    const crawled = await get('/print/deploying', { headers: crawler })
    expect(crawled.headers.get('x-isr-cache')).toBe('MISS')
    expect(await crawled.text()).not.toContain('Preparing the print version')
    expect(await cached('/print/hello-isr')).not.toContain('Preparing the print version')
    expect(buildOutput).toMatch(/^\/print\/\[slug\]\s+ISR 60s \(fallback: shell\)/m)
  })

  it('generates a post that was not prerendered on its first request', async () => {
    const first = await get('/blog/deploying')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    expect((await get('/blog/deploying')).headers.get('x-isr-cache')).toBe('HIT')
    expect((await get('/blog/no-such-post')).status).toBe(404)
  })

  it('renders /now on every request', async () => {
    const res = await get('/now', { headers: { 'user-agent': 'example-test-agent' } })
    expect(res.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(await res.text()).toContain('example-test-agent')
  })

  it('guards the revalidation endpoint with the secret, and regenerates the page with it', async () => {
    expect((await get('/api/revalidate?path=/blog/hello-isr', { method: 'POST' })).status).toBe(401)
    expect((await get('/api/revalidate?path=/blog/hello-isr', { method: 'POST', headers: { 'x-revalidate-secret': SECRET.slice(0, -1) } })).status).toBe(401)
    const ok = await get('/api/revalidate?path=/blog/hello-isr', { method: 'POST', headers: { 'x-revalidate-secret': SECRET } })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ revalidated: true, path: '/blog/hello-isr' })
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('MISS')
  })

  it('shows an admin edit made in SQLite on the next load', async () => {
    const edit = await get('/api/posts/static-params', {
      method: 'PUT',
      headers: { 'x-revalidate-secret': SECRET, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Edited through the admin API' }),
    })
    expect(edit.status).toBe(200)
    const page = await get('/blog/static-params')
    expect(await page.text()).toContain('Edited through the admin API')
    expect(await (await get('/')).text()).toContain('Edited through the admin API')
  })

  it('tags the pages that read posts through cache() with `posts`', () => {
    const manifest = JSON.parse(readFileSync(join(APP, 'dist/prerender-manifest.json'), 'utf8')) as { routes: Record<string, { tags?: string[] }> }
    expect(manifest.routes['/'].tags).toEqual(['posts'])
    expect(manifest.routes['/blog'].tags).toEqual(['posts'])
    expect(manifest.routes['/blog/hello-isr'].tags).toEqual(['posts'])
    // the build's route table shows them
    expect(buildOutput).toMatch(/^\/\s+ISR 60s\s.*\sposts\s*$/m)
    expect(buildOutput).toMatch(/^\/blog\/\[slug\]\s+ISR 60s\s.*\sposts\s*$/m)
  })

  it('revalidates a path given in the webhook JSON body', async () => {
    await cached('/blog/how-the-cache-works')
    await tick()
    const res = await webhook({ path: '/blog/how-the-cache-works' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ revalidated: true, path: '/blog/how-the-cache-works' })
    expect((await get('/blog/how-the-cache-works')).headers.get('x-isr-cache')).toBe('MISS')
    // only that page
    expect((await get('/')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('expires every page that used the `posts` data with one webhook { tag: "posts" }', async () => {
    const before = await cached('/')
    await cached('/blog/hello-isr')
    await cached('/blog')
    await tick()
    const res = await webhook({ tag: 'posts' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ revalidated: true, tag: 'posts' })
    await tick()
    for (const path of ['/', '/blog/hello-isr', '/blog']) {
      expect((await get(path)).headers.get('x-isr-cache'), path).toBe('MISS')
      expect((await get(path)).headers.get('x-isr-cache'), path).toBe('HIT')
    }
    // rendered anew: a new "generated at"
    const generatedAt = (html: string) => /id="generated-at">([^<]*)</.exec(html)?.[1]
    expect(generatedAt(await (await get('/')).text())).not.toBe(generatedAt(before))
  })

  it('with { tag: "posts", profile: "max" } serves the old pages at once, then the new ones', async () => {
    // a MISS that runs a loader, so the server has opened (and created) the database
    expect((await get('/blog/no-such-post-yet')).status).toBe(404)
    expect(h1(await cached('/blog/revalidate-windows'))).toBe('Choosing a revalidate window')
    expect(await cached('/blog')).toContain('Choosing a revalidate window')

    // a CMS changes the post in the database, then calls the webhook
    editInDatabase('revalidate-windows', 'Windows, revalidated in the background')
    await tick()
    const res = await webhook({ tag: 'posts', profile: 'max' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ revalidated: true, tag: 'posts' })

    // the next request gets the old page at once, and starts its regeneration
    const stale = await get('/blog/revalidate-windows')
    expect(stale.headers.get('x-isr-cache')).toBe('STALE')
    expect(h1(await stale.text())).toBe('Choosing a revalidate window')
    const staleList = await get('/blog')
    expect(staleList.headers.get('x-isr-cache')).toBe('STALE')
    expect(await staleList.text()).not.toContain('Windows, revalidated in the background')

    // a later one gets the regenerated page, built from fresh data (not the stale cached post)
    for (const path of ['/blog/revalidate-windows', '/blog']) {
      await expect
        .poll(
          async () => {
            const page = await get(path)
            return `${page.headers.get('x-isr-cache')} ${(await page.text()).includes('Windows, revalidated in the background')}`
          },
          { timeout: 5000, interval: 50 },
        )
        .toBe('HIT true')
    }
  })

  it('shows an admin edit on the post page, the index and /blog on the next load (revalidateTag)', async () => {
    expect(await cached('/blog/on-demand-revalidation')).not.toContain('Edited twice through the admin API')
    expect(await cached('/')).not.toContain('Edited twice through the admin API')
    await cached('/blog')
    await tick()
    const edit = await get('/api/posts/on-demand-revalidation', {
      method: 'PUT',
      headers: { 'x-revalidate-secret': SECRET, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Edited twice through the admin API' }),
    })
    expect(edit.status).toBe(200)
    expect(await edit.json()).toMatchObject({ updated: true, revalidated: { tag: 'posts' } })
    for (const path of ['/blog/on-demand-revalidation', '/', '/blog']) {
      const page = await get(path)
      expect(page.headers.get('x-isr-cache'), path).toBe('MISS')
      expect(await page.text(), path).toContain('Edited twice through the admin API')
    }
  })

  it('serves the RSS feed, the sitemap and robots.txt from the cache, and refreshes feed and sitemap with revalidateTag(\'posts\')', async () => {
    expect(buildOutput).toMatch(/^\/feed\.xml\s+ISR 3600s handler\s.*\sposts\s*$/m)
    expect(buildOutput).toMatch(/^\/sitemap\.xml\s+static handler\s.*\sposts\s*$/m)
    const robots = await get('/robots.txt')
    expect(robots.headers.get('content-type')).toBe('text/plain')
    expect(robots.headers.get('x-isr-cache')).toBe('HIT')
    expect(await robots.text()).toBe('User-Agent: *\nAllow: /\nDisallow: /api/\n\nSitemap: http://localhost:3000/sitemap.xml\n')
    const feed = await get('/feed.xml')
    expect(feed.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8')
    expect(feed.headers.get('cache-control')).toBe('s-maxage=3600, stale-while-revalidate=31532400')
    expect(await cached('/feed.xml')).toContain('<link>http://localhost:3000/blog/hello-isr</link>')
    expect(await cached('/sitemap.xml')).toContain('<loc>http://localhost:3000/blog/hello-isr</loc>')
    await tick()
    const edit = await get('/api/posts/hello-isr', {
      method: 'PUT',
      headers: { 'x-revalidate-secret': SECRET, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Feeds & sitemaps <cached>' }),
    })
    expect(edit.status).toBe(200)
    const fresh = await get('/feed.xml')
    expect(fresh.headers.get('x-isr-cache')).toBe('MISS')
    expect(await fresh.text()).toContain('<title>Feeds &#38; sitemaps &#60;cached&#62;</title>')
    const sitemap = await get('/sitemap.xml')
    expect(sitemap.headers.get('x-isr-cache')).toBe('MISS')
    expect(sitemap.headers.get('content-type')).toBe('application/xml')
  })

  it('answers 400 with a JSON error for a webhook body it cannot use, and revalidates nothing', async () => {
    await cached('/')
    await tick()
    for (const body of [{}, { path: 'no-slash' }, { path: '/blog/hello-isr', tag: 'posts' }, { tag: 42 }, { tag: '' }, { tag: 'posts', profile: 'min' }, 'posts']) {
      const res = await webhook(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      const { error } = (await res.json()) as { error: unknown }
      expect(typeof error, JSON.stringify(body)).toBe('string')
    }
    expect(((await (await webhook({ path: 'no-slash' })).json()) as { error: string }).error).toMatch(/must start with "\/"/)
    const broken = await get('/api/revalidate', { method: 'POST', headers: { 'x-revalidate-secret': SECRET, 'content-type': 'application/json' }, body: '{"tag":' })
    expect(broken.status).toBe(400)
    expect((await get('/')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('answers 401 to the webhook without the right secret, and revalidates nothing', async () => {
    await cached('/')
    await tick()
    for (const secret of [null, SECRET.slice(0, -1), '']) {
      const res = await webhook({ tag: 'posts' }, secret)
      expect(res.status).toBe(401)
      expect(await res.json()).toHaveProperty('error')
    }
    expect((await get('/')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('shows an unpublished post only in draft mode, turned on by the secret-guarded /api/draft', async () => {
    const slug = 'coming-soon-draft-mode'
    expect((await get(`/blog/${slug}`)).status).toBe(404)
    expect((await get(`/api/draft?slug=${slug}`)).status).toBe(401)
    // only a post slug: no redirect off the site, whatever the link says
    for (const evil of ['https://evil.example', '//evil.example', '/%2F%2Fevil.example', '../admin']) {
      const res = await get(`/api/draft?secret=${SECRET}&slug=${encodeURIComponent(evil)}`)
      expect(res.status, evil).toBe(400)
      expect(res.headers.getSetCookie()).toEqual([])
    }
    const enable = await get(`/api/draft?secret=${SECRET}&slug=${slug}`)
    expect(enable.status).toBe(307)
    expect(enable.headers.get('location')).toBe(`/blog/${slug}`)
    const [setCookie] = enable.headers.getSetCookie()
    expect(setCookie).toMatch(/^__prerender_bypass=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/)
    const cookie = setCookie.split(';')[0]
    const draft = await get(`/blog/${slug}`, { headers: { cookie } })
    expect(draft.status).toBe(200)
    expect(draft.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(draft.headers.get('cache-control')).toBe('private, no-cache, no-store, max-age=0, must-revalidate')
    expect(h1(await draft.text())).toBe('Coming soon: previews with draft mode')
    // published pages render per request for the editor, and stay cached for everyone else
    expect((await get('/blog/hello-isr', { headers: { cookie } })).headers.get('x-isr-cache')).toBe('BYPASS')
    expect((await get(`/blog/${slug}`)).status).toBe(404)
    const disable = await get('/api/draft/disable', { headers: { cookie } })
    expect(disable.headers.getSetCookie()[0]).toMatch(/^__prerender_bypass=; .*Max-Age=0/)
  })

  it('never prints the secret', () => {
    expect(server.output).not.toContain(SECRET)
    expect(server.output).not.toContain(DRAFT_SECRET)
  })

  // Last: it stops the server.
  it('stops on SIGTERM with exit code 0 once isr.close() has drained, leaving no temp file in the cache', async () => {
    expect(server.process.exitCode).toBeNull()
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    const tmp = readdirSync(join(APP, 'dist/isr-cache'), { recursive: true }).map(String).filter((name) => name.endsWith('.tmp'))
    expect(tmp).toEqual([])
  })
})
