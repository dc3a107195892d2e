/**
 * The page data payload's shape: the contract between the server that makes it
 * (runtime/render/payload.ts, stored beside the HTML in one cache entry) and the client router
 * that reads it. Types only: the browser bundle gets nothing from this file.
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
