// `/blog`: every post, newest first. Same ISR setup as the home page (and the same `posts` tag).
import { listPosts, type PostSummary } from '../../server/posts'
import { GeneratedAt, PostList } from '../_components/post-list'

export const revalidate = 60

export const metadata = { title: 'All posts · vite-isr blog' }

export async function loader() {
  return { posts: await listPosts(), generatedAt: new Date().toISOString() }
}

export default function Blog({ data }: { data: { posts: PostSummary[]; generatedAt: string } }) {
  return (
    <main>
      <h1>All posts</h1>
      <PostList posts={data.posts} />
      <GeneratedAt at={data.generatedAt} />
    </main>
  )
}
