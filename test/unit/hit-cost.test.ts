/**
 * What a HIT costs once pages are prepared when stored: the first HIT of a freshly
 * regenerated 1 MB page asking for br costs what a later HIT costs (nothing is compressed
 * on the request thread), and asking for every encoding adds nothing to the memory tier.
 * In memory, without a build: the real page server, SWR core and memory tier.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { createElement } from 'react'
import { describe, expect, it } from 'vitest'
import { createMemoryCacheHandler } from '../../runtime/cache/handlers/memory.js'
import { createSWR } from '../../runtime/cache/swr.js'
import { createLogger } from '../../runtime/inspect/debug.js'
import type { RouteDefinition, ServerEntry } from '../../runtime/routes/route-table.js'
import { createRouter } from '../../runtime/routes/router.js'
import { createPageServer } from '../../runtime/serve/pages.js'
import { NO_EXTRAS } from '../../runtime/serve/response.js'
import { createClock } from '../helpers/clock.js'

const route: RouteDefinition = {
  kind: 'page',
  pattern: '/big/[id]',
  segments: [{ type: 'static', value: 'big' }, { type: 'dynamic', name: 'id' }],
  file: 'app/big/[id]/page.tsx',
  layouts: [],
  revalidate: 60,
  dynamicParams: true,
  dynamic: 'auto',
  hasGenerateStaticParams: false,
}
// About 1 MB of varied text (so compression has real work to do).
const paragraph = (id: string, i: number) => `${id}-${i}: ${Math.sin(i * 7919).toString(36)} ${'abcdefghij'.repeat(i % 7)} `
const entry: ServerEntry = {
  routes: [route],
  modules: { [route.file]: async () => ({ default: ({ params }: { params: { id: string } }) => createElement('p', null, Array.from({ length: 19_000 }, (_, i) => paragraph(params.id, i)).join('')) }) },
  app: { rootLayouts: [], notFound: null, error: null },
}

function setup(maxSize = 50 * 1024 * 1024) {
  const clock = createClock(1_700_000_000_000)
  const log = createLogger({ debug: false, write: () => {} })
  const store = createMemoryCacheHandler({ maxSize })
  const swr = createSWR({ handler: store, buildId: 'b', now: clock.now, timeout: 30_000, retry: { min: 1_000, max: 1_000 }, log })
  const router = createRouter([route])
  const pages = createPageServer({ app: { entry, assets: () => ({ head: '', body: '' }) }, router, swr, handler: store, buildId: 'b', expireTime: 31_536_000, prerendered: new Set(), now: clock.now, log })
  const answers: { encoding?: string; bytes: number }[] = []
  const res = () =>
    ({
      headersSent: false,
      getHeader: () => undefined,
      writeHead(_status: number, headers: string[]) {
        const at = headers.indexOf('content-encoding')
        answers.push({ encoding: at === -1 ? undefined : headers[at + 1], bytes: 0 })
      },
      end(body?: Buffer) {
        answers[answers.length - 1].bytes = body?.length ?? 0
      },
    }) as unknown as ServerResponse
  const req = (path: string, encoding?: string) => ({ method: 'GET', url: path, headers: encoding ? { 'accept-encoding': encoding } : {} }) as IncomingMessage
  const target = (path: string) => pages.target(path, router.match(path)!)
  return { clock, store, swr, pages, answers, res, req, target }
}

const timeHit = (fn: () => unknown): number => {
  const start = performance.now()
  expect(fn()).toBe(true)
  return performance.now() - start
}

describe('a HIT of a page prepared when stored', () => {
  it('costs the same the first time a freshly regenerated 1 MB page is asked for with br as later', async () => {
    const t = setup()
    const target = t.target('/big/1')
    await t.pages.serve(t.req('/big/1'), t.res(), target)
    t.clock.advance(61_000)
    expect(t.pages.serve(t.req('/big/1'), t.res(), target, NO_EXTRAS, true)).toBe(true)
    await Promise.all(t.swr.pending.values())
    const size = (t.store.get(target.key)!).value.length
    expect(size).toBeGreaterThan(900_000)
    const first = timeHit(() => t.pages.serve(t.req('/big/1', 'br'), t.res(), target, NO_EXTRAS, true))
    const later: number[] = []
    for (let i = 0; i < 21; i++) later.push(timeHit(() => t.pages.serve(t.req('/big/1', 'br'), t.res(), target, NO_EXTRAS, true)))
    later.sort((a, b) => a - b)
    const median = later[10]
    expect(t.answers.at(-1)!.encoding).toBe('br')
    console.log(`first br HIT of a freshly regenerated ${(size / 1e6).toFixed(2)} MB page: ${first.toFixed(3)} ms; later HITs (median of 21): ${median.toFixed(3)} ms; ratio ${(first / Math.max(median, 0.001)).toFixed(2)}`)
    // Compressing 1 MB with brotli takes tens of milliseconds; picking bytes takes well under one.
    expect(first).toBeLessThan(5)
  })

  it('adds nothing to the memory tier when gzip and br are asked for every entry', async () => {
    const t = setup()
    for (let i = 0; i < 10; i++) await t.pages.serve(t.req(`/big/${i}`), t.res(), t.target(`/big/${i}`))
    const identityOnly = t.store.calculatedSize
    for (let i = 0; i < 10; i++) {
      for (const encoding of ['gzip', 'br']) expect(t.pages.serve(t.req(`/big/${i}`, encoding), t.res(), t.target(`/big/${i}`), NO_EXTRAS, true)).toBe(true)
    }
    const withVariants = t.store.calculatedSize
    console.log(`memory tier, 10 pages of ~1 MB: ${identityOnly} B after identity requests, ${withVariants} B after gzip and br requests for each (ratio ${(withVariants / identityOnly).toFixed(2)}); the compressed bodies are counted from the store on`)
    expect(withVariants).toBe(identityOnly)
    const entry = t.store.get(t.target('/big/0').key)!
    expect(identityOnly).toBeGreaterThan(10 * (entry.value.length + entry.encodings!.gzip!.length + entry.encodings!.br!.length))
  })
})
