import { describe, expect, it } from 'vitest'
import { DiskIndex } from '../../runtime/cache/handlers/disk-index.js'

/** A 16-hex name whose low half (the table's home slot) is `lo`. */
const name = (hi: number, lo: number) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')

function indexOf(maxSize = Infinity) {
  const evicted: string[] = []
  const index = new DiskIndex({ maxSize, evict: (n) => evicted.push(n) })
  return { index, evicted }
}

describe('DiskIndex', () => {
  it('counts sizes, replaces a size on set, and forgets on delete', () => {
    const { index } = indexOf()
    index.set(name(1, 1), 100)
    index.set(name(2, 2), 50)
    index.set(name(1, 1), 30)
    expect(index.count).toBe(2)
    expect(index.totalSize).toBe(80)
    expect(index.delete(name(1, 1))).toBe(true)
    expect(index.delete(name(1, 1))).toBe(false)
    expect(index.touch(name(1, 1))).toBe(false)
    expect([...index.names()]).toEqual([name(2, 2)])
    expect(index.totalSize).toBe(50)
  })

  it('evicts the least recently used first, where touch and set both count as use', () => {
    const { index, evicted } = indexOf(300)
    for (const n of [1, 2, 3]) index.set(name(n, n), 100)
    expect(index.touch(name(1, 1))).toBe(true)
    index.set(name(2, 2), 100) // rewritten: now the most recent
    index.set(name(4, 4), 100)
    expect(evicted).toEqual([name(3, 3)])
    index.set(name(5, 5), 150)
    expect(evicted).toEqual([name(3, 3), name(1, 1), name(2, 2)])
    expect([...index.names()]).toEqual([name(4, 4), name(5, 5)])
    expect(index.totalSize).toBe(250)
  })

  it('keeps the file just set even when it alone exceeds the bound (the handler refuses those before)', () => {
    const { index, evicted } = indexOf(100)
    index.set(name(1, 1), 60)
    index.set(name(2, 2), 500)
    expect(evicted).toEqual([name(1, 1)])
    expect([...index.names()]).toEqual([name(2, 2)])
  })

  it('bounds the number of files as well as their total, evicting the least recently used', () => {
    const evicted: string[] = []
    const index = new DiskIndex({ maxSize: Infinity, maxCount: 3, evict: (n) => evicted.push(n) })
    for (const n of [1, 2, 3]) index.set(name(n, n), 10)
    index.touch(name(1, 1))
    index.set(name(4, 4), 10)
    expect(evicted).toEqual([name(2, 2)])
    expect(index.count).toBe(3)
  })

  it('ranks files found on disk below every file used since start, and skips those already indexed', () => {
    const { index, evicted } = indexOf(300)
    index.set(name(1, 1), 100)
    expect(index.addFound(name(2, 2), 100)).toBe(true)
    expect(index.addFound(name(1, 1), 100)).toBe(false) // already used: its rank stands
    expect([...index.names()]).toEqual([name(2, 2), name(1, 1)])
    // Past the bound the least recently used go first, which may be the file just found.
    expect(index.addFound(name(3, 3), 100)).toBe(true)
    expect(index.addFound(name(4, 4), 100)).toBe(true)
    expect(evicted).toEqual([name(4, 4)])
    expect(index.totalSize).toBe(300)
    expect(index.has(name(1, 1))).toBe(true)
  })

  it('indexes names of any other form by their text, and evicts them by it', () => {
    const { index, evicted } = indexOf(200)
    const legacy = 'ab' + '0'.repeat(62)
    index.set(legacy, 100)
    index.set('not-hex', 50)
    expect(index.touch(legacy)).toBe(true)
    index.set(name(7, 7), 100)
    expect(evicted).toEqual(['not-hex'])
    index.set(name(8, 8), 100)
    expect(evicted).toEqual(['not-hex', legacy])
  })

  it('finds every name after colliding home slots, deletions inside probe runs and growth', () => {
    // Names sharing low halves pile into one probe run; names whose low halves wrap around
    // the end of the table make runs that cross it. A Map is the reference.
    const { index } = indexOf()
    const model = new Map<string, number>()
    let seed = 42
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
    const pick = () => {
      const lo = random() < 0.5 ? Math.floor(random() * 8) : 0xffffffff - Math.floor(random() * 8)
      return name(Math.floor(random() * 200), lo)
    }
    for (let step = 0; step < 20_000; step++) {
      const n = pick()
      const roll = random()
      if (roll < 0.5) {
        const bytes = Math.floor(random() * 1000)
        index.set(n, bytes)
        model.delete(n)
        model.set(n, bytes)
      } else if (roll < 0.8) {
        expect(index.delete(n)).toBe(model.delete(n))
      } else {
        const had = model.get(n)
        expect(index.touch(n)).toBe(had !== undefined)
        if (had !== undefined) {
          model.delete(n)
          model.set(n, had)
        }
      }
    }
    expect(model.size).toBeGreaterThan(1000) // the table grew past its first sizes
    expect(index.count).toBe(model.size)
    expect(index.totalSize).toBe([...model.values()].reduce((a, b) => a + b, 0))
    expect([...index.names()]).toEqual([...model.keys()])
    for (const n of model.keys()) expect(index.touch(n)).toBe(true)
  })

  it.each([1, 2, 3, 20])('moves probe runs back across the end of the table (%i names homed before the end)', (k) => {
    // The first table has 512 slots: names homed at slot 510 fill 510, 511, then wrap to 0…;
    // names homed at slot 0 take slot 0 onwards, or queue behind the wrapped ones. Deleting
    // before the end must move back exactly the nodes that may move.
    const atEnd = Array.from({ length: k }, (_, i) => name(i + 1, 510))
    const atStart = Array.from({ length: 10 }, (_, i) => name(i + 1, 0))
    const all = [...atEnd, ...atStart]
    for (const first of all) {
      const { index } = indexOf()
      for (const n of all) index.set(n, 1)
      const kept = new Set(all)
      for (const n of [first, ...all.filter((n) => n !== first).filter((_, i) => i % 3 === 0)]) {
        expect(index.delete(n)).toBe(true)
        kept.delete(n)
        for (const other of all) expect(index.touch(other)).toBe(kept.has(other))
      }
      expect(index.count).toBe(kept.size)
    }
  })

  it('bounds the total under steady churn like a full cache folder', () => {
    const { index, evicted } = indexOf(10_000)
    for (let i = 0; i < 50_000; i++) index.set(name(i, (i * 2654435761) >>> 0), 100 + (i % 7))
    expect(index.totalSize).toBeLessThanOrEqual(10_000)
    expect(index.count + evicted.length).toBe(50_000)
    expect(new Set(evicted).size).toBe(evicted.length)
    // The newest survive, in order.
    const names = [...index.names()]
    expect(names.at(-1)).toBe(name(49_999, (49_999 * 2654435761) >>> 0))
  })
})
