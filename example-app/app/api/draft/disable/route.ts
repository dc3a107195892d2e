// GET /api/draft/disable  — ends draft mode for this browser (clears its cookie) and goes home.
import { draftMode } from 'vite-isr/runtime'

export async function GET(): Promise<Response> {
  draftMode().disable()
  return new Response(null, { status: 307, headers: { location: '/', 'cache-control': 'no-store' } })
}
