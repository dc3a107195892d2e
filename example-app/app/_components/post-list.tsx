// Folders starting with _ are private: not routes, just code shared by pages.
import { Link } from 'vite-isr/client'
import type { PostSummary } from '../../server/db'

export function PostList({ posts }: { posts: PostSummary[] }) {
  return (
    <ul className="post-list">
      {posts.map((post) => (
        <li key={post.slug}>
          <Link href={`/blog/${post.slug}`}>{post.title}</Link>
          {/* A date cut from the ISO string renders identically on the server and in the browser. */}
          <div className="meta">updated {post.updatedAt.slice(0, 10)}</div>
          <p>{post.excerpt}</p>
        </li>
      ))}
    </ul>
  )
}

/** When the cached HTML was rendered: watch it change as pages regenerate. */
export function GeneratedAt({ at }: { at: string }) {
  return (
    <p className="generated">
      generated at <time id="generated-at">{at}</time>
    </p>
  )
}
