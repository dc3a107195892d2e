/** A real varnishd on a free loopback port, running the README's VCL in front of a test server. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO } from './build.js'
import { freePort } from './local-servers.js'

export const VCL_PATH = join(REPO, 'example-app/varnish/default.vcl')
/** Debian puts varnishd in /usr/sbin, which is not on every user's PATH. */
const VARNISHD = ['/usr/sbin/varnishd', '/usr/local/sbin/varnishd'].find((file) => spawnSync(file, ['-V']).status === 0) ?? 'varnishd'

export interface Varnish {
  url: string
  port: number
  /** The `TTL` records of Varnish's log so far (`RFC <ttl> <grace> ...`, `VCL <ttl> <grace> ...`). */
  ttlRecords(): string[]
  stop(): Promise<void>
}

/** The VCL file with its backend moved to `backendPort` (the only change). */
export function vclFor(backendPort: number): string {
  const vcl = readFileSync(VCL_PATH, 'utf8')
  const moved = vcl.replace(/\.port = "3000";/, `.port = "${backendPort}";`)
  if (moved === vcl) throw new Error(`${VCL_PATH}: no \`.port = "3000";\` backend line to point at the test server`)
  return moved
}

export async function startVarnish(backendPort: number, port?: number): Promise<Varnish> {
  port ??= await freePort()
  // varnishd compiles the VCL as an unprivileged user: the folder must be readable by it.
  const dir = mkdtempSync(join(tmpdir(), 'vite-isr-varnish-'))
  chmodSync(dir, 0o755)
  const vclFile = join(dir, 'default.vcl')
  writeFileSync(vclFile, vclFor(backendPort))
  chmodSync(vclFile, 0o644)
  const workDir = join(dir, 'n')
  const child: ChildProcess = spawn(VARNISHD, ['-F', '-a', `127.0.0.1:${port}`, '-f', vclFile, '-n', workDir, '-s', 'malloc,64m'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`varnishd exited with ${child.exitCode}:\n${output}`)
    try {
      await fetch(url + '/__varnish-ready', { method: 'HEAD' })
      break
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`varnishd did not answer on ${url} within 20 s:\n${output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    url,
    port,
    ttlRecords() {
      const result = spawnSync('varnishlog', ['-d', '-n', workDir, '-g', 'raw', '-i', 'TTL'], { encoding: 'utf8', timeout: 10_000 })
      return result.stdout
        .split('\n')
        .map((line) => /\bTTL\s+\S\s+(.*)$/.exec(line)?.[1]?.trim())
        .filter((line): line is string => line !== undefined)
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
