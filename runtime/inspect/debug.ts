/**
 * The cache debug log. `ISR_DEBUG_CACHE=1` (or Next.js's `NEXT_PRIVATE_DEBUG_CACHE=1`)
 * prints one line per cache event to stderr; without it only warnings and errors print.
 *
 *   [vite-isr] hit /blog/1 age=12s revalidate=60s
 *   [vite-isr] stale /blog/1 age=75s revalidate=60s
 *   [vite-isr] regenerate:start /blog/1
 *   [vite-isr] regenerate:done /blog/1 status=200 in 14ms
 *   [vite-isr] set /blog/1 revalidate=60s size=14.2kB
 */
import { inspect } from 'node:util'

export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  readonly debugEnabled: boolean
  debug(event: string, subject: string, fields?: LogFields): void
  warn(message: string): void
  error(message: string, error?: unknown): void
}

export function isDebugCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
  return on(env.ISR_DEBUG_CACHE) || on(env.NEXT_PRIVATE_DEBUG_CACHE)
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return ''
  let out = ''
  for (const key in fields) {
    const value = fields[key]
    if (value !== undefined) out += ` ${key}=${value}`
  }
  return out
}

export function createLogger(options: { debug?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const debugEnabled = options.debug ?? isDebugCacheEnabled()
  return {
    debugEnabled,
    debug(event, subject, fields) {
      if (debugEnabled) write(`[vite-isr] ${event} ${subject}${formatFields(fields)}`)
    },
    warn(message) {
      write(`[vite-isr] warning: ${message}`)
    },
    error(message, error) {
      // A loader may reject with anything; show a plain object as an object, not [object Object].
      const detail = error instanceof Error ? (error.stack ?? error.message) : error === undefined ? '' : typeof error === 'string' ? error : inspect(error, { depth: 4 })
      write(`[vite-isr] error: ${message}${detail ? `\n${detail}` : ''}`)
    },
  }
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n}B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)}kB` : `${(n / 1024 / 1024).toFixed(1)}MB`
}
