/** A real `vite build` of a fixture app, run as the user would run it. */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PrerenderManifest } from 'vite-isr/runtime'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const FIXTURES = join(REPO, 'test/fixtures')
const VITE_BIN = join(REPO, 'node_modules/vite/bin/vite.js')

/** The `prerender-manifest.json` a build wrote into `distDir`. */
export function readManifest(distDir: string): PrerenderManifest {
  return JSON.parse(readFileSync(join(distDir, 'prerender-manifest.json'), 'utf8')) as PrerenderManifest
}

export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
  output: string
}

export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let output = ''
    child.stdout.on('data', (d) => ((stdout += d), (output += d)))
    child.stderr.on('data', (d) => ((stderr += d), (output += d)))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr, output })
    })
  })
}

/** `vite build` in `dir` (an app folder); resolves with the exit code and output. */
export function viteBuild(dir: string, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  return run(process.execPath, [VITE_BIN, 'build'], { cwd: dir, env: { NO_COLOR: '1', NODE_ENV: 'production', ...env } })
}

/** Build a fixture and fail loudly when the build fails. Returns its dist folder. */
export async function buildFixture(name: string): Promise<string> {
  const dir = join(FIXTURES, name)
  const result = await viteBuild(dir)
  if (result.code !== 0) throw new Error(`vite build of test/fixtures/${name} failed:\n${result.output}`)
  return join(dir, 'dist')
}

/**
 * A scratch copy of a fixture under test/.tmp (inside the repo, so `vite-isr`, react and
 * vite resolve from the repo's node_modules), for tests that edit files or break them.
 */
export function copyFixture(name: string, as: string): string {
  const target = join(REPO, 'test/.tmp', as)
  rmSync(target, { recursive: true, force: true })
  mkdirSync(dirname(target), { recursive: true })
  cpSync(join(FIXTURES, name), target, { recursive: true, filter: (src) => !/[/\\](dist|node_modules)$/.test(src) })
  return target
}
