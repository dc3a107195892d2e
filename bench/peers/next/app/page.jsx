// The fixture's `/` (ISR, revalidate 60): its rendered <body> content (page-body.mjs, written by
// bench/lib/peers.ts from the page vite-isr answers, without vite-isr's own scripts), so both
// answer the same text. Prerendered by `next build`, answered by `next start` from its ISR cache.
import body from '../page-body.mjs'

export const revalidate = 60

export default function Home() {
  return <div dangerouslySetInnerHTML={{ __html: body }} />
}
