/**
 * The shared secret that guards the admin endpoints (`REVALIDATE_SECRET`), sent as the
 * `x-revalidate-secret` header or a `?secret=` query parameter. Server-only.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

// Hashing both sides gives equal-length buffers, so timingSafeEqual never throws and the
// comparison takes the same time whatever the length of the guess.
const digest = (value: string) => createHash('sha256').update(value).digest()

/** null when the request carries the right secret, otherwise the error response to send. */
export function checkSecret(request: Request): Response | null {
  const expected = process.env.REVALIDATE_SECRET
  if (!expected) {
    return Response.json(
      { error: 'REVALIDATE_SECRET is not set on the server. Start it with REVALIDATE_SECRET=<a long random string> to use this endpoint.' },
      { status: 500 },
    )
  }
  const given = request.headers.get('x-revalidate-secret') ?? new URL(request.url).searchParams.get('secret')
  if (given === null || !timingSafeEqual(digest(given), digest(expected))) {
    return Response.json({ error: 'Invalid or missing secret (send it as the x-revalidate-secret header).' }, { status: 401 })
  }
  return null
}
