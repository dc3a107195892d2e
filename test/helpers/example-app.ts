/**
 * The example app's server (`node server.js`, or the Dockerfile's CMD) in its own process,
 * started the way a user starts it: it prints `listening on http://localhost:<port>` once it
 * serves (PORT=0 picks a free port).
 */
import { spawn, type ChildProcess } from 'node:child_process'

export interface ExampleServer {
  /** `http://127.0.0.1:<port>`. */
  url: string
  process: ChildProcess
  /** Everything it printed so far, stdout and stderr. */
  readonly output: string
  /** Resolves once it has exited, with its code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` (SIGTERM by default) unless it has already exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface StartExampleServerOptions {
  cwd: string
  /** The process's whole environment (add `...process.env` to inherit). */
  env: NodeJS.ProcessEnv
  /** @default [process.execPath, 'server.js'] */
  command?: [string, ...string[]]
  /** Named in the error when it exits before it listens. */
  name?: string
}

export async function startExampleServer(options: StartExampleServerOptions): Promise<ExampleServer> {
  const [command, ...args] = options.command ?? [process.execPath, 'server.js']
  const name = options.name ?? 'server.js'
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk
      const m = /listening on (http:\/\/localhost:\d+)/.exec(output)
      if (m) resolve(m[1].replace('localhost', '127.0.0.1'))
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then(({ code, signal }) => reject(new Error(`${name} exited with ${code ?? signal}:\n${output}`)))
  })
  return {
    url,
    process: child,
    get output() {
      return output
    },
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
