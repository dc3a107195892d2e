// POST /api/revalidate  — on-demand revalidation, e.g. from a CMS webhook. Guarded by REVALIDATE_SECRET.
// The JSON body names what changed, either one page or one tag:
//   { "path": "/blog/some-slug" }           that page renders anew on its next request
//   { "tag": "posts" }                      every cached post and every page that used them, likewise
//   { "tag": "posts", "profile": "max" }    the same, but served stale while they regenerate in the background
// `POST /api/revalidate?path=/blog/some-slug` (no body) still works, for older webhooks.
// Route handlers are never cached; they take a Web Request and return a Web Response.
import { revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { checkSecret } from '../../../server/secret'

const USAGE = 'Send a JSON body { "path": "/blog/some-slug" } or { "tag": "posts" } (optionally with "profile": "max"), or ?path=/blog/some-slug'

type Target = { path: string } | { tag: string; profile?: 'max' }

/** What to revalidate, or the error message for a 400. */
async function readTarget(request: Request): Promise<Target | string> {
  const queryPath = new URL(request.url).searchParams.get('path')
  const text = await request.text()
  if (text.trim() === '') return queryPath !== null ? { path: queryPath } : USAGE
  if (queryPath !== null) return 'Send the path either as ?path= or in the JSON body, not both'

  let input: unknown
  try {
    input = JSON.parse(text)
  } catch {
    return `The body is not valid JSON. ${USAGE}`
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return USAGE
  // Other fields are ignored: CMS webhooks often send more than we need.
  const { path, tag, profile } = input as Record<string, unknown>
  if (path !== undefined && tag !== undefined) return 'Send either "path" or "tag", not both'
  if (path !== undefined) {
    if (typeof path !== 'string') return '"path" must be a string such as "/blog/hello-isr"'
    if (profile !== undefined) return '"profile" applies to tags only'
    return { path }
  }
  if (tag !== undefined) {
    if (typeof tag !== 'string') return '"tag" must be a string such as "posts"'
    if (profile !== undefined && profile !== 'max') return '"profile" must be "max" (or left out to expire now)'
    return profile === 'max' ? { tag, profile } : { tag }
  }
  return USAGE
}

export async function POST(request: Request): Promise<Response> {
  const denied = checkSecret(request)
  if (denied) return denied

  const target = await readTarget(request)
  if (typeof target === 'string') return Response.json({ error: target }, { status: 400 })

  try {
    if ('path' in target) {
      // The next request for the path renders it anew (X-ISR-Cache: MISS) and caches the result.
      await revalidatePath(target.path)
      return Response.json({ revalidated: true, path: target.path, now: Date.now() })
    }
    // No profile: the tagged entries expire now (next request MISS). 'max': marked stale
    // (next request STALE, served at once, while a fresh copy renders in the background).
    await revalidateTag(target.tag, target.profile)
    return Response.json({ revalidated: true, tag: target.tag, ...(target.profile ? { profile: target.profile } : {}), now: Date.now() })
  } catch (error) {
    // revalidatePath / revalidateTag throw a TypeError for invalid input (a path without a
    // leading /, an empty tag, too long): the caller's mistake, so a 400 with the reason.
    if (error instanceof TypeError) return Response.json({ error: error.message }, { status: 400 })
    throw error
  }
}
