/**
 * `npm run bench`: builds bench/fixture with a real `vite build`, runs every row of
 * bench/rows.ts, prints the table and writes it to bench/RESULTS.md.
 *
 *   npm run bench -- --rounds 5 --seconds 3 --warmup 2 --workers 0 --only redis
 *   npm run bench -- --peers [--only peers]
 *   npm run bench -- --group hit,compression
 *
 * (`--only` runs the rows whose name contains the text, `--group` the throughput rows of the
named groups; either leaves RESULTS.md alone;
 * --rounds, --seconds and --warmup override every throughput group's own settings in rows.ts;
 * --workers runs autocannon in that many worker threads, for machines with cores to spare;
 * --peers adds the rows of lib/peers.ts: Next.js and Nitro, installed into a scratch folder,
 * measured against the same page; `--only peers` runs those rows alone.)
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
import { expectHit, loadOptions, measurePairs, median, pairedRatio, probe, ratioNote, REWARM_SECONDS, reqs, reqsPerCpu, type Sample, type Target } from './lib/load.js'
import { PEER_GROUP, runPeerRows, selectPeerRows } from './lib/peers.js'
import { cleanup, installExitHandlers } from './lib/processes.js'
import { evaluate, machine, resultsMarkdown, table } from './lib/report.js'
import type { GroupSettings, Metric, RowResult, ThroughputRow } from './lib/types.js'
import { GROUPS, ROWS, VARIANTS } from './rows.js'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const FIXTURE_DIR = join(BENCH_DIR, 'fixture')

/** Rounds, seconds and warm-up of a throughput group. */
interface Settings {
  rounds: number
  seconds: number
  warmup: number
}

const DEFAULTS: Settings = { rounds: 5, seconds: 3, warmup: 2 }

interface Options {
  /** Set on the command line: overrides every group's own settings. */
  override: Partial<Settings>
  only?: string
  /** Throughput groups to run alone. */
  groups?: string[]
  workers: number
  /** Add the peer rows (lib/peers.ts). */
  peers: boolean
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      workers: { type: 'string', default: '0' },
      only: { type: 'string' },
      group: { type: 'string' },
      peers: { type: 'boolean', default: false },
    },
  })
  const override: Partial<Settings> = {}
  for (const key of ['rounds', 'seconds', 'warmup'] as const) {
    if (values[key] === undefined) continue
    const n = Number(values[key])
    if (!Number.isInteger(n) || n < (key === 'warmup' ? 0 : 1)) throw new TypeError(`--${key} must be an integer >= ${key === 'warmup' ? 0 : 1} (got ${values[key]})`)
    override[key] = n
  }
  const workers = Number(values.workers)
  if (!Number.isInteger(workers) || workers < 0) throw new TypeError(`--workers must be an integer >= 0 (got ${values.workers})`)
  const groups = values.group?.split(',').map((g) => g.trim()).filter(Boolean)
  return { override, only: values.only, groups, workers, peers: values.peers }
}

