/** A real redis-server on a free loopback port, started and stopped by the tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export interface RedisServer {
  url: string
  port: number
  /** Kill the server (SIGKILL: as a crash or a network loss would look). */
  stop(): Promise<void>
  /** Start it again on the same port, empty. */
  start(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`redis-server on port ${port} is already running`)
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
      await new Promise<void>((resolve, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}:\n${out}`)), 10_000)
        child!.stdout!.on('data', (d) => {
          out += d
          if (out.includes('Ready to accept connections')) {
            clearTimeout(timer)
            resolve()
          }
        })
        child!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)))
        child!.once('error', reject)
      })
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
