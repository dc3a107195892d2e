/**
 * Load: autocannon against one server, and the side-by-side measurement every ratio is
 * built from. The machines are shared and noisy, so the two sides of a ratio are never
 * measured one after the other in blocks: they alternate, A B then B A, round after round,
 * and a row's ratio is the median of the rounds' A ÷ B (see `pairedRatio`).
 */
import autocannon from 'autocannon'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { RunningServer } from './servers.js'

export interface LoadSpec {
  path: string
  headers?: Record<string, string>
  /** @default 50 */
  connections?: number
  /** Requests in flight per connection (HTTP/1.1 pipelining). @default 1 */
  pipelining?: number
}

/** How autocannon runs: `workers` > 0 spreads its connections over that many threads. */
export const loadOptions = { workers: 0 }

export interface Sample {
  reqPerSec: number
  requests: number
  seconds: number
  /** Responses outside 2xx, connection errors and timeouts: any of them makes a row invalid. */
  non2xx: number
  errors: number
  timeouts: number
  p50Ms: number
  p99Ms: number
  /** Share of one core the server used during the run (1 = one core fully busy). */
  serverCpu: number
  /** Share of one core the load generator (this process) used during the run. */
  loadCpu: number
  /**
   * Cores busy on the whole machine during the run minus the server's and the load
   * generator's (Linux /proc/stat; NaN elsewhere): other work sharing the machine.
   */
  otherCpu: number
}

/** Busy CPU time of the whole machine so far, in seconds (Linux), or NaN. */
function machineBusySeconds(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const [user, nice, system, , , irq, softirq, steal] = fields
    // USER_HZ is 100 on every Linux this runs on.
    return (user + nice + system + irq + softirq + steal) / 100
  } catch {
    return NaN
  }
}

export interface Target {
  url: string
  server: RunningServer
  load: LoadSpec
}

export async function runLoad(target: Target, seconds: number): Promise<Sample> {
  const { load } = target
  const cpuBefore = await target.server.cpu()
  const ownBefore = process.cpuUsage()
  const machineBefore = machineBusySeconds()
  const started = process.hrtime.bigint()
  const result = await autocannon({
    url: target.url + load.path,
    connections: load.connections ?? 50,
    duration: seconds,
    headers: load.headers,
    pipelining: load.pipelining ?? 1,
    ...(loadOptions.workers > 0 ? { workers: loadOptions.workers } : {}),
  })
  const wallMicros = Number(process.hrtime.bigint() - started) / 1_000
  const own = process.cpuUsage(ownBefore)
  const machine = machineBusySeconds() - machineBefore
  const cpuAfter = await target.server.cpu()
  const serverCpu = (cpuAfter.micros - cpuBefore.micros) / wallMicros
  const loadCpu = (own.user + own.system) / wallMicros
  return {
    reqPerSec: result.requests.total / result.duration,
    requests: result.requests.total,
    seconds: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    serverCpu,
    loadCpu,
    otherCpu: Math.max(0, (machine * 1e6) / wallMicros - serverCpu - loadCpu),
  }
}

export interface ProbeResult {
  status: number
  cacheState: string | null
  /** `content-encoding` of the answer, or null. */
  encoding: string | null
  /** The body as sent (not decompressed). */
  body: Buffer
  /** Every header, for what the fields above do not name (e.g. Next.js's `x-nextjs-cache`). */
  headers: http.IncomingHttpHeaders
}

/** One GET with node:http, which (unlike fetch) leaves a compressed body as it came. */
export function probe(url: string, load: LoadSpec): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const request = http.get(url + load.path, { headers: load.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('error', reject)
      res.once('end', () => {
        const header = (name: string) => {
          const value = res.headers[name]
          return value === undefined ? null : String(value)
        }
        resolve({ status: res.statusCode ?? 0, cacheState: header('x-isr-cache'), encoding: header('content-encoding'), body: Buffer.concat(chunks), headers: res.headers })
      })
    })
    request.once('error', reject)
    request.setTimeout(30_000, () => request.destroy(new Error(`GET ${load.path} timed out`)))
  })
}

/**
 * Probe until the answer is a 200 with `x-isr-cache: HIT` (a page past its window answers
 * STALE once, then HIT), or throw with what it got.
 */
