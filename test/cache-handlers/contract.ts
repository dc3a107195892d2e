import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CacheEntry, CacheHandler } from '../../runtime/cache/handlers/types.js'

export interface ContractOptions {
  /** The handler keeps entries and tag times across instances on the same storage. */
  durable?: boolean
  /**
   * The store stamps invalidations with its own clock (Redis's `TIME`), so a new instance
   * sees them at about when they were made on the wall clock, not at the `at` it was given.
   */
  storeClock?: boolean
}

export function makeEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    kind: 'page',
    value: Buffer.from('<html>hello</html>'),
    lastModified: 1_700_000_000_000,
    revalidate: 60,
    expire: 31_536_000,
    tags: ['_N_T_/', '_N_T_/index'],
    buildId: 'build-1',
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    ...overrides,
  }
}

/**
 * Behaviour every cache handler must have. `create` is called before each test (and
 * again to reopen the same storage when `durable`); the handlers are disposed after it.
 */
export function testCacheHandler(
  name: string,
  create: () => Promise<CacheHandler> | CacheHandler,
  opts: ContractOptions = {},
): void {
  describe(`cache handler contract: ${name}`, () => {
    let handler: CacheHandler
    const opened: CacheHandler[] = []
    const open = async () => {
      const h = await create()
      opened.push(h)
      return h
    }

    beforeEach(async () => {
      handler = await open()
    })
    afterEach(async () => {
      for (const h of opened.splice(0)) await h.dispose?.()
    })

    async function expectRoundTrip(h: CacheHandler, key: string, entry: CacheEntry) {
      const got = await h.get(key)
      expect(got).toBeDefined()
      // Bodies are compared apart: toEqual walks a Buffer byte by byte, far too slowly for megabytes.
      const { value, ...fields } = got!
      const { value: expected, ...expectedFields } = entry
      expect(fields).toEqual(expectedFields)
      expect(Buffer.isBuffer(value)).toBe(true)
      expect(value.length).toBe(expected.length)
      expect(value.equals(expected)).toBe(true)
    }

    it('has a name', () => {
      expect(typeof handler.name).toBe('string')
      expect(handler.name.length).toBeGreaterThan(0)
    })

    it('reads a missing key as undefined', async () => {
      expect(await handler.get('/missing')).toBeUndefined()
    })

    it('returns an equal entry after set: body bytes and every field', async () => {
      const entry = makeEntry({
        kind: 'page',
        value: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        lastModified: 1_712_345_678_901,
        revalidate: 30,
        expire: 3600,
        tags: ['posts', '_N_T_/blog/[slug]', '_N_T_/blog/hello'],
        buildId: 'b-42',
        status: 308,
        headers: { location: '/blog/hello-world', 'x-custom': 'ünï' },
      })
      await handler.set('/blog/hello', entry)
      await expectRoundTrip(handler, '/blog/hello', entry)
    })

    it('round-trips edge values: empty body, revalidate false, infinite expire, no tags or headers', async () => {
      const entry = makeEntry({
        kind: 'data',
        value: Buffer.alloc(0),
        revalidate: false,
        expire: Infinity,
        tags: [],
        headers: {},
        status: 200,
      })
      await handler.set('data:empty', entry)
      await expectRoundTrip(handler, 'data:empty', entry)
    })

    it('round-trips a 2 MB body', async () => {
      const value = Buffer.alloc(2 * 1024 * 1024)
      for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff
      const entry = makeEntry({ value })
      await handler.set('/big', entry)
      await expectRoundTrip(handler, '/big', entry)
    })

    it('replaces the previous entry on set', async () => {
      await handler.set('/page', makeEntry({ value: Buffer.from('old'), lastModified: 1 }))
      const newer = makeEntry({ value: Buffer.from('new'), lastModified: 2, tags: ['t'] })
      await handler.set('/page', newer)
      await expectRoundTrip(handler, '/page', newer)
    })

    it('deletes an entry, and deleting a missing key is fine', async () => {
      await handler.set('/page', makeEntry())
      await handler.delete('/page')
      expect(await handler.get('/page')).toBeUndefined()
      await handler.delete('/never-set')
    })

    it('answers peek, when it has one, synchronously with the current entry or undefined', async () => {
      if (!handler.peek) return
      const entry = makeEntry({ value: Buffer.from('peeked') })
      expect(handler.peek('/peek')).toBeUndefined()
      await handler.set('/peek', makeEntry({ value: Buffer.from('older') }))
      await handler.set('/peek', entry)
      const held = handler.peek('/peek')
      expect(held).not.toBeInstanceOf(Promise)
      if (held !== undefined) expect(held).toEqual(entry)
      await handler.delete('/peek')
      expect(handler.peek('/peek')).toBeUndefined()
    })

    it('keeps similar keys apart', async () => {
      const keys = ['/a', '/a/', '/A', '/a?', 'a']
      for (const key of keys) await handler.set(key, makeEntry({ value: Buffer.from(key) }))
      for (const key of keys) expect((await handler.get(key))?.value.toString()).toBe(key)
    })

    it.each([
      ['query and fragment', '/a/b?x=1&y=%20#frag'],
      ['unicode', '/ünïcødé/日本語/🎉'],
      ['1000 characters', '/' + 'x'.repeat(999)],
      ['path traversal', '../../etc/passwd'],
      ['backslashes and drive', 'C:\\Windows\\..\\x'],
      ['control characters', 'a\nb\0c\td'],
    ])('round-trips a key with %s', async (_, key) => {
      const entry = makeEntry({ value: Buffer.from(`body of ${key}`) })
      await handler.set(key, entry)
      await expectRoundTrip(handler, key, entry)
      await handler.delete(key)
      expect(await handler.get(key)).toBeUndefined()
    })

    it('runs 200 concurrent sets of distinct keys, then all gets', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => `/concurrent/${i}`)
      await Promise.all(keys.map((key, i) => handler.set(key, makeEntry({ value: Buffer.from(`v${i}`) }))))
      const got = await Promise.all(keys.map((key) => handler.get(key)))
      got.forEach((entry, i) => expect(entry?.value.toString()).toBe(`v${i}`))
    })

    it('leaves one whole entry after concurrent sets of the same key', async () => {
      const values = Array.from({ length: 20 }, (_, i) => `value-${i}-`.repeat(100))
      await Promise.all(values.map((v) => handler.set('/same', makeEntry({ value: Buffer.from(v) }))))
      expect(values).toContain((await handler.get('/same'))?.value.toString())
    })

    describe('tags', () => {
      it('gives zero times for tags never invalidated, and for no tags', async () => {
        expect(await handler.getTagTimes(['never'])).toEqual({ expired: 0, stale: 0 })
        expect(await handler.getTagTimes([])).toEqual({ expired: 0, stale: 0 })
      })

      it('records the time per mode for every tag of the call', async () => {
        await handler.invalidateTags(['a', 'b'], { at: 1000, mode: 'expire' })
        await handler.invalidateTags(['b'], { at: 2000, mode: 'stale' })
        expect(await handler.getTagTimes(['a'])).toEqual({ expired: 1000, stale: 0 })
        expect(await handler.getTagTimes(['b'])).toEqual({ expired: 1000, stale: 2000 })
        expect(await handler.getTagTimes(['unrelated'])).toEqual({ expired: 0, stale: 0 })
      })

      it('returns the max over the given tags for each mode', async () => {
        await handler.invalidateTags(['a'], { at: 1000, mode: 'expire' })
        await handler.invalidateTags(['b'], { at: 3000, mode: 'expire' })
        await handler.invalidateTags(['c'], { at: 500, mode: 'stale' })
        await handler.invalidateTags(['d'], { at: 9000, mode: 'stale' })
        expect(await handler.getTagTimes(['a', 'b', 'c', 'nope'])).toEqual({ expired: 3000, stale: 500 })
      })

      it('raises a time on a later invalidation, and never lowers it on an earlier one', async () => {
        await handler.invalidateTags(['t'], { at: 1000, mode: 'expire' })
        await handler.invalidateTags(['t'], { at: 2000, mode: 'expire' })
        expect(await handler.getTagTimes(['t'])).toEqual({ expired: 2000, stale: 0 })
        await handler.invalidateTags(['t'], { at: 1500, mode: 'expire' })
        await handler.invalidateTags(['t'], { at: 700, mode: 'stale' })
        await handler.invalidateTags(['t'], { at: 500, mode: 'stale' })
        expect(await handler.getTagTimes(['t'])).toEqual({ expired: 2000, stale: 700 })
      })

      it('accepts an empty tag list and odd tag names', async () => {
        await handler.invalidateTags([], { at: 1000, mode: 'expire' })
        const odd = ['_N_T_/blog/[slug]', 'ünï 🎉', 'a"b\\c\nd', 'x'.repeat(500)]
        await handler.invalidateTags(odd, { at: 1234, mode: 'stale' })
        for (const tag of odd) expect(await handler.getTagTimes([tag])).toEqual({ expired: 0, stale: 1234 })
      })

      it('forgets a tag time older than its tagRetention (and a day) once a newer invalidation arrives', async () => {
        expect(typeof handler.tagRetention).toBe('number')
        const at = 1_800_000_000_000
        await handler.invalidateTags(['old'], { at, mode: 'expire' })
        await handler.invalidateTags(['young'], { at: at + 1, mode: 'stale' })
        const later = at + handler.tagRetention! * 1000 + 24 * 3600_000 + 1
        await handler.invalidateTags(['new'], { at: later, mode: 'expire' })
        expect(await handler.getTagTimes(['old'])).toEqual({ expired: 0, stale: 0 })
        expect(await handler.getTagTimes(['young'])).toEqual({ expired: 0, stale: at + 1 })
        expect(await handler.getTagTimes(['new'])).toEqual({ expired: later, stale: 0 })
      })

      it('leaves entries in place: freshness is decided by the caller', async () => {
        const entry = makeEntry({ tags: ['posts'] })
        await handler.set('/posts', entry)
        await handler.invalidateTags(['posts'], { at: Date.now(), mode: 'expire' })
        await expectRoundTrip(handler, '/posts', entry)
      })
    })

    if (opts.durable) {
      describe('durability', () => {
        it('lets a new instance on the same storage see entries and tag times', async () => {
          const entry = makeEntry({ value: Buffer.from('persisted'), tags: ['p'] })
          await handler.set('/persisted', entry)
          await handler.set('/deleted', makeEntry())
          await handler.delete('/deleted')
          const before = Date.now()
          await handler.invalidateTags(['p', 'q'], { at: 5000, mode: 'expire' })
          await handler.invalidateTags(['q'], { at: 6000, mode: 'stale' })
          const after = Date.now()

          const reopened = await open()
          await expectRoundTrip(reopened, '/persisted', entry)
          expect(await reopened.get('/deleted')).toBeUndefined()
          if (opts.storeClock) {
            const p = await reopened.getTagTimes(['p'])
            const q = await reopened.getTagTimes(['q'])
            expect(p.stale).toBe(0)
            expect(p.expired).toBeGreaterThanOrEqual(before - 1_000)
            expect(p.expired).toBeLessThanOrEqual(after + 1_000)
            expect(q.expired).toBe(p.expired)
            expect(q.stale).toBeGreaterThanOrEqual(q.expired)
            expect(q.stale).toBeLessThanOrEqual(after + 1_000)
          } else {
            expect(await reopened.getTagTimes(['p'])).toEqual({ expired: 5000, stale: 0 })
            expect(await reopened.getTagTimes(['q'])).toEqual({ expired: 5000, stale: 6000 })
          }
        })
      })
    }
  })
}
