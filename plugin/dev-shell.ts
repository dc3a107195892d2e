/**
 * The loading shell in `vite` (dev). Dev's store keeps nothing, so the payload request a
 * shell makes once hydrated would find no page and render it a second time. The render the
 * shell started is held here, by cache key, for that request to join: taken by the first
 * payload request of the path, else let go a short while after the render ends. Bounded in
 * count and in time; any edit under the root lets them all go (the next render must see it).
 */

/**
 * How long a finished render waits for its shell's payload request. A first dev visit
 * transforms the client modules before the page hydrates and asks: seconds, not minutes.
 */
export const DEV_SHELL_GRACE_MS = 10_000
/** Paths held at once; past it the oldest is let go (its payload request renders anew). */
export const DEV_SHELL_MAX_HELD = 64

export interface ShellRenders<T> {
  /** Hold the render a shell for `key` started (replacing one held before). */
  hold(key: string, render: Promise<T>): void
  /** The render held for `key`, let go as it is taken; `undefined` when none is held. */
  join(key: string): Promise<T> | undefined
  /** Let every held render go. */
  clear(): void
  readonly size: number
}

export interface ShellRendersOptions {
  /** @default DEV_SHELL_GRACE_MS */
  graceMs?: number
  /** @default DEV_SHELL_MAX_HELD */
  max?: number
}

export function createShellRenders<T>(options: ShellRendersOptions = {}): ShellRenders<T> {
  const graceMs = options.graceMs ?? DEV_SHELL_GRACE_MS
  const max = options.max ?? DEV_SHELL_MAX_HELD
  const held = new Map<string, { render: Promise<T>; timer?: ReturnType<typeof setTimeout> }>()

  const release = (key: string) => {
    const entry = held.get(key)
    if (entry === undefined) return
    clearTimeout(entry.timer)
    held.delete(key)
  }

  return {
    hold(key, render) {
      release(key)
      const entry: { render: Promise<T>; timer?: ReturnType<typeof setTimeout> } = { render }
      held.set(key, entry)
      if (held.size > max) release(held.keys().next().value!)
      const ended = () => {
        if (held.get(key) !== entry) return
        entry.timer = setTimeout(() => held.get(key) === entry && held.delete(key), graceMs)
        entry.timer.unref?.()
      }
      render.then(ended, ended)
    },
    join(key) {
      const entry = held.get(key)
      if (entry === undefined) return undefined
      release(key)
      return entry.render
    },
    clear() {
      for (const key of [...held.keys()]) release(key)
    },
    get size() {
      return held.size
    },
  }
}
