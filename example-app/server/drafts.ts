/**
 * Posts written in the CMS but not published yet: not in the database, so no visitor can
 * reach them. Draft mode (`/api/draft?secret=...&slug=...`) shows them to editors. Server-only.
 */
import type { Post } from './db'

const drafts: Post[] = [
  {
    id: 0,
    slug: 'coming-soon-draft-mode',
    title: 'Coming soon: previews with draft mode',
    body: 'This post is not published. You see it because your browser carries the draft mode cookie: every page renders for you alone, with fresh data, and nothing of it is cached.\n\nVisitors without the cookie get a 404 here, and the cached pages everywhere else.',
    updatedAt: '2026-01-01T00:00:00.000Z',
  },
]

export function getDraft(slug: string): Post | null {
  return drafts.find((post) => post.slug === slug) ?? null
}
