// GET /feed.xml: an RSS feed of the posts, cached as ISR like a page. It reads posts through
// cache() (server/posts.ts), so it carries the tag `posts`: the admin edit's
// revalidateTag('posts') refreshes it with the pages. Without an edit it is regenerated at
// most once an hour.
import { listPosts } from '../../server/posts'
import { SITE_URL } from '../../server/site'

export const revalidate = 3600

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export async function GET(): Promise<Response> {
  const posts = await listPosts()
  const items = posts
    .map(
      (post) => `    <item>
      <title>${escape(post.title)}</title>
      <link>${SITE_URL}/blog/${post.slug}</link>
      <guid>${SITE_URL}/blog/${post.slug}</guid>
      <pubDate>${new Date(post.updatedAt).toUTCString()}</pubDate>
      <description>${escape(post.excerpt)}</description>
    </item>`,
    )
    .join('\n')
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>vite-isr example blog</title>
    <link>${SITE_URL}/</link>
    <description>Posts about Incremental Static Regeneration</description>
${items}
  </channel>
</rss>
`
  return new Response(xml, { headers: { 'content-type': 'application/rss+xml; charset=utf-8' } })
}
