/**
 * Which clicks the router takes. Everything the browser would do differently from "show this
 * page here" is left to the browser, as Next.js's `<Link>` does: a modifier key or another
 * button (new tab, new window, download), a `target` other than `_self`, a `download`
 * attribute, another origin or protocol, and a change of `#hash` alone (the browser scrolls).
 */

export interface ClickLike {
  button: number
  metaKey: boolean
  ctrlKey: boolean
  shiftKey: boolean
  altKey: boolean
  defaultPrevented: boolean
}

export interface AnchorLike {
  /** The resolved `href` (as `HTMLAnchorElement.href` gives it). */
  href: string
  target: string
  hasAttribute(name: string): boolean
}

/** The URL a click on `anchor` navigates to on the client, or `null` when the browser should handle it. */
export function clientNavigationTarget(event: ClickLike, anchor: AnchorLike, currentHref: string): URL | null {
  if (event.defaultPrevented || event.button !== 0) return null
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null
  if (anchor.target !== '' && anchor.target !== '_self') return null
  if (anchor.hasAttribute('download')) return null
  return navigableUrl(anchor.href, currentHref)
}

/** `href` resolved against the current URL when the router may show it, else `null`. */
export function navigableUrl(href: string, currentHref: string): URL | null {
  let url: URL
  let here: URL
  try {
    here = new URL(currentHref)
    url = new URL(href, here)
  } catch {
    return null
  }
  if (url.origin !== here.origin || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null
  if (url.hash !== '' && url.pathname === here.pathname && url.search === here.search) return null
  return url
}
