/**
 * `<Link>`: an `<a>` that works without JavaScript, and with the router navigates on the
 * client and prefetches the target's payload when it comes into view or under the pointer.
 */
import { createElement, useContext, useEffect, useRef, type AnchorHTMLAttributes, type MouseEvent, type ReactNode, type Ref, type TouchEvent } from 'react'
import { RouterContext, type AppRouter } from './context.js'
import { clientNavigationTarget } from './decisions.js'

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  href: string
  /** Fetch the target's payload when the link is in view or hovered. @default true */
  prefetch?: boolean
  /** Replace the current history entry instead of adding one. @default false */
  replace?: boolean
  /** Scroll to the top (or the `#hash`) after navigating. @default true */
  scroll?: boolean
  ref?: Ref<HTMLAnchorElement>
  children?: ReactNode
}

type Observed = (element: Element) => void
let observer: IntersectionObserver | undefined
const inView = new WeakMap<Element, Observed>()

/** One observer for every link of the page; a link is prefetched the first time it shows. */
function observe(element: Element, onVisible: Observed): () => void {
  if (typeof IntersectionObserver === 'undefined') return () => {}
  observer ??= new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue
      inView.get(entry.target)?.(entry.target)
      observer!.unobserve(entry.target)
      inView.delete(entry.target)
    }
  })
  inView.set(element, onVisible)
  observer.observe(element)
  return () => {
    observer?.unobserve(element)
    inView.delete(element)
  }
}

export function Link(props: LinkProps): ReactNode {
  const { href, prefetch = true, replace = false, scroll = true, onClick, onMouseEnter, onTouchStart, ref, ...rest } = props
  const context = useContext(RouterContext)
  const router: AppRouter | undefined = context?.router
  const own = useRef<HTMLAnchorElement | null>(null)

  useEffect(() => {
    if (!router || !prefetch || !own.current) return
    return observe(own.current, () => router.prefetch(href))
  }, [router, prefetch, href])

  const setRef = (element: HTMLAnchorElement | null) => {
    own.current = element
    if (typeof ref === 'function') ref(element)
    else if (ref) (ref as { current: HTMLAnchorElement | null }).current = element
  }

  return createElement('a', {
    ...rest,
    href,
    ref: setRef,
    onClick(event: MouseEvent<HTMLAnchorElement>) {
      onClick?.(event)
      if (!router) return
      const url = clientNavigationTarget(event, event.currentTarget, window.location.href)
      if (url === null) return
      event.preventDefault()
      router[replace ? 'replace' : 'push'](url.href, { scroll })
    },
    onMouseEnter(event: MouseEvent<HTMLAnchorElement>) {
      onMouseEnter?.(event)
      if (router && prefetch) router.prefetch(href)
    },
    onTouchStart(event: TouchEvent<HTMLAnchorElement>) {
      onTouchStart?.(event)
      if (router && prefetch) router.prefetch(href)
    },
  })
}
