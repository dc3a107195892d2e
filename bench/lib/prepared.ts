/**
 * Entries are prepared when stored (ETag, gzip and br bodies), never when served; the memory
 * tier counts all of it. Two rows check both halves from outside:
 *
 * - first HIT after a regeneration: the fixture's ~1 MB `/big/1` (on-demand, kept until
 *   revalidated) is regenerated with `revalidatePath(..., { regenerate: true })` in the server
 *   process (resolves once the new page is stored); then one GET with `Accept-Encoding: br`
 *   (the first HIT of that entry) and LATER_GETS more (later HITs of it), each timed from the
 *   request to the last byte over a fresh connection. Were the br body made on the first HIT,
 *   that one request would pay for compressing 1 MB.
 * - memory tier with variants: two fast-path servers with the same `cacheMaxMemorySize`, filled
 *   with the same PAGES distinct on-demand pages, one asking each page with no Accept-Encoding
 *   (identity only), the other asking each with identity, gzip and br. RSS after the fill and a
 *   full collection, minus RSS right after listening. Were the compressed copies kept beside
 *   the entries uncounted, the second server would hold up to twice the bytes.
 */
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchContext } from './context.js'
import { expectHit, median, pairedRatio, probe } from './load.js'
import type { CustomRow, Measurement } from './types.js'

const BIG_PATH = '/big/1'
const ROUNDS = 9
const LATER_GETS = 5
/**
 * Idle time before every timed GET, first and later alike: the collection a 1 MB render leaves
 * to do runs in it rather than inside whichever request comes next, and a br body made on the
 * request path would still be paid for inside the first GET.
 */
const SETTLE_MS = 50

const mb = (bytes: number) => bytes / 2 ** 20

interface Timed {
  ms: number
  state: string | null
  encoding: string | null
  bytes: number
}

/** One GET over a new connection, timed from the request to its last byte. */
function timedGet(url: string, path: string, headers: Record<string, string>): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const request = http.get(url + path, { headers, agent: false }, (res) => {
      let bytes = 0
      res.on('data', (chunk: Buffer) => (bytes += chunk.length))
      res.once('error', reject)
      res.once('end', () =>
        resolve({ ms: performance.now() - started, state: res.headers['x-isr-cache'] as string | null ?? null, encoding: (res.headers['content-encoding'] as string | undefined) ?? null, bytes }),
      )
    })
    request.once('error', reject)
    request.setTimeout(30_000, () => request.destroy(new Error(`GET ${path} timed out`)))
  })
}

export function firstHitRow(): CustomRow {
  return {
    kind: 'custom',
    name: 'first br HIT of a freshly regenerated 1 MB page ÷ a later br HIT of it (fast path)',
    unit: 'ms',
    target: { op: '<=', value: 1.5 },
    how: `fast path, filesystem store; ${ROUNDS} rounds of: regenerate ${BIG_PATH} (~1 MB, revalidatePath with regenerate: true in the server, resolved once stored), then one GET with Accept-Encoding: br (the entry's first HIT) and ${LATER_GETS} more (later HITs), each over a new connection after ${SETTLE_MS} ms idle, timed to the last byte; medians of the firsts and of each round's later median, and the median of per-round ratios`,
    run: (ctx) => measureFirstHit(ctx),
  }
}

async function measureFirstHit(ctx: BenchContext): Promise<Measurement> {
  const br = { 'accept-encoding': 'br' }
  const { server, url } = await ctx.serve('first-hit', { label: 'isr.wrap(app), filesystem cache, 1 MB page', server: { mode: 'fast-path', cache: 'fs' }, load: { path: BIG_PATH, headers: br } })
  const problems: string[] = []
  // Rendered on its first request; then warm the path (JIT, sockets) before measuring.
  await probe(url, { path: BIG_PATH })
  const identity = await expectHit(url, { path: BIG_PATH }, 'first-hit')
  for (let i = 0; i < 5; i++) await timedGet(url, BIG_PATH, br)
  const firsts: number[] = []
  const laters: number[] = []
  const regenerations: number[] = []
  let brBytes = 0
  for (let round = 0; round < ROUNDS; round++) {
    const { ms } = await server.ask<{ ms: number }>('revalidatePath', { path: BIG_PATH }, 120_000)
    regenerations.push(ms)
    const settledGet = () => sleep(SETTLE_MS).then(() => timedGet(url, BIG_PATH, br))
    const first = await settledGet()
    const later: Timed[] = []
    for (let i = 0; i < LATER_GETS; i++) later.push(await settledGet())
    for (const [label, t] of [['first', first], ...later.map((t) => ['later', t] as const)] as const) {
      if (t.state !== 'HIT' || t.encoding !== 'br') problems.push(`round ${round + 1}: a ${label} GET answered ${t.state} ${t.encoding ?? 'identity'}, not a br HIT`)
    }
    brBytes = first.bytes
    firsts.push(first.ms)
    laters.push(median(later.map((t) => t.ms)))
    ctx.log(`first HIT: round ${round + 1}/${ROUNDS} regenerated in ${ms.toFixed(0)} ms; first ${first.ms.toFixed(2)} ms, later ${median(later.map((t) => t.ms)).toFixed(2)} ms`)
  }
  await server.close()
  const list = (values: number[]) => values.map((v) => v.toFixed(2)).join(', ')
  return {
    a: median(firsts),
    b: median(laters),
    ratio: pairedRatio(firsts, laters),
    invalid: problems.slice(0, 3).join('; ') || undefined,
    notes: [
      `page ${(identity.body.length / 2 ** 20).toFixed(2)} MB identity, ${(brBytes / 1024).toFixed(0)} kB br; regeneration (render + prepare + store) median ${median(regenerations).toFixed(0)} ms`,
      `first HIT per round ${list(firsts)} ms; later HIT per round (median of ${LATER_GETS}) ${list(laters)} ms`,
    ],
  }
}

