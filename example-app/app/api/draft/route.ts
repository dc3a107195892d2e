// GET /api/draft?secret=...&slug=some-post  — the CMS's preview link. Guarded by REVALIDATE_SECRET.
// Turns on draft mode for this browser (a signed cookie; ISR_DRAFT_SECRET signs it) and
// redirects to the post: from then on every page renders for this browser alone, with fresh
// data, unpublished posts included, and nothing of it is cached. /api/draft/disable ends it.
import { draftMode } from 'vite-isr/runtime'
import { checkSecret } from '../../../server/secret'

// A post slug only: the redirect stays on this site whatever the link says (no open redirect).
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

export async function GET(request: Request): Promise<Response> {
  const denied = checkSecret(request)
  if (denied) return denied
  const slug = new URL(request.url).searchParams.get('slug') ?? ''
  if (!SLUG.test(slug)) return Response.json({ error: 'Send ?slug= with the slug of a post, such as hello-isr' }, { status: 400 })
  try {
    draftMode().enable()
  } catch (error) {
    // No ISR_DRAFT_SECRET on the server: the message says how to set one.
    return Response.json({ error: (error as Error).message }, { status: 500 })
  }
  return new Response(null, { status: 307, headers: { location: `/blog/${slug}`, 'cache-control': 'no-store' } })
}
