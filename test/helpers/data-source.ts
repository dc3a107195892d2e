/** The data fixture's source (test/fixtures/data/server/source.ts) lives on globalThis too. */
import { join } from 'node:path'
import { seedData, type DataSource } from '../fixtures/data/server/source.js'
import { FIXTURES } from './build.js'

export const DATA_DIST = join(FIXTURES, 'data/dist')

const g = globalThis as { __dataSource?: DataSource }

/** Reset to the fixture's seed; call counts start at zero. */
export function resetDataSource(origin = ''): DataSource {
  const fresh: DataSource = { ...seedData(), calls: {}, origin }
  g.__dataSource = Object.assign(g.__dataSource ?? fresh, fresh)
  return g.__dataSource
}
