/**
 * Draft mode (Next.js's `draftMode()`): a route handler turns it on for one browser with a
 * signed cookie; every page that browser asks for is then rendered per request, with fresh
 * data, and nothing of it is stored. A cookie this server did not sign is ignored.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { DRAFT_MODE_MAX_AGE_SECONDS } from '../cache/defaults.js'
import { draftScope, type DraftScope } from '../cache/render-context.js'

/** Next.js's cookie name, so CDN rules written for Next.js ("bypass when it is present") keep working. */
export const DRAFT_COOKIE = '__prerender_bypass'

export const NO_DRAFT_SECRET =
  '[vite-isr] draftMode().enable() needs a secret to sign its cookie, and none is set. Set the ISR_DRAFT_SECRET environment variable, or pass createISRHandler({ draftModeSecret }), to a random string of at least 32 characters (e.g. the output of `openssl rand -hex 32`).'

export interface DraftModeServer {
  /** Whether the request names the draft cookie at all (cheap; the fast path steps aside for it). */
  requested(req: IncomingMessage): boolean
  /** Whether the request carries a draft cookie signed with this server's secret and not expired. */
  verify(req: IncomingMessage): boolean
  /** The scope a route handler runs in, and the `Set-Cookie` value it left for its response. */
  routeScope(req: IncomingMessage): { scope: DraftScope; cookie(): string | undefined }
}

export interface DraftModeOptions {
  /** The HMAC key; without one no cookie is honoured and `enable()` throws. */
  secret: string | undefined
  /** ms since the epoch. */
  now: () => number
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Express's `req.secure` (which honours its `trust proxy` setting), else whether the socket is TLS. */
function isSecure(req: IncomingMessage): boolean {
  const secure = (req as { secure?: unknown }).secure
  return typeof secure === 'boolean' ? secure : (req.socket as TLSSocket).encrypted === true
}

export function createDraftMode(options: DraftModeOptions): DraftModeServer {
  const { secret, now } = options
  const sign = (expires: string) => createHmac('sha256', secret!).update(`vite-isr draft mode ${expires}`).digest('base64url')

  function verify(req: IncomingMessage): boolean {
    if (secret === undefined) return false
    const value = cookieValue(req.headers.cookie, DRAFT_COOKIE)
    if (value === undefined) return false
    const dot = value.indexOf('.')
    const expires = value.slice(0, dot)
    if (dot === -1 || !/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= now()) return false
    const given = Buffer.from(value.slice(dot + 1))
    const expected = Buffer.from(sign(expires))
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  return {
    requested: (req) => secret !== undefined && req.headers.cookie?.includes(DRAFT_COOKIE) === true,
    verify,
    routeScope(req) {
      let cookie: string | undefined
      const attributes = `Path=/; HttpOnly; SameSite=Lax${isSecure(req) ? '; Secure' : ''}`
      const scope: DraftScope = {
        enabled: verify(req),
        setCookie(enabled) {
          if (!enabled) {
            cookie = `${DRAFT_COOKIE}=; ${attributes}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`
            return
          }
          if (secret === undefined) throw new Error(NO_DRAFT_SECRET)
          const expires = String(Math.floor(now() / 1000) + DRAFT_MODE_MAX_AGE_SECONDS)
          cookie = `${DRAFT_COOKIE}=${expires}.${sign(expires)}; ${attributes}; Max-Age=${DRAFT_MODE_MAX_AGE_SECONDS}`
        },
      }
      return { scope, cookie: () => cookie }
    },
  }
}

export interface DraftMode {
  /** Whether this request is in draft mode (a valid draft cookie, or `enable()` called during it). */
  readonly isEnabled: boolean
  /** Turn draft mode on for this browser: the route handler's response sets the signed cookie. */
  enable(): void
  /** Turn it off: the route handler's response clears the cookie. */
  disable(): void
}

/**
 * Draft mode of the current request, as Next.js's `draftMode()`: read `isEnabled` in a loader
 * or a route handler; call `enable()` / `disable()` in a route handler. Works with and without
 * `await` (Next.js 15 made it async, 14 was not).
 *
 * @example
 * export async function GET(request: Request) {
 *   draftMode().enable()
 *   return Response.redirect(new URL('/blog/draft-post', request.url), 307)
 * }
 */
export function draftMode(): DraftMode & Promise<DraftMode> {
  const scope = draftScope.getStore()
  const set = (enabled: boolean) => {
    if (!scope?.setCookie) {
      throw new Error(
        `[vite-isr] draftMode().${enabled ? 'enable' : 'disable'}() sets a cookie, so it works only in a route handler (route.ts) served by createISRHandler. Call it in a route handler such as app/api/draft/route.ts and redirect to the page.`,
      )
    }
    scope.setCookie(enabled)
    scope.enabled = enabled
  }
  const state: DraftMode = {
    get isEnabled() {
      return scope?.enabled === true
    },
    enable: () => set(true),
    disable: () => set(false),
  }
  const promise = Promise.resolve(state) as Promise<DraftMode> & DraftMode
  return Object.defineProperties(promise, {
    isEnabled: { get: () => state.isEnabled },
    enable: { value: state.enable },
    disable: { value: state.disable },
  })
}
