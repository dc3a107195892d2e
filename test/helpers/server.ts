/** A real Express 5 server with the ISR handler, on 127.0.0.1 and a free port. */
import express from 'express'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createISRHandler, type ISRHandler, type ISRHandlerOptions } from 'vite-isr/runtime'

export type ServeMode = 'middleware' | 'fast-path'

export interface TestServer {
  url: string
  isr: ISRHandler
  /** Every log line the handler wrote. */
  logs: string[]
  get(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

export async function startServer(options: ISRHandlerOptions & { mode?: ServeMode } = {}): Promise<TestServer> {
  const logs: string[] = []
  const { mode = 'middleware', ...handlerOptions } = options
  const isr = await createISRHandler({ log: (line) => logs.push(line), ...handlerOptions })
  const app = express()
  app.use(isr)
  const server: Server = mode === 'fast-path' ? createServer(isr.wrap(app)) : createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
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
