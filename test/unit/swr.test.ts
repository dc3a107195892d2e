import { describe, expect, it } from 'vitest'
import { createMemoryCacheHandler, type MemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import type { CacheEntry, CacheHandler, Lock, SetOptions, TagTimes } from '../../runtime/cache/handlers/types.js'
import { createLogger } from '../../runtime/inspect/debug.js'
import { classify, createSWR, UncacheableResult, type Generate, type Generated, type Resolved, type SWR } from '../../runtime/cache/swr.js'

const BUILD = 'build-1'
const KEY = 'page:build-1:/blog/1'
const LABEL = '/blog/1'
const START = 1_700_000_000_000

function makeEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    kind: 'page',
    value: Buffer.from('<p>page</p>'),
    lastModified: START,
    revalidate: 10,
    expire: 1000,
    tags: ['_isr_path:/blog/1'],
    buildId: BUILD,
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    ...overrides,
  }
}

interface Harness {
  swr: SWR
  handler: CacheHandler
  lines: string[]
  clock: { now: () => number; advance(ms: number): void }
}

function setup(options: { handler?: CacheHandler; timeout?: number; retry?: { min: number; max: number }; staleIfError?: number } = {}): Harness {
  let t = START
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) }
  const lines: string[] = []
  const handler = options.handler ?? createMemoryCacheHandler()
  const swr = createSWR({
    handler,
    buildId: BUILD,
    now: clock.now,
    timeout: options.timeout ?? 5_000,
    retry: options.retry ?? { min: 1_000, max: 4_000 },
    staleIfError: options.staleIfError,
    log: createLogger({ debug: false, write: (line) => lines.push(line) }),
  })
  return { swr, handler, lines, clock }
}

/** A `generate` that counts its calls and renders `body-<n>` on the n-th call. */
function counting(options: { fail?: (call: number) => boolean; store?: Generated['store']; revalidate?: number | false; tags?: string[] } = {}) {
  const state = { calls: 0 }
  const generate: Generate = async ({ startedAt }) => {
    state.calls++
    const call = state.calls
    if (options.fail?.(call)) throw new Error(`render #${call} failed`)
    return {
      entry: makeEntry({
        value: Buffer.from(`body-${call}`),
        lastModified: startedAt,
        revalidate: options.revalidate ?? 10,
        tags: options.tags ?? ['_isr_path:/blog/1'],
      }),
      store: options.store ?? 'durable',
    }
  }
  return Object.assign(state, { generate })
}

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as { then?: unknown })?.then === 'function'

/** Let the background work started by a get settle, whatever its outcome. */
async function settle(swr: SWR, key = KEY): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
  await swr.pending.get(key)?.catch(() => {})
  for (let i = 0; i < 5; i++) await Promise.resolve()
}

const body = (resolved: Resolved) => resolved.entry.value.toString()

function errorLines(lines: string[]): string[] {
  return lines.filter((line) => line.startsWith('[vite-isr] error:'))
}

describe('classify', () => {
  const entry = makeEntry({ lastModified: 1_000, revalidate: 10, expire: 100 })
  const none: TagTimes = { expired: 0, stale: 0 }

  it('calls an entry younger than its revalidate window fresh', () => {
    expect(classify(entry, none, 1_000)).toBe('fresh')
    expect(classify(entry, none, 1_000 + 9_999)).toBe('fresh')
  })

  it('calls an entry stale from the moment its revalidate window has passed', () => {
    expect(classify(entry, none, 1_000 + 10_000)).toBe('stale')
    expect(classify(entry, none, 1_000 + 99_999)).toBe('stale')
  })

  it('calls an entry expired from the moment its expire window has passed', () => {
    expect(classify(entry, none, 1_000 + 100_000)).toBe('expired')
  })

  it('never calls an entry with revalidate false stale by age, only expired past expire', () => {
    const forever = makeEntry({ lastModified: 1_000, revalidate: false, expire: 100 })
    expect(classify(forever, none, 1_000 + 99_999)).toBe('fresh')
    expect(classify(forever, none, 1_000 + 100_000)).toBe('expired')
  })

  it('calls an entry stale when one of its tags was marked stale after it was rendered', () => {
    expect(classify(entry, { expired: 0, stale: 1_001 }, 1_000)).toBe('stale')
  })

  it('ignores tag invalidations that happened before the render started', () => {
    expect(classify(entry, { expired: 999, stale: 999 }, 1_500)).toBe('fresh')
  })

  it('counts an invalidation in the same millisecond as the render start, as Next.js does (the render may have read old data)', () => {
    expect(classify(entry, { expired: 1_000, stale: 0 }, 1_500)).toBe('expired')
    expect(classify(entry, { expired: 0, stale: 1_000 }, 1_500)).toBe('stale')
  })

  it('calls an entry expired when one of its tags expired after it was rendered, even when it is young', () => {
    expect(classify(entry, { expired: 1_001, stale: 0 }, 1_001)).toBe('expired')
    expect(classify(entry, { expired: 1_001, stale: 1_001 }, 1_001)).toBe('expired')
  })
})

