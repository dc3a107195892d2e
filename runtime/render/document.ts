/**
 * The HTML around a React render: metadata tags, the serialised loader data for
 * hydration and the client assets, injected as strings after React has rendered.
 * React 19 hydrates a document and skips tags in <head> and <body> it did not render,
 * so the client tree stays exactly the server tree.
 */
import type { HydrationData } from '../../client/payload.js'
import { headMeta } from './payload.js'

export interface Metadata {
  title?: string
  description?: string
  keywords?: string | string[]
  robots?: string
  openGraph?: { title?: string; description?: string; type?: string; url?: string; images?: string | string[] }
}

export const DATA_SCRIPT_ID = '__ISR_DATA__'

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
}

const JSON_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' }

/**
 * JSON safe inside a <script> element: `</script>`, `<!--` and the line separators
 * U+2028/U+2029 cannot end the element or break a parser.
 */
export function serializeForScript(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => JSON_ESCAPES[c])
}

export function dataScript(payload: HydrationData): string {
  return `<script id="${DATA_SCRIPT_ID}" type="application/json">${serializeForScript(payload)}</script>`
}

export function mergeMetadata(list: (Metadata | undefined)[]): Metadata {
  const merged: Metadata = {}
  for (const item of list) if (item && typeof item === 'object') Object.assign(merged, item)
  return merged
}

/** `<title>` and the meta tags of `metadata`, in the order the payload lists them (headMeta). */
export function metadataTags(metadata: Metadata): string {
  let out = typeof metadata.title === 'string' ? `<title>${escapeHtml(metadata.title)}</title>` : ''
  for (const [attribute, key, value] of headMeta(metadata)) out += `<meta ${attribute}="${key}" content="${escapeHtml(value)}">`
  return out
}

const CHARSET_META = '<meta charset="utf-8">'
const VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">'
const HAS_CHARSET = /<meta\b[^>]*\bcharset\s*=/i
const HAS_VIEWPORT = /<meta\b[^>]*\bname\s*=\s*["']?viewport\b/i
const HEAD_OPEN = /<head(?:\s[^>]*)?>/i

/**
 * The head tags Next.js's default document has and `html` lacks: `<meta charset>` and the
 * viewport, unless a layout wrote its own (they would be duplicated).
 */
export function defaultHeadTags(html: string): string {
  const end = html.indexOf('</head>')
  const head = end === -1 ? html : html.slice(0, end)
  return (HAS_CHARSET.test(head) ? '' : CHARSET_META) + (HAS_VIEWPORT.test(head) ? '' : VIEWPORT_META)
}

/**
 * Insert `head` before `</head>` and `body` before `</body>` (or at the end); `leading` goes
 * first in the head, where the charset must be (within the first 1024 bytes, HTML §4.2.5.4).
 */
export function injectIntoDocument(html: string, head: string, body: string, leading = ''): string {
  let out = html
  if (leading) {
    const open = HEAD_OPEN.exec(out)
    if (open) out = out.slice(0, open.index + open[0].length) + leading + out.slice(open.index + open[0].length)
    else head = leading + head
  }
  if (head) {
    const i = out.indexOf('</head>')
    if (i !== -1) out = out.slice(0, i) + head + out.slice(i)
    else {
      const open = /<html[^>]*>/i.exec(out)
      out = open ? out.slice(0, open.index + open[0].length) + `<head>${head}</head>` + out.slice(open.index + open[0].length) : head + out
    }
  }
  if (body) {
    const j = out.lastIndexOf('</body>')
    out = j !== -1 ? out.slice(0, j) + body + out.slice(j) : out + body
  }
  return out.startsWith('<!DOCTYPE') || out.startsWith('<!doctype') ? out : '<!DOCTYPE html>' + out
}
