/**
 * The posts as pages read them: the database queries of `db.ts`, wrapped in `cache()` so their
 * results go to vite-isr's data cache with the tag `posts`. Server-only (imported by loaders).
 *
 * - A page whose loader calls these inherits the tag: `revalidateTag('posts')` then refreshes
 *   the data and every page that used it (`/`, `/blog`, each post) in one call.
 * - No `revalidate` here: the data stays cached until the tag is revalidated; the pages keep
 *   their own `revalidate = 60` (a page's window is the lowest of its own and its data's).
 * - Results must be JSON-serialisable, so a missing post is `null`, not `undefined`.
 * - Without a running server (in `vite dev`), `cache()` simply calls the function.
 */
import { cache } from 'vite-isr/runtime'
import * as db from './db'

export type { Post, PostSummary } from './db'

/** Most recently updated first; `limit` -1 for all. Cached per `limit`. */
export const listPosts = cache(async (limit: number = -1) => db.listPosts(limit), ['posts'], { tags: ['posts'] })

/** One post, or null. Cached per slug. */
export const getPost = cache(async (slug: string) => db.getPost(slug) ?? null, ['post'], { tags: ['posts'] })
