/**
 * Start bench/server.mjs in its own process and talk to it over IPC; or (startExternalServer)
 * a server the bench did not write, e.g. another framework's own production server.
 */
import { fork, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { stopChild, track } from './processes.js'

/** `external`: started by startExternalServer, never by bench/server.mjs. */
export type ServerMode = 'middleware' | 'fast-path' | 'bare-http' | 'express' | 'external'

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
  /** external: what it is, for messages. */
  label?: string
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
  if (config.mode === 'external') return config.label ?? 'external server'
  return config.cache ? `${config.mode}, ${config.cache} cache` : config.mode
}


export interface ExternalServerOptions {
  /** What it is, for messages (e.g. "next start"). */
  label: string
  command: string
  args: string[]
  cwd: string
  env?: NodeJS.ProcessEnv
  /** The port the command was told to listen on (127.0.0.1). */
  port: number
  /** Polled with GET until it answers (any status below 500). @default '/' */
  readyPath?: string
  timeoutMs?: number
}

/**
 * A server the bench did not write (another framework's production server), in a plain child
 * process: no IPC, so `ask` is refused, and its CPU time is read from Linux's /proc instead of
 * `process.cpuUsage()`: utime + stime (clock ticks, 100 per second) of the process and of every
 * process below it, so a CLI that hands the work to a child is counted whole. Ready once
 * `readyPath` answers. Outside Linux, `cpu()` gives NaN (req/s still works).
 */
export async function startExternalServer(options: ExternalServerOptions): Promise<RunningServer> {
  const config: ServerConfig = { mode: 'external', label: options.label }
  const timeoutMs = options.timeoutMs ?? 60_000
  const child = track(
    spawn(options.command, options.args, {
      cwd: options.cwd,
      env: { ...process.env, NODE_ENV: 'production', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data))
  child.stderr!.on('data', (data: Buffer) => (output += data))
  let exited: string | undefined
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`))
  child.once('error', (error) => (exited = error.message))

  const url = `http://127.0.0.1:${options.port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exited) throw new Error(`${options.label} ${exited} before answering:\n${output}`)
    if ((await answers(url + (options.readyPath ?? '/'))) !== undefined) break
    if (Date.now() > deadline) {
      await stopChild(child)
      throw new Error(`${options.label} did not answer ${options.readyPath ?? '/'} within ${timeoutMs / 1000} s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }

  const pid = child.pid!
  return {
    url,
    config,
    pid,
    output: () => output,
    ask: () => Promise.reject(new Error(`${options.label} is an external server: it answers no IPC questions`)),
    async cpu() {
      const tree = processTree(pid)
      const ticks = tree.reduce((sum, p) => sum + p.ticks, 0)
      const rss = tree.reduce((sum, p) => sum + p.rssBytes, 0)
      return { micros: tree.length ? ticks * 10_000 : NaN, rss: tree.length ? rss : NaN, heapUsed: NaN, heapTotal: NaN, external: NaN }
    },
    close: () => stopChild(child),
  }
}

/** A status below 500 from GET `url`, or undefined (not listening yet, or failing). */
function answers(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode !== undefined && res.statusCode < 500 ? res.statusCode : undefined)
    })
    request.once('error', () => resolve(undefined))
    request.setTimeout(5_000, () => request.destroy())
  })
}

interface ProcStat {
  pid: number
  ppid: number
  /** utime + stime, clock ticks (USER_HZ, 100 per second on every Linux this runs on). */
  ticks: number
  rssBytes: number
}

/** /proc/<pid>/stat: the command name (field 2) may hold spaces and parentheses, so fields are counted after its last ')'. */
function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24 (pages).
    return { pid, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), rssBytes: Number(fields[21]) * 4096 }
  } catch {
    return undefined
  }
}

/** `root` and every process below it (empty when /proc is not there or root is gone). */
function processTree(root: number): ProcStat[] {
  const self = readStat(root)
  if (!self) return []
  let all: ProcStat[]
  try {
    all = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map((name) => readStat(Number(name)))
      .filter((stat): stat is ProcStat => stat !== undefined)
  } catch {
    return [self]
  }
  const tree = [self]
  for (let i = 0; i < tree.length; i++) for (const stat of all) if (stat.ppid === tree[i].pid) tree.push(stat)
  return tree
}
