// PUT /api/posts/:slug  with a JSON body { "title"?: string, "body"?: string }
// An admin edit: write to the database, then revalidate the tag `posts`. Every page that read
// posts through cache() (server/posts.ts) carries that tag: the post page, `/` and `/blog` all
// render fresh on their next request, with one call and no list of paths to keep up to date.
import { revalidateTag } from 'vite-isr/runtime'
import { updatePost } from '../../../../server/db'
import { checkSecret } from '../../../../server/secret'

export async function PUT(request: Request, { params }: { params: { slug: string } }): Promise<Response> {
  const denied = checkSecret(request)
  if (denied) return denied

  let input: unknown
  try {
    input = await request.json()
  } catch {
    return Response.json({ error: 'The body must be JSON: { "title"?: string, "body"?: string }' }, { status: 400 })
  }
  const { title, body } = (input ?? {}) as { title?: unknown; body?: unknown }
  const valid = (value: unknown) => value === undefined || (typeof value === 'string' && value.trim() !== '')
  if (typeof input !== 'object' || (title === undefined && body === undefined) || !valid(title) || !valid(body)) {
    return Response.json({ error: 'Send a non-empty "title" and/or "body" string' }, { status: 400 })
  }

  // Write to SQLite directly (not through the cached reads of server/posts.ts)...
  const post = updatePost(params.slug, { title: title as string | undefined, body: body as string | undefined })
  if (!post) return Response.json({ error: `No post with slug "${params.slug}"` }, { status: 404 })

  // ...then expire the cached posts and every page built from them.
  await revalidateTag('posts')
  return Response.json({ updated: true, post, revalidated: { tag: 'posts' } })
}
