/** A real redis-server on a free loopback port, started and stopped by the tests. */
import type { ChildProcess } from 'node:child_process'
import { freePort, spawnRedis } from './local-servers.js'

export interface RedisServer {
  url: string
  port: number
  /** Kill the server (SIGKILL: as a crash or a network loss would look). */
  stop(): Promise<void>
  /** Start it again on the same port, empty. */
  start(): Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`redis-server on port ${port} is already running`)
      child = await spawnRedis(port)
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
  await server.start()
  return server
}
