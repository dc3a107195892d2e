/**
 * Client navigation in real Chromium (playwright-core, the system's Chromium), against one
 * fast-path server of the fixture: `/nav` links to two cached posts, `/nav/1` (its payload
 * fetched on the click: `prefetch={false}`) and `/nav/2` (prefetched while in view).
 *
 * Bytes: what Chromium's network log (CDP `Network.loadingFinished`'s `encodedDataLength`:
 * headers and bodies as received, compressed when the server compressed them) counts for a
 * soft navigation from `/nav` to `/nav/1` (every request after the click: the payload and the
 * post's chunk), against a full load of `/nav/1` in a fresh browser context (empty cache: the
 * HTML and every asset). Payloads of other pages (prefetches for a later navigation, e.g. of
 * the post's own link back to `/nav`) count on neither side.
 *
 * Time: from the click (taken in the page, right before it) to the frame that first shows the
 * new `<h1>`, as Chromium's Element Timing reports it (`renderTime`, the `elementtiming`
 * attribute on the post's heading): the same measure on both sides, which a mark taken after
 * the next animation frame is not (it runs before the frame is presented, and Chromium holds
 * the first paint of a same-site full load until the new document has content). The full load
 * starts the same way from the same page (`location.assign`, as an `<a>` without the router),
 * with the fixture's assets in the browser cache as they are when one navigates within a site.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { hydrated, launchBrowser } from '../../test/helpers/browser.js'
import type { BenchContext } from './context.js'
import { expectHit, median, pairedRatio, type Target } from './load.js'
import { onCleanup } from './processes.js'
import type { CustomRow, Measurement } from './types.js'

const INDEX = '/nav'
/** The post a soft navigation fetches on the click. */
const POST = '/nav/1'
/** The post whose payload is prefetched while its link is in view. */
const PREFETCHED_POST = '/nav/2'
const BYTES_ROUNDS = 3
const TIME_ROUNDS = 7
/** No request in flight for this long: the page has loaded what it will load. */
const QUIET_MS = 300

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Logged {
  url: string
  type?: string
  /** Order of the request in the log: requests after the click have a larger one. */
  seq: number
  status?: number
  cache?: string
  bytes?: number
  failed?: boolean
}

