/** The results table, on the console and in bench/RESULTS.md. */
import { cpus, platform, release, totalmem } from 'node:os'
import type { Goal, RowResult } from './types.js'

export function evaluate(ratio: number, target: Goal | undefined, invalid: string | undefined): RowResult['status'] {
  if (invalid) return 'invalid'
  if (!target) return 'info'
  return (target.op === '>=' ? ratio >= target.value : ratio <= target.value) ? 'met' : 'not met'
}

const formatValue = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? Math.round(n).toString() : n.toPrecision(3)) : '-')
const formatGoal = (goal: Goal | undefined) => (goal ? `${goal.op === '>=' ? '≥' : '≤'} ${goal.value}` : '-')
const formatStatus = (row: RowResult) => (row.status === 'invalid' ? `INVALID (${row.invalid})` : row.status === 'info' ? 'info' : row.status)

/** A Markdown table, padded so it also reads well on a terminal. */
export function table(rows: readonly RowResult[]): string {
  const header = ['Row', 'A (median)', 'B (median)', 'A ÷ B', 'Target', 'Result']
  const body = rows.map((row) => [
    row.name,
    `${formatValue(row.a)} ${row.unit}`,
    `${formatValue(row.b)} ${row.unit}`,
    Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : '-',
    formatGoal(row.target),
    formatStatus(row),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')
}

export interface Machine {
  cpu: string
  cores: number
  memory: string
  os: string
  node: string
}

export function machine(): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memory: `${Math.round(totalmem() / 2 ** 30)} GB`,
    os: `${platform()} ${release()}`,
    node: process.version,
  }
}

export function resultsMarkdown(options: { rows: readonly RowResult[]; settings: string; details: string; date: Date; totalSeconds: number }): string {
  const m = machine()
  return `# vite-isr benchmark results

Written by \`npm run bench\` (bench/run.ts); do not edit by hand.

- Date: ${options.date.toISOString()}
- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}
- Node: ${m.node}
- Settings: ${options.settings}
- Whole run: ${Math.round(options.totalSeconds)} s

${table(options.rows)}

Each ratio is A ÷ B of median req/s, both measured in the same run, in alternating rounds.
A row is INVALID when a run had non-2xx answers, errors or timeouts, or a probe did not get
the expected cache state; "info" rows have no target yet.

## Details

${options.details}
`
}
