/** A real `vite build` of the bench fixture, as a user runs it. */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { track } from './processes.js'

const VITE_BIN = join(createRequire(import.meta.url).resolve('vite/package.json'), '../bin/vite.js')
const REPORT_USAGE = pathToFileURL(join(import.meta.dirname, 'report-usage.mjs')).href

/** What a child reported about itself on exit (see report-usage.mjs). */
export interface Usage {
  /** Peak resident set size, KB. */
  maxRssKb: number
  userMicros: number
  systemMicros: number
}

export interface BuildResult {
  ms: number
  output: string
  usage?: Usage
}

/** Pull the `[bench-usage]` line out of a child's output. */
export function parseUsage(output: string): Usage | undefined {
  const match = /^\[bench-usage\] (.+)$/m.exec(output)
  return match ? (JSON.parse(match[1]) as Usage) : undefined
}

/** Run a Node script in a tracked child with its peak RSS and CPU reported on exit. */
export async function runNode(script: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<BuildResult> {
  const started = performance.now()
  const child = track(
    spawn(process.execPath, ['--import', REPORT_USAGE, script, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data))
  child.stderr!.on('data', (data: Buffer) => (output += data))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  }).finally(() => clearTimeout(timer))
  if (code !== 0) throw new Error(`node ${[script, ...args].join(' ')} in ${options.cwd} failed (exit ${code}):\n${output}`)
  return { ms: performance.now() - started, output, usage: parseUsage(output) }
}

/** `vite build` in `dir`, with extra CLI arguments (e.g. `--outDir`). */
export function viteBuild(dir: string, env: NodeJS.ProcessEnv = {}, args: string[] = [], timeoutMs = 300_000): Promise<BuildResult> {
  return runNode(VITE_BIN, ['build', ...args], { cwd: dir, env, timeoutMs })
}
