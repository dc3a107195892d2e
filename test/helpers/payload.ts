/** What a test reads of the page data payload and of the hydration data in a page's HTML. */
import type { HydrationData } from '../../client/payload.js'

/** The URL path of `path`'s page data payload in build `buildId` (the index page is `/index`). */
export const payloadPath = (buildId: string, path: string): string => `/_isr/data/${buildId}${path === '/' ? '/index' : path}.json`

/** The hydration data of a page's HTML (its `__ISR_DATA__` script), parsed. */
export function hydrationData(html: string): HydrationData {
  const json = /<script id="__ISR_DATA__" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1]
  if (!json) throw new Error('no hydration data in the page')
  return JSON.parse(json) as HydrationData
}
