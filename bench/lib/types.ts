/** What a bench row is. The rows themselves are in bench/rows.ts. */
import type { LoadSpec } from './load.js'
import type { ServerMode } from './servers.js'
import type { BenchContext } from './context.js'

/** One server and the request sent to it: one side of a throughput ratio. */
export interface Variant {
  label: string
  server: {
    mode: ServerMode
    /** ISR modes: `fs` is the default filesystem handler (in a temp `cacheDir`), `redis` the Redis handler. */
    cache?: 'fs' | 'redis'
    /** Extra `createISRHandler` options (JSON only). */
    handlerOptions?: Record<string, unknown>
    /** bare-http and express: answer the bytes the ISR server answers for this path. */
    bodyOf?: string
    /** Extra environment variables for the server process. */
    env?: Record<string, string>
    /** Node options for the server process (e.g. `--cpu-prof`). */
    nodeArgs?: string[]
  }
  load: LoadSpec
  /** Probe for `x-isr-cache: HIT` before measuring. */
  expectHit?: boolean
  /** Probe that the answer has this `content-encoding` and a smaller body than the identity one. */
  expectEncoding?: 'gzip' | 'br'
}

export interface Goal {
  op: '>=' | '<='
  value: number
}

/**
 * What a throughput ratio compares: `req/s` (median requests per second), or `req/CPU-s`
 * (median requests per CPU-second of the server process: what the server's own work
 * costs, whoever else on the machine runs out of CPU first, e.g. the load generator).
 */
export type Metric = 'req/s' | 'req/CPU-s'

/** Per-group measuring settings (rows.ts); the command line's --rounds etc. override them. */
export interface GroupSettings {
  rounds?: number
  seconds?: number
  warmup?: number
  /** Why these settings, for RESULTS.md. */
  why?: string
}

/**
 * A ratio of two variants' req/s (A ÷ B). Rows of the same `group` (default `hit`) are
 * measured together: each round runs every variant of the group once.
 */
export interface ThroughputRow {
  kind: 'throughput'
  name: string
  a: string
  b: string
  /** No target: an informational row. */
  target?: Goal
  group?: string
  /** Which figure the ratio (and so the verdict) uses; the other is in the notes. @default 'req/s' */
  metric?: Metric
  /** Why this metric, for RESULTS.md. */
  why?: string
}

/** What a custom row measured: A, B in `unit`, and A ÷ B (or A − B, see `compare`). */
export interface Measurement {
  /** A's figure (a median over its rounds). */
  a: number
  b: number
  /** A ÷ B when it is not a ÷ b: the median of per-round ratios (`pairedRatio`). */
  ratio?: number
  /** Set when the measurement cannot be trusted (errors, wrong cache state...). */
  invalid?: string
  notes?: string[]
}

/** Anything else (latency under a stale storm, build throughput, memory): measures itself. */
export interface CustomRow {
  kind: 'custom'
  name: string
  unit: string
  /** `ratio` (default): A ÷ B against the target; `difference`: A − B, in `unit`, against it. */
  compare?: 'ratio' | 'difference'
  target?: Goal
  /** How it is measured, for RESULTS.md. */
  how?: string
  run(ctx: BenchContext): Promise<Measurement>
}

export type Row = ThroughputRow | CustomRow

export interface RowResult {
  name: string
  unit: string
  a: number
  b: number
  /** A ÷ B, or A − B for `compare: 'difference'`. */
  ratio: number
  compare: 'ratio' | 'difference'
  target?: Goal
  status: 'met' | 'not met' | 'info' | 'invalid'
  invalid?: string
  notes: string[]
}
