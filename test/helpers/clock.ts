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