function groupSettings(group: string, options: Options): Settings {
  const own: GroupSettings = GROUPS[group] ?? (group === 'peers' ? PEER_GROUP : {})
  return {
    rounds: options.override.rounds ?? own.rounds ?? DEFAULTS.rounds,
    seconds: options.override.seconds ?? own.seconds ?? DEFAULTS.seconds,
    warmup: options.override.warmup ?? own.warmup ?? DEFAULTS.warmup,
  }
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
  const encoded = new Map<string, string>()
  const checkHit = async (id: string, when: string) => {
    const variant = VARIANTS[id]
    if (!variant.expectHit) return
    const target = targets.get(id)!
    try {
      const hit = await expectHit(target.url, target.load, id)
      if (variant.expectEncoding) {
        // Really compressed: the right content-encoding, and fewer bytes than the same server's identity answer.
        const plain = await probe(target.url, { path: target.load.path })
        if (hit.encoding !== variant.expectEncoding) problem(id, `${when}: content-encoding ${hit.encoding ?? '(none)'}, not ${variant.expectEncoding}`)
        else if (hit.body.length >= plain.body.length) problem(id, `${when}: ${hit.body.length} bytes ${hit.encoding}, not fewer than the ${plain.body.length} bytes uncompressed`)
        else encoded.set(id, `${hit.encoding} ${hit.body.length} bytes (identity ${plain.body.length})`)
      }
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

  details.push(variantDetails(group, settings, ids, samples, sizes, encoded, problems))

  return rows.map((row, i) => {
    const { a, b } = measured[i]
    const metric: Metric = row.metric ?? 'req/s'
    const pick = metric === 'req/s' ? reqs : reqsPerCpu
    const invalid = [row.a, row.b].flatMap((id) => (problems.get(id) ?? []).map((p) => `${id}: ${p}`)).join('; ') || undefined
    const notes = [ratioNote(a, b, metric)]
    const ratio = pairedRatio(a.map(pick), b.map(pick))
    for (const [side, list] of [['A', a], ['B', b]] as const) {
      const loadCpu = median(list.map((s) => s.loadCpu))
      // autocannon is one thread: near a full core it, not the server, sets the pace.
      if (loadCpu >= 0.85) notes.push(`${side}: the load generator used ${percent(loadCpu)} of a core, so ${side}'s req/s is the load generator's limit here (the server may be faster)`)
    }
    if (redisCalls && [row.a, row.b].some((id) => VARIANTS[id].server.cache === 'redis')) notes.push(redisSummary(redisCalls, ids, samples))
    return { name: row.name, unit: metric, a: median(a.map(pick)), b: median(b.map(pick)), ratio, compare: 'ratio', target: row.target, status: evaluate(ratio, row.target, invalid), invalid, notes }
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

function variantDetails(group: string, settings: Settings, ids: string[], samples: Map<string, Sample[]>, sizes: Map<string, number>, encoded: Map<string, string>, problems: Map<string, string[]>): string {
  const lines = [
    `### Group \`${group}\``,
    '',
    `${settings.warmup} s warm-up per server, then ${settings.rounds} rounds of ${settings.seconds} s per side (each after ${REWARM_SECONDS} s unmeasured).${GROUPS[group]?.why ? ` Why: ${GROUPS[group].why}.` : ''}`,
    '',
    '| Variant | Server | Body bytes | req/s per run | median | p99 ms (median) | server CPU | req per server CPU-s | load generator CPU | other processes CPU |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const id of ids) {
    const list = samples.get(id)!
    const other = median(list.map((s) => s.otherCpu))
    lines.push(
      `| ${id} | ${VARIANTS[id].label} | ${encoded.get(id) ?? sizes.get(id)} | ${list.map((s) => round0(s.reqPerSec)).join(', ')} | ${round0(median(list.map((s) => s.reqPerSec)))} | ${median(list.map((s) => s.p99Ms))} | ${percent(median(list.map((s) => s.serverCpu)))} | ${round0(median(list.map((s) => s.reqPerSec / s.serverCpu)))} | ${percent(median(list.map((s) => s.loadCpu)))} | ${Number.isFinite(other) ? percent(other) : '-'} |`,
    )
  }
  for (const [id, list] of problems) lines.push('', `- ${id}: ${list.join('; ')}`)
  return lines.join('\n') + '\n'
}

function methodText(rows: readonly (typeof ROWS)[number][], workers: number): string {
  const lines = [
    'Both sides of each ratio are measured in the same run, in alternating rounds (A B, then',
    'B A). The A and B columns are each side\'s median; A ÷ B is the median of the rounds\' own',
    'ratios, each from an A and a B measured back to back, so the machine\'s drift between rounds',
    `cancels out (the notes give both sides' medians and every round's ratio). Throughput rows:`,
    `autocannon (${workers > 0 ? `${workers} worker threads` : 'one thread'}), 50 connections, a plain GET of`,
    `the same path, each server in its own process, each measured run right after ${REWARM_SECONDS} s of`,
    'unmeasured load on the same server (a server that sat idle while other pairs ran would',
    'start colder than one that just ran). The verdict of each row uses the figure named in',
    'its A and B columns:',
    '',
  ]
  // Rows sharing a reason are listed together, with the reason once.
  const reasons = new Map<string, string[]>()
  for (const row of rows) {
    const text = row.kind === 'throughput' ? (row.why ? `${row.metric ?? 'req/s'}, because ${row.why}` : undefined) : row.how
    if (text) reasons.set(text, [...(reasons.get(text) ?? []), row.name])
  }
  for (const [text, names] of reasons) lines.push(`- ${names.map((name) => `*${name}*`).join(', ')}: ${text}.`)
  lines.push(
    '',
    'A row is INVALID when a run had non-2xx answers, errors or timeouts, or a probe did not get',
    'the expected cache state, encoding or count; "info" rows have no target. "met (by x)" and',
    '"NOT MET (short by x)" give the distance to the target in the ratio\'s own terms.',
    '"other processes CPU" in the details is the rest of the machine\'s busy CPU during a run',
    '(/proc/stat): anything above a few % means something else shared the machine then.',
  )
  return lines.join('\n')
}

async function main(): Promise<void> {
  installExitHandlers()
  const options = readOptions()
  loadOptions.workers = options.workers
  const m = machine()
  log(`${m.cpu}, ${m.cores} cores, node ${m.node}`)
  log('building bench/fixture with vite build')
  const build = await viteBuild(FIXTURE_DIR)
  log(`built in ${(build.ms / 1000).toFixed(1)} s`)
  const ctx = createContext(FIXTURE_DIR, log)

  const selected = ROWS.filter(
    (row) =>
      (!options.only || row.name.toLowerCase().includes(options.only.toLowerCase())) &&
      (!options.groups || (row.kind === 'throughput' && options.groups.includes(row.group ?? 'hit'))),
  )
  const peerRows = options.peers ? selectPeerRows(options.only) : []
  if (selected.length === 0 && peerRows.length === 0) throw new Error(`--only ${options.only} matches no row${options.peers ? '' : ' (the peer rows need --peers)'}`)
  const results = new Map<(typeof ROWS)[number], RowResult>()
  const details: string[] = []
  const timings: string[] = []

  const groups = new Map<string, ThroughputRow[]>()
  for (const row of selected) if (row.kind === 'throughput') groups.set(row.group ?? 'hit', [...(groups.get(row.group ?? 'hit') ?? []), row])
  for (const [group, rows] of groups) {
    const groupStarted = Date.now()
    const measured = await runThroughputGroup(ctx, group, rows, groupSettings(group, options), details)
    rows.forEach((row, i) => results.set(row, measured[i]))
    timings.push(`group ${group} ${Math.round((Date.now() - groupStarted) / 1000)} s`)
  }
  let failed = false
  for (const row of selected) {
    if (row.kind !== 'custom') continue
    log(`custom row: ${row.name}`)
    const rowStarted = Date.now()
    const compare = row.compare ?? 'ratio'
    try {
      const measured = await row.run(ctx)
      const ratio = compare === 'difference' ? measured.a - measured.b : (measured.ratio ?? measured.a / measured.b)
      results.set(row, {
        name: row.name,
        unit: row.unit,
        a: measured.a,
        b: measured.b,
        ratio,
        compare,
        target: row.target,
        status: evaluate(ratio, row.target, measured.invalid),
        invalid: measured.invalid,
        notes: measured.notes ?? [],
      })
    } catch (error) {
      // One broken row must not cost the others: it shows as INVALID, and the run exits non-zero.
      failed = true
      const message = (error as Error)?.message?.split('\n')[0] ?? String(error)
      log(`custom row failed: ${row.name}: ${(error as Error)?.stack ?? error}`)
      results.set(row, { name: row.name, unit: row.unit, a: NaN, b: NaN, ratio: NaN, compare, target: row.target, status: 'invalid', invalid: `the row failed: ${message}`, notes: [] })
    }
    timings.push(`${row.name.length > 50 ? row.name.slice(0, 48) + '…' : row.name} ${Math.round((Date.now() - rowStarted) / 1000)} s`)
  }

  let peerDetails = ''
  if (peerRows.length > 0) {
    const peersStarted = Date.now()
    const peers = await runPeerRows(ctx, peerRows, groupSettings('peers', options))
    peerRows.forEach((row, i) => results.set(row, peers.results[i]))
    details.push(peers.details)
    peerDetails = peers.details
    timings.push(`peers ${Math.round((Date.now() - peersStarted) / 1000)} s (${peers.timings.join(', ')})`)
  }

  const ordered = [...selected, ...peerRows].map((row) => results.get(row)!)
  const notes = ordered.flatMap((row) => row.notes.map((note) => `- ${row.name}: ${note}`))
  const totalSeconds = (Date.now() - started) / 1000
  const settingsLines = [
    `Throughput groups: ${[...groups.keys(), ...(peerRows.length > 0 ? ['peers'] : [])].map((group) => { const g = groupSettings(group, options); return `${group} ${g.warmup} s warm-up, ${g.rounds} rounds of ${g.seconds} s per side, each after ${REWARM_SECONDS} s unmeasured` }).join('; ')}; autocannon ${options.workers > 0 ? `in ${options.workers} worker threads` : 'in one thread'}`,
    `Time per part: vite build ${(build.ms / 1000).toFixed(0)} s, ${timings.join(', ')}`,
  ]
  const tableText = table(ordered)
  process.stdout.write(`\n${tableText}\n\n${notes.join('\n')}\n\n`)
  // With --only no RESULTS.md is written: the peers' details (body bytes, versions) go to the console instead.
  if (options.only && peerDetails) process.stdout.write(`${peerDetails}\n`)
  log(`whole run ${Math.round(totalSeconds)} s (${timings.join(', ')})`)
  if (failed) process.exitCode = 1
  // A partial run must not replace the full table.
  if (options.only || options.groups) {
    log(`${options.only ? '--only' : '--group'}: bench/RESULTS.md left as it was`)
    return
  }
  const file = join(BENCH_DIR, 'RESULTS.md')
  writeFileSync(file, resultsMarkdown({ rows: ordered, settings: settingsLines, method: methodText([...selected, ...peerRows], options.workers), details: [notes.join('\n') + '\n', ...details].join('\n'), date: new Date(), totalSeconds }))
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
