/**
 * `npm run bench`: builds bench/fixture with a real `vite build`, runs every row of
 * bench/rows.ts, prints the table and writes it to bench/RESULTS.md.
 *
 *   npm run bench -- --rounds 5 --seconds 3 --warmup 2 --only redis
 *
 * (`--only` runs the rows whose name contains the text, and leaves RESULTS.md alone.)
 *
 * Exits 0 when the harness ran, whether or not every target was met (the table says);
 * non-zero only when the harness itself failed.
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { viteBuild } from './lib/build.js'
import { createContext, type BenchContext } from './lib/context.js'
import { expectHit, measurePairs, median, probe, type Sample, type Target } from './lib/load.js'
import { cleanup, installExitHandlers } from './lib/processes.js'
import { evaluate, machine, resultsMarkdown, table } from './lib/report.js'
import type { RowResult, ThroughputRow } from './lib/types.js'
import { ROWS, VARIANTS } from './rows.js'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const FIXTURE_DIR = join(BENCH_DIR, 'fixture')

interface Settings {
  rounds: number
  seconds: number
  warmup: number
  only?: string
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      only: { type: 'string' },
    },
  })
  const settings = { rounds: Number(values.rounds), seconds: Number(values.seconds), warmup: Number(values.warmup), only: values.only }
  for (const key of ['rounds', 'seconds'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) throw new TypeError(`--${key} must be a positive integer (got ${values[key]})`)
  }
  if (!Number.isInteger(settings.warmup) || settings.warmup < 0) throw new TypeError(`--warmup must be an integer >= 0 (got ${values.warmup})`)
  return settings
}

const started = Date.now()
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}\n`)
const round0 = (n: number) => Math.round(n).toString()
const percent = (n: number) => `${Math.round(n * 100)}%`

/** Measure every variant of these rows in alternating rounds, and turn the samples into rows. */
async function runThroughputGroup(ctx: BenchContext, group: string, rows: ThroughputRow[], settings: Settings, details: string[]): Promise<RowResult[]> {
  const ids = [...new Set(rows.flatMap((row) => [row.a, row.b]))]
  for (const id of ids) if (!VARIANTS[id]) throw new Error(`bench/rows.ts: row uses unknown variant "${id}"`)
  const usesRedis = ids.some((id) => VARIANTS[id].server.cache === 'redis')

  const targets = new Map<string, Target>()
  for (const id of ids) {
    targets.set(id, await ctx.serve(id, VARIANTS[id]))
    log(`${group}: started ${id} (${VARIANTS[id].label})`)
  }
  const problems = new Map<string, string[]>()
  const problem = (id: string, text: string) => problems.set(id, [...(problems.get(id) ?? []), text])
  const checkHit = async (id: string, when: string) => {
    if (!VARIANTS[id].expectHit) return
    const target = targets.get(id)!
    try {
      await expectHit(target.url, target.load, id)
    } catch (error) {
      problem(id, `${when}: ${(error as Error).message}`)
    }
  }

  let redisBefore: Record<string, number> = {}
  const measured = await measurePairs(
    targets,
    rows.map((row) => [row.a, row.b] as const),
    {
      rounds: settings.rounds,
      seconds: settings.seconds,
      warmup: settings.warmup,
      afterWarmup: (id) => checkHit(id, 'probe before measuring'),
      beforeRounds: async () => {
        if (usesRedis) redisBefore = await (await ctx.redis()).commandCounts()
        log(`${group}: warmed up and probed ${ids.length} servers; measuring ${rows.length} pairs, ${settings.rounds} rounds of ${settings.seconds} s each`)
      },
      onRun: (id, round, s) =>
        log(`${group}: round ${round + 1}/${settings.rounds} ${id.padEnd(18)} ${round0(s.reqPerSec).padStart(6)} req/s  p99 ${s.p99Ms} ms  server CPU ${percent(s.serverCpu)}  load CPU ${percent(s.loadCpu)}`),
    },
  )
  const samples = new Map<string, Sample[]>(ids.map((id) => [id, []]))
  rows.forEach((row, i) => {
    samples.get(row.a)!.push(...measured[i].a)
    samples.get(row.b)!.push(...measured[i].b)
  })
  const redisCalls = usesRedis ? diffCounts(redisBefore, await (await ctx.redis()).commandCounts()) : undefined
  for (const id of ids) await checkHit(id, 'probe after measuring')

  // The bare servers answer the ISR page's exact bytes: check that they still match in size.
  const sizes = new Map<string, number>()
  for (const [id, target] of targets) sizes.set(id, (await probe(target.url, target.load)).body.length)
  for (const target of targets.values()) await target.server.close()

  for (const [id, list] of samples) {
    const bad = list.reduce((n, s) => ({ non2xx: n.non2xx + s.non2xx, errors: n.errors + s.errors, timeouts: n.timeouts + s.timeouts }), { non2xx: 0, errors: 0, timeouts: 0 })
    if (bad.non2xx + bad.errors + bad.timeouts > 0) problem(id, `${bad.non2xx} non-2xx, ${bad.errors} errors, ${bad.timeouts} timeouts`)
  }

  details.push(variantDetails(group, ids, samples, sizes, problems))

  return rows.map((row, i) => {
    const { a, b } = measured[i]
    const aMedian = median(a.map((s) => s.reqPerSec))
    const bMedian = median(b.map((s) => s.reqPerSec))
    const ratio = aMedian / bMedian
    const invalid = [row.a, row.b].flatMap((id) => (problems.get(id) ?? []).map((p) => `${id}: ${p}`)).join('; ') || undefined
    const perRound = a.map((s, j) => s.reqPerSec / b[j].reqPerSec)
    // Requests per CPU-second of the server: less sensitive than req/s to CPU taken by other
    // processes on a shared machine, so a gap seen in both is real, one seen only in req/s is noise.
    const perCpu = median(a.map((s) => s.reqPerSec / s.serverCpu)) / median(b.map((s) => s.reqPerSec / s.serverCpu))
    const notes = [`per-round ratios ${perRound.map((r) => r.toFixed(2)).join(', ')}; requests per server CPU-second A ÷ B ${perCpu.toFixed(2)}`]
    for (const [side, list] of [['A', a], ['B', b]] as const) {
      const loadCpu = median(list.map((s) => s.loadCpu))
      // autocannon is one thread: near a full core it, not the server, sets the pace.
      if (loadCpu >= 0.85) notes.push(`${side}: the load generator used ${percent(loadCpu)} of a core, so ${side}'s req/s is the load generator's limit here (the server may be faster)`)
    }
    if (redisCalls && [row.a, row.b].some((id) => VARIANTS[id].server.cache === 'redis')) notes.push(redisSummary(redisCalls, ids, samples))
    return { name: row.name, unit: 'req/s', a: aMedian, b: bMedian, ratio, target: row.target, status: evaluate(ratio, row.target, invalid), invalid, notes }
  })
}

