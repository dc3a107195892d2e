import { describe, expect, it } from 'vitest'
import { clientNavigationTarget, navigableUrl, type AnchorLike, type ClickLike } from '../../client/decisions.js'
import { createPayloadCache, maxAgeOf } from '../../client/payload-cache.js'
import { payloadUrl } from '../../client/payload-url.js'
import { rememberedScroll, rememberScroll, type HistoryLike } from '../../client/scroll-memory.js'
import { payloadPath, pagePathOfPayload } from '../../runtime/render/payload.js'
import { pageUrlOfPayload } from '../../runtime/serve/payload.js'

const HERE = 'https://site.test/blog/1?x=1'
const click = (over: Partial<ClickLike> = {}): ClickLike => ({ button: 0, metaKey: false, ctrlKey: false, shiftKey: false, altKey: false, defaultPrevented: false, ...over })
const anchor = (href: string, over: { target?: string; download?: boolean } = {}): AnchorLike => ({
  href: new URL(href, HERE).href,
  target: over.target ?? '',
  hasAttribute: (name) => name === 'download' && over.download === true,
})

describe('which clicks the client router takes', () => {
  it('takes a plain left click on a link to another page of the same origin', () => {
    expect(clientNavigationTarget(click(), anchor('/blog/2'), HERE)?.href).toBe('https://site.test/blog/2')
    expect(clientNavigationTarget(click(), anchor('/blog/2#comments', { target: '_self' }), HERE)?.hash).toBe('#comments')
  })

  it('leaves clicks with a modifier key, another button or an earlier preventDefault to the browser', () => {
    for (const over of [{ metaKey: true }, { ctrlKey: true }, { shiftKey: true }, { altKey: true }, { button: 1 }, { defaultPrevented: true }]) {
      expect(clientNavigationTarget(click(over), anchor('/blog/2'), HERE), JSON.stringify(over)).toBeNull()
    }
  })

  it('leaves links with a target or a download attribute to the browser', () => {
    expect(clientNavigationTarget(click(), anchor('/blog/2', { target: '_blank' }), HERE)).toBeNull()
    expect(clientNavigationTarget(click(), anchor('/blog/2', { download: true }), HERE)).toBeNull()
  })

  it('leaves other origins, other protocols and a change of #hash alone to the browser', () => {
    expect(clientNavigationTarget(click(), anchor('https://other.test/blog/2'), HERE)).toBeNull()
    expect(clientNavigationTarget(click(), anchor('http://site.test/blog/2'), HERE)).toBeNull()
    expect(clientNavigationTarget(click(), anchor('mailto:a@site.test'), HERE)).toBeNull()
    expect(clientNavigationTarget(click(), anchor('#top'), HERE)).toBeNull()
    expect(navigableUrl('/blog/1?x=1#top', HERE)).toBeNull()
    // the same path with another query is another page
    expect(navigableUrl('/blog/1?x=2#top', HERE)?.search).toBe('?x=2')
  })
})

describe('payload URLs', () => {
  it('are the same on the client and the server, and map back to the page path', () => {
    for (const path of ['/', '/blog/1', '/index', '/index/more', '/indexes', '/caf%C3%A9', '/feed.json']) {
      expect(payloadUrl('B1', path), path).toBe(payloadPath('B1', path))
      expect(pagePathOfPayload(payloadPath('B1', path).slice('/_isr/data/B1'.length)), path).toBe(path)
    }
  })

  it("carry the page's query, and the server reads the page URL back from them", () => {
    expect(payloadUrl('B1', '/search?q=1&r=a%20b')).toBe('/_isr/data/B1/search.json?q=1&r=a%20b')
    expect(payloadUrl('B1', '/?q=1')).toBe('/_isr/data/B1/index.json?q=1')
    for (const href of ['/search?q=1&r=a%20b', '/?q=1', '/index/more?x', '/caf%C3%A9', '/blog/1']) {
      expect(pageUrlOfPayload(payloadUrl('B1', href)), href).toBe(href)
    }
    expect(pageUrlOfPayload('/blog/1?q=1')).toBeUndefined()
    expect(pageUrlOfPayload('/_isr/data/B1')).toBeUndefined()
  })
})

describe('scroll memory', () => {
  const fakeHistory = (state: unknown = null): HistoryLike & { state: unknown } => {
    const h = {
      state,
      replaceState(data: unknown) {
        h.state = data
      },
    }
    return h
  }

  it('keeps the position in the history entry, beside what the entry already holds', () => {
    const history = fakeHistory({ app: 'kept' })
    rememberScroll(history, { x: 0, y: 840 })
    expect(rememberedScroll(history.state)).toEqual({ x: 0, y: 840 })
    expect((history.state as { app: string }).app).toBe('kept')
    rememberScroll(history, { x: 5, y: 10 })
    expect(rememberedScroll(history.state)).toEqual({ x: 5, y: 10 })
  })

  it('finds nothing in an entry that never had a position, or a damaged one', () => {
    expect(rememberedScroll(null)).toBeUndefined()
    expect(rememberedScroll({ __isrScroll: { x: 'a', y: 1 } })).toBeUndefined()
  })
})

