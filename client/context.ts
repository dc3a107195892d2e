import { createContext } from 'react'

export interface NavigateOptions {
  /** Scroll to the top (or the `#hash`) after the navigation. @default true */
  scroll?: boolean
}

/** What `useRouter()` returns. */
export interface AppRouter {
  /** Show `href` and add a history entry. */
  push(href: string, options?: NavigateOptions): void
  /** Show `href` in place of the current history entry. */
  replace(href: string, options?: NavigateOptions): void
  back(): void
  forward(): void
  /** Fetch the current page's payload again and show it, keeping scroll and layout state. */
  refresh(): void
  /** Fetch `href`'s payload ahead of a navigation. */
  prefetch(href: string): void
}

export interface RouterState {
  pathname: string
  search: string
  params: Record<string, string | string[]>
}

export interface RouterContextValue extends RouterState {
  router: AppRouter
}

/** Set by the hydration entry; `null` where the page is rendered on the server. */
export const RouterContext = createContext<RouterContextValue | null>(null)
