/**
 * `/__isr`: what the cache holds and does. Cached entries with age, window, state (fresh /
 * stale / regenerating / failing), tags and size; hit / stale / miss counters with a chart
 * of the last ten minutes; forms that call revalidatePath / revalidateTag.
 *
 * Off by default (`inspector` option or `ISR_INSPECTOR=1`), and locked: it always needs its
 * token (query `?token=` once, then a session cookie that holds a signature, not the token;
 * or the header `x-isr-inspector-token`). It answers only a `Host` the server was started or
 * configured for, so a DNS-rebound name cannot reach it, and a POST only with its own
 * `Origin`, so no other site can submit its forms.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CacheEntry, CacheHandler } from '../cache/handlers/types.js'
import { escapeHtml } from '../render/document.js'
import { formatBytes } from '../inspect/debug.js'
import { isImplicitTag, revalidatePath, revalidateTag } from '../cache/revalidate.js'
import type { CacheStats } from '../inspect/stats.js'
import { classify, type SWR } from '../cache/swr.js'

export const INSPECTOR_PATH = '/__isr'
const COOKIE = 'isr_inspector'
/** Seconds a session cookie stays valid. */
const SESSION_TTL = 12 * 60 * 60
const MAX_FORM_BYTES = 8_192

export interface InspectorOptions {
  /**
   * The secret that opens the inspector, at least 16 characters (`openssl rand -hex 24`).
   * Give it once as `/__isr?token=…` (the browser then keeps a signed session cookie), or
   * in the `x-isr-inspector-token` header from a script.
   * @default process.env.ISR_INSPECTOR_TOKEN
   */
  token?: string
  /**
   * Host names the inspector answers besides the loopback names (`localhost`, `127.0.0.1`,
   * `[::1]`) and the address the server listens on: the site's public name when you open it
   * through a proxy. A leading dot allows subdomains (`.example.com`). The port is ignored.
   * @default process.env.ISR_INSPECTOR_ALLOWED_HOSTS (comma-separated), or none
   * @example allowedHosts: ['www.example.com']
   */
  allowedHosts?: string[]
}

export interface ResolvedInspectorOptions {
  token: string
  allowedHosts: string[]
}

export interface InspectorContext {
  cache: CacheHandler
  swr: SWR
  stats: CacheStats
  now: () => number
  buildId: string
  options: ResolvedInspectorOptions
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
const sameSecret = (given: string | undefined | null, token: string) => typeof given === 'string' && timingSafeEqual(digest(given), digest(token))

function cookieValue(req: IncomingMessage): string | undefined {
  const match = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]*)`).exec(req.headers.cookie ?? '')
  return match?.[1]
}

/** `<expiry>.<HMAC of it under the token>`: proves a past visit with the token without holding it. */
function sessionValue(token: string, expires: number): string {
  return `${expires}.${createHmac('sha256', token).update(`vite-isr inspector session ${expires}`).digest('base64url')}`
}

function validSession(value: string | undefined, token: string, now: number): boolean {
  const expires = Number(value?.split('.')[0])
  if (!value || !Number.isSafeInteger(expires) || expires * 1000 <= now) return false
  return timingSafeEqual(digest(value), digest(sessionValue(token, expires)))
}

const LOOPBACK = /^(?:localhost|[^:]*\.localhost|127(?:\.\d{1,3}){3}|\[::1\])$/

/** The `Host` header's name, normalised as a URL would (lower case, IPv6 in brackets); undefined if it is not a plain host[:port]. */
function hostName(host: string | undefined): string | undefined {
  if (!host || !/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return undefined
  try {
    return new URL(`http://${host}`).hostname
  } catch {
    return undefined
  }
}

function listeningName(req: IncomingMessage): string | undefined {
  const address = req.socket.localAddress?.replace(/^::ffff:(?=\d+\.)/, '')
  if (!address) return undefined
  return hostName(address.includes(':') ? `[${address}]` : address)
}

/**
 * A name this server was started for (loopback, the address the connection arrived at) or
 * configured for (`allowedHosts`). DNS rebinding sends the attacker's own name, which is none
 * of these; the port is not compared, as a proxy in front may use another one.
 */
function hostAllowed(req: IncomingMessage, allowedHosts: string[]): boolean {
  const name = hostName(req.headers.host)
  if (!name) return false
  if (LOOPBACK.test(name) || name === listeningName(req)) return true
  return allowedHosts.some((allowed) => {
    const a = allowed.toLowerCase()
    return a.startsWith('.') ? name === a.slice(1) || name.endsWith(a) : name === a
  })
}

