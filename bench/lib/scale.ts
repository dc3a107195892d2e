/**
 * Scale and memory: two fast-path servers with the default cache (filesystem store, 50 MB
 * memory tier), one filled with 1,000 and one with 100,000 distinct on-demand pages of the
 * fixture's `catalog/[id]` route through ordinary GET requests (from inside the server
 * process, so the fill does not wait on this one; see `fill` in bench/server.mjs). Every
 * page reads one shared data entry tagged `catalog`, so every cached page carries the tag.
 *
 * - memory: RSS of the 100,000 server right after its fill, minus its RSS when it had just
 *   started listening (before any request); then, for the notes, its live heap after a full
 *   collection. A third server, with a 256 MB heap limit, is filled the same way for the
 *   informational row beside it: V8 sizes its heap's room for garbage to its limit (up to
 *   4x the live heap when the limit is gigabytes, as on a machine with memory to spare), so
 *   the same work shows a smaller RSS under the limit a small container would set.
 * - scale, HITs: the same hot path (`/catalog/500`, among the pages of both) on both servers,
 *   alternating rounds.
 * - scale, revalidateTag: `revalidateTag('catalog')` called many times in each server process
 *   (over IPC), timed per call, alternating rounds.
 *
 * The 50 MB memory tier holds all 1,000 pages of the small server but only the most recent
 * ~8,000 of the big one; all 100,000 are in its filesystem store. Both cache folders live in
 * RAM (/dev/shm) when there is one: 100,000 files take minutes to write and delete on a slow
 * disk, and no figure here depends on the disk (HITs are answered from memory, tmpfs pages
 * are not in a process's RSS).
 */
import type { BenchContext } from './context.js'
import { expectHit, measurePairs, median, pairedRatio, ratioNote, reqsPerCpu, type Target } from './load.js'
import { ramDisk } from './processes.js'
import type { CustomRow, Measurement, Variant } from './types.js'

const SMALL = 1_000
const BIG = 100_000
const MEMORY_TIER = 50 * 1024 * 1024
const HOT_PATH = '/catalog/500'
const TAG = 'catalog'
const TAG_CALLS = 500
const TAG_ROUNDS = 8

const mb = (bytes: number) => bytes / 2 ** 20

interface Filled {
  target: Target
  idle: { rss: number; heapUsed: number }
  after: { rss: number; heapUsed: number; heapTotal: number; external: number }
  fillMs: number
  info: { entries: number; bytes: number; tagged: number }
  states: Record<string, number>
  statuses: Record<string, number>
}

interface ScaleSetup {
  small: Filled
  big: Filled
}

/** The heap limit of the capped memory row, MB. */
const CAPPED_HEAP_MB = 256

// --expose-gc only lets the memory row ask for a full collection after its figure is taken;
// it changes nothing about when V8 collects by itself.
const variant = (pages: number, nodeArgs: string[] = []): Variant => ({
  label: `isr.wrap(app), filesystem cache, ${pages.toLocaleString('en')} pages`,
  server: { mode: 'fast-path', cache: 'fs', handlerOptions: { cacheMaxMemorySize: MEMORY_TIER }, nodeArgs: ['--expose-gc', ...nodeArgs] },
  load: { path: HOT_PATH },
  expectHit: true,
})

let setup: Promise<ScaleSetup> | undefined
const scaleSetup = (ctx: BenchContext) => (setup ??= fillBoth(ctx))

async function fillOne(ctx: BenchContext, pages: number, nodeArgs: string[] = []): Promise<Filled> {
  const target = await ctx.serve(`scale-${pages}${nodeArgs.length > 0 ? '-capped' : ''}`, variant(pages, nodeArgs), { inMemory: true })
  const idle = await target.server.cpu()
  const started = Date.now()
  const progress = setInterval(() => ctx.log(`filling ${pages.toLocaleString('en')} pages: ${Math.round((Date.now() - started) / 1000)} s`), 20_000)
  const result = await target.server
    .ask<{ ms: number; statuses: Record<string, number>; states: Record<string, number> }>('fill', { prefix: '/catalog/', from: 0, to: pages, concurrency: 16 }, 900_000)
    .finally(() => clearInterval(progress))
  const after = await target.server.cpu()
  const info = await target.server.ask<Filled['info']>('cacheInfo', { tag: TAG })
  ctx.log(`filled ${pages.toLocaleString('en')} pages in ${(result.ms / 1000).toFixed(1)} s (${Math.round((pages / result.ms) * 1000)}/s); RSS ${mb(idle.rss).toFixed(0)} → ${mb(after.rss).toFixed(0)} MB; memory tier ${info.entries} entries`)
  return { target, idle, after, fillMs: result.ms, info, states: result.states, statuses: result.statuses }
}

