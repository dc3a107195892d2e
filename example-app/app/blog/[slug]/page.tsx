// `/blog/:slug`: one post.
//  - the first five posts are prerendered by `vite build` (generateStaticParams);
//  - the others are rendered on their first request, then cached (dynamicParams defaults to true);
//  - unknown slugs get app/not-found.tsx with status 404;
//  - getPost reads through cache() with the tag `posts`, so revalidateTag('posts') refreshes it;
//  - in draft mode (app/api/draft/route.ts) it renders per request and unpublished posts show too.
import { useState } from 'react'
import { draftMode, notFound } from 'vite-isr/runtime'
import { excerpt, firstSlugs } from '../../../server/db'
import { getDraft } from '../../../server/drafts'
import { getPost, type Post } from '../../../server/posts'
import { GeneratedAt } from '../../_components/post-list'

export const revalidate = 60

export async function generateStaticParams() {
  return firstSlugs(5).map((slug) => ({ slug }))
}

export async function loader({ params }: { params: { slug: string } }) {
  const post = (await getPost(params.slug)) ?? (draftMode().isEnabled ? getDraft(params.slug) : null)
  if (!post) notFound()
  return { post, generatedAt: new Date().toISOString() }
}

type Data = { post: Post; generatedAt: string }

export async function generateMetadata({ data }: { data: Data }) {
  return { title: `${data.post.title} · vite-isr blog`, description: excerpt(data.post.body) }
}

export default function PostPage({ data }: { data: Data }) {
  const { post } = data
  return (
    <main>
      <article>
        <h1>{post.title}</h1>
        <div className="meta">updated {post.updatedAt.slice(0, 10)}</div>
        {post.body.split(/\n{2,}/).map((paragraph, i) => (
          <p key={i}>{paragraph}</p>
        ))}
      </article>
      {/* A plain link: a first visit loads the print view's shell, then the page (fallback = 'shell'). */}
      <p className="meta">
        <a href={`/print/${post.slug}`}>Print version</a>
      </p>
      <LikeButton />
      <GeneratedAt at={data.generatedAt} />
    </main>
  )
}

// Interactive after hydration: the HTML came from the cache, the click handler from the client bundle.
function LikeButton() {
  const [likes, setLikes] = useState(0)
  return (
    <button id="like" className="like" type="button" aria-pressed={likes > 0} onClick={() => setLikes(likes + 1)}>
      ♥ {likes === 0 ? 'Like' : `${likes} like${likes === 1 ? '' : 's'}`}
    </button>
  )
}
