// `/`: the latest posts. An ISR page: rendered at build, served from the cache, and
// regenerated in the background at most once a minute.
import { listPosts, type PostSummary } from '../server/posts'
import { Link } from 'vite-isr/client'
import { GeneratedAt, PostList } from './_components/post-list'

// Read at build time from the source, so it must be a literal (as in Next.js).
export const revalidate = 60

export const metadata = { title: 'The vite-isr blog', description: 'The latest posts.' }

// Runs on the server only (at build, then at each regeneration). Its result is the `data` prop.
// listPosts goes through cache() with the tag `posts` (server/posts.ts), so this page carries
// that tag too: revalidateTag('posts') refreshes it.
export async function loader() {
  return { posts: await listPosts(5), generatedAt: new Date().toISOString() }
}

export default function Home({ data }: { data: { posts: PostSummary[]; generatedAt: string } }) {
  return (
    <main>
      <h1>Latest posts</h1>
      <PostList posts={data.posts} />
      <p>
        <Link href="/blog">All posts →</Link>
      </p>
      <GeneratedAt at={data.generatedAt} />
    </main>
  )
}
