/**
 * How many times each stress test repeats its promise: a short run inside `npm test`, the
 * long one under `npm run test:stress` (npm names the running script in npm_lifecycle_event).
 * STRESS_RUNS / STRESS_BUILDS override either.
 */
const long = process.env.npm_lifecycle_event === 'test:stress'
export const RUNS = Number(process.env.STRESS_RUNS ?? (long ? 300 : 40))
/** Full `vite build`s looped by the build test (each takes seconds). */
export const BUILDS = Number(process.env.STRESS_BUILDS ?? (long ? 30 : 3))

/** A whole number from `min` to `max`, both included. */
export const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))

/** Counts of one promise over many runs: the worst one seen and the runs that broke it. */
export function tally(name: string) {
  let worst = 0
  let runs = 0
  const violations: string[] = []
  return {
    add(count: number, expected: number, detail = '') {
      runs++
      worst = Math.max(worst, count)
      if (count !== expected) violations.push(`run ${runs}: ${count} (expected ${expected}) ${detail}`.trim())
    },
    /** For a promise that holds only within bounds: `min` <= count <= `max`. */
    within(count: number, min: number, max: number, detail = '') {
      runs++
      worst = Math.max(worst, count)
      if (count < min || count > max) violations.push(`run ${runs}: ${count} (expected ${min} to ${max}) ${detail}`.trim())
    },
    report() {
      console.log(`${name}: ${runs} runs, worst count ${worst}, violations ${violations.length}`)
      return violations
    },
  }
}
