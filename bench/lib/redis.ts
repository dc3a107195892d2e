/** A real redis-server on a free loopback port, started and stopped by the bench. */
import { spawn } from 'node:child_process'
import { freePort } from './servers.js'
import { Redis } from 'ioredis'
import { makeTempDir, onCleanup, stopChild, track } from './processes.js'

export interface RedisServer {
  url: string
  port: number
  /** Calls per command since start (`INFO commandstats`), e.g. `{ get: 12 }`. */
  commandCounts(): Promise<Record<string, number>>
  stop(): Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = track(spawn('redis-server', args, { cwd: makeTempDir('redis'), stdio: ['ignore', 'pipe', 'pipe'] }))
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port} within 10 s:\n${out}`)), 10_000)
    const onData = (data: Buffer) => {
      out += data
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        resolve()
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (data: Buffer) => (out += data))
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)))
    child.once('error', (error) =>
      reject(new Error(`could not start redis-server (${error.message}); install it, e.g. apt-get install redis-server`, { cause: error })),
    )
  })
  child.stdout!.resume()
  const url = `redis://127.0.0.1:${port}`
  // One connection for the bench's own questions, so that they add only INFO calls.
  let stats: Redis | undefined
  return {
    url,
    port,
    async commandCounts() {
      if (!stats) {
        stats = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
        onCleanup(() => stats?.disconnect())
        await stats.connect()
      }
      const info = await stats.info('commandstats')
      const counts: Record<string, number> = {}
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (match[1] !== 'info') counts[match[1]] = Number(match[2])
      return counts
    },
    async stop() {
      stats?.disconnect()
      await stopChild(child)
    },
  }
}
