/** Start and signal `stop-child.mjs`: a real server process with the example's stop handler. */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterBuild } from '../helpers/clock.js'
import { BASIC_DIST } from '../helpers/fixture-db.js'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'stop-child.mjs')

/** What a loaded 2-core machine may add to a bound, for process start-up and exit. */
export const MARGIN_MS = 5_000

export interface StopChild {
  url: string
  process: ChildProcess
  readonly stdout: string
  readonly stderr: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>
  post(path: string, body?: unknown): Promise<unknown>
}

const children: StopChild[] = []
/** For `afterEach`: kills what a failed test left running. */
export function killStopChildren(): void {
  for (const child of children.splice(0)) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
}

export async function startStopChild(env: Record<string, string>): Promise<StopChild> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, DIST: BASIC_DIST, CLOCK_START: String(afterBuild(BASIC_DIST)), NODE_ENV: 'production', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() })),
  )
  const port = await Promise.race([
    new Promise<string>((resolve) => child.stdout!.on('data', () => /listening (\d+)/.exec(stdout) && resolve(/listening (\d+)/.exec(stdout)![1]))),
    exited.then(() => undefined),
  ])
  if (!port) throw new Error(`the server process exited before it listened:\n${stdout}\n${stderr}`)
  const url = `http://127.0.0.1:${port}`
  const handle: StopChild = {
    url,
    process: child,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    exited,
    async post(path, body) {
      const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) })
      return res.json()
    },
  }
  children.push(handle)
  return handle
}

