/** Start bench/server.mjs in its own process and talk to it over IPC. */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { stopChild, track } from './processes.js'

export type ServerMode = 'middleware' | 'fast-path' | 'bare-http' | 'express'

/** What bench/server.mjs reads from BENCH_SERVER. */
export interface ServerConfig {
  mode: ServerMode
  distDir?: string
  cache?: 'fs' | 'redis'
  cacheDir?: string
  redisUrl?: string
  /** bare-http and express: the file whose bytes they answer. */
  bodyFile?: string
  /** Extra `createISRHandler` options (JSON only). */
  handlerOptions?: Record<string, unknown>
}

export interface CpuSample {
  /** Microseconds of CPU (user + system) since the process started. */
  micros: number
  rss: number
}

export interface RunningServer {
  url: string
  config: ServerConfig
  /** What the server wrote to stdout/stderr so far (for error reports). */
  output(): string
  cpu(): Promise<CpuSample>
  close(): Promise<void>
}

const SERVER_SCRIPT = fileURLToPath(new URL('../server.mjs', import.meta.url))

export async function startServer(config: ServerConfig, timeoutMs = 30_000): Promise<RunningServer> {
  const child = track(
    fork(SERVER_SCRIPT, [], {
      // Plain node: not the tsx loader this process runs under.
      execArgv: [],
      env: { ...process.env, NODE_ENV: 'production', BENCH_SERVER: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  )
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data))
  child.stderr!.on('data', (data: Buffer) => (output += data))

  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new Error(`bench server (${describe(config)}) ${why}:\n${output}`))
    }
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s`), timeoutMs)
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message?.type !== 'ready') return
      clearTimeout(timer)
      resolve(message.port!)
    })
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code} before listening`))
    child.once('error', (error) => fail(error.message))
  })

  return {
    url: `http://127.0.0.1:${port}`,
    config,
    output: () => output,
    cpu() {
      return new Promise((resolve, reject) => {
        const onMessage = (message: { type?: string; usage?: NodeJS.CpuUsage; rss?: number }) => {
          if (message?.type !== 'cpu') return
          child.off('message', onMessage)
          resolve({ micros: message.usage!.user + message.usage!.system, rss: message.rss! })
        }
        child.on('message', onMessage)
        child.send({ type: 'cpu' }, (error) => error && reject(error))
      })
    },
    close: () => stopChild(child),
  }
}

export function describe(config: ServerConfig): string {
  return config.cache ? `${config.mode}, ${config.cache} cache` : config.mode
}
