/**
 * What a client navigation does to the document besides the React tree: the title and meta
 * tags of the new page, focus, and an announcement for screen readers (Next.js's route
 * announcer: an `aria-live` region saying the new title).
 */

import type { HeadMeta } from './payload.js'
export type { HeadMeta }

/** Meta tags that belong to a page (metadata), replaced on navigation; others (charset, viewport) stay. */
const PAGE_META = /^(?:description|keywords|robots|og:.*)$/

export function applyHead(doc: Document, head: { title?: string; meta: HeadMeta[] }): void {
  if (typeof head.title === 'string') doc.title = head.title
  for (const element of Array.from(doc.head.querySelectorAll('meta[name], meta[property]'))) {
    const key = element.getAttribute('name') ?? element.getAttribute('property') ?? ''
    if (PAGE_META.test(key)) element.remove()
  }
  for (const [attribute, key, content] of head.meta) {
    const meta = doc.createElement('meta')
    meta.setAttribute(attribute, key)
    meta.setAttribute('content', content)
    doc.head.appendChild(meta)
  }
}

export const ANNOUNCER_ID = '__isr-route-announcer'

/** Say the new page's title (or its first heading) through a live region, created once. */
export function announce(doc: Document): void {
  let region = doc.getElementById(ANNOUNCER_ID)
  if (!region) {
    region = doc.createElement('div')
    region.id = ANNOUNCER_ID
    region.setAttribute('aria-live', 'assertive')
    region.setAttribute('role', 'alert')
    region.setAttribute('style', 'position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0')
    doc.body.appendChild(region)
  }
  region.textContent = doc.title || doc.querySelector('h1')?.textContent || doc.location.pathname
}

/** Move focus to the new content: its first heading, else the body, without scrolling. */
export function focusContent(doc: Document): void {
  const target = doc.querySelector<HTMLElement>('h1') ?? doc.body
  if (!target.hasAttribute('tabindex') && target !== doc.body) target.setAttribute('tabindex', '-1')
  target.focus({ preventScroll: true })
}