/** A page with Chromium's own network log (CDP), which counts headers and encoded bodies. */
async function openLogged(browser: Browser): Promise<{ context: BrowserContext; page: Page; log: Map<string, Logged>; seq: () => number; quiet: () => Promise<void>; close: () => Promise<void> }> {
  const context = await browser.newContext()
  const page = await context.newPage()
  const cdp: CDPSession = await context.newCDPSession(page)
  const log = new Map<string, Logged>()
  let seq = 0
  let inFlight = 0
  let lastChange = Date.now()
  cdp.on('Network.requestWillBeSent', (event) => {
    if (!log.has(event.requestId)) inFlight++
    log.set(event.requestId, { url: event.request.url, type: event.type, seq: ++seq })
    lastChange = Date.now()
  })
  cdp.on('Network.responseReceived', (event) => {
    const entry = log.get(event.requestId)
    if (!entry) return
    entry.status = event.response.status
    const headers = Object.fromEntries(Object.entries(event.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
    entry.cache = headers['x-isr-cache']
  })
  const settle = (requestId: string, bytes: number | undefined, failed: boolean) => {
    const entry = log.get(requestId)
    if (!entry || entry.bytes !== undefined || entry.failed) return
    entry.bytes = bytes
    entry.failed = failed
    inFlight--
    lastChange = Date.now()
  }
  cdp.on('Network.loadingFinished', (event) => settle(event.requestId, event.encodedDataLength, false))
  cdp.on('Network.loadingFailed', (event) => settle(event.requestId, 0, true))
  await cdp.send('Network.enable')
  const quiet = async () => {
    const deadline = Date.now() + 15_000
    while (inFlight > 0 || Date.now() - lastChange < QUIET_MS) {
      if (Date.now() > deadline) throw new Error(`the page still had ${inFlight} requests in flight after 15 s`)
      await sleep(50)
    }
  }
  return { context, page, log, seq: () => seq, quiet, close: () => context.close() }
}

const pathOf = (url: string) => new URL(url).pathname
const isPayload = (url: string) => pathOf(url).startsWith('/_isr/data/')
const payloadOf = (path: string) => (url: string) => isPayload(url) && pathOf(url).endsWith(`${path}.json`)

function sum(entries: Logged[]): number {
  return entries.reduce((n, e) => n + (e.bytes ?? 0), 0)
}

const list = (entries: Logged[]) => entries.map((e) => `${pathOf(e.url)} ${e.bytes ?? '?'} B`).join(', ')

async function startNavigationServer(ctx: BenchContext, id: string): Promise<Target> {
  const target = await ctx.serve(id, { label: 'isr.wrap(app), filesystem cache', server: { mode: 'fast-path', cache: 'fs' }, load: { path: POST } })
  // Every page involved is cached (prerendered at build) before any browser asks for it.
  for (const path of [INDEX, POST, PREFETCHED_POST]) await expectHit(target.url, { path }, id)
  return target
}

let browser: Promise<Browser> | undefined
function sharedBrowser(): Promise<Browser> {
  if (!browser) {
    browser = launchBrowser()
    onCleanup(async () => (await browser)?.close())
  }
  return browser
}

export function navigationBytesRow(): CustomRow {
  return {
    kind: 'custom',
    name: 'navigation: bytes of a soft navigation to a cached page ÷ a full load of it (Chromium)',
    unit: 'B',
    target: { op: '<=', value: 0.3 },
    how: `fast path; real Chromium, bytes received as its network log counts them (headers and bodies as sent); soft: every request from the click on ${INDEX}'s \`<Link>\` until ${POST} is shown and the network is quiet (its payload, fetched on the click, and its chunk); full: ${POST} in a fresh browser context (HTML and every asset, empty cache); payloads of other pages (prefetches) on neither side; ${BYTES_ROUNDS} rounds, alternating`,
    run: (ctx) => measureBytes(ctx),
  }
}

async function measureBytes(ctx: BenchContext): Promise<Measurement> {
  const target = await startNavigationServer(ctx, 'navigation-bytes')
  const chromium = await sharedBrowser()
  const problems: string[] = []
  const soft: number[] = []
  const full: number[] = []
  let softList = ''
  let fullList = ''

  const measureFull = async () => {
    const p = await openLogged(chromium)
    try {
      await p.page.goto(target.url + POST)
      await hydrated(p.page, '#to-index')
      await p.quiet()
      const counted = [...p.log.values()].filter((e) => !isPayload(e.url))
      const document = counted.find((e) => e.type === 'Document')
      if (document?.cache !== 'HIT') problems.push(`full load: the document answered x-isr-cache ${document?.cache ?? '(none)'}, not HIT`)
      if (counted.some((e) => e.failed || (e.status ?? 0) >= 400)) problems.push(`full load: a failed request (${list(counted.filter((e) => e.failed || (e.status ?? 0) >= 400))})`)
      full.push(sum(counted))
      fullList = list(counted)
    } finally {
      await p.close()
    }
  }

  const measureSoft = async () => {
    const p = await openLogged(chromium)
    try {
      await p.page.goto(target.url + INDEX)
      await hydrated(p.page, '#to-post')
      await p.quiet()
      const before = p.seq()
      await p.page.click('#to-post')
      await p.page.waitForFunction((title) => document.querySelector('h1')?.textContent === title, 'Post 1', { timeout: 15_000 })
      await p.quiet()
      const after = [...p.log.values()].filter((e) => e.seq > before)
      if (after.some((e) => e.type === 'Document')) problems.push('soft navigation: a document was loaded (the router fell back to a full load)')
      const payload = after.filter((e) => payloadOf(POST)(e.url))
      if (payload.length !== 1 || payload[0].cache !== 'HIT') problems.push(`soft navigation: ${payload.length} payload requests for ${POST}${payload[0] ? `, x-isr-cache ${payload[0].cache ?? '(none)'}` : ''} (expected one HIT)`)
      const counted = after.filter((e) => !isPayload(e.url) || payloadOf(POST)(e.url))
      soft.push(sum(counted))
      softList = list(counted)
    } finally {
      await p.close()
    }
  }

  for (let round = 0; round < BYTES_ROUNDS; round++) {
    for (const side of round % 2 === 0 ? [measureSoft, measureFull] : [measureFull, measureSoft]) await side()
    ctx.log(`navigation bytes: round ${round + 1}/${BYTES_ROUNDS}: soft ${soft.at(-1)} B, full ${full.at(-1)} B`)
  }
  await target.server.close()
  return {
    a: median(soft),
    b: median(full),
    ratio: pairedRatio(soft, full),
    invalid: problems.length ? [...new Set(problems)].join('; ') : undefined,
    notes: [`soft per round ${soft.join(', ')} B: ${softList}`, `full per round ${full.join(', ')} B: ${fullList}`],
  }
}

export function navigationTimeRow(): CustomRow {
  return {
    kind: 'custom',
    name: 'navigation: click to new content painted, soft ÷ full load (Chromium, fast path)',
    unit: 'ms',
    target: { op: '<=', value: 0.5 },
    how: `fast path; real Chromium; from the click on ${INDEX} (timed in the page) to the frame that first shows ${POST}'s \`<h1>\` (Element Timing's renderTime, the same measure on both sides); soft: a \`<Link prefetch={false}>\` (its payload fetched after the click; the post's code is in the browser already, brought by the prefetch of ${PREFETCHED_POST}, the same route); full: \`location.assign\` from the same page, assets in the browser cache as within a site; each sample in a fresh browser context; ${TIME_ROUNDS} rounds after one unmeasured, alternating; in the notes: the soft navigation to a post prefetched while in view, and to ${POST} with ${PREFETCHED_POST}'s prefetch refused (the post's code then loads after the click too)`,
    run: (ctx) => measureTime(ctx),
  }
}

/**
 * In the page: the epoch time (ms) at which the post's `<h1 elementtiming="post-title">`
 * reading `title` was first presented (Element Timing's `renderTime`), or NaN after 15 s.
 */
function painted(title: string): Promise<number> {
  return new Promise((resolve) => {
    setTimeout(() => resolve(NaN), 15_000)
    new PerformanceObserver((list, observer) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { identifier: string; renderTime: number; element: Element | null })[]) {
        if (entry.identifier !== 'post-title' || entry.element?.textContent !== title) continue
        observer.disconnect()
        resolve(performance.timeOrigin + entry.renderTime)
      }
    }).observe({ type: 'element', buffered: true })
  })
}