describe('createSWR', () => {
  describe('miss and hit', () => {
    it('renders a missing key once, stores it, and answers the next get synchronously as a HIT', async () => {
      const { swr, handler } = setup()
      const gen = counting()

      const first = swr.get(KEY, gen.generate, LABEL)
      expect(isPromise(first)).toBe(true)
      const missed = await first
      expect(missed.state).toBe('MISS')
      expect(body(missed)).toBe('body-1')
      expect(gen.calls).toBe(1)
      expect(handler.get(KEY)).toBe(missed.entry)

      const second = swr.get(KEY, gen.generate, LABEL)
      expect(isPromise(second)).toBe(false)
      expect(second).toEqual({ entry: missed.entry, state: 'HIT' })
      expect((second as Resolved).entry).toBe(missed.entry)
      expect(gen.calls).toBe(1)
    })

    it('makes 50 concurrent gets of a missing key share one render and the same entry', async () => {
      const { swr } = setup()
      const gen = counting()

      const results = await Promise.all(Array.from({ length: 50 }, () => swr.get(KEY, gen.generate, LABEL)))
      expect(gen.calls).toBe(1)
      for (const result of results) {
        expect(result.state).toBe('MISS')
        expect(result.entry).toBe(results[0].entry)
      }
      expect(swr.pending.size).toBe(0)
    })

    it('rejects a get when there is nothing to serve and the render failed, logging it once', async () => {
      const { swr, lines } = setup()
      const gen = counting({ fail: () => true })

      const results = await Promise.allSettled(Array.from({ length: 5 }, () => swr.get(KEY, gen.generate, LABEL)))
      expect(results.every((r) => r.status === 'rejected')).toBe(true)
      expect(gen.calls).toBe(1)
      expect(errorLines(lines)).toHaveLength(1)
      expect(errorLines(lines)[0]).toContain(LABEL)
    })

    it('treats an entry of another build as missing and renders it anew', async () => {
      const { swr, handler } = setup()
      handler.set(KEY, makeEntry({ buildId: 'older-build' }))
      const gen = counting()

      const result = swr.get(KEY, gen.generate, LABEL)
      expect(isPromise(result)).toBe(true)
      const resolved = await result
      expect(resolved.state).toBe('MISS')
      expect(body(resolved)).toBe('body-1')
      expect(resolved.entry.buildId).toBe(BUILD)
      expect(gen.calls).toBe(1)
    })
  })

  describe('stale while revalidate', () => {
    it('serves a stale entry at once and runs exactly one background regeneration for 100 gets', async () => {
      const { swr, clock } = setup()
      const gen = counting()
      const original = (await swr.get(KEY, gen.generate, LABEL)).entry

      clock.advance(10_000)
      const results = Array.from({ length: 100 }, () => swr.get(KEY, gen.generate, LABEL))
      for (const result of results) {
        expect(isPromise(result)).toBe(false)
        expect(result).toEqual({ entry: original, state: 'STALE' })
      }
      expect(swr.pending.size).toBe(1)

      await settle(swr)
      expect(gen.calls).toBe(2)

      const after = swr.get(KEY, gen.generate, LABEL) as Resolved
      expect(after.state).toBe('HIT')
      expect(body(after)).toBe('body-2')
      expect(after.entry.lastModified).toBe(START + 10_000)
      expect(gen.calls).toBe(2)
    })

    it('keeps serving the stale entry after a failed regeneration and logs an error naming the page', async () => {
      const { swr, clock, lines } = setup()
      const gen = counting({ fail: (call) => call > 1 })
      const original = (await swr.get(KEY, gen.generate, LABEL)).entry

      clock.advance(10_000)
      expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      await settle(swr)
      expect(gen.calls).toBe(2)

      const errors = errorLines(lines)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(`regenerating ${LABEL} failed`)
      expect(errors[0]).toContain('render #2 failed')

      expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
    })

    it('logs a render that ends in an uncacheable answer as one warning without a stack, keeps the stale entry and backs off', async () => {
      const { swr, clock, lines } = setup({ retry: { min: 1_000, max: 4_000 } })
      let calls = 0
      const generate: Generate = async (context) => {
        calls++
        if (calls > 1) throw new UncacheableResult('[vite-isr] GET /feed.xml answered 503; not caching it')
        return counting().generate(context)
      }
      const original = (await swr.get(KEY, generate, LABEL)).entry

      clock.advance(10_000)
      expect(swr.get(KEY, generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      await settle(swr)
      expect(calls).toBe(2)
      expect(errorLines(lines)).toEqual([])
      expect(lines).toEqual([`[vite-isr] warning: regenerating ${LABEL}: GET /feed.xml answered 503; not caching it; the last good copy keeps being served (attempt 1; next try in 1s or later)`])

      expect(swr.get(KEY, generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      await settle(swr)
      expect(calls).toBe(2)
    })

    it('backs off after failures, doubling the wait up to retry.max, and a success clears the back-off', async () => {
      const { swr, clock, lines } = setup({ retry: { min: 1_000, max: 4_000 } })
      let failing = true
      const gen = counting({ fail: (call) => call > 1 && failing })
      await swr.get(KEY, gen.generate, LABEL)
      clock.advance(10_000)

      /** Get, let the background work settle, and say whether a render ran. */
      const attempt = async (): Promise<boolean> => {
        const before = gen.calls
        const result = swr.get(KEY, gen.generate, LABEL) as Resolved
        expect(result.state).toBe('STALE')
        await settle(swr)
        return gen.calls > before
      }

      expect(await attempt()).toBe(true) // failure 1: wait 1 s
      expect(await attempt()).toBe(false)
      clock.advance(999)
      expect(await attempt()).toBe(false)
      clock.advance(1)
      expect(await attempt()).toBe(true) // failure 2: wait 2 s
      clock.advance(1_999)
      expect(await attempt()).toBe(false)
      clock.advance(1)
      expect(await attempt()).toBe(true) // failure 3: wait 4 s
      clock.advance(3_999)
      expect(await attempt()).toBe(false)
      clock.advance(1)
      expect(await attempt()).toBe(true) // failure 4: wait capped at 4 s, not 8 s
      clock.advance(3_999)
      expect(await attempt()).toBe(false)
      expect(errorLines(lines).map((l) => l.split('\n')[0])).toEqual([
        `[vite-isr] error: regenerating ${LABEL} failed (attempt 1; next try in 1s or later)`,
        `[vite-isr] error: regenerating ${LABEL} failed (attempt 2; next try in 2s or later)`,
        `[vite-isr] error: regenerating ${LABEL} failed (attempt 3; next try in 4s or later)`,
        `[vite-isr] error: regenerating ${LABEL} failed (attempt 4; next try in 4s or later)`,
      ])

      failing = false
      clock.advance(1)
      expect(await attempt()).toBe(true) // success
      const fresh = swr.get(KEY, gen.generate, LABEL) as Resolved
      expect(fresh.state).toBe('HIT')
      expect(body(fresh)).toBe(`body-${gen.calls}`)

      // The success cleared the back-off: the next failure waits retry.min again.
      failing = true
      clock.advance(10_000)
      expect(await attempt()).toBe(true)
      expect(errorLines(lines).at(-1)).toContain('(attempt 1; next try in 1s or later)')
      clock.advance(1_000)
      expect(await attempt()).toBe(true)
    })

    it('counts a regeneration slower than the timeout as a failure, aborts it and keeps serving the stale entry', async () => {
      const { swr, clock, lines } = setup({ timeout: 50 })
      let calls = 0
      let signal: AbortSignal | undefined
      const generate: Generate = (context) => {
        calls++
        if (calls === 1) return Promise.resolve({ entry: makeEntry({ lastModified: context.startedAt }), store: 'durable' })
        signal = context.signal
        return new Promise<Generated>(() => {})
      }
      const original = (await swr.get(KEY, generate, LABEL)).entry

      clock.advance(10_000)
      expect(swr.get(KEY, generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      expect(swr.pending.size).toBe(1)
      await settle(swr)

      expect(calls).toBe(2)
      expect(swr.pending.size).toBe(0)
      expect(signal?.aborted).toBe(true)
      const errors = errorLines(lines)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(`regenerating ${LABEL} failed`)
      expect(errors[0]).toContain('timed out')
      expect(swr.get(KEY, generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      expect(calls).toBe(2)
    })
  })

  describe('tag invalidation', () => {
    it("renders fresh, blocking, on the next get after a tag was invalidated with mode 'expire'", async () => {
      const { swr, handler, clock } = setup()
      const gen = counting({ tags: ['posts'] })
      const original = (await swr.get(KEY, gen.generate, LABEL)).entry

      clock.advance(1_000)
      handler.invalidateTags(['posts'], { at: clock.now(), mode: 'expire' })
      clock.advance(1)

      const result = swr.get(KEY, gen.generate, LABEL)
      expect(isPromise(result)).toBe(true)
      const resolved = await result
      expect(resolved.state).toBe('MISS')
      expect(resolved.entry).not.toBe(original)
      expect(body(resolved)).toBe('body-2')
      expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: resolved.entry, state: 'HIT' })
      expect(gen.calls).toBe(2)
    })

    it("serves the old entry as STALE when the render after an 'expire' invalidation fails (stale-if-error)", async () => {
      const { swr, handler, clock, lines } = setup()
      const gen = counting({ tags: ['posts'], fail: (call) => call > 1 })
      const original = (await swr.get(KEY, gen.generate, LABEL)).entry

      clock.advance(1_000)
      handler.invalidateTags(['posts'], { at: clock.now(), mode: 'expire' })
      clock.advance(1)

      const resolved = await swr.get(KEY, gen.generate, LABEL)
      expect(resolved).toEqual({ entry: original, state: 'STALE' })
      expect(gen.calls).toBe(2)
      expect(errorLines(lines)[0]).toContain(`regenerating ${LABEL} failed`)

      // Still backing off: served at once without another render.
      expect(await swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      expect(gen.calls).toBe(2)
    })

    it("serves stale and regenerates in the background after a tag was invalidated with mode 'stale'", async () => {
      const { swr, handler, clock } = setup()
      const gen = counting({ tags: ['posts'], revalidate: false })
      const original = (await swr.get(KEY, gen.generate, LABEL)).entry

      clock.advance(1_000)
      handler.invalidateTags(['posts'], { at: clock.now(), mode: 'stale' })
      clock.advance(1)

      for (let i = 0; i < 10; i++) expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: original, state: 'STALE' })
      await settle(swr)
      expect(gen.calls).toBe(2)
      const after = swr.get(KEY, gen.generate, LABEL) as Resolved
      expect(after.state).toBe('HIT')
      expect(body(after)).toBe('body-2')
    })

    it('leaves entries without the invalidated tag fresh', async () => {
      const { swr, handler, clock } = setup()
      const gen = counting({ tags: ['posts'] })
      const original = (await swr.get(KEY, gen.generate, LABEL)).entry
      clock.advance(1_000)
      handler.invalidateTags(['users'], { at: clock.now(), mode: 'expire' })
      clock.advance(1)
      expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: original, state: 'HIT' })
    })
  })

  describe('expire', () => {
    it('serves an entry stale until its expire window has passed, then re-renders it instead', async () => {
      const { swr, handler, clock } = setup()
      const old = makeEntry({ revalidate: 10, expire: 100 })
      handler.set(KEY, old)
      const gen = counting()

      clock.advance(99_999)
      expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry: old, state: 'STALE' })
      await settle(swr)
      expect(gen.calls).toBe(1)

      // Put the old entry back and let it outlive `expire`.
      handler.set(KEY, old)
      clock.advance(1)
      const result = swr.get(KEY, gen.generate, LABEL)
      expect(isPromise(result)).toBe(true)
      const resolved = await result
      expect(resolved.state).toBe('MISS')
      expect(resolved.entry).not.toBe(old)
      expect(body(resolved)).toBe('body-2')
      expect(gen.calls).toBe(2)
    })
  })

  describe('get, synchronous-only', () => {
    it('returns undefined for a missing key without starting a render', () => {
      const { swr } = setup()
      const gen = counting()
      expect(swr.get(KEY, gen.generate, LABEL, { sync: true })).toBeUndefined()
      expect(swr.pending.size).toBe(0)
      expect(gen.calls).toBe(0)
    })

    it('returns undefined for an entry past expire, or of a tag that expired, without starting a render', () => {
      const { swr, handler, clock } = setup()
      const gen = counting()
      handler.set(KEY, makeEntry({ expire: 100, tags: ['posts'] }))
      clock.advance(100_000)
      expect(swr.get(KEY, gen.generate, LABEL, { sync: true })).toBeUndefined()

      handler.set(KEY, makeEntry({ lastModified: clock.now(), tags: ['posts'] }))
      clock.advance(1)
      handler.invalidateTags(['posts'], { at: clock.now(), mode: 'expire' })
      expect(swr.get(KEY, gen.generate, LABEL, { sync: true })).toBeUndefined()

      expect(swr.pending.size).toBe(0)
      expect(gen.calls).toBe(0)
    })

    it('returns undefined for an entry of another build', () => {
      const { swr, handler } = setup()
      const gen = counting()
      handler.set(KEY, makeEntry({ buildId: 'older-build' }))
      expect(swr.get(KEY, gen.generate, LABEL, { sync: true })).toBeUndefined()
      expect(gen.calls).toBe(0)
    })

    it('returns a fresh entry as a HIT', () => {
      const { swr, handler } = setup()
      const gen = counting()
      const entry = makeEntry()
      handler.set(KEY, entry)
      expect(swr.get(KEY, gen.generate, LABEL, { sync: true })).toEqual({ entry, state: 'HIT' })
      expect(swr.pending.size).toBe(0)
      expect(gen.calls).toBe(0)
    })

    it('returns a stale entry as STALE and starts exactly one background regeneration', async () => {
      const { swr, handler, clock } = setup()
      const gen = counting()
      const entry = makeEntry()
      handler.set(KEY, entry)
      clock.advance(10_000)
      for (let i = 0; i < 20; i++) expect(swr.get(KEY, gen.generate, LABEL, { sync: true })).toEqual({ entry, state: 'STALE' })
      expect(swr.pending.size).toBe(1)
      await settle(swr)
      expect(gen.calls).toBe(1)
      expect(swr.get(KEY, gen.generate, LABEL, { sync: true })?.state).toBe('HIT')
    })
  })

  describe('store modes', () => {
    it("serves a result with store 'none' but never stores it", async () => {
      const { swr, handler } = setup()
      const gen = counting({ store: 'none' })
      const first = await swr.get(KEY, gen.generate, LABEL)
      expect(first.state).toBe('MISS')
      expect(body(first)).toBe('body-1')
      expect(handler.get(KEY)).toBeUndefined()

      const second = await swr.get(KEY, gen.generate, LABEL)
      expect(second.state).toBe('MISS')
      expect(body(second)).toBe('body-2')
      expect(gen.calls).toBe(2)
    })

    it("stores a result with store 'memory' as memoryOnly, and 'durable' without it", async () => {
      const memory = createMemoryCacheHandler()
      const sets: Array<{ key: string; options: SetOptions | undefined }> = []
      const handler: CacheHandler = {
        ...memory,
        name: 'recording',
        get: (key) => memory.get(key),
        peek: (key) => memory.peek(key),
        getTagTimes: (tags) => memory.getTagTimes(tags),
        set(key, entry, options) {
          sets.push({ key, options })
          memory.set(key, entry, options)
        },
      }
      const { swr } = setup({ handler })

      const notFound = await swr.get('page:build-1:/missing', counting({ store: 'memory' }).generate, '/missing')
      expect(sets).toEqual([{ key: 'page:build-1:/missing', options: { memoryOnly: true } }])
      expect(memory.get('page:build-1:/missing')).toBe(notFound.entry)

      await swr.get(KEY, counting({ store: 'durable' }).generate, LABEL)
      expect(sets[1]).toEqual({ key: KEY, options: undefined })
    })
  })

  describe('store lock', () => {
    /** The real memory handler plus a `lock`, standing in for a store shared by several instances. */
    function withLock(memory: MemoryCacheHandler, lock: (key: string, ttlMs: number) => Promise<Lock | null>): CacheHandler {
      return {
        name: 'locking',
        get: (key) => memory.get(key),
        peek: (key) => memory.peek(key),
        set: (key, entry, options) => memory.set(key, entry, options),
        delete: (key) => memory.delete(key),
        invalidateTags: (tags, invalidation) => memory.invalidateTags(tags, invalidation),
        getTagTimes: (tags) => memory.getTagTimes(tags),
        lock,
      }
    }

    it('serves a stale entry and runs no regeneration while another instance holds the lock', async () => {
      const memory = createMemoryCacheHandler()
      const locks: string[] = []
      const handler = withLock(memory, async (key) => {
        locks.push(key)
        return null
      })
      const { swr, clock } = setup({ handler })
      const entry = makeEntry()
      memory.set(KEY, entry)
      const gen = counting()

      clock.advance(10_000)
      expect(swr.get(KEY, gen.generate, LABEL)).toEqual({ entry, state: 'STALE' })
      await settle(swr)
      expect(locks).toEqual([KEY])
      expect(gen.calls).toBe(0)
      expect(memory.get(KEY)).toBe(entry)
    })

    /** A lock that behaves like a store's mutex: null while anyone holds the key. */
    function mutex() {
      const held = new Set<string>()
      const state = { calls: 0 }
      const lock = async (key: string): Promise<Lock | null> => {
        state.calls++
        if (held.has(key)) return null
        held.add(key)
        return { release: async () => void held.delete(key) }
      }
      return Object.assign(state, { lock })
    }

    it("makes concurrent gets after an 'expire' invalidation wait for this instance's render instead of serving the old entry", async () => {
      const memory = createMemoryCacheHandler()
      const store = mutex()
      const { swr, clock } = setup({ handler: withLock(memory, store.lock) })
      const old = makeEntry({ tags: ['posts'] })
      memory.set(KEY, old)
      const gen = counting({ tags: ['posts'] })

      clock.advance(1_000)
      memory.invalidateTags(['posts'], { at: clock.now(), mode: 'expire' })
      clock.advance(1)

      const results = await Promise.all(Array.from({ length: 20 }, () => swr.get(KEY, gen.generate, LABEL)))
      expect(results.map((r) => `${r.state} ${body(r)}`)).toEqual(Array(20).fill('MISS body-1'))
      expect(gen.calls).toBe(1)
      expect(store.calls).toBe(1)
    })

    it('asks the store for the lock once however many stale gets arrive while it is being taken', async () => {
      const memory = createMemoryCacheHandler()
      const store = mutex()
      const { swr, clock } = setup({ handler: withLock(memory, store.lock) })
      memory.set(KEY, makeEntry())
      const gen = counting()

      clock.advance(10_000)
      for (let i = 0; i < 20; i++) expect((swr.get(KEY, gen.generate, LABEL) as Resolved).state).toBe('STALE')
      await settle(swr)
      expect(store.calls).toBe(1)
      expect(gen.calls).toBe(1)
    })

    it('regenerates under the lock when it is granted, and releases it afterwards', async () => {
      const memory = createMemoryCacheHandler()
      const events: string[] = []
      const handler = withLock(memory, async (key, ttlMs) => {
        events.push(`lock ${key} ${ttlMs}`)
        return { release: async () => void events.push('release') }
      })
      const { swr, clock } = setup({ handler, timeout: 1_000 })
      memory.set(KEY, makeEntry())
      const gen = counting()

      clock.advance(10_000)
      expect((swr.get(KEY, gen.generate, LABEL) as Resolved).state).toBe('STALE')
      await settle(swr)
      await new Promise((resolve) => setTimeout(resolve, 0))
      expect(gen.calls).toBe(1)
      expect(events).toEqual([`lock ${KEY} 6000`, 'release'])
      expect(body(swr.get(KEY, gen.generate, LABEL) as Resolved)).toBe('body-1')
    })
  })
})

describe('when the store itself fails', () => {
  it('serves a good render as a MISS even when storing it fails, and logs the store error', async () => {
    const memory = createMemoryCacheHandler()
    const handler: CacheHandler = {
      ...memory,
      name: 'broken-disk',
      set: () => Promise.reject(new Error('ENOSPC: no space left on device')),
    }
    const { swr, lines } = setup({ handler })
    const gen = counting()
    const resolved = await swr.get(KEY, gen.generate, LABEL)
    expect(resolved.state).toBe('MISS')
    expect(body(resolved)).toBe('body-1')
    expect(lines.join('\n')).toContain('storing /blog/1 in the broken-disk cache failed; serving it uncached')
    expect(lines.join('\n')).toContain('ENOSPC')
    // nothing was recorded as a render failure: the next request renders at once, no back-off
    await swr.get(KEY, gen.generate, LABEL)
    expect(gen.calls).toBe(2)
  })

  it('still regenerates a stale entry when taking the store lock throws', async () => {
    const memory = createMemoryCacheHandler()
    const handler: CacheHandler = {
      ...memory,
      name: 'unreachable-lock',
      lock: () => Promise.reject(new Error('connection refused')),
    }
    const { swr, clock, lines } = setup({ handler })
    memory.set(KEY, makeEntry())
    clock.advance(10_000)
    const gen = counting()
    expect((await swr.get(KEY, gen.generate, LABEL)).state).toBe('STALE')
    await settle(swr)
    expect(gen.calls).toBe(1)
    expect(body(await swr.get(KEY, gen.generate, LABEL))).toBe('body-1')
    expect(lines.join('\n')).toContain('taking the regeneration lock for /blog/1 failed; rendering without it')
  })
})

describe('stale-if-error limit', () => {
  it('answers an expired entry whose new render fails only while it is younger than staleIfError', async () => {
    const { swr, handler, clock } = setup({ staleIfError: 60 })
    await handler.set(KEY, makeEntry({ lastModified: START }))
    const failing = counting({ fail: () => true })
    clock.advance(30_000)
    await handler.invalidateTags(['_isr_path:/blog/1'], { at: clock.now(), mode: 'expire' })
    clock.advance(1)
    const young = await swr.get(KEY, failing.generate, LABEL)
    expect(young.state).toBe('STALE')
    expect(body(young)).toBe('<p>page</p>')

    clock.advance(31_000) // the copy is now 61 s old, past the 60 s limit
    await expect(swr.get(KEY, failing.generate, LABEL)).rejects.toThrow(/older than staleIfError|render #/)
  })
})
