/**
 * Every child process and temp folder the bench makes, so that all of them go away at the
 * end: on success, on a thrown error, on Ctrl-C, and (as a last resort) when node exits.
 */
import type { ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statfsSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** bench/.work (git-ignored): for output that must sit inside the repo, e.g. a build whose server bundle imports react. */
const WORK_DIR = fileURLToPath(new URL('../.work', import.meta.url))

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

export function makeTempDir(name: string, options: { inMemory?: boolean } = {}): string {
  const dir = mkdtempSync(join((options.inMemory && ramDisk()) || tmpdir(), `vite-isr-bench-${name}-`))
  tempDirs.add(dir)
  return dir
}

let ram: string | false | undefined
/**
 * /dev/shm when it is a writable tmpfs with 2 GB free (Linux), else nothing: for cache
 * folders of 100,000 files that would take minutes to write and delete on a slow disk and
 * whose speed no row measures. Files there are not in any process's RSS.
 */
export function ramDisk(): string | false {
  if (ram !== undefined) return ram
  ram = false
  try {
    accessSync('/dev/shm', constants.W_OK)
    const fs = statfsSync('/dev/shm')
    if (fs.bavail * fs.bsize >= 2 * 2 ** 30) ram = '/dev/shm'
  } catch {
    // no /dev/shm
  }
  return ram
}

/**
 * A fresh folder under bench/.work, removed at the end like the temp folders (and bench/.work
 * with it when empty). With `inMemory`, a folder on the RAM disk instead, with a
 * `node_modules` link to the repo's, so that a server bundle built into it still resolves.
 */
export function makeWorkDir(name: string, options: { inMemory?: boolean } = {}): string {
  const ram = options.inMemory && ramDisk()
  if (ram) {
    const dir = makeTempDir(name, options)
    symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(dir, 'node_modules'), 'dir')
    return dir
  }
  mkdirSync(WORK_DIR, { recursive: true })
  const dir = mkdtempSync(join(WORK_DIR, `${name}-`))
  tempDirs.add(dir)
  return dir
}

function removeWorkDirIfEmpty(): void {
  try {
    if (readdirSync(WORK_DIR).length === 0) rmdirSync(WORK_DIR)
  } catch {
    // not there, or not empty: leave it
  }
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
  removeWorkDirIfEmpty()
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
