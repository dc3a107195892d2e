// POST /api/revalidate?path=/blog/some-slug
// On-demand revalidation, e.g. from a CMS webhook. Guarded by REVALIDATE_SECRET.
// Route handlers are never cached; they take a Web Request and return a Web Response.
import { revalidatePath } from 'vite-isr/runtime'
import { checkSecret } from '../../../server/secret'

export async function POST(request: Request): Promise<Response> {
  const denied = checkSecret(request)
  if (denied) return denied

  const path = new URL(request.url).searchParams.get('path')
  if (!path) return Response.json({ error: 'Missing ?path= (for example ?path=/blog/hello-isr)' }, { status: 400 })

  try {
    // The next request for `path` renders it anew (X-ISR-Cache: MISS) and caches the result.
    await revalidatePath(path)
  } catch (error) {
    // revalidatePath throws a TypeError for a path that is not a path (no leading /, too long).
    if (error instanceof TypeError) return Response.json({ error: error.message }, { status: 400 })
    throw error
  }
  return Response.json({ revalidated: true, path, now: Date.now() })
}
