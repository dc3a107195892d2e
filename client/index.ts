/**
 * `vite-isr/client`: client navigation for pages of a vite-isr app, as `next/link` and
 * `next/navigation` (SPEC §8). Browser code only: nothing here reaches the server runtime.
 */
export { Link, type LinkProps } from './link.js'
export { useParams, usePathname, useRouter, useSearchParams } from './hooks.js'
export type { AppRouter, NavigateOptions } from './context.js'
