/**
 * Next.js's metadata routes: `app/sitemap.ts` answers `/sitemap.xml` and `app/robots.ts`
 * answers `/robots.txt`. Their default export returns the data; this module turns it into
 * the file, with the same output as Next.js's `resolveSitemap` / `resolveRobots`, and
 * gives the module a `GET`, so it is served (and cached) as any route handler.
 */
import type { RouteDefinition } from '../routes/route-table.js'

type ChangeFrequency = 'always' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly' | 'never'

interface RobotsRule {
  /** Defaults to `*`. */
  userAgent?: string | string[]
  allow?: string | string[]
  disallow?: string | string[]
  /** Seconds. */
  crawlDelay?: number
}

/** The return types of `app/sitemap.ts` and `app/robots.ts`, as Next.js's `MetadataRoute`. */
export declare namespace MetadataRoute {
  type Sitemap = Array<{
    /** The page's absolute URL. */
    url: string
    lastModified?: string | Date
    changeFrequency?: ChangeFrequency
    /** 0.0 to 1.0. */
    priority?: number
    /** Other languages of the page: `{ languages: { fr: 'https://example.com/fr' } }`. */
    alternates?: { languages?: Record<string, string> }
  }>
  type Robots = {
    rules: RobotsRule | RobotsRule[]
    sitemap?: string | string[]
    host?: string
  }
}

export const SITEMAP_PATH = '/sitemap.xml'
export const ROBOTS_PATH = '/robots.txt'

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
// Characters XML 1.0 cannot hold at all, even escaped.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g

/** Text for an XML element or attribute value. */
export function escapeXml(value: string): string {
  return value.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c])
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

export function sitemapXml(data: MetadataRoute.Sitemap, file = 'app/sitemap.ts'): string {
  if (!Array.isArray(data)) {
    throw new TypeError(`[vite-isr] ${file}: the default export must return an array of { url, lastModified?, changeFrequency?, priority? } (got ${data === null ? 'null' : typeof data}).`)
  }
  const alternates = data.some((item) => item && Object.keys(item.alternates?.languages ?? {}).length > 0)
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
  xml += alternates ? ' xmlns:xhtml="http://www.w3.org/1999/xhtml">\n' : '>\n'
  data.forEach((item, i) => {
    if (typeof item?.url !== 'string' || item.url === '') {
      throw new TypeError(`[vite-isr] ${file}: entry ${i} of the sitemap has no \`url\` string (got ${JSON.stringify(item)?.slice(0, 100)}).`)
    }
    xml += `<url>\n<loc>${escapeXml(item.url)}</loc>\n`
    for (const [language, href] of Object.entries(item.alternates?.languages ?? {})) {
      xml += `<xhtml:link rel="alternate" hreflang="${escapeXml(language)}" href="${escapeXml(String(href))}" />\n`
    }
    if (item.lastModified) {
      const date = item.lastModified instanceof Date ? item.lastModified.toISOString() : String(item.lastModified)
      xml += `<lastmod>${escapeXml(date)}</lastmod>\n`
    }
    if (item.changeFrequency) xml += `<changefreq>${escapeXml(item.changeFrequency)}</changefreq>\n`
    if (typeof item.priority === 'number') xml += `<priority>${item.priority}</priority>\n`
    xml += '</url>\n'
  })
  return xml + '</urlset>\n'
}

// A value holding a line break would add a directive of its own: robots.txt is line-based.
// eslint-disable-next-line no-control-regex
const oneLine = (value: unknown): string => String(value).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()

export function robotsTxt(data: MetadataRoute.Robots, file = 'app/robots.ts'): string {
  if (typeof data !== 'object' || data === null || data.rules === undefined) {
    throw new TypeError(`[vite-isr] ${file}: the default export must return { rules, sitemap?, host? } (got ${data === null ? 'null' : typeof data}).`)
  }
  let text = ''
  for (const rule of list(data.rules)) {
    for (const agent of list(rule.userAgent ?? '*')) text += `User-Agent: ${oneLine(agent)}\n`
    for (const path of list(rule.allow)) text += `Allow: ${oneLine(path)}\n`
    for (const path of list(rule.disallow)) text += `Disallow: ${oneLine(path)}\n`
    if (rule.crawlDelay) text += `Crawl-delay: ${oneLine(rule.crawlDelay)}\n`
    text += '\n'
  }
  if (data.host) text += `Host: ${oneLine(data.host)}\n`
  for (const sitemap of list(data.sitemap)) text += `Sitemap: ${oneLine(sitemap)}\n`
  return text
}

type Module = Record<string, unknown>

/**
 * The module as a route handler: a metadata route gets a `GET` that calls its default export
 * (it may be async and use `cache()` / `fetch()`) and answers the file; others are unchanged.
 */
export function asRouteHandlerModule(route: Pick<RouteDefinition, 'metadata' | 'file'>, mod: Module): Module {
  const kind = route.metadata
  if (!kind) return mod
  return {
    ...mod,
    GET: async () => {
      const make = mod.default
      if (typeof make !== 'function') {
        throw new TypeError(`[vite-isr] ${route.file} has no default export function. Export one returning the ${kind === 'sitemap' ? 'sitemap entries' : 'robots rules'}: \`export default function ${kind}() { ... }\``)
      }
      const data = await (make as () => unknown)()
      return kind === 'sitemap'
        ? new Response(sitemapXml(data as MetadataRoute.Sitemap, route.file), { headers: { 'content-type': 'application/xml' } })
        : new Response(robotsTxt(data as MetadataRoute.Robots, route.file), { headers: { 'content-type': 'text/plain' } })
    },
  }
}
