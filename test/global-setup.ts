/** Build the fixture apps once, with a real `vite build`, before any test runs. */
import { buildFixture } from './helpers/build.js'

export default async function setup(): Promise<void> {
  await buildFixture('basic')
  await buildFixture('data')
  await buildFixture('parity')
  await buildFixture('handlers')
}
