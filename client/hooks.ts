import { useContext, useMemo } from 'react'
import { RouterContext, type AppRouter } from './context.js'

function useRouterContext(hook: string) {
  const context = useContext(RouterContext)
  if (context === null && typeof window !== 'undefined') {
    throw new Error(`[vite-isr] ${hook}() needs the page to be rendered by vite-isr's client entry (a component of app/, hydrated by isr()).`)
  }
  return context
}

const SERVER_ROUTER: AppRouter = Object.freeze({
  push() {},
  replace() {},
  back() {},
  forward() {},
  refresh() {},
  prefetch() {},
})

/** `push`, `replace`, `back`, `forward`, `refresh`, `prefetch`, as Next.js's `useRouter` from `next/navigation`. */
export function useRouter(): AppRouter {
  return useRouterContext('useRouter')?.router ?? SERVER_ROUTER
}

/**
 * The current path (`/blog/1`). On the server it is not known to the component (the page is
 * rendered once for every visitor): it reads the route's params instead where it needs them.
 */
export function usePathname(): string | null {
  return useRouterContext('usePathname')?.pathname ?? null
}

/** The current route's params (`{ id: '1' }` on `/blog/[id]`). */
export function useParams<T extends Record<string, string | string[]> = Record<string, string | string[]>>(): T | null {
  return (useRouterContext('useParams')?.params as T | undefined) ?? null
}

/**
 * The query string, read-only. A page rendered per request (`revalidate = 0`) has it on the
 * server too, on a full load and on a client navigation alike. A cached page renders it empty
 * on the server: the query string makes no cache entry, so a cached page cannot depend on it
 * (Next.js's static pages too).
 */
export function useSearchParams(): URLSearchParams {
  const search = useRouterContext('useSearchParams')?.search ?? ''
  return useMemo(() => new URLSearchParams(search), [search])
}
