/**
 * The renders dev holds for loading shells' payload requests (plugin/dev-shell.ts): taken
 * once, let go a grace after the render ends, bounded in count, all let go by `clear()`.
 * Time is vitest's fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createShellRenders } from '../../plugin/dev-shell.js'

const GRACE_MS = 1_000

/** A render the test ends by hand. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void
  let reject!: (error: Error) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('renders held for loading shells in dev', () => {
  it('hands the held render to the first payload request of its path, and to no later one', async () => {
    const shells = createShellRenders<string>({ graceMs: GRACE_MS })
    const render = pending<string>()
    shells.hold('/late/a', render.promise)
    expect(shells.join('/late/b')).toBeUndefined()
    const joined = shells.join('/late/a')
    expect(joined).toBe(render.promise)
    expect(shells.join('/late/a')).toBeUndefined()
    expect(shells.size).toBe(0)
    render.resolve('page')
    await expect(joined).resolves.toBe('page')
  })

  it('keeps a render while it runs, then lets it go a grace after it ends, whether it succeeded or failed', async () => {
    const shells = createShellRenders<string>({ graceMs: GRACE_MS })
    const ok = pending<string>()
    const failed = pending<string>()
    failed.promise.catch(() => {})
    shells.hold('/ok', ok.promise)
    shells.hold('/failed', failed.promise)
    await vi.advanceTimersByTimeAsync(GRACE_MS * 10)
    expect(shells.size).toBe(2)
    ok.resolve('page')
    failed.reject(new Error('render failed'))
    await vi.advanceTimersByTimeAsync(GRACE_MS - 1)
    expect(shells.size).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(shells.size).toBe(0)
    expect(shells.join('/ok')).toBeUndefined()
  })

  it('holds a new visit of a path in place of the one before, whose grace does not let the new one go', async () => {
    const shells = createShellRenders<string>({ graceMs: GRACE_MS })
    const first = pending<string>()
    const second = pending<string>()
    shells.hold('/late/a', first.promise)
    first.resolve('first')
    await vi.advanceTimersByTimeAsync(GRACE_MS / 2)
    shells.hold('/late/a', second.promise)
    await vi.advanceTimersByTimeAsync(GRACE_MS)
    expect(shells.size).toBe(1)
    expect(shells.join('/late/a')).toBe(second.promise)
  })

  it('holds at most `max` paths, letting the oldest go first', () => {
    const shells = createShellRenders<string>({ graceMs: GRACE_MS, max: 3 })
    for (let i = 0; i < 10; i++) shells.hold(`/late/${i}`, new Promise<string>(() => {}))
    expect(shells.size).toBe(3)
    expect(shells.join('/late/6')).toBeUndefined()
    expect(shells.join('/late/7')).toBeDefined()
    expect(shells.join('/late/9')).toBeDefined()
  })

  it('lets every held render go on clear()', () => {
    const shells = createShellRenders<string>({ graceMs: GRACE_MS })
    shells.hold('/a', Promise.resolve('a'))
    shells.hold('/b', new Promise<string>(() => {}))
    shells.clear()
    expect(shells.size).toBe(0)
    expect(shells.join('/a')).toBeUndefined()
  })
})
