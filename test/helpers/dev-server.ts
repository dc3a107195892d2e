/**
 * A real Vite dev server (`vite`) on a scratch copy of a fixture, listening on 127.0.0.1 and a
 * free port, driven over HTTP. Each dev test starts its own here.
 */
import { rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createServer, type InlineConfig, type ViteDevServer } from 'vite'
import { copyFixture } from './build.js'

export interface DevServerOptions {
  /** The scratch folder's name under test/.tmp (one per test file: files run in parallel). */
  as: string
  /** @default 'basic' */
  fixture?: string
  /** Change the scratch copy before the server starts (add a broken page, a `.env`). */
  prepare?: (dir: string) => void
  /** Set while the server is created (the plugin reads some at start, e.g. ISR_DEBUG_CACHE). */
  env?: Record<string, string>
  /** Merged into the Vite config (`customLogger`, `optimizeDeps`, `server`). */
  vite?: InlineConfig
  /** Do not listen: for `server.middlewareMode`, mounted by the test in its own server. */
  listen?: boolean
}

export interface DevServer {
  server: ViteDevServer
  /** `http://127.0.0.1:<port>`, or '' when not listening. */
  url: string
  /** The scratch copy's folder. */
  dir: string
  /** A request with `redirect: 'manual'` and a 15 s bound. */
  get(path: string, init?: RequestInit): Promise<Response>
  /**
   * Write `content` to `file` and wait until `seen()` is true, failing after `timeout` ms.
   * Vite's watcher drops a second change to a file made within 50 ms of the first (chokidar's
   * throttle), so on a busy machine an edit that follows another closely may never reach the
   * server: the write is repeated every second until it is seen.
   */
  write(file: string, content: string, seen: () => boolean | Promise<boolean>, timeout?: number): Promise<void>
  /** Close the server and remove the scratch copy. */
  close(): Promise<void>
}

export async function writeUntilSeen(file: string, content: string, seen: () => boolean | Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  let written = 0
  let last: unknown
  while (Date.now() < deadline) {
    if (Date.now() - written >= 1_000) {
      writeFileSync(file, content)
      written = Date.now()
    }
    try {
      if (await seen()) return
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the dev server did not take up the edit of ${file} within ${timeout} ms`, { cause: last })
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const dir = copyFixture(options.fixture ?? 'basic', options.as)
  options.prepare?.(dir)
  const previous = new Map(Object.keys(options.env ?? {}).map((name) => [name, process.env[name]]))
  Object.assign(process.env, options.env)
  let server: ViteDevServer
  try {
    server = await createServer({
      root: dir,
      configFile: join(dir, 'vite.config.ts'),
      // Its own dependency cache: the default (the repo's node_modules/.vite) is shared with every
      // other dev server started by tests running at the same time, whose optimizer runs race.
      cacheDir: join(dir, '.vite'),
      logLevel: 'silent',
      ...options.vite,
      server: { port: 0, host: '127.0.0.1', ...options.vite?.server },
    })
  } finally {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
  let url = ''
  if (options.listen !== false) {
    await server.listen()
    url = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`
  }
  return {
    server,
    url,
    dir,
    get: (path, init) => fetch(url + path, { redirect: 'manual', signal: AbortSignal.timeout(15_000), ...init }),
    write: writeUntilSeen,
    async close() {
      await optimizerIdle(server)
      await server.close()
      // Vite's dependency optimizer may still be writing its cache folder as the server closes.
      // A scratch folder left behind is not the test's failure (test/.tmp is cleared by the next run).
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
      } catch {}
    },
  }
}

/**
 * Vite's dependency optimizer runs in the background from the server's start. Closed while it
 * writes its cache folder, rolldown fails to write into the folder Vite has removed, and that
 * rejection surfaces as an unhandled error of the test run: wait (boundedly) for its run to end.
 */
async function optimizerIdle(server: ViteDevServer, bound = 10_000): Promise<void> {
  const optimizer = server.environments.client?.depsOptimizer
  if (!optimizer) return
  const idle = (async () => {
    await optimizer.scanProcessing
    const { discovered, optimized } = optimizer.metadata
    await Promise.all([...Object.values(discovered), ...Object.values(optimized)].map((dep) => dep.processing))
  })().catch(() => {})
  let timer: NodeJS.Timeout | undefined
  await Promise.race([idle, new Promise((resolve) => (timer = setTimeout(resolve, bound)))])
  clearTimeout(timer)
}