function diffCounts(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {}
  for (const [command, calls] of Object.entries(after)) {
    const n = calls - (before[command] ?? 0)
    if (n > 0) diff[command] = n
  }
  return diff
}

function redisSummary(calls: Record<string, number>, ids: string[], samples: Map<string, Sample[]>): string {
  const total = Object.values(calls).reduce((a, b) => a + b, 0)
  const requests = ids.filter((id) => VARIANTS[id].server.cache === 'redis').reduce((n, id) => n + samples.get(id)!.reduce((m, s) => m + s.requests, 0), 0)
  const list = Object.entries(calls).map(([command, n]) => `${command} ${n}`).join(', ') || 'none'
  // Commands a Lua script runs (the lock release's GET and DEL) count here too.
  return `Redis commands while measuring: ${total} (${list}) for ${requests} requests to the Redis variant`
}

function variantDetails(group: string, ids: string[], samples: Map<string, Sample[]>, sizes: Map<string, number>, problems: Map<string, string[]>): string {
  const lines = [
    `### Group \`${group}\``,
    '',
    '| Variant | Server | Body bytes | req/s per run | median | p99 ms (median) | server CPU | req per server CPU-s | load generator CPU |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const id of ids) {
    const list = samples.get(id)!
    lines.push(
      `| ${id} | ${VARIANTS[id].label} | ${sizes.get(id)} | ${list.map((s) => round0(s.reqPerSec)).join(', ')} | ${round0(median(list.map((s) => s.reqPerSec)))} | ${median(list.map((s) => s.p99Ms))} | ${percent(median(list.map((s) => s.serverCpu)))} | ${round0(median(list.map((s) => s.reqPerSec / s.serverCpu)))} | ${percent(median(list.map((s) => s.loadCpu)))} |`,
    )
  }
  for (const [id, list] of problems) lines.push('', `- ${id}: ${list.join('; ')}`)
  return lines.join('\n') + '\n'
}

