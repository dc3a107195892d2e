/**
 * Purging a Varnish cache in front of the ISR server, from `onRevalidate`:
 *
 * - `PURGE <path>` for each concrete path given to `revalidatePath` (every variant of that
 *   URL on the site's Host);
 * - `BAN` with `X-Ban-Tag: <tag>` for each tag, which the README's VCL turns into a ban on
 *   pages whose `Cache-Tag` list holds that exact tag (so it needs `cdnTagHeader: true`).
 *   The implicit `_isr_path:` / `_isr_route:` tags are banned too: a path's tag also catches
 *   its query-string variants, and a route's tag every page of it.
 *
 * Requests run a few at a time, each with a timeout; the promise rejects when any of them
 * fails, so the handler logs "onRevalidate failed" (the invalidation itself stands).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { RevalidateEvent } from '../cache/revalidate.js'
import { PATH_TAG } from '../cache/revalidate.js'

export interface VarnishPurgerOptions {
  /**
   * Varnish's address as the app servers reach it (its `-a` listen address). Credentials in
   * it (`http://user:pass@…`) are sent as Basic auth and never written to a log.
   * @example 'http://127.0.0.1:6081'
   */
  url: string
  /**
   * The `Host` header of `PURGE` requests: the site's host name as visitors send it, since
   * Varnish caches a page per URL and Host. Bans do not depend on it.
   * @default the host of `url`
   * @example 'www.example.com'
   */
  host?: string
  /**
   * Requests in flight at once.
   * @default 8
   */
  concurrency?: number
  /**
   * Milliseconds each request may take before it counts as failed.
   * @default 5000
   */
  timeout?: number
  /**
   * Headers added to every request, e.g. a shared secret your VCL checks. Never logged.
   * @default {}
   */
  headers?: Record<string, string>
}

/** The function to pass as `onRevalidate`. */
export type VarnishPurger = (event: Pick<RevalidateEvent, 'paths' | 'tags'>) => Promise<void>

/** The request header the README's VCL reads the tag of a `BAN` from. */
export const BAN_TAG_HEADER = 'X-Ban-Tag'

interface Purge {
  method: 'PURGE' | 'BAN'
  path: string
  headers: Record<string, string>
  /** What the request is about, for messages: the URL path or the tag, both without control characters. */
  subject: string
}

// A tag travels in a header: printable ASCII, no space at either end (HTTP would trim it).
const SENDABLE_TAG = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/

function fail(message: string): never {
  throw new TypeError(`[vite-isr] createVarnishPurger: ${message}`)
}

export function createVarnishPurger(options: VarnishPurgerOptions): VarnishPurger {
  if (typeof options !== 'object' || options === null) fail(`options must be an object such as { url: 'http://127.0.0.1:6081' }`)
  let base: URL
  try {
    base = new URL(options.url)
  } catch {
    fail(`url must be Varnish's http:// or https:// address, such as 'http://127.0.0.1:6081' (got ${typeof options.url === 'string' ? 'an invalid URL' : typeof options.url})`)
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') fail(`url must start with http:// or https:// (got ${base.protocol})`)
  const { host = base.host, concurrency = 8, timeout = 5000, headers = {} } = options
  if (typeof host !== 'string' || !/^[^\s/]+$/.test(host)) fail(`host must be a host name such as 'www.example.com' (got ${JSON.stringify(host)})`)
  if (!Number.isInteger(concurrency) || concurrency < 1) fail(`concurrency must be a positive integer (got ${concurrency})`)
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) fail(`timeout must be a positive number of milliseconds (got ${timeout})`)
  if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) fail('headers must be an object of strings')

  const auth = base.username ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}` : undefined
  // The address for messages: no credentials, no query.
  const where = `${base.protocol}//${base.host}`
  const prefix = base.pathname.replace(/\/$/, '')
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest

  function perform(purge: Purge): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port,
          method: purge.method,
          path: prefix + purge.path,
          auth,
          headers: { ...headers, ...purge.headers, 'content-length': '0' },
          signal: AbortSignal.timeout(timeout),
        },
        (res: IncomingMessage) => {
          res.resume()
          res.once('end', () => {
            if (res.statusCode === 200) resolve()
            else reject(new Error(`${res.statusCode} ${res.statusMessage ?? ''}`.trim() + hintFor(res.statusCode ?? 0)))
          })
          res.once('error', reject)
        },
      )
      req.once('error', (error: Error) => reject(error.name === 'AbortError' || error.name === 'TimeoutError' ? new Error(`no answer within ${timeout} ms`) : error))
      req.end()
    })
  }

  return async function purgeVarnish(event) {
    const purges: Purge[] = []
    const problems: string[] = []
    let unsendable = 0
    for (const path of event.paths) {
      // A route or layout (`revalidatePath('/blog/[id]', 'page')`) is no URL: its tag's ban covers it.
      if (!event.tags.includes(PATH_TAG + path)) continue
      const url = encodeURI(path)
      purges.push({ method: 'PURGE', path: url, headers: { host }, subject: url })
    }
    for (const tag of event.tags) {
      if (!SENDABLE_TAG.test(tag)) {
        problems.push(`BAN ${JSON.stringify(tag.slice(0, 80))}: not sent, a tag must be printable ASCII without spaces at either end to travel in a header`)
        unsendable++
        continue
      }
      purges.push({ method: 'BAN', path: '/', headers: { [BAN_TAG_HEADER]: tag }, subject: tag })
    }

    let next = 0
    const worker = async () => {
      while (next < purges.length) {
        const purge = purges[next++]
        try {
          await perform(purge)
        } catch (error) {
          problems.push(`${purge.method} ${purge.subject}: ${(error as Error).message}`)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, purges.length) }, worker))
    if (problems.length > 0) {
      const total = purges.length + unsendable
      throw new Error(`[vite-isr] Varnish at ${where}: ${problems.length} of ${total} purge requests failed (the pages stay cached there until their s-maxage):\n  ${problems.join('\n  ')}`)
    }
  }
}

function hintFor(status: number): string {
  if (status === 405) return " (is this server's address in the VCL's `purgers` ACL?)"
  return ' (does Varnish run the VCL from the README, which answers PURGE and BAN with 200?)'
}
