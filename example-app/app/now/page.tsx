// `/now`: a dynamic page. `revalidate = 0` renders it on every request and never caches it
// (X-ISR-Cache: BYPASS), so its loader may read the request.
import type { LoaderArgs } from 'vite-isr/runtime'

export const revalidate = 0

export const metadata = { title: 'Now · vite-isr blog' }

export async function loader({ request }: LoaderArgs) {
  return { now: new Date().toISOString(), userAgent: request?.headers.get('user-agent') ?? null }
}

export default function Now({ data }: { data: { now: string; userAgent: string | null } }) {
  return (
    <main>
      <h1>Right now</h1>
      <p>
        This page is rendered for each request. The server's clock says <time id="now">{data.now}</time>.
      </p>
      <p>
        Your browser introduced itself as <code id="user-agent">{data.userAgent ?? 'nothing at all'}</code>.
      </p>
      <p className="meta">Reload: the time changes every time, unlike the cached pages.</p>
    </main>
  )
}
