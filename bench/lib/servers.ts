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
  /** Extra environment variables for the server process (e.g. read by the fixture's pages). */
  env?: Record<string, string>
  /** Node options for the server process, e.g. `--cpu-prof` (none by default). */
  nodeArgs?: string[]
}

export interface CpuSample {
  /** Microseconds of CPU (user + system) since the process started. */
  micros: number
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
}

export interface RunningServer {
  url: string
  config: ServerConfig
  /** What the server wrote to stdout/stderr so far (for error reports). */
  output(): string
  cpu(): Promise<CpuSample>
  /** Ask the server process a question over IPC (see bench/server.mjs) and wait for its reply. */
  ask<T = Record<string, unknown>>(type: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<T>
  /** The process id, e.g. to sample its RSS from outside. */
  pid: number
  close(): Promise<void>
}

const SERVER_SCRIPT = fileURLToPath(new URL('../server.mjs', import.meta.url))

export async function startServer(config: ServerConfig, timeoutMs = 30_000): Promise<RunningServer> {
  const child = track(
    fork(SERVER_SCRIPT, [], {
      // Plain node: not the tsx loader this process runs under.
      execArgv: config.nodeArgs ?? [],
      env: { ...process.env, NODE_ENV: 'production', ...config.env, BENCH_SERVER: JSON.stringify(config) },
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

  let nextId = 0
  const ask = <T>(type: string, payload: Record<string, unknown> = {}, askTimeoutMs = 60_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId
      const timer = setTimeout(() => {
        child.off('message', onMessage)
        reject(new Error(`bench server (${describe(config)}) did not answer "${type}" within ${askTimeoutMs / 1000} s`))
      }, askTimeoutMs)
      const onMessage = (message: { type?: string; id?: number; error?: string }) => {
        if (message?.type !== 'reply' || message.id !== id) return
        clearTimeout(timer)
        child.off('message', onMessage)
        if (message.error) reject(new Error(`bench server (${describe(config)}) failed "${type}": ${message.error}`))
        else resolve(message as T)
      }
      child.on('message', onMessage)
      child.send({ ...payload, type, id }, (error) => {
        if (!error) return
        clearTimeout(timer)
        child.off('message', onMessage)
        reject(error)
      })
    })

  return {
    url: `http://127.0.0.1:${port}`,
    config,
    pid: child.pid!,
    output: () => output,
    ask,
    async cpu() {
      const reply = await ask<{ usage: NodeJS.CpuUsage; rss: number; heapUsed: number; heapTotal: number; external: number }>('cpu')
      return { micros: reply.usage.user + reply.usage.system, rss: reply.rss, heapUsed: reply.heapUsed, heapTotal: reply.heapTotal, external: reply.external }
    },
    close: () => stopChild(child),
  }
}

export function describe(config: ServerConfig): string {
  return config.cache ? `${config.mode}, ${config.cache} cache` : config.mode
}
