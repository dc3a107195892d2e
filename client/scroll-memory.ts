/**
 * Scroll positions for Back / Forward, kept in each history entry's own state: they live
 * exactly as long as the entries (nothing to bound) and survive a reload of the page.
 */

export interface HistoryLike {
  readonly state: unknown
  replaceState(data: unknown, unused: string, url?: string | URL | null): void
}

export interface ScrollPosition {
  x: number
  y: number
}

const KEY = '__isrScroll'

/** Record `position` in the current history entry, keeping whatever else its state holds. */
export function rememberScroll(history: HistoryLike, position: ScrollPosition): void {
  const state = history.state
  const base = typeof state === 'object' && state !== null ? state : {}
  history.replaceState({ ...base, [KEY]: { x: position.x, y: position.y } }, '')
}

/** The position remembered in a history entry's state, if any. */
export function rememberedScroll(state: unknown): ScrollPosition | undefined {
  if (typeof state !== 'object' || state === null) return undefined
  const saved = (state as Record<string, unknown>)[KEY] as Partial<ScrollPosition> | undefined
  if (!saved || !Number.isFinite(saved.x) || !Number.isFinite(saved.y)) return undefined
  return { x: saved.x!, y: saved.y! }
}