export async function expectHit(url: string, load: LoadSpec, label: string): Promise<ProbeResult> {
  let last: ProbeResult | undefined
  for (let attempt = 0; attempt < 5; attempt++) {
    last = await probe(url, load)
    if (last.status === 200 && last.cacheState === 'HIT') return last
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${label}: GET ${load.path} answered ${last!.status} with x-isr-cache: ${last!.cacheState ?? '(none)'}, not a 200 HIT`)
}

/** Seconds of unmeasured load on a server right before each of its measured runs (see `rewarm`). */
export const REWARM_SECONDS = 0.5

export interface MeasureOptions {
  rounds: number
  /** Seconds per run. */
  seconds: number
  /** Seconds of load per server before the first round (JIT, memory tier, sockets). */
  warmup: number
  /**
   * Seconds of unmeasured load right before each measured run. A server that sat idle
   * while other pairs ran starts colder than one that just ran (V8 shrinks an idle heap,
   * other processes evict its caches): in one run the second of two identical servers read
   * 0.83 of the first, which served four pairs to its one. Default `REWARM_SECONDS`.
   */
  rewarm?: number
  /** After each target's warm-up: the place for probes (throw to stop). */
  afterWarmup?: (id: string) => Promise<void>
  /** Once all are warm, right before the first measured round. */
  beforeRounds?: () => Promise<void>
  onRun?: (id: string, round: number, sample: Sample) => void
}

export interface PairSamples {
  a: Sample[]
  b: Sample[]
}

/**
 * Each pair's A and B back to back (A B, then B A the next round, so neither always runs
 * second), and the pairs interleaved within a round, so a burst of outside load hits one
 * round of several pairs rather than every round of one pair.
 */
export async function measurePairs(targets: ReadonlyMap<string, Target>, pairs: readonly (readonly [string, string])[], options: MeasureOptions): Promise<PairSamples[]> {
  for (const id of targets.keys()) {
    if (options.warmup > 0) await runLoad(targets.get(id)!, options.warmup)
    await options.afterWarmup?.(id)
  }
  await options.beforeRounds?.()
  const results: PairSamples[] = pairs.map(() => ({ a: [], b: [] }))
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, [a, b]] of pairs.entries()) {
      const order = round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)
      for (const side of order) {
        const id = side === 'a' ? a : b
        const rewarm = options.rewarm ?? REWARM_SECONDS
        if (rewarm > 0) await runLoad(targets.get(id)!, rewarm)
        const sample = await runLoad(targets.get(id)!, options.seconds)
        results[i][side].push(sample)
        options.onRun?.(id, round, sample)
      }
    }
  }
  return results
}

/**
 * A row's A ÷ B: the median of the rounds' own ratios. Each round measures A and B back to
 * back, so a round's ratio is free of the machine's drift between rounds (other tenants come
 * and go over tens of seconds); the ratio of the two sides' medians is not, since the two
 * medians may come from different rounds.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`pairedRatio: ${a.length} A samples against ${b.length} B samples`)
  return median(a.map((value, i) => value / b[i]))
}

export const reqs = (s: Sample): number => s.reqPerSec
/**
 * Requests per CPU-second of the server: what the server's own work costs per request,
 * whether or not something else (the load generator, other processes) ran out of CPU first.
 */
export const reqsPerCpu = (s: Sample): number => s.reqPerSec / s.serverCpu

/** The note under a throughput row: both figures, per side and per round, and which one the verdict uses. */
export function ratioNote(a: readonly Sample[], b: readonly Sample[], metric: 'req/s' | 'req/CPU-s'): string {
  const figure = (label: string, pick: (s: Sample) => number) => {
    const rounds = a.map((s, i) => pick(s) / pick(b[i]))
    const sides = `${Math.round(median(a.map(pick)))} ÷ ${Math.round(median(b.map(pick)))}`
    return `${label}: medians ${sides}; per round ${rounds.map((r) => r.toFixed(2)).join(', ')}, median ${median(rounds).toFixed(2)}`
  }
  return `${figure('req/s', reqs)}; ${figure('req per server CPU-second', reqsPerCpu)}; the verdict uses ${metric}`
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
