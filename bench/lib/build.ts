/** A real `vite build` of the bench fixture, as a user runs it. */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { track } from './processes.js'

const VITE_BIN = join(createRequire(import.meta.url).resolve('vite/package.json'), '../bin/vite.js')

export interface BuildResult {
  ms: number
  output: string
}

export async function viteBuild(dir: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<BuildResult> {
  const started = performance.now()
  const child = track(
    spawn(process.execPath, [VITE_BIN, 'build'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data))
  child.stderr!.on('data', (data: Buffer) => (output += data))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  }).finally(() => clearTimeout(timer))
  if (code !== 0) throw new Error(`vite build in ${dir} failed (exit ${code}):\n${output}`)
  return { ms: performance.now() - started, output }
}