/** `https` when the connection is TLS, or when Express says so (`req.protocol`, which honours its `trust proxy`). */
function schemeOf(req: IncomingMessage): 'http' | 'https' {
  const protocol = (req as { protocol?: unknown }).protocol
  if (protocol === 'https' || protocol === 'http') return protocol
  return (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
}

/** The browser's `Origin` must be this very page's scheme and host: a cross-site form, or none at all, is refused. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (typeof origin !== 'string' || origin === 'null') return false
  try {
    return new URL(origin).origin === new URL(`${schemeOf(req)}://${req.headers.host}`).origin
  } catch {
    return false
  }
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

function page(context: InspectorContext, message: string): string {
  const entries = inspectEntries(context)
  const totals = context.stats.totals()
  const rows = entries
    .map(
      (e) => `<tr class="${e.state}"><td><a href="${escapeHtml(e.path)}">${escapeHtml(e.path)}</a></td><td>${e.state}</td><td>${e.status}</td><td>${e.ageSeconds}s</td><td>${e.revalidate === false ? 'on demand' : `${e.revalidate}s`}</td><td>${escapeHtml(e.tags.join(', '))}</td><td>${formatBytes(e.size)}</td><td><form method="post" action="${INSPECTOR_PATH}/revalidate"><input type="hidden" name="path" value="${escapeHtml(e.path)}"><button>revalidate</button></form></td></tr>`,
    )
    .join('')
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>vite-isr cache</title><meta name="robots" content="noindex">
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:left}
.stale td:nth-child(2){color:#b07d00}.regenerating td:nth-child(2){color:#1d6fb8}.failing td:nth-child(2),.expired td:nth-child(2){color:#c0392b}
#counters span{margin-right:1.5rem}#chart{width:100%;height:100px;background:#f6f6f6;margin:.5rem 0 1.5rem}form{display:inline}.msg{background:#eef7ee;padding:.5rem}</style></head>
<body><h1>vite-isr cache</h1><p>build <code>${escapeHtml(context.buildId)}</code> · ${entries.length} pages in memory</p>
${message ? `<p class="msg">${escapeHtml(message)}</p>` : ''}
<p id="counters"><span>hit <b id="hit">${totals.HIT}</b></span><span>stale <b id="stale">${totals.STALE}</b></span><span>miss <b id="miss">${totals.MISS}</b></span><span>bypass <b id="bypass">${totals.BYPASS}</b></span><span>busy (503) <b id="busy">${totals.BUSY}</b></span></p>
${chart(context.stats.series(600))}
<p><form method="post" action="${INSPECTOR_PATH}/revalidate"><input name="path" placeholder="/blog/1 or /blog/[id]" aria-label="path"> <button>revalidatePath</button></form>
 · <form method="post" action="${INSPECTOR_PATH}/revalidate"><input name="tag" placeholder="posts" aria-label="tag"> <label><input type="checkbox" name="profile" value="max"> stale (max)</label> <button>revalidateTag</button></form></p>
<table id="entries"><thead><tr><th>path</th><th>state</th><th>status</th><th>age</th><th>window</th><th>tags</th><th>size</th><th></th></tr></thead><tbody>${rows}</tbody></table>
</body></html>`
}

// The page runs no script, is never framed (clickjacking its buttons) and leaks no URL.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-robots-tag': 'noindex', ...SECURITY_HEADERS, ...headers })
  res.end(body)
}

const sendText = (res: ServerResponse, status: number, text: string, headers?: Record<string, string>) => send(res, status, 'text/plain; charset=utf-8', text, headers)

class FormTooLarge extends Error {}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > MAX_FORM_BYTES) throw new FormTooLarge()
  }
  return new URLSearchParams(body)
}

/** Handles `/__isr` and below; returns false for any other path. */
export function createInspector(context: InspectorContext): (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean {
  const { token, allowedHosts } = context.options

  const headerToken = (req: IncomingMessage) => req.headers['x-isr-inspector-token'] as string | undefined
  const hasSession = (req: IncomingMessage) => validSession(cookieValue(req), token, context.now())

  function sessionCookie(req: IncomingMessage): string {
    const expires = Math.floor(context.now() / 1000) + SESSION_TTL
    const secure = schemeOf(req) === 'https' ? '; Secure' : ''
    return `${COOKIE}=${sessionValue(token, expires)}; Path=${INSPECTOR_PATH}; Max-Age=${SESSION_TTL}; HttpOnly; SameSite=Strict${secure}`
  }

  async function revalidate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return sendText(res, 403, 'Forbidden: a POST needs the Origin of this page')
    if (!hasSession(req) && !sameSecret(headerToken(req), token)) return sendText(res, 401, 'Unauthorized')
    const form = await readForm(req)
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
    sendText(res, 303, message, { location: `${INSPECTOR_PATH}?done=${encodeURIComponent(message)}` })
  }

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (!hostAllowed(req, allowedHosts)) {
      return sendText(res, 421, 'Misdirected Request: the inspector answers only the hosts it was started or configured for (inspector.allowedHosts)')
    }
    if (req.method === 'POST' && pathname === `${INSPECTOR_PATH}/revalidate`) return revalidate(req, res)
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' })
    const url = new URL(req.url ?? '/', 'http://inspector')
    const queryToken = url.searchParams.get('token')
    if (queryToken !== null) {
      if (!sameSecret(queryToken, token)) return sendText(res, 401, 'Unauthorized')
      if (pathname === INSPECTOR_PATH) {
        // Swap the token for a session and drop it from the address bar (history, bookmarks).
        url.searchParams.delete('token')
        return sendText(res, 303, 'See Other', { location: INSPECTOR_PATH + url.search, 'set-cookie': sessionCookie(req) })
      }
    } else if (!hasSession(req) && !sameSecret(headerToken(req), token)) {
      return sendText(res, 401, 'Unauthorized: open /__isr?token=…')
    }
    if (pathname === `${INSPECTOR_PATH}/data.json`) {
      return send(res, 200, 'application/json', JSON.stringify({ buildId: context.buildId, totals: context.stats.totals(), entries: inspectEntries(context) }))
    }
    if (pathname !== INSPECTOR_PATH) return sendText(res, 404, 'Not Found')
    send(res, 200, 'text/html; charset=utf-8', page(context, url.searchParams.get('done') ?? ''))
  }

  return (req, res, pathname) => {
    if (pathname !== INSPECTOR_PATH && !pathname.startsWith(INSPECTOR_PATH + '/')) return false
    handle(req, res, pathname).catch((error: unknown) => {
      if (res.headersSent) res.destroy()
      else if (error instanceof FormTooLarge) sendText(res, 413, 'Payload Too Large', { connection: 'close' })
      else sendText(res, 400, 'Bad Request')
    })
    return true
  }
}
