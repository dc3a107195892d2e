/** The handlers fixture's source (test/fixtures/handlers/server/source.ts) lives on globalThis too. */
import { join } from 'node:path'
import { seedSource, type HandlerSource } from '../fixtures/handlers/server/source.js'
import { FIXTURES } from './build.js'

export const HANDLERS_DIST = join(FIXTURES, 'handlers/dist')

const g = globalThis as { __handlerSource?: HandlerSource }

/** Reset to the fixture's seed; call counts start at zero. */
export function resetHandlerSource(): HandlerSource {
  const fresh: HandlerSource = { ...seedSource(), calls: {} }
  g.__handlerSource = Object.assign(g.__handlerSource ?? fresh, fresh)
  return g.__handlerSource
}
