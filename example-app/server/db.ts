/**
 * The blog's database: SQLite through better-sqlite3, in `data/blog.db` (or `DATABASE_PATH`).
 *
 * Server-only. It is imported by `loader`, `generateStaticParams` and route handlers, never by
 * a component's render code, so the vite-isr plugin drops it (and better-sqlite3) from the
 * browser bundle.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

export interface Post {
  id: number
  slug: string
  title: string
  body: string
  /** ISO 8601 */
  updatedAt: string
}

export type PostSummary = Pick<Post, 'slug' | 'title' | 'updatedAt'> & { excerpt: string }

const SEED: { slug: string; title: string; body: string; updatedAt: string }[] = [
  {
    slug: 'hello-isr',
    title: 'Hello, Incremental Static Regeneration',
    body: 'This blog is served by vite-isr. Every page you read was rendered once, stored in a cache and handed out from there, much like a static site.\n\nUnlike a static site, nothing here needs a rebuild to change: pages regenerate on their own after their revalidate window, or right away when the content changes.',
    updatedAt: '2025-01-06T09:00:00.000Z',
  },
  {
    slug: 'how-the-cache-works',
    title: 'How the page cache works',
    body: 'A request for a cached page is answered from memory or disk without running React. The response carries X-ISR-Cache: HIT.\n\nWhen the page is older than its revalidate window it is still served at once (STALE), and a single regeneration starts in the background. The next visitor gets the new page.',
    updatedAt: '2025-01-13T09:00:00.000Z',
  },
  {
    slug: 'revalidate-windows',
    title: 'Choosing a revalidate window',
    body: 'export const revalidate = 60 says: this page may be up to a minute old. Pick the longest window your readers can live with; every regeneration costs a database query and a render.\n\nrevalidate = false caches a page until you revalidate it on demand, and revalidate = 0 renders it on every request.',
    updatedAt: '2025-01-20T09:00:00.000Z',
  },
  {
    slug: 'static-params',
    title: 'Prerendering with generateStaticParams',
    body: 'generateStaticParams runs during vite build and lists the pages to render ahead of time. This blog prerenders its first five posts.\n\nThe others are rendered the first time someone asks for them (X-ISR-Cache: MISS) and cached from then on.',
    updatedAt: '2025-01-27T09:00:00.000Z',
  },
  {
    slug: 'on-demand-revalidation',
    title: 'On-demand revalidation',
    body: 'Waiting a minute for an edit to show up is fine for a blog, but sometimes you want it now. Call revalidatePath("/blog/my-post") from a route handler and the next request renders the page anew.\n\nThis app has two such handlers: POST /api/revalidate and PUT /api/posts/:slug, both guarded by a secret.',
    updatedAt: '2025-02-03T09:00:00.000Z',
  },
  {
    slug: 'loaders',
    title: 'Loaders: data for a page',
    body: 'A page exports an async loader. Its result becomes the data prop of the component and is serialised into the HTML, so the browser hydrates with the same data without fetching it again.\n\nLoaders run on the server only; whatever only they import never reaches the browser.',
    updatedAt: '2025-02-10T09:00:00.000Z',
  },
  {
    slug: 'not-found',
    title: 'When a post does not exist',
    body: 'A loader that calls notFound() gets the app/not-found.tsx page with status 404. That 404 is cached briefly and only in memory, so a crawler trying random URLs cannot fill the disk.\n\nCreate the post and revalidate its path, and the 404 turns into a 200.',
    updatedAt: '2025-02-17T09:00:00.000Z',
  },
  {
    slug: 'dynamic-pages',
    title: 'Pages that are never cached',
    body: 'Some pages must be fresh on every request: a dashboard, a page that shows who is asking. Export revalidate = 0 and the page renders per request with X-ISR-Cache: BYPASS.\n\nOnly such pages receive the request in their loader; a cached page is shared by everyone, so it must not depend on one visitor.',
    updatedAt: '2025-02-24T09:00:00.000Z',
  },
  {
    slug: 'the-fast-path',
    title: 'The fast path in front of Express',
    body: 'http.createServer(isr.wrap(app)) answers cached pages before Express runs at all. Everything else (route handlers, misses, your own routes) goes to the Express app unchanged.\n\nThe headers are the same either way, so you can start with app.use(isr) and switch later.',
    updatedAt: '2025-03-03T09:00:00.000Z',
  },
  {
    slug: 'sqlite-in-production',
    title: 'SQLite is a fine database for a blog',
    body: 'This example keeps its posts in SQLite in WAL mode: readers never block the writer, and the whole database is one file you can copy.\n\nBecause pages are cached, the database is queried only when a page regenerates, not on every visit.',
    updatedAt: '2025-03-10T09:00:00.000Z',
  },
  {
    slug: 'hydration',
    title: 'Static HTML that still reacts',
    body: 'A cached page is plain HTML, but it is a React app once loaded: the like button under each post is a useState hook, hydrated from the same component that rendered the HTML.\n\nClick it; the count lives in your browser only.',
    updatedAt: '2025-03-17T09:00:00.000Z',
  },
  {
    slug: 'deploying',
    title: 'Deploying the blog',
    body: 'Run vite build, ship dist/ with server.js, and start node server.js. The cache lives in dist/isr-cache and survives restarts; a new build never serves the previous build\'s pages.\n\nRunning several instances? Point them at a shared Redis cache with vite-isr/cache-handlers/redis.',
    updatedAt: '2025-03-24T09:00:00.000Z',
  },
]

