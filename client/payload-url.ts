/**
 * The payload URL of a page, as the server maps it (runtime/render/payload.ts; a test holds
 * the two equal): `/` -> `index.json`, `/blog/1` -> `blog/1.json`, and a path starting with
 * `/index` gets a second `index` in front so it stays apart from `/`. The page's query goes
 * along: a page rendered per request reads it (Next.js's RSC fetch carries it too); a cached
 * page's entry ignores it, as its HTML's does.
 */
export function payloadUrl(buildId: string, href: string): string {
  const q = href.indexOf('?')
  const pathname = q === -1 ? href : href.slice(0, q)
  const search = q === -1 ? '' : href.slice(q)
  const page = pathname === '/' ? '/index' : /^\/index(?:\/|$)/.test(pathname) ? '/index' + pathname : pathname
  return '/_isr/data/' + encodeURIComponent(buildId) + page + '.json' + search
}
