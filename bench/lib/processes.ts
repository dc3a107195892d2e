/**
 * Every child process and temp folder the bench makes, so that all of them go away at the
 * end: on success, on a thrown error, on Ctrl-C, and (as a last resort) when node exits.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const children = new Set<ChildProcess>()
const tempDirs = new Set<string>()
const hooks = new Set<() => void | Promise<void>>()

export function track<T extends ChildProcess>(child: T): T {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Something else to undo at the end (a client connection...), run before the children stop. */
export function onCleanup(hook: () => void | Promise<void>): void {
  hooks.add(hook)
}

export function makeTempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vite-isr-bench-${name}-`))
  tempDirs.add(dir)
  return dir
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null

/** Stop one child: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (!isRunning(child)) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function cleanup(): Promise<void> {
  const pending = [...hooks]
  hooks.clear()
  await Promise.allSettled(pending.map(async (hook) => hook()))
  await Promise.all([...children].map((child) => stopChild(child)))
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

/** Ctrl-C and kill stop the children and remove the temp folders before exiting. */
export function installExitHandlers(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[bench] ${signal}: stopping ${children.size} child process(es)\n`)
      cleanup().finally(() => process.exit(code))
    })
  }
  process.once('exit', () => {
    for (const child of children) if (isRunning(child)) child.kill('SIGKILL')
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  })
}
