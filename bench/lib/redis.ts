/** A real redis-server on a free loopback port, started and stopped by the bench. */
import { Redis } from 'ioredis'
import { freePort, spawnRedis } from '../../test/helpers/local-servers.js'
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
  const child = await spawnRedis(port, { cwd: makeTempDir('redis'), adopt: track })
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
