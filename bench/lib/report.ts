/** The results table, on the console and in bench/RESULTS.md. */
import { cpus, platform, release, totalmem } from 'node:os'
import type { Goal, RowResult } from './types.js'

export function evaluate(ratio: number, target: Goal | undefined, invalid: string | undefined): RowResult['status'] {
  if (invalid) return 'invalid'
  if (!target) return 'info'
  return (target.op === '>=' ? ratio >= target.value : ratio <= target.value) ? 'met' : 'not met'
}

const formatValue = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? Math.round(n).toString() : n.toPrecision(3)) : '-')
const isDifference = (row: RowResult) => row.compare === 'difference'
/** Two decimals, or three when two would round onto the target and hide which side of it the ratio is. */
const ratioDigits = (row: RowResult) => (row.target && row.ratio.toFixed(2) === row.target.value.toFixed(2) && row.ratio !== row.target.value ? 3 : 2)
const formatRatio = (row: RowResult) => (!Number.isFinite(row.ratio) ? '-' : isDifference(row) ? `${Math.round(row.ratio)} ${row.unit} (A − B)` : row.ratio.toFixed(ratioDigits(row)))
const formatGoal = (row: RowResult) => (row.target ? `${row.target.op === '>=' ? '≥' : '≤'} ${row.target.value}${isDifference(row) ? ` ${row.unit}` : ''}` : '-')

/** How far past (+) or short of (−) the target the row is, in the ratio's own terms. */
export function margin(row: RowResult): number | undefined {
  if (!row.target || !Number.isFinite(row.ratio)) return undefined
  return row.target.op === '>=' ? row.ratio - row.target.value : row.target.value - row.ratio
}

function formatStatus(row: RowResult): string {
  if (row.status === 'invalid') return `INVALID (${row.invalid})`
  if (row.status === 'info') return 'info'
  const m = margin(row)!
  const amount = isDifference(row) ? `${Math.round(Math.abs(m))} ${row.unit}` : Math.abs(m).toFixed(ratioDigits(row))
  return row.status === 'met' ? `met (by ${amount})` : `NOT MET (short by ${amount})`
}

/** A Markdown table, padded so it also reads well on a terminal. */
export function table(rows: readonly RowResult[]): string {
  const header = ['Row', 'A (median)', 'B (median)', 'A ÷ B', 'Target', 'Result']
  const body = rows.map((row) => [row.name, `${formatValue(row.a)} ${row.unit}`, `${formatValue(row.b)} ${row.unit}`, formatRatio(row), formatGoal(row), formatStatus(row)])
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

export function resultsMarkdown(options: { rows: readonly RowResult[]; settings: string[]; method: string; details: string; date: Date; totalSeconds: number }): string {
  const m = machine()
  return `# vite-isr benchmark results

Written by \`npm run bench\` (bench/run.ts); do not edit by hand.

- Date: ${options.date.toISOString()}
- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}
- Node: ${m.node}
${options.settings.map((line) => `- ${line}`).join('\n')}
- Whole run: ${Math.round(options.totalSeconds)} s (bench/run.ts, from its start to this file; \`npm run bench\` runs \`npm run build\` before it)

${table(options.rows)}

${options.method}

## Details

${options.details}
`
}
