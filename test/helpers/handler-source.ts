/** The handlers fixture's source (test/fixtures/handlers/server/source.ts) lives on globalThis too. */
import { join } from 'node:path'
import { beforeEach } from 'vitest'
import { seedSource, type HandlerSource } from '../fixtures/handlers/server/source.js'
import { FIXTURES } from './build.js'
import { useFixtureServer, type FixtureServer, type ServerOptions } from './server.js'

export const HANDLERS_DIST = join(FIXTURES, 'handlers/dist')

const g = globalThis as { __handlerSource?: HandlerSource }

/** Reset to the fixture's seed; call counts start at zero. */
export function resetHandlerSource(): HandlerSource {
  const fresh: HandlerSource = { ...seedSource(), calls: {} }
  g.__handlerSource = Object.assign(g.__handlerSource ?? fresh, fresh)
  return g.__handlerSource
}

/**
 * `useFixtureServer` on the handlers fixture, its source reset to the seed before each test
 * (before the server starts). `source` is the one object the fixture's modules read.
 */
export function useHandlersServer(options: ServerOptions = {}): FixtureServer & { source: HandlerSource } {
  beforeEach(() => void resetHandlerSource())
  const t = useFixtureServer({ distDir: HANDLERS_DIST, ...options })
  return Object.assign(t, { source: resetHandlerSource() })
}