describe('the payload cache and prefetch queue', () => {
  function setup(options: { saveData?: boolean; concurrency?: number } = {}) {
    let time = 1_000
    const started: string[] = []
    const release = new Map<string, (maxAgeMs: number) => void>()
    const cache = createPayloadCache<string>({
      fetch: (path) => {
        started.push(path)
        return new Promise((resolve) => release.set(path, (maxAgeMs) => resolve({ payload: `payload of ${path}`, maxAgeMs })))
      },
      concurrency: options.concurrency ?? 2,
      now: () => time,
      saveData: () => options.saveData === true,
    })
    const tick = () => new Promise((r) => setTimeout(r, 0))
    /** Navigate to `path` and let its fetch answer, reusable for `maxAgeMs`. */
    const fetched = async (path: string, maxAgeMs: number) => {
      const payload = cache.get(path)
      await tick()
      release.get(path)!(maxAgeMs)
      return payload
    }
    return { cache, started, release, tick, fetched, advance: (ms: number) => (time += ms) }
  }

  it('prefetches a few at a time, each payload once, and queues the rest in order', async () => {
    const { cache, started, release, tick } = setup()
    for (const path of ['/a', '/b', '/c', '/a', '/d', '/b']) cache.prefetch(path)
    await tick()
    expect(started).toEqual(['/a', '/b'])
    expect(cache.queued).toEqual(['/c', '/d'])
    release.get('/a')!(60_000)
    await tick()
    await tick()
    expect(started).toEqual(['/a', '/b', '/c'])
  })

  it('gives a navigation the prefetched payload, and jumps the queue for one not started', async () => {
    const { cache, started, release, tick } = setup({ concurrency: 1 })
    cache.prefetch('/a')
    cache.prefetch('/b')
    await tick()
    const b = cache.get('/b')
    await tick()
    expect(started).toEqual(['/a', '/b'])
    expect(cache.queued).toEqual([])
    release.get('/b')!(60_000)
    expect(await b).toBe('payload of /b')
    const a = cache.get('/a')
    release.get('/a')!(60_000)
    expect(await a).toBe('payload of /a')
    expect(started).toEqual(['/a', '/b'])
  })

  it('reuses a payload while it is younger than its window, then fetches it again', async () => {
    const { cache, started, fetched, advance, tick } = setup()
    await fetched('/a', 60_000)
    advance(59_000)
    expect(await cache.get('/a')).toBe('payload of /a')
    cache.prefetch('/a')
    expect(started).toEqual(['/a'])
    advance(2_000)
    void cache.get('/a')
    await tick()
    expect(started).toEqual(['/a', '/a'])
  })

  it('keeps nothing that may not be reused (no-store), and prefetches nothing on Save-Data', async () => {
    const { cache, started, fetched, tick } = setup()
    await fetched('/a', 0)
    void cache.get('/a')
    await tick()
    expect(started).toEqual(['/a', '/a'])
    const saving = setup({ saveData: true })
    saving.cache.prefetch('/b')
    await saving.tick()
    expect(saving.started).toEqual([])
  })

  it("never answers one query of a page with another query's payload while it may not be reused", async () => {
    const { cache, started, release, tick } = setup()
    cache.prefetch('/search?q=1')
    await tick()
    const two = cache.get('/search?q=2')
    const one = cache.get('/search?q=1')
    await tick()
    expect(started).toEqual(['/search?q=1', '/search?q=2'])
    release.get('/search?q=2')!(0)
    release.get('/search?q=1')!(0)
    expect(await two).toBe('payload of /search?q=2')
    expect(await one).toBe('payload of /search?q=1')
    // neither was kept (private, no-store): the next navigation to either fetches again
    void cache.get('/search?q=1')
    void cache.get('/search?q=2')
    await tick()
    expect(started).toEqual(['/search?q=1', '/search?q=2', '/search?q=1', '/search?q=2'])
  })

  it('prefetches a path no more once it answered a payload that may not be reused (rendered per request)', async () => {
    const { cache, started, release, tick } = setup()
    cache.prefetch('/search?q=1')
    await tick()
    release.get('/search?q=1')!(0)
    await tick()
    cache.prefetch('/search?q=1')
    cache.prefetch('/search?q=3')
    cache.prefetch('/blog/1')
    await tick()
    expect(started).toEqual(['/search?q=1', '/blog/1'])
    // a navigation still fetches it
    void cache.get('/search?q=3')
    await tick()
    expect(started).toEqual(['/search?q=1', '/blog/1', '/search?q=3'])
  })

  it("shares a cached page's payload between the queries of its path (the server ignores them too)", async () => {
    const { cache, started, fetched, tick } = setup()
    await fetched('/blog/1?utm=a', 60_000)
    expect(await cache.get('/blog/1')).toBe('payload of /blog/1?utm=a')
    expect(await cache.get('/blog/1?utm=b')).toBe('payload of /blog/1?utm=a')
    cache.prefetch('/blog/1?utm=c')
    await tick()
    expect(started).toEqual(['/blog/1?utm=a'])
  })

  it("reads the reuse window from the payload's Cache-Control", () => {
    expect(maxAgeOf('s-maxage=60, stale-while-revalidate=31535940')).toBe(60_000)
    expect(maxAgeOf('s-maxage=31536000')).toBe(31_536_000_000)
    expect(maxAgeOf('private, no-cache, no-store, max-age=0, must-revalidate')).toBe(0)
    expect(maxAgeOf(null)).toBe(0)
  })
})
