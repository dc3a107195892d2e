// PUT /api/posts/:slug  with a JSON body { "title"?: string, "body"?: string }
// An admin edit: write to the database, then revalidate every page that shows the post.
import { revalidatePath } from 'vite-isr/runtime'
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

  const post = updatePost(params.slug, { title: title as string | undefined, body: body as string | undefined })
  if (!post) return Response.json({ error: `No post with slug "${params.slug}"` }, { status: 404 })

  // The post page and the lists that show its title.
  await revalidatePath(`/blog/${post.slug}`)
  await revalidatePath('/')
  await revalidatePath('/blog')
  return Response.json({ updated: true, post, revalidated: [`/blog/${post.slug}`, '/', '/blog'] })
}