const PAGES = 12_000
const MEMORY_TIER = 16 * 1024 * 1024

interface GcReply {
  rss: number
  heapUsed: number
  external: number
}

export function variantsMemoryRow(): CustomRow {
  return {
    kind: 'custom',
    name: 'memory tier RSS with gzip and br variants requested for every entry ÷ identity only, same cacheMaxMemorySize',
    unit: 'MB',
    target: { op: '<=', value: 1.1 },
    how: `two fast-path servers, filesystem store, cacheMaxMemorySize ${mb(MEMORY_TIER)} MB each, filled one after the other with the same ${PAGES.toLocaleString('en')} distinct on-demand pages of catalog/[id] (~3.5 kB each, so the tier is full and evicting): one asks each page once with no Accept-Encoding, the other once each with identity, gzip and br; RSS after the fill and a full collection minus RSS right after listening`,
    run: (ctx) => measureVariantsMemory(ctx),
  }
}

async function fillAndMeasure(ctx: BenchContext, id: string, encodings: (string | null)[]): Promise<{ delta: number; idle: GcReply; after: GcReply; tier: { entries: number; bytes: number }; statuses: Record<string, number> }> {
  const target = await ctx.serve(id, {
    label: `isr.wrap(app), filesystem cache, memory tier ${mb(MEMORY_TIER)} MB`,
    server: { mode: 'fast-path', cache: 'fs', handlerOptions: { cacheMaxMemorySize: MEMORY_TIER }, nodeArgs: ['--expose-gc'] },
    load: { path: '/catalog/1' },
  }, { inMemory: true })
  const idle = await target.server.ask<GcReply>('gc')
  const fill = await target.server.ask<{ ms: number; statuses: Record<string, number> }>('fill', { prefix: '/catalog/', from: 0, to: PAGES, concurrency: 16, encodings: encodings.map((e) => e ?? undefined) }, 900_000)
  const after = await target.server.ask<GcReply>('gc')
  const tier = await target.server.ask<{ entries: number; bytes: number }>('cacheInfo', {})
  await target.server.close()
  ctx.log(`variants memory: ${id} filled in ${(fill.ms / 1000).toFixed(1)} s; RSS ${mb(idle.rss).toFixed(0)} → ${mb(after.rss).toFixed(0)} MB; memory tier ${tier.entries} entries, ${mb(tier.bytes).toFixed(1)} MB`)
  return { delta: after.rss - idle.rss, idle, after, tier, statuses: fill.statuses }
}

async function measureVariantsMemory(ctx: BenchContext): Promise<Measurement> {
  const identity = await fillAndMeasure(ctx, 'variants-identity', [null])
  const variants = await fillAndMeasure(ctx, 'variants-all', [null, 'gzip', 'br'])
  const problems: string[] = []
  if (identity.statuses['200'] !== PAGES) problems.push(`identity fill: statuses ${JSON.stringify(identity.statuses)}`)
  if (variants.statuses['200'] !== PAGES * 3) problems.push(`variants fill: statuses ${JSON.stringify(variants.statuses)}`)
  return {
    a: mb(variants.delta),
    b: mb(identity.delta),
    invalid: problems.join('; ') || undefined,
    notes: [
      `memory tier after the fill: ${variants.tier.entries} entries, ${mb(variants.tier.bytes).toFixed(1)} MB counted (variants asked) vs ${identity.tier.entries} entries, ${mb(identity.tier.bytes).toFixed(1)} MB (identity only)`,
      `after a full collection: heap ${mb(variants.after.heapUsed).toFixed(0)} vs ${mb(identity.after.heapUsed).toFixed(0)} MB, external (bodies) ${mb(variants.after.external).toFixed(0)} vs ${mb(identity.after.external).toFixed(0)} MB`,
    ],
  }
}
