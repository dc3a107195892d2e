/** The parity fixture's store (test/fixtures/parity/server/store.ts) lives on globalThis too. */
import { join } from 'node:path'
import { seedStore, type ParityStore } from '../fixtures/parity/server/store.js'
import { FIXTURES } from './build.js'

export const PARITY_DIST = join(FIXTURES, 'parity/dist')

const g = globalThis as { __parityStore?: ParityStore }

/** Reset to the fixture's seed; render counts start at zero. */
export function resetParityStore(origin = ''): ParityStore {
  const fresh: ParityStore = { ...seedStore(), renders: {}, origin }
  g.__parityStore = Object.assign(g.__parityStore ?? fresh, fresh)
  return g.__parityStore
}
