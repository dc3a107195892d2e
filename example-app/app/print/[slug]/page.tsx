// `/print/:slug`: a post laid out for printing, never prerendered (no generateStaticParams).
//  - fallback = 'shell': a browser asking one for the first time gets app/print/loading.tsx at
//    once, then the page in place once its one render is done; a crawler waits for the page;
//  - later requests are HITs with the full page, like any ISR page.
import { notFound } from 'vite-isr/runtime'
import { getPost, type Post } from '../../../server/posts'

export const revalidate = 60
export const fallback = 'shell'

export async function loader({ params }: { params: { slug: string } }) {
  const post = await getPost(params.slug)
  if (!post) notFound()
  return { post }
}

export async function generateMetadata({ data }: { data: { post: Post } }) {
  return { title: `${data.post.title} (print) · vite-isr blog`, robots: 'noindex' }
}

export default function PrintPage({ data }: { data: { post: Post } }) {
  const { post } = data
  return (
    <main className="print">
      <h1>{post.title}</h1>
      <div className="meta">updated {post.updatedAt.slice(0, 10)}</div>
      {post.body.split(/\n{2,}/).map((paragraph, i) => (
        <p key={i}>{paragraph}</p>
      ))}
    </main>
  )
}
