/**
 * The JSON the server hands the client, and the client reads: the page data payload
 * (runtime/render/payload.ts, stored beside the HTML in one cache entry, read by the client
 * router) and the hydration data (runtime/render/document.ts writes it into the HTML,
 * client/hydrate.ts reads it). Types only: the browser bundle gets nothing from this file.
 */

/** A `<meta>` tag: which attribute names it (`name` or `property`), its key and content. */
export type HeadMeta = [attribute: 'name' | 'property', key: string, content: string]

export type PagePayload =
  | {
      kind: 'page'
      /** The page module (project-relative, as the client entry's module table names it). */
      page: string
      /** Its layouts from the root down. */
      layouts: string[]
      params: Record<string, string | string[]>
      data: unknown
      head: { title?: string; meta: HeadMeta[] }
      /** Chunk URLs the page needs (scripts to modulepreload, stylesheets), as in its HTML. */
      scripts: string[]
      styles: string[]
    }
  /** The loader called `redirect()`: the client goes there as a full load would. */
  | { kind: 'redirect'; location: string; status: number }
  /** The loader called `notFound()`. */
  | { kind: 'not-found' }

/** The hydration data in a page's HTML: which modules the client imports, with which props. */
export interface HydrationData {
  page: string
  layouts: string[]
  params: Record<string, string | string[]>
  data: unknown
  /** The build that rendered the page: client navigation asks for payloads of this build only. */
  buildId?: string
  /**
   * The query string a page rendered per request was rendered with; absent for a cached page
   * (one HTML serves every query, rendered with none). Hydration starts from it, so
   * `useSearchParams()` matches the HTML; the URL's own query follows once hydrated.
   */
  search?: string
  /** The document is a loading shell: `page` is the loading component, and the page's payload is loaded once hydrated. */
  shell?: true
}
