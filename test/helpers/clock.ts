import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** An injected clock: "60 s later" is `clock.advance(60_000)`, not a sleep. */
export interface TestClock {
  now: () => number
  advance(ms: number): void
  set(ms: number): void
}

export function createClock(start = Date.now()): TestClock {
  let t = start
  return {
    now: () => t,
    advance(ms) {
      t += ms
    },
    set(ms) {
      t = ms
    },
  }
}

/**
 * A second after the build in `distDir` prerendered its pages. Tests start their clock
 * here, not at Date.now(): the suite runs for minutes, and a page prerendered with
 * revalidate 60 must still be fresh when a test expects a HIT, however late it runs.
 */
export function afterBuild(distDir: string): number {
  const { builtAt } = JSON.parse(readFileSync(join(distDir, 'prerender-manifest.json'), 'utf8')) as { builtAt: number }
  return builtAt + 1_000
}
