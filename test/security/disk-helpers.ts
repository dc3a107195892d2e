/** A child server process (test/security/disk-server.mjs) and what it wrote, for the disk tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterBuild } from '../helpers/clock.js'
import { BASIC_DIST } from '../helpers/fixture-db.js'
import { seedPosts } from '../fixtures/basic/server/db.js'

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'disk-server.mjs')

export interface DiskServer {
  url: string
  /** ms from spawn until the server printed that it listens. */
  listeningAfterMs: number
  /** ms from the child's own start (node boot included) until it listened. */
  childStartMs: number
  /** ms the child's `createISRHandler` took (what the cache folder can make slower). */
  createMs: number
  spawnedAt: number
  /** stderr lines so far. */
  readonly lines: string[]
  /** stderr lines matching `pattern`. */
  grep(pattern: RegExp): string[]
  readonly exitCode: number | null
  get(path: string): Promise<Response>
  advanceClock(ms: number): Promise<void>
  memory(): Promise<NodeJS.MemoryUsage>
  disk(wait?: boolean): Promise<{ entries: number; bytes: number }>
  kill(): Promise<void>
}

export async function startDiskServer(options: { cacheDir: string; distDir?: string; isrOptions?: Record<string, unknown> }): Promise<DiskServer> {
  const distDir = options.distDir ?? BASIC_DIST
  const spawnedAt = performance.now()
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: {
      ...process.env,
      DIST: distDir,
      CACHE_DIR: options.cacheDir,
      CLOCK_START: String(afterBuild(distDir)),
      FIXTURE_DB: JSON.stringify({ posts: seedPosts() }),
      ISR_OPTIONS: JSON.stringify(options.isrOptions ?? {}),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const [port, childStartMs, createMs] = await new Promise<[number, number, number]>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error('the disk server did not start within 30 s')), 30_000)
    const fail = (error: Error) => {
      clearTimeout(timer)
      reject(new Error(`${error.message}\nstdout:\n${out}\nstderr:\n${stderr}`))
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk
      const match = /listening (\d+) (\d+) (\d+)/.exec(out)
      if (!match) return
      clearTimeout(timer)
      resolve([Number(match[1]), Number(match[2]), Number(match[3])])
    })
    child.once('exit', (code, signal) => fail(new Error(`the disk server exited (${code ?? signal}) before listening`)))
  })
  const listeningAfterMs = performance.now() - spawnedAt
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    listeningAfterMs,
    childStartMs,
    createMs,
    spawnedAt,
    get lines() {
      return stderr.split('\n').filter((line) => line !== '')
    },
    grep(pattern) {
      return stderr.split('\n').filter((line) => pattern.test(line))
    },
    get exitCode() {
      return child.exitCode
    },
    get: (path) => fetch(url + path, { redirect: 'manual' }),
    async advanceClock(ms) {
      await fetch(`${url}/__test/clock?advance=${ms}`, { method: 'POST' })
    },
    memory: async () => (await fetch(`${url}/__test/memory`)).json(),
    disk: async (wait = false) => (await fetch(`${url}/__test/disk${wait ? '?wait' : ''}`)).json(),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}