async function main(): Promise<void> {
  installExitHandlers()
  const settings = readSettings()
  const m = machine()
  log(`${m.cpu}, ${m.cores} cores, node ${m.node}`)
  log('building bench/fixture with vite build')
  const build = await viteBuild(FIXTURE_DIR)
  log(`built in ${(build.ms / 1000).toFixed(1)} s`)
  const ctx = createContext(join(FIXTURE_DIR, 'dist'))

  const selected = ROWS.filter((row) => !settings.only || row.name.toLowerCase().includes(settings.only.toLowerCase()))
  if (selected.length === 0) throw new Error(`--only ${settings.only} matches no row`)
  const results = new Map<(typeof ROWS)[number], RowResult>()
  const details: string[] = []

  const groups = new Map<string, ThroughputRow[]>()
  for (const row of selected) if (row.kind === 'throughput') groups.set(row.group ?? 'hit', [...(groups.get(row.group ?? 'hit') ?? []), row])
  for (const [group, rows] of groups) {
    const measured = await runThroughputGroup(ctx, group, rows, settings, details)
    rows.forEach((row, i) => results.set(row, measured[i]))
  }
  for (const row of selected) {
    if (row.kind !== 'custom') continue
    log(`custom row: ${row.name}`)
    const measured = await row.run(ctx)
    const ratio = measured.a / measured.b
    results.set(row, {
      name: row.name,
      unit: row.unit,
      a: measured.a,
      b: measured.b,
      ratio,
      target: row.target,
      status: evaluate(ratio, row.target, measured.invalid),
      invalid: measured.invalid,
      notes: measured.notes ?? [],
    })
  }

  const ordered = selected.map((row) => results.get(row)!)
  const notes = ordered.flatMap((row) => row.notes.map((note) => `- ${row.name}: ${note}`))
  const settingsLine = `autocannon, 50 connections, plain GET of the same path; ${settings.warmup} s warm-up per server, then ${settings.rounds} rounds of ${settings.seconds} s per side, A B / B A alternating, pairs interleaved`
  const tableText = table(ordered)
  process.stdout.write(`\n${tableText}\n\n${notes.join('\n')}\n\n`)
  // A partial run must not replace the full table.
  if (settings.only) {
    log('--only: bench/RESULTS.md left as it was')
    return
  }
  const file = join(BENCH_DIR, 'RESULTS.md')
  const totalSeconds = (Date.now() - started) / 1000
  writeFileSync(file, resultsMarkdown({ rows: ordered, settings: settingsLine, details: [notes.join('\n') + '\n', ...details].join('\n'), date: new Date(), totalSeconds }))
  log(`wrote ${file}`)
}

try {
  await main()
} catch (error) {
  process.stderr.write(`\n[bench] the harness failed: ${(error as Error)?.stack ?? error}\n`)
  process.exitCode = 1
} finally {
  await cleanup()
}
