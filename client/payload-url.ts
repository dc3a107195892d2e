/**
 * The payload URL of a page path, as the server maps it (runtime/render/payload.ts; a test
 * holds the two equal): `/` -> `index.json`, `/blog/1` -> `blog/1.json`, and a path starting
 * with `/index` gets a second `index` in front so it stays apart from `/`.
 */
export function payloadUrl(buildId: string, pathname: string): string {
  const page = pathname === '/' ? '/index' : /^\/index(?:\/|$)/.test(pathname) ? '/index' + pathname : pathname
  return '/_isr/data/' + encodeURIComponent(buildId) + page + '.json'
}
