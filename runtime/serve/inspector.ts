/**
 * `/__isr`: what the cache holds and does. Cached entries with age, window, state (fresh /
 * stale / regenerating / failing), tags and size; hit / stale / miss counters with a chart
 * of the last ten minutes; forms that call revalidatePath / revalidateTag.
 *
 * Off by default (`inspector` option or `ISR_INSPECTOR=1`). With a token it is required
 * (query `?token=`, header `x-isr-inspector-token`, or the cookie set after a visit with
 * the query); in production it refuses to run without one.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CacheEntry, CacheHandler } from '../cache/handlers/types.js'
import { escapeHtml } from '../render/document.js'
import { formatBytes } from '../inspect/debug.js'
import { isImplicitTag, revalidatePath, revalidateTag } from '../cache/revalidate.js'
import type { CacheStats } from '../inspect/stats.js'
import { classify, type SWR } from '../cache/swr.js'

export const INSPECTOR_PATH = '/__isr'
const COOKIE = 'isr_inspector'

export interface InspectorOptions {
  /** Required to open the inspector; mandatory when NODE_ENV is production. */
  token?: string
}

export interface InspectorContext {
  cache: CacheHandler
  swr: SWR
  stats: CacheStats
  now: () => number
  buildId: string
  options: InspectorOptions
  production: boolean
}

export interface InspectedEntry {
  path: string
  state: 'fresh' | 'stale' | 'expired' | 'regenerating' | 'failing'
  status: number
  ageSeconds: number
  revalidate: number | false
  tags: string[]
  size: number
}

const digest = (value: string) => createHash('sha256').update(value).digest()
const sameSecret = (given: string | undefined, token: string) => given !== undefined && timingSafeEqual(digest(given), digest(token))

function cookieToken(req: IncomingMessage): string | undefined {
  const match = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]*)`).exec(req.headers.cookie ?? '')
  return match ? decodeURIComponent(match[1]) : undefined
}

/** The page entries the memory tier holds, newest use first (what the server is serving). */
export function inspectEntries(context: InspectorContext): InspectedEntry[] {
  const memory = (context.cache as { memory?: { entries?: () => Iterable<[string, CacheEntry]> } }).memory ?? context.cache
  const list = (memory as { entries?: () => Iterable<[string, CacheEntry]> }).entries?.() ?? []
  const prefix = `page:${context.buildId}:`
  const now = context.now()
  const out: InspectedEntry[] = []
  for (const [key, entry] of list) {
    if (!key.startsWith(prefix)) continue
    const times = context.cache.getTagTimes(entry.tags)
    const freshness = times instanceof Promise ? 'fresh' : classify(entry, times, now)
    out.push({
      path: key.slice(prefix.length),
      state: context.swr.pending.has(key) ? 'regenerating' : context.swr.failing(key) ? 'failing' : freshness,
      status: entry.status,
      ageSeconds: Math.max(0, Math.round((now - entry.lastModified) / 1000)),
      revalidate: entry.revalidate,
      tags: entry.tags.filter((tag) => !isImplicitTag(tag)),
      size: entry.value.length,
    })
  }
  return out
}

function chart(series: Record<string, number[]>): string {
  // Ten-second bars over the last ten minutes, stacked: hits, stale, misses.
  const colors: Record<string, string> = { HIT: '#2a9d58', STALE: '#e0a100', MISS: '#d1495b' }
  const bars = 60
  const sums = Object.fromEntries(Object.entries(series).map(([state, values]) => [state, Array.from({ length: bars }, (_, i) => values.slice(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0))]))
  const max = Math.max(1, ...Array.from({ length: bars }, (_, i) => (sums.HIT[i] ?? 0) + (sums.STALE[i] ?? 0) + (sums.MISS[i] ?? 0)))
  let rects = ''
  for (let i = 0; i < bars; i++) {
    let y = 100
    for (const state of ['HIT', 'STALE', 'MISS']) {
      const h = (sums[state][i] / max) * 100
      if (h > 0) rects += `<rect x="${i * 10}" y="${(y - h).toFixed(1)}" width="9" height="${h.toFixed(1)}" fill="${colors[state]}"><title>${state} ${sums[state][i]}</title></rect>`
      y -= h
    }
  }
  return `<svg id="chart" viewBox="0 0 600 100" preserveAspectRatio="none" role="img" aria-label="requests per 10 s, last 10 minutes">${rects}</svg>`
}

function page(context: InspectorContext, tokenField: string, message: string): string {
  const entries = inspectEntries(context)
  const totals = context.stats.totals()
  const rows = entries
    .map(
      (e) => `<tr class="${e.state}"><td><a href="${escapeHtml(e.path)}">${escapeHtml(e.path)}</a></td><td>${e.state}</td><td>${e.status}</td><td>${e.ageSeconds}s</td><td>${e.revalidate === false ? 'on demand' : `${e.revalidate}s`}</td><td>${escapeHtml(e.tags.join(', '))}</td><td>${formatBytes(e.size)}</td><td><form method="post" action="${INSPECTOR_PATH}/revalidate">${tokenField}<input type="hidden" name="path" value="${escapeHtml(e.path)}"><button>revalidate</button></form></td></tr>`,
    )
    .join('')
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>vite-isr cache</title><meta name="robots" content="noindex">
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:left}
.stale td:nth-child(2){color:#b07d00}.regenerating td:nth-child(2){color:#1d6fb8}.failing td:nth-child(2),.expired td:nth-child(2){color:#c0392b}
#counters span{margin-right:1.5rem}#chart{width:100%;height:100px;background:#f6f6f6;margin:.5rem 0 1.5rem}form{display:inline}.msg{background:#eef7ee;padding:.5rem}</style></head>
<body><h1>vite-isr cache</h1><p>build <code>${escapeHtml(context.buildId)}</code> · ${entries.length} pages in memory</p>
${message ? `<p class="msg">${escapeHtml(message)}</p>` : ''}
<p id="counters"><span>hit <b id="hit">${totals.HIT}</b></span><span>stale <b id="stale">${totals.STALE}</b></span><span>miss <b id="miss">${totals.MISS}</b></span><span>bypass <b id="bypass">${totals.BYPASS}</b></span></p>
${chart(context.stats.series(600))}
<p><form method="post" action="${INSPECTOR_PATH}/revalidate">${tokenField}<input name="path" placeholder="/blog/1 or /blog/[id]" aria-label="path"> <button>revalidatePath</button></form>
 · <form method="post" action="${INSPECTOR_PATH}/revalidate">${tokenField}<input name="tag" placeholder="posts" aria-label="tag"> <label><input type="checkbox" name="profile" value="max"> stale (max)</label> <button>revalidateTag</button></form></p>
<table id="entries"><thead><tr><th>path</th><th>state</th><th>status</th><th>age</th><th>window</th><th>tags</th><th>size</th><th></th></tr></thead><tbody>${rows}</tbody></table>
</body></html>`
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-robots-tag': 'noindex', ...headers })
  res.end(body)
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 8_192) throw new Error('form too large')
  }
  return new URLSearchParams(body)
}

