/**
 * Start-up against the size of the cache folder: a fast-path server with the default
 * filesystem cache started on a folder of BIG small entries and on one of 1,000, in
 * alternating rounds (small, big, big, small, …). Each round forks a fresh server process
 * and times it from the fork to the first answer of `/` (node's own start and imports
 * included, the same on both sides), then reads its RSS right after that answer.
 *
 * The folders are filled once, before the rounds, by the filesystem handler itself (direct
 * writes, in two processes) and live in RAM (/dev/shm) when there is one. The files already
 * there are counted by a walk in the background after start; the notes give how long that
 * walk took in the big server and its RSS once it was over.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNode } from './build.js'
import type { BenchContext } from './context.js'
import { median, pairedRatio } from './load.js'
import { ramDisk } from './processes.js'
import type { RunningServer } from './servers.js'
import type { CustomRow } from './types.js'

/**
 * 1,000,000 is the goal; writing a million files takes minutes on a 2-core machine (and 4 GB
 * of RAM disk), hence the default. BENCH_STARTUP_ENTRIES=1000000 runs the goal.
 */
const BIG = Number(process.env.BENCH_STARTUP_ENTRIES ?? 200_000)
const SMALL = 1_000
const ROUNDS = 4
const FILL_SCRIPT = fileURLToPath(new URL('../fill-cache.mjs', import.meta.url))

const mb = (bytes: number) => bytes / 2 ** 20

interface Round {
  ms: number
  rss: number
}

interface StartupSetup {
  big: Round[]
  small: Round[]
  fillMs: number
  walk: { ms: number; entries: number; bytes: number; rssAfter: number; rssSmall: number }
}

let setup: Promise<StartupSetup> | undefined

async function fill(ctx: BenchContext, dir: string, count: number): Promise<void> {
  // Two writers: one per core of the machines this runs on.
  const half = Math.ceil(count / 2)
  await Promise.all([runNode(FILL_SCRIPT, [dir, '0', String(half)], { cwd: ctx.fixtureDir }), runNode(FILL_SCRIPT, [dir, String(half), String(count - half)], { cwd: ctx.fixtureDir })])
}

async function startAndAsk(ctx: BenchContext, cacheDir: string): Promise<{ round: Round; server: RunningServer }> {
  const started = performance.now()
  const server = await ctx.startServer({ mode: 'fast-path', distDir: ctx.distDir, cache: 'fs', cacheDir })
  const res = await fetch(server.url + '/')
  await res.arrayBuffer()
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`the first answer of / was ${res.status}, not 200`)
  return { round: { ms, rss: (await server.cpu()).rss }, server }
}

async function measure(ctx: BenchContext): Promise<StartupSetup> {
  const big = ctx.tempDir('startup-big', { inMemory: true })
  const small = ctx.tempDir('startup-small', { inMemory: true })
  const filling = performance.now()
  await fill(ctx, small, SMALL)
  await fill(ctx, big, BIG)
  const fillMs = performance.now() - filling
  ctx.log(`startup: filled ${BIG.toLocaleString('en')} and ${SMALL.toLocaleString('en')} entries in ${(fillMs / 1000).toFixed(1)} s${ramDisk() ? ' (in /dev/shm)' : ''}`)

  const rounds: StartupSetup = { big: [], small: [], fillMs, walk: undefined! }
  // The first start on each folder copies the build's prerendered pages into it: not measured.
  for (const dir of [small, big]) await (await startAndAsk(ctx, dir)).server.close()
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const)) {
      const { round: r, server } = await startAndAsk(ctx, side === 'big' ? big : small)
      rounds[side].push(r)
      ctx.log(`startup: round ${round + 1}/${ROUNDS} ${side.padEnd(5)} first answer ${Math.round(r.ms)} ms after the fork, RSS ${mb(r.rss).toFixed(0)} MB`)
      await server.close()
    }
  }
  // The background count of the big folder, to its end.
  const { server: bigServer } = await startAndAsk(ctx, big)
  const { server: smallServer } = await startAndAsk(ctx, small)
  const walking = performance.now()
  const counted = await bigServer.ask<{ entries: number; bytes: number }>('disk', { wait: true }, 300_000)
  const walkMs = performance.now() - walking
  await smallServer.ask('disk', { wait: true })
  rounds.walk = { ms: walkMs, entries: counted.entries, bytes: counted.bytes, rssAfter: (await bigServer.cpu()).rss, rssSmall: (await smallServer.cpu()).rss }
  await Promise.all([bigServer.close(), smallServer.close()])
  return rounds
}

const startupSetup = (ctx: BenchContext) => (setup ??= measure(ctx))

const LABEL = `${BIG.toLocaleString('en')} entries${BIG < 1_000_000 ? ' (not 1M: a million files take minutes to write here)' : ''}`
const HOW = `fast path, default filesystem cache on a folder of ${BIG.toLocaleString('en')} small entries and on one of ${SMALL.toLocaleString('en')} (written by the handler, in RAM); ${ROUNDS} rounds alternating, each a fresh server process timed from the fork to the first answer of /, RSS read right after it; medians, and the median of per-round ratios`

export function startupTimeRow(): CustomRow {
  return {
    kind: 'custom',
    name: `startup: first-request time with ${LABEL} ÷ with ${SMALL.toLocaleString('en')}`,
    unit: 'ms',
    target: { op: '<=', value: 1.5 },
    how: HOW,
    async run(ctx) {
      const s = await startupSetup(ctx)
      return {
        a: median(s.big.map((r) => r.ms)),
        b: median(s.small.map((r) => r.ms)),
        ratio: pairedRatio(s.big.map((r) => r.ms), s.small.map((r) => r.ms)),
        notes: [
          `per round: ${s.big.map((r) => Math.round(r.ms)).join(', ')} ms with ${BIG.toLocaleString('en')} entries; ${s.small.map((r) => Math.round(r.ms)).join(', ')} ms with ${SMALL.toLocaleString('en')} (node's own start and imports included on both sides)`,
          `the big folder took ${(s.fillMs / 1000).toFixed(0)} s to write; its files were counted in the background in ${(s.walk.ms / 1000).toFixed(1)} s after the first answer (${s.walk.entries.toLocaleString('en')} entries, ${mb(s.walk.bytes).toFixed(0)} MB of disk in whole blocks)`,
        ],
      }
    },
  }
}

export function startupMemoryRow(): CustomRow {
  return {
    kind: 'custom',
    name: `startup: RSS at the first request with ${LABEL} ÷ with ${SMALL.toLocaleString('en')}`,
    unit: 'MB',
    target: { op: '<=', value: 1.5 },
    how: HOW,
    async run(ctx) {
      const s = await startupSetup(ctx)
      return {
        a: median(s.big.map((r) => mb(r.rss))),
        b: median(s.small.map((r) => mb(r.rss))),
        ratio: pairedRatio(s.big.map((r) => r.rss), s.small.map((r) => r.rss)),
        notes: [
          `once the background count was over: RSS ${mb(s.walk.rssAfter).toFixed(0)} MB with ${s.walk.entries.toLocaleString('en')} entries counted, against ${mb(s.walk.rssSmall).toFixed(0)} MB with ${SMALL.toLocaleString('en')} (${(mb(s.walk.rssAfter) - mb(s.walk.rssSmall)).toFixed(0)} MB more)`,
        ],
      }
    },
  }
}
