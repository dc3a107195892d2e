// GET /sitemap.xml: the home page, the blog index and every post. Static until revalidated
// (as in Next.js), and it reads posts through cache(), so revalidateTag('posts') refreshes it.
import type { MetadataRoute } from 'vite-isr/runtime'
import { listPosts } from '../server/posts'
import { SITE_URL } from '../server/site'

export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  const posts = await listPosts()
  return [
    { url: `${SITE_URL}/`, changeFrequency: 'daily', priority: 1 },
    { url: `${SITE_URL}/blog`, changeFrequency: 'daily', priority: 0.8 },
    ...posts.map((post) => ({ url: `${SITE_URL}/blog/${post.slug}`, lastModified: post.updatedAt, changeFrequency: 'weekly' as const, priority: 0.5 })),
  ]
}
