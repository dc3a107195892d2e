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
  }
  load: LoadSpec
  /** Probe for `x-isr-cache: HIT` before measuring. */
  expectHit?: boolean
}

export interface Goal {
  op: '>=' | '<='
  value: number
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
}

/** What a custom row measured: A, B in `unit`, ratio A ÷ B. */
export interface Measurement {
  a: number
  b: number
  /** Set when the measurement cannot be trusted (errors, wrong cache state...). */
  invalid?: string
  notes?: string[]
}

/** Anything else (latency under a stale storm, build throughput, memory): measures itself. */
export interface CustomRow {
  kind: 'custom'
  name: string
  unit: string
  target?: Goal
  run(ctx: BenchContext): Promise<Measurement>
}

export type Row = ThroughputRow | CustomRow

export interface RowResult {
  name: string
  unit: string
  a: number
  b: number
  ratio: number
  target?: Goal
  status: 'met' | 'not met' | 'info' | 'invalid'
  invalid?: string
  notes: string[]
}