/** Handles `/__isr` and below; returns false for any other path. */
export function createInspector(context: InspectorContext): (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean {
  const { token } = context.options

  function authorised(req: IncomingMessage, url: URL, form?: URLSearchParams): boolean {
    if (!token) return true
    const given = url.searchParams.get('token') ?? form?.get('token') ?? (req.headers['x-isr-inspector-token'] as string | undefined) ?? cookieToken(req)
    return sameSecret(given ?? undefined, token)
  }

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://inspector')
    if (context.production && !token) {
      return send(res, 403, 'text/plain; charset=utf-8', 'The vite-isr inspector needs a token in production: createISRHandler({ inspector: { token } }) or ISR_INSPECTOR_TOKEN.')
    }
    const tokenField = token ? `<input type="hidden" name="token" value="${escapeHtml(url.searchParams.get('token') ?? cookieToken(req) ?? '')}">` : ''
    if (req.method === 'POST' && pathname === `${INSPECTOR_PATH}/revalidate`) {
      const form = await readForm(req)
      if (!authorised(req, url, form)) return send(res, 401, 'text/plain; charset=utf-8', 'Unauthorized')
      // Cross-site forms carry another Origin; a same-site page or curl carries ours or none.
      const origin = req.headers.origin
      if (origin && new URL(origin).host !== req.headers.host) return send(res, 403, 'text/plain; charset=utf-8', 'Cross-origin request refused')
      const path = form.get('path')
      const tag = form.get('tag')
      let message: string
      try {
        if (path) {
          const isPattern = /\[[^/]*\]/.test(path)
          await revalidatePath(path, isPattern ? 'page' : undefined)
          message = `revalidatePath(${path}${isPattern ? ", 'page'" : ''}) done`
        } else if (tag) {
          await revalidateTag(tag, form.get('profile') === 'max' ? 'max' : undefined)
          message = `revalidateTag(${tag}${form.get('profile') === 'max' ? ", 'max'" : ''}) done`
        } else message = 'Give a path or a tag.'
      } catch (error) {
        message = (error as Error).message
      }
      // Post/redirect/get: reloading the page must not revalidate again.
      return send(res, 303, 'text/plain; charset=utf-8', message, { location: `${INSPECTOR_PATH}?done=${encodeURIComponent(message)}` })
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed', { allow: 'GET, HEAD' })
    if (!authorised(req, url)) return send(res, 401, 'text/plain; charset=utf-8', 'Unauthorized: open /__isr?token=…')
    const cookie = token && url.searchParams.get('token') ? { 'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; Path=${INSPECTOR_PATH}; HttpOnly; SameSite=Strict` } : undefined
    if (pathname === `${INSPECTOR_PATH}/data.json`) {
      return send(res, 200, 'application/json', JSON.stringify({ buildId: context.buildId, totals: context.stats.totals(), entries: inspectEntries(context) }), cookie)
    }
    if (pathname !== INSPECTOR_PATH) return send(res, 404, 'text/plain; charset=utf-8', 'Not Found')
    send(res, 200, 'text/html; charset=utf-8', page(context, tokenField, url.searchParams.get('done') ?? ''), cookie)
  }

  return (req, res, pathname) => {
    if (pathname !== INSPECTOR_PATH && !pathname.startsWith(INSPECTOR_PATH + '/')) return false
    handle(req, res, pathname).catch((error: unknown) => {
      if (!res.headersSent) send(res, 400, 'text/plain; charset=utf-8', (error as Error).message)
    })
    return true
  }
}
