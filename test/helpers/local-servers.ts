/**
 * Starting real local servers for the tests and the bench alike (test/helpers/redis.ts,
 * bench/lib/redis.ts, bench/lib/peers.ts): a free loopback port, and a redis-server that
 * answers on it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A free TCP port on 127.0.0.1 (free when asked: another process could take it before the server does). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

export interface SpawnRedisOptions {
  /** Working folder of the server (it writes nothing there: no RDB, no AOF). */
  cwd?: string
  /** Called with the child right after it is spawned, e.g. to have it stopped at exit. */
  adopt?: (child: ChildProcess) => void
}

/** A redis-server on `port` (127.0.0.1, nothing persisted), resolved once it accepts connections. */
export async function spawnRedis(port: number, options: SpawnRedisOptions = {}): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local']
  const child = spawn('redis-server', args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  options.adopt?.(child)
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port} within 10 s:\n${out}`)), 10_000)
    const onData = (data: Buffer) => {
      out += data
      if (!out.includes('Ready to accept connections')) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (data: Buffer) => (out += data))
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)))
    child.once('error', (error) =>
      reject(new Error(`could not start redis-server (${error.message}); install it, e.g. apt-get install redis-server`, { cause: error })),
    )
  }).catch((error: unknown) => {
    child.kill('SIGKILL')
    throw error
  })
  child.stdout!.resume()
  return child
}
