/** A real HTTP origin on 127.0.0.1 that counts calls per path and answers after a random delay. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CountingUpstream {
  url: string
  hits: Map<string, number>
  /** Upper bound of the random delay before each answer (ms); change it between runs. */
  maxDelayMs: number
  reset(): void
  close(): Promise<void>
}

export async function startCountingUpstream(maxDelayMs = 0): Promise<CountingUpstream> {
  const hits = new Map<string, number>()
  let version = 0
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const body = path === '/params' ? JSON.stringify([{ n: '1' }, { n: '2' }, { n: '3' }]) : `v${++version}`
    setTimeout(() => res.end(body), Math.random() * upstream.maxDelayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const upstream: CountingUpstream = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    maxDelayMs,
    reset: () => hits.clear(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  return upstream
}