const g = globalThis as { __blogDb?: Database.Database }

/** One connection per process (kept on globalThis so dev-mode reloads do not open more). */
function db(): Database.Database {
  if (g.__blogDb) return g.__blogDb
  const file = resolve(process.env.DATABASE_PATH || 'data/blog.db')
  mkdirSync(dirname(file), { recursive: true })
  const conn = new Database(file, { timeout: 5000 })
  conn.pragma('journal_mode = WAL')
  conn.exec(`CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    slug TEXT UNIQUE NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`)
  const count = conn.prepare<[], { n: number }>('SELECT count(*) AS n FROM posts')
  const insert = conn.prepare<[string, string, string, string]>('INSERT OR IGNORE INTO posts (slug, title, body, updated_at) VALUES (?, ?, ?, ?)')
  // IMMEDIATE: the build and a running server may both open a fresh file at once.
  conn
    .transaction(() => {
      if (count.get()!.n > 0) return
      for (const post of SEED) insert.run(post.slug, post.title, post.body, post.updatedAt)
    })
    .immediate()
  g.__blogDb = conn
  return conn
}

type Row = { id: number; slug: string; title: string; body: string; updated_at: string }

const toPost = (row: Row): Post => ({ id: row.id, slug: row.slug, title: row.title, body: row.body, updatedAt: row.updated_at })

/** The first paragraph, at most 160 characters. */
export function excerpt(body: string): string {
  const first = body.split('\n')[0]
  return first.length > 160 ? first.slice(0, 157).trimEnd() + '…' : first
}

/** Most recently updated first. */
export function listPosts(limit = -1): PostSummary[] {
  const rows = db().prepare<[number], Row>('SELECT * FROM posts ORDER BY updated_at DESC, id DESC LIMIT ?').all(limit)
  return rows.map((row) => ({ slug: row.slug, title: row.title, updatedAt: row.updated_at, excerpt: excerpt(row.body) }))
}

/** The slugs of the oldest `count` posts (by id). */
export function firstSlugs(count: number): string[] {
  return db().prepare<[number], { slug: string }>('SELECT slug FROM posts ORDER BY id LIMIT ?').all(count).map((row) => row.slug)
}

export function getPost(slug: string): Post | undefined {
  const row = db().prepare<[string], Row>('SELECT * FROM posts WHERE slug = ?').get(slug)
  return row && toPost(row)
}

/** Updates the given fields and `updated_at`; undefined when there is no such post. */
export function updatePost(slug: string, changes: { title?: string; body?: string }): Post | undefined {
  const row = db()
    .prepare<[string | null, string | null, string, string], Row>(
      'UPDATE posts SET title = coalesce(?, title), body = coalesce(?, body), updated_at = ? WHERE slug = ? RETURNING *',
    )
    .get(changes.title ?? null, changes.body ?? null, new Date().toISOString(), slug)
  return row && toPost(row)
}
