/** Start and stop `server-child.mjs`: the ISR servers in a process of their own. */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'server-child.mjs')

export interface ChildConfig {
  distDir: string
  cacheDir: string
  cdnTagHeader?: boolean | string
  plant?: { path: string; status: number; headers: Record<string, string> }[]
}

export interface ChildServer {
  /** Base URLs of the Express middleware server and of the `isr.wrap(app)` server. */
  middleware: string
  fastPath: string
  /** Everything the child wrote to stdout (FATAL lines included) and stderr (its log). */
  readonly stdout: string
  readonly stderr: string
  /** Set once the process ended, by itself or by `stop()`. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  /** The FATAL line, if an unhandled rejection or uncaught exception reached the process. */
  readonly fatal: string | undefined
  /** Close its stdin and wait for it to end. */
  stop(): Promise<void>
}

export async function startChild(config: ChildConfig): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [CHILD, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let exit: ChildServer['exit']
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal }
      resolve()
    }),
  )
  const ready = await Promise.race([
    new Promise<RegExpExecArray>((resolve) => {
      const check = () => {
        const match = /ready (\d+) (\d+)\n/.exec(stdout)
        if (match) resolve(match)
      }
      child.stdout!.on('data', check)
    }),
    exited.then(() => undefined),
  ])
  if (!ready) throw new Error(`the server process exited before it was ready (${JSON.stringify(exit)}):\n${stdout}\n${stderr.slice(-4_000)}`)
  return {
    middleware: `http://127.0.0.1:${ready[1]}`,
    fastPath: `http://127.0.0.1:${ready[2]}`,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    get exit() {
      return exit
    },
    get fatal() {
      return /^FATAL .*$/m.exec(stdout)?.[0]
    },
    async stop() {
      if (!exit) {
        child.stdin!.end()
        await exited
      }
    },
  }
}