async function measureTime(ctx: BenchContext): Promise<Measurement> {
  const target = await startNavigationServer(ctx, 'navigation-time')
  const chromium = await sharedBrowser()
  const problems: string[] = []
  const samples = { soft: [] as number[], prefetched: [] as number[], cold: [] as number[], full: [] as number[] }
  const PAINTED = painted.toString()

  async function ready(options: { noPrefetch?: boolean } = {}): Promise<{ page: Page; close: () => Promise<void> }> {
    const context = await chromium.newContext()
    const page = await context.newPage()
    // The sibling post's payload refused: nothing modulepreloads the posts' code before the click.
    if (options.noPrefetch) await page.route((url) => payloadOf(PREFETCHED_POST)(url.href), (route) => route.abort())
    await page.goto(target.url + INDEX)
    await hydrated(page, '#to-post')
    // Let prefetches and the chunks of the first load finish: the click then competes with nothing.
    await page.waitForLoadState('networkidle')
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same document'))
    return { page, close: () => context.close() }
  }

  const sameDocument = async (page: Page) => (await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)) === 'same document'

  async function softOnce(selector: string, title: string, options: { noPrefetch?: boolean } = {}): Promise<number> {
    const { page, close } = await ready(options)
    try {
      const ms = await page.evaluate(
        async ([selector, title, source]) => {
          const wait = (0, eval)(`(${source})`) as (title: string) => Promise<number>
          const started = performance.timeOrigin + performance.now()
          const shown = wait(title)
          document.querySelector<HTMLElement>(selector)!.click()
          return (await shown) - started
        },
        [selector, title, PAINTED] as const,
      )
      if (!(await sameDocument(page))) problems.push(`soft navigation (${selector}) loaded a document`)
      if (Number.isNaN(ms)) problems.push(`soft navigation (${selector}): no element timing of the new <h1> within 15 s`)
      return ms
    } finally {
      await close()
    }
  }

  async function fullOnce(): Promise<number> {
    const { page, close } = await ready()
    try {
      const started = await page.evaluate((path) => {
        const now = performance.timeOrigin + performance.now()
        location.assign(path)
        return now
      }, POST)
      await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Post 1', undefined, { timeout: 15_000 })
      if (await sameDocument(page)) problems.push('full load: the document was not replaced')
      const shown = await page.evaluate(([title, source]) => ((0, eval)(`(${source})`) as (title: string) => Promise<number>)(title), ['Post 1', PAINTED] as const)
      if (Number.isNaN(shown)) problems.push('full load: no element timing of the <h1> within 15 s')
      return shown - started
    } finally {
      await close()
    }
  }

  const sides = {
    soft: () => softOnce('#to-post', 'Post 1'),
    prefetched: () => softOnce('#to-prefetched', 'Post 2'),
    cold: () => softOnce('#to-post', 'Post 1', { noPrefetch: true }),
    full: fullOnce,
  }
  // One unmeasured round: the browser's and the server's first time through every path.
  for (const run of Object.values(sides)) await run()
  for (let round = 0; round < TIME_ROUNDS; round++) {
    const order = round % 2 === 0 ? (['soft', 'prefetched', 'cold', 'full'] as const) : (['full', 'cold', 'prefetched', 'soft'] as const)
    for (const side of order) samples[side].push(await sides[side]())
    ctx.log(`navigation time: round ${round + 1}/${TIME_ROUNDS}: soft ${samples.soft.at(-1)!.toFixed(1)} ms, prefetched ${samples.prefetched.at(-1)!.toFixed(1)} ms, code not loaded ${samples.cold.at(-1)!.toFixed(1)} ms, full ${samples.full.at(-1)!.toFixed(1)} ms`)
  }
  await target.server.close()
  const fmt = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ')
  return {
    a: median(samples.soft),
    b: median(samples.full),
    ratio: pairedRatio(samples.soft, samples.full),
    invalid: problems.length ? [...new Set(problems)].join('; ') : undefined,
    notes: [
      `per round (ms): soft ${fmt(samples.soft)}; full ${fmt(samples.full)}; soft to a prefetched post ${fmt(samples.prefetched)} (median ${median(samples.prefetched).toFixed(1)} ms, ${pairedRatio(samples.prefetched, samples.full).toFixed(2)} of the full load); soft with the post's code not loaded before the click ${fmt(samples.cold)} (median ${median(samples.cold).toFixed(1)} ms, ${pairedRatio(samples.cold, samples.full).toFixed(2)} of the full load)`,
    ],
  }
}
