/**
 * Stale storm: the p99 latency of 200 connections hammering a stale page while its one
 * regeneration runs, over the p99 of the same 200 connections on a fresh page (plain HITs)
 * of the same size, on the same fast-path server, in alternating rounds.
 *
 * The fixture's `/stale` page (revalidate 3) waits BENCH_STALE_DELAY_MS in its loader and
 * counts its renders. Each storm: wait until the page is stale, probe it once (it must answer
 * STALE: that starts the regeneration), then at once 200 connections for STORM_SECONDS. The
 * regeneration ends (render + store) in the middle of the storm; the new page stays fresh past
 * the end of it. After each storm exactly one more render must have been counted, and the
 * page must answer HIT (the regenerated copy).
 */
import type { BenchContext } from './context.js'
import { median, pairedRatio, probe, runLoad, type Sample, type Target } from './load.js'
import type { CustomRow, Measurement } from './types.js'

/** Must match `revalidate` of bench/fixture/app/stale/page.tsx. */
const STALE_REVALIDATE_MS = 3_000
const REGENERATION_DELAY_MS = 1_000
const STORM_SECONDS = 2
const CONNECTIONS = 200
const ROUNDS = 5

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

export function staleStormRow(): CustomRow {
  return {
    kind: 'custom',
    name: 'stale storm p99 ÷ HIT p99 (fast path, 200 connections, one regeneration)',
    unit: 'ms',
    target: { op: '<=', value: 1.5 },
    how: `fast path; ${CONNECTIONS} connections for ${STORM_SECONDS} s on /stale right after it answered STALE (its regeneration waits ${REGENERATION_DELAY_MS} ms in the loader, then renders and stores, in the middle of the storm), against ${CONNECTIONS} connections for ${STORM_SECONDS} s on / (fresh, same size); ${ROUNDS} rounds each after one unmeasured round, alternating; medians of the per-run p99`,
    run: (ctx) => measureStaleStorm(ctx),
  }
}

async function measureStaleStorm(ctx: BenchContext): Promise<Measurement> {
  const { server } = await ctx.serve(
    'stale-storm',
    {
      label: 'isr.wrap(app), filesystem cache, slow /stale regeneration',
      server: { mode: 'fast-path', cache: 'fs', env: { BENCH_STALE_DELAY_MS: String(REGENERATION_DELAY_MS) } },
      load: { path: '/' },
    },
  )
  const hit: Target = { url: server.url, server, load: { path: '/', connections: CONNECTIONS } }
  const storm: Target = { url: server.url, server, load: { path: '/stale', connections: CONNECTIONS } }
  const problems: string[] = []
  const renders = async () => (await server.ask<{ renders: Record<string, number> }>('renders')).renders['/stale'] ?? 0
  let lastStormAt = 0

  async function runStorm(label: string): Promise<Sample> {
    // The previous regeneration's page must be stale again (its age counts from its render's start).
    await sleep(lastStormAt + STALE_REVALIDATE_MS + 300 - Date.now())
    const before = await renders()
    // A HIT changes nothing (the page is still fresh, e.g. just built): ask again until STALE.
    let first = await probe(server.url, storm.load)
    for (let tries = 0; first.cacheState === 'HIT' && tries < 40; tries++) {
      await sleep(100)
      first = await probe(server.url, storm.load)
    }
    lastStormAt = Date.now()
    if (first.status !== 200 || first.cacheState !== 'STALE') problems.push(`${label}: /stale answered ${first.status} ${first.cacheState} before the storm, not 200 STALE`)
    const sample = await runLoad(storm, STORM_SECONDS)
    await sleep(lastStormAt + REGENERATION_DELAY_MS + 500 - Date.now())
    const after = await renders()
    const last = await probe(server.url, storm.load)
    if (after - before !== 1) problems.push(`${label}: ${after - before} regenerations counted, not 1`)
    if (last.cacheState !== 'HIT') problems.push(`${label}: /stale answered ${last.cacheState} after the storm, not HIT (the regenerated page)`)
    stormRegenerations.push(after - before)
    return sample
  }
  const stormRegenerations: number[] = []

  // Unmeasured: JIT and sockets for both paths, and the first STALE answer of the process.
  await runLoad(hit, 2)
  await runStorm('warm-up storm')
  const hits: Sample[] = []
  const storms: Sample[] = []
  for (let round = 0; round < ROUNDS; round++) {
    ctx.log(`stale storm: round ${round + 1}/${ROUNDS}`)
    if (round % 2 === 0) {
      hits.push(await runLoad(hit, STORM_SECONDS))
      storms.push(await runStorm(`round ${round + 1}`))
    } else {
      storms.push(await runStorm(`round ${round + 1}`))
      hits.push(await runLoad(hit, STORM_SECONDS))
    }
  }
  await server.close()

  for (const [label, list] of [['HIT', hits], ['storm', storms]] as const) {
    const bad = list.reduce((n, s) => n + s.non2xx + s.errors + s.timeouts, 0)
    if (bad > 0) problems.push(`${label}: ${bad} non-2xx answers, errors or timeouts`)
  }
  const fmt = (list: Sample[], pick: (s: Sample) => number) => list.map((s) => String(pick(s))).join(', ')
  return {
    a: median(storms.map((s) => s.p99Ms)),
    b: median(hits.map((s) => s.p99Ms)),
    ratio: pairedRatio(storms.map((s) => s.p99Ms), hits.map((s) => s.p99Ms)),
    invalid: problems.join('; ') || undefined,
    notes: [
      `storm p99 per round ${fmt(storms, (s) => s.p99Ms)} ms (p50 ${fmt(storms, (s) => s.p50Ms)} ms, ${fmt(storms, (s) => Math.round(s.reqPerSec))} req/s); HIT p99 ${fmt(hits, (s) => s.p99Ms)} ms (p50 ${fmt(hits, (s) => s.p50Ms)} ms, ${fmt(hits, (s) => Math.round(s.reqPerSec))} req/s)`,
      `regenerations counted per storm (the fixture's loader counts its calls; warm-up first): ${stormRegenerations.join(', ')}; each storm was preceded by a STALE answer and followed by a HIT`,
    ],
  }
}