async function fillBoth(ctx: BenchContext): Promise<ScaleSetup> {
  // One after the other: the memory row reads the big server's RSS right after its own fill.
  const small = await fillOne(ctx, SMALL)
  const big = await fillOne(ctx, BIG)
  return { small, big }
}

function fillProblems(filled: Filled, pages: number): string[] {
  const problems: string[] = []
  if (filled.statuses['200'] !== pages) problems.push(`fill of ${pages}: statuses ${JSON.stringify(filled.statuses)}, not ${pages} × 200`)
  if (filled.states.MISS !== pages) problems.push(`fill of ${pages}: cache states ${JSON.stringify(filled.states)}, not ${pages} MISS (distinct pages rendered on demand)`)
  // Every page carries the tag, and so does the one data entry they share.
  if (filled.info.tagged !== filled.info.entries) problems.push(`${filled.info.tagged} of ${filled.info.entries} entries in memory carry the tag ${TAG}`)
  return problems
}

export function memoryRow(): CustomRow {
  return {
    kind: 'custom',
    name: `memory: RSS after ${BIG.toLocaleString('en')} on-demand pages (cacheMaxMemorySize 50 MB) − idle RSS`,
    unit: 'MB',
    compare: 'difference',
    target: { op: '<=', value: 150 },
    how: `fast path, default filesystem store; RSS (process.memoryUsage) right after ${BIG.toLocaleString('en')} distinct GETs minus RSS right after listening, before any request`,
    async run(ctx) {
      const { big } = await scaleSetup(ctx)
      const collected = await big.target.server.ask<GcReply>('gc')
      return {
        a: mb(big.after.rss),
        b: mb(big.idle.rss),
        invalid: fillProblems(big, BIG).join('; ') || undefined,
        notes: [
          `after the fill: heap used ${mb(big.after.heapUsed).toFixed(0)} MB of ${mb(big.after.heapTotal).toFixed(0)} MB committed, external (page bodies) ${mb(big.after.external).toFixed(0)} MB; memory tier ${big.info.entries} entries, ${mb(big.info.bytes).toFixed(1)} MB counted against its 50 MB`,
          `then a full collection: live heap ${mb(collected.heapUsed).toFixed(0)} MB (${mb(big.idle.heapUsed).toFixed(0)} MB when idle); V8 keeps the rest of the ${mb(collected.heapTotal).toFixed(0)} MB it committed (the room it gives itself for garbage, up to 4x the live heap with a heap limit of gigabytes) until its memory reducer runs after some idle seconds; the capped row beside this one is the same fill under a ${CAPPED_HEAP_MB} MB heap limit`,
          `fill: ${BIG.toLocaleString('en')} pages in ${(big.fillMs / 1000).toFixed(1)} s (${Math.round((BIG / big.fillMs) * 1000)} pages/s, ${JSON.stringify(big.states)})`,
        ],
      }
    },
  }
}

interface GcReply {
  heapUsed: number
  heapTotal: number
  rss: number
}

export function memoryCappedRow(): CustomRow {
  return {
    kind: 'custom',
    name: `memory, heap limit ${CAPPED_HEAP_MB} MB: RSS after ${BIG.toLocaleString('en')} on-demand pages − idle RSS`,
    unit: 'MB',
    compare: 'difference',
    how: `the memory row's fill on a third server started with \`--max-old-space-size=${CAPPED_HEAP_MB}\` (a heap limit for a server in a small container), after the other two are filled; informational`,
    async run(ctx) {
      const capped = await fillOne(ctx, BIG, [`--max-old-space-size=${CAPPED_HEAP_MB}`])
      await capped.target.server.close()
      const { big } = await scaleSetup(ctx)
      return {
        a: mb(capped.after.rss),
        b: mb(capped.idle.rss),
        invalid: fillProblems(capped, BIG).join('; ') || undefined,
        notes: [
          `after the fill: heap used ${mb(capped.after.heapUsed).toFixed(0)} MB of ${mb(capped.after.heapTotal).toFixed(0)} MB committed, external ${mb(capped.after.external).toFixed(0)} MB`,
          `fill: ${(capped.fillMs / 1000).toFixed(1)} s (${Math.round((BIG / capped.fillMs) * 1000)} pages/s) against ${(big.fillMs / 1000).toFixed(1)} s without the limit: the smaller heap costs the fill ${(capped.fillMs / big.fillMs).toFixed(2)}x its time`,
        ],
      }
    },
  }
}

