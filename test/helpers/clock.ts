import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** An injected clock: "60 s later" is `clock.advance(60_000)`, not a sleep. */
export interface TestClock {
  now: () => number
  advance(ms: number): void
  set(ms: number): void
}

/**
 * For servers on the real clock: let a few milliseconds pass. An invalidation and a render
 * that starts in the same millisecond count the render as older (as Next.js does: it may
 * have read the old data), so a test that expects MISS, then HIT keeps the two apart.
 */
export const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5))

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
