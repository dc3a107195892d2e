/**
 * A page's data payload: what a client navigation needs to show the page without loading
 * its document (Next.js's `_next/data/<buildId>/<path>.json`). Made by the same render as
 * the HTML and stored in the same cache entry (page-entry.ts), so the two never disagree.
 */
import type { Metadata } from './document.js'

/** The URL prefix payloads are served under; the build id follows it. */
export const PAYLOAD_PREFIX = '/_isr/data/'

export type { HeadMeta, PagePayload } from '../../client/payload.js'
import type { HeadMeta, PagePayload } from '../../client/payload.js'

/**
 * The payload URL of a page path: `/` -> `index.json`, `/blog/1` -> `blog/1.json`. A page
 * whose path begins with `/index` gets a second `index` in front, so `/index` and `/` stay
 * apart (Next.js's `normalizePagePath`). The path keeps its percent-encoding.
 */
export function payloadPath(buildId: string, pathname: string): string {
  const page = pathname === '/' ? '/index' : /^\/index(?:\/|$)/.test(pathname) ? '/index' + pathname : pathname
  return PAYLOAD_PREFIX + buildId + page + '.json'
}

/**
 * The page path a payload path asks for, or `undefined` when it is not one (no `.json`, an
 * empty page). `rest` is what follows `/_isr/data/<buildId>`.
 */
export function pagePathOfPayload(rest: string): string | undefined {
  if (!rest.startsWith('/') || !rest.endsWith('.json')) return undefined
  const page = rest.slice(0, -'.json'.length)
  if (page === '/index') return '/'
  // Only a page under /index has an index in front: `/index/blog` is not a second URL of `/blog`.
  if (page.startsWith('/index/')) return /^\/index\/index(?:\/|$)/.test(page) ? page.slice('/index'.length) : undefined
  if (page.length <= 1 || page.endsWith('/')) return undefined
  return page
}

/** The meta tags of `metadata`, in the order the HTML has them. */
export function headMeta(metadata: Metadata): HeadMeta[] {
  const out: HeadMeta[] = []
  const add = (attribute: HeadMeta[0], key: string, value: string | undefined) => {
    if (typeof value === 'string' && value !== '') out.push([attribute, key, value])
  }
  add('name', 'description', metadata.description)
  add('name', 'keywords', Array.isArray(metadata.keywords) ? metadata.keywords.join(', ') : metadata.keywords)
  add('name', 'robots', metadata.robots)
  const og = metadata.openGraph
  if (og) {
    add('property', 'og:title', og.title ?? metadata.title)
    add('property', 'og:description', og.description ?? metadata.description)
    add('property', 'og:type', og.type)
    add('property', 'og:url', og.url)
    for (const image of Array.isArray(og.images) ? og.images : og.images ? [og.images] : []) add('property', 'og:image', image)
  }
  return out
}

export function serializePayload(payload: PagePayload): string {
  return JSON.stringify(payload)
}