export function scaleHitRow(rounds: number, seconds: number, warmup: number): CustomRow {
  return {
    kind: 'custom',
    name: `scale: HIT req/CPU-s with ${BIG.toLocaleString('en')} cached pages ÷ with ${SMALL.toLocaleString('en')} (fast path)`,
    unit: 'req/CPU-s',
    target: { op: '>=', value: 0.9 },
    how: `fast path, cacheMaxMemorySize 50 MB on both: the ${SMALL.toLocaleString('en')} pages all in memory, the ${BIG.toLocaleString('en')} all in the filesystem store and the most recent ~8,000 in memory; GET ${HOT_PATH} (a HIT from memory on both); ${warmup} s warm-up, ${rounds} rounds of ${seconds} s, alternating; requests per server CPU-second (the load generator, not the server, limits req/s here)`,
    async run(ctx) {
      const { small, big } = await scaleSetup(ctx)
      const targets = new Map([
        ['big', big.target],
        ['small', small.target],
      ])
      const problems = [...fillProblems(small, SMALL), ...fillProblems(big, BIG)]
      const [pair] = await measurePairs(targets, [['big', 'small']], {
        rounds,
        seconds,
        warmup,
        afterWarmup: async (id) => {
          try {
            await expectHit(targets.get(id)!.url, { path: HOT_PATH }, id)
          } catch (error) {
            problems.push((error as Error).message)
          }
        },
        onRun: (id, round, s) => ctx.log(`scale: round ${round + 1}/${rounds} ${id.padEnd(6)} ${Math.round(s.reqPerSec)} req/s, server CPU ${Math.round(s.serverCpu * 100)}%`),
      })
      for (const [id, list] of [['big', pair.a], ['small', pair.b]] as const) {
        const bad = list.reduce((n, s) => n + s.non2xx + s.errors + s.timeouts, 0)
        if (bad > 0) problems.push(`${id}: ${bad} non-2xx answers, errors or timeouts`)
      }
      return {
        a: median(pair.a.map(reqsPerCpu)),
        b: median(pair.b.map(reqsPerCpu)),
        ratio: pairedRatio(pair.a.map(reqsPerCpu), pair.b.map(reqsPerCpu)),
        invalid: problems.join('; ') || undefined,
        notes: [
          `${ratioNote(pair.a, pair.b, 'req/CPU-s')}; load generator CPU ${Math.round(median([...pair.a, ...pair.b].map((s) => s.loadCpu)) * 100)}%`,
          `RSS while measuring: ${mb((await big.target.server.cpu()).rss).toFixed(0)} MB vs ${mb((await small.target.server.cpu()).rss).toFixed(0)} MB`,
        ],
      }
    },
  }
}

export function revalidateTagRow(): CustomRow {
  return {
    kind: 'custom',
    name: `scale: revalidateTag time with ${BIG.toLocaleString('en')} tagged pages ÷ with ${SMALL.toLocaleString('en')}`,
    unit: 'µs/call',
    target: { op: '<=', value: 2 },
    how: `${TAG_CALLS} sequential \`await revalidateTag('${TAG}')\` in each server process (over IPC), ${TAG_ROUNDS} rounds alternating; median time per call`,
    async run(ctx) {
      const { small, big } = await scaleSetup(ctx)
      const times: Record<'big' | 'small', number[]> = { big: [], small: [] }
      const cpu: Record<'big' | 'small', number[]> = { big: [], small: [] }
      for (let round = 0; round < TAG_ROUNDS; round++) {
        for (const id of round % 2 === 0 ? (['big', 'small'] as const) : (['small', 'big'] as const)) {
          const server = (id === 'big' ? big : small).target.server
          const { micros, cpuMicros } = await server.ask<{ micros: number[]; cpuMicros: number }>('revalidateTag', { tag: TAG, calls: TAG_CALLS })
          times[id].push(...micros)
          cpu[id].push(cpuMicros / TAG_CALLS)
        }
      }
      const p = (list: number[], q: number) => [...list].sort((x, y) => x - y)[Math.min(list.length - 1, Math.floor(list.length * q))]
      const stats = (list: number[]) => `median ${p(list, 0.5).toFixed(0)} µs, p90 ${p(list, 0.9).toFixed(0)} µs, max ${Math.max(...list).toFixed(0)} µs`
      // The tag's pages expired: the next request of each renders again. Nothing else measures these servers.
      await Promise.all([big.target.server.close(), small.target.server.close()])
      return {
        a: median(times.big),
        b: median(times.small),
        notes: [
          `${BIG.toLocaleString('en')} pages: ${stats(times.big)}; ${SMALL.toLocaleString('en')} pages: ${stats(times.small)} (${times.big.length} calls each; the filesystem store appends one line to its tag log per call: three thread-pool round trips, open, write, close, which are most of a call's time)`,
          `server CPU per call (all threads) ${median(cpu.big).toFixed(0)} µs ÷ ${median(cpu.small).toFixed(0)} µs = ${(median(cpu.big) / median(cpu.small)).toFixed(2)} (medians over rounds)`,
          `${ramDisk() ? 'cache folders on /dev/shm (RAM)' : 'cache folders in the temp folder (disk)'}`,
        ],
      }
    },
  }
}
