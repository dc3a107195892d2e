/**
 * What `vite` (dev) says: a line at start that caching is off, a line per request (method,
 * path, status, ms) unless `quiet`, and no dependency-scan failure from route handlers that
 * import Node modules (they are server code, never scanned for the browser).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, type Logger, type ViteDevServer } from 'vite'
import { afterEach, describe, expect, it } from 'vitest'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'

interface Captured {
  server: ViteDevServer
  lines: string[]
  get(path: string): Promise<Response>
}

const servers: DevServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function start(name: string, pluginOptions = '', logLevel: 'info' | 'warn' = 'info'): Promise<Captured> {
  const prepare = (dir: string) => {
    writeFileSync(
      join(dir, 'vite.config.ts'),
      `import react from '@vitejs/plugin-react'\nimport { defineConfig } from 'vite'\nimport { isr } from 'vite-isr/plugin'\nexport default defineConfig({ plugins: [react(), isr(${pluginOptions})] })\n`,
    )
    // The README's webhook: a route handler importing a Node module.
    writeFileSync(
      join(dir, 'app/api/revalidate/route.ts'),
      `import { createHash } from 'node:crypto'\nexport async function POST() { return new Response(createHash('sha256').update('x').digest('hex')) }\n`,
    )
  }
  const lines: string[] = []
  const base: Logger = createLogger(logLevel, { allowClearScreen: false })
  const customLogger: Logger = {
    ...base,
    info: (msg, opts) => (base.hasWarned, lines.push(msg), undefined),
    warn: (msg) => void lines.push(msg),
    error: (msg) => void lines.push(msg),
    warnOnce: (msg) => void lines.push(msg),
  }
  if (logLevel === 'warn') customLogger.info = () => {}
  const dev = await startDevServer({ as: name, prepare, vite: { optimizeDeps: { force: true }, customLogger, logLevel } })
  servers.push(dev)
  return { server: dev.server, lines, get: (path) => dev.get(path) }
}

describe('the dev server log', () => {
  it('says caching is off at start and prints one line per request with method, path, status and time', async () => {
    const { lines, get } = await start('dev-log')
    expect(lines.some((l) => l.includes('[vite-isr] dev: caching is off'))).toBe(true)
    expect((await get('/blog/1')).status).toBe(200)
    expect((await get('/no-such-page')).status).toBe(404)
    expect(lines).toContainEqual(expect.stringMatching(/^\[vite-isr\] GET \/blog\/1 200 in \d+ms \(not cached in dev\)$/))
    expect(lines).toContainEqual(expect.stringMatching(/^\[vite-isr\] GET \/no-such-page 404 in \d+ms \(not cached in dev\)$/))
  })

  it('prints no request lines with isr({ quiet: true }), nor with --logLevel warn', async () => {
    for (const [name, options, level] of [['dev-log-quiet', '{ quiet: true }', 'info'], ['dev-log-warn', '', 'warn']] as const) {
      const { lines, get } = await start(name, options, level)
      expect((await get('/blog/1')).status).toBe(200)
      expect(lines.filter((l) => l.startsWith('[vite-isr] GET'))).toEqual([])
    }
  })

  it('scans dependencies without failing on a route handler that imports node:crypto', async () => {
    const { server, lines, get } = await start('dev-scan')
    expect((await get('/blog/1')).status).toBe(200)
    const optimizer = server.environments.client.depsOptimizer
    await optimizer?.scanProcessing
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(lines.filter((l) => /dependency scan|node:crypto/i.test(l))).toEqual([])
  })
})
