/** A real Express 5 server with the ISR handler, on 127.0.0.1 and a free port. */
import express, { type Express } from 'express'
import { afterEach, beforeEach } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createISRHandler, type ISRHandler, type ISRHandlerOptions } from 'vite-isr/runtime'
import { afterBuild, createClock, type TestClock } from './clock.js'
import { BASIC_DIST, resetDb, tempCacheDir, type FixtureDb } from './fixture-db.js'

export type ServeMode = 'middleware' | 'fast-path'

export interface TestServer {
  url: string
  isr: ISRHandler
  /** Every log line the handler wrote. */
  logs: string[]
  get(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

export interface ServerOptions extends ISRHandlerOptions {
  mode?: ServeMode
  /** Set up the Express app before the ISR handler is mounted (settings, middleware). */
  configure?: (app: Express) => void
  /** Listen on this port (a restart on the same address); a free one by default. */
  port?: number
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const logs: string[] = []
  const { mode = 'middleware', configure, port = 0, ...handlerOptions } = options
  // Without a clock of its own, time runs from just after the build (see afterBuild).
  if (!handlerOptions.now) {
    const anchor = afterBuild(handlerOptions.distDir ?? 'dist')
    const started = Date.now()
    handlerOptions.now = () => anchor + (Date.now() - started)
  }
  const isr = await createISRHandler({ log: (line) => logs.push(line), ...handlerOptions })
  const app = express()
  configure?.(app)
  app.use(isr)
  const server: Server = mode === 'fast-path' ? createServer(isr.wrap(app)) : createServer(app)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    isr,
    logs,
    get: (path, init) => fetch(url + path, { redirect: 'manual', ...init }),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await isr.close()
    },
  }
}

export interface FixtureServer {
  server: TestServer
  clock: TestClock
  db: FixtureDb
}

/**
 * Before each test: the basic fixture's data reset, a fresh clock and cache folder, and a
 * server on them; after it, all of it closed and removed. Read the fields inside tests.
 */
export function useFixtureServer(options: ServerOptions = {}): FixtureServer {
  const ctx = {} as FixtureServer
  let cache: ReturnType<typeof tempCacheDir>
  beforeEach(async () => {
    ctx.db = resetDb()
    ctx.clock = createClock(afterBuild(options.distDir ?? BASIC_DIST))
    cache = tempCacheDir()
    ctx.server = await startServer({ distDir: BASIC_DIST, cacheDir: cache.dir, now: ctx.clock.now, ...options })
  })
  afterEach(async () => {
    await ctx.server.close()
    cache.remove()
  })
  return ctx
}
