/**
 * Several real server processes (test/helpers/instance-server.mjs) on one Redis and one
 * build, sharing a random key prefix: what a deployment of N instances looks like.
 * Each has its own clock and its own fixture db, driven through its /__test/ routes.
 */
import { afterBuild } from './clock.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { seedPosts, type FixtureDb } from '../fixtures/basic/server/db.js'

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'instance-server.mjs')

export type InstanceMode = 'fast-path' | 'middleware'

export interface Instance {
  name: string
  url: string
  mode: InstanceMode
  /** Everything the process wrote to stderr so far (the handler's log), as lines. */
  readonly lines: string[]
  /** Lines of stderr matching `pattern`. */
  grep(pattern: RegExp): string[]
  get(path: string, init?: RequestInit): Promise<Response>
  advanceClock(ms: number): Promise<void>
  setClock(ms: number): Promise<void>
  /** Merge into the process's fixture db (`posts` per id; `fail`, `delayMs` replaced). */
  setDb(patch: Partial<FixtureDb>): Promise<void>
  /** The process's render counts per path. */
  renders(): Promise<Record<string, number>>
  /** Calls `revalidatePath` in the process; resolves with the HTTP status and body. */
  revalidatePath(path: string): Promise<{ status: number; body: string }>
  revalidateTag(tag: string): Promise<{ status: number; body: string }>
  kill(): Promise<void>
}

export interface StartInstancesOptions {
  redisUrl: string
  distDir: string
  /** Serve mode per instance (cycled); default all `fast-path`. */
  modes?: InstanceMode[]
  /** Shared by all; default random; `null` leaves it to the handler's default. */
  keyPrefix?: string | null
  /** Working folder per instance (by index); default this process's. */
  cwds?: string[]
  /** The initial clock of every instance; default just after the build (see afterBuild). */
  clockStart?: number
  env?: NodeJS.ProcessEnv
  /** Extra environment per instance (by index), e.g. to inject a fault into one of them. */
  envs?: NodeJS.ProcessEnv[]
}

function waitForPort(child: ChildProcess, name: string, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 20s`)), 20_000)
    const fail = (error: Error) => {
      clearTimeout(timer)
      reject(new Error(`${error.message}\nstdout:\n${out}\nstderr:\n${stderr()}`))
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk
      const match = /listening (\d+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code, signal) => fail(new Error(`${name} exited (${code ?? signal}) before listening`)))
    child.once('error', fail)
  })
}

async function startInstance(name: string, mode: InstanceMode, env: NodeJS.ProcessEnv, cwd?: string): Promise<Instance> {
  const child = spawn(process.execPath, [SERVER], {
    cwd,
    env: { ...process.env, ...env, SERVE_MODE: mode },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk))
  const port = await waitForPort(child, `instance ${name}`, () => stderr)
  const url = `http://127.0.0.1:${port}`
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + '/__test' + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: await res.text() }
  }
  const ok = async (method: string, path: string, body?: unknown) => {
    const result = await control(method, path, body)
    if (result.status !== 200) throw new Error(`${method} /__test${path} on ${name}: ${result.status} ${result.body}`)
    return result.body
  }
  const lines = () => stderr.split('\n').filter((line) => line !== '')
  return {
    name,
    url,
    mode,
    get lines() {
      return lines()
    },
    grep: (pattern) => lines().filter((line) => pattern.test(line)),
    get: (path, init) => fetch(url + path, { redirect: 'manual', ...init }),
    advanceClock: async (ms) => void (await ok('POST', `/clock?advance=${ms}`)),
    setClock: async (ms) => void (await ok('POST', `/clock?set=${ms}`)),
    setDb: async (patch) => void (await ok('POST', '/db', patch)),
    renders: async () => JSON.parse(await ok('GET', '/db')) as Record<string, number>,
    revalidatePath: (path) => control('POST', `/revalidate-tag?path=${encodeURIComponent(path)}`),
    revalidateTag: (tag) => control('POST', `/revalidate-tag?tag=${encodeURIComponent(tag)}`),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}

/** Start `count` instances (named A, B, …) and wait until all listen. */
export async function startInstances(count: number, options: StartInstancesOptions): Promise<Instance[]> {
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    DIST: options.distDir,
    REDIS_URL: options.redisUrl,
    KEY_PREFIX: options.keyPrefix === null ? '' : (options.keyPrefix ?? `multi-${randomBytes(6).toString('hex')}:`),
    CLOCK_START: String(options.clockStart ?? afterBuild(options.distDir)),
    FIXTURE_DB: JSON.stringify({ posts: seedPosts(), renders: {}, fail: false, delayMs: 0, running: 0, maxRunning: 0 } satisfies FixtureDb),
  }
  const modes = options.modes ?? ['fast-path']
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startInstance(String.fromCharCode(65 + i), modes[i % modes.length], { ...env, ...options.envs?.[i] }, options.cwds?.[i])),
  )
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) {
    await stopInstances(instances)
    throw failed.reason
  }
  return instances
}

export async function stopInstances(instances: readonly Instance[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.kill()))
}
