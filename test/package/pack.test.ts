/**
 * `npm pack` gives a package that works when installed into a fresh Vite app outside
 * the repo: install from the tarball, `vite build`, `node server.js`, ISR headers, and
 * TypeScript types for the subpath exports.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, run, type CommandResult } from '../helpers/build.js'

const FIVE_MINUTES = 300_000
const TSC = join(REPO, 'node_modules/typescript/bin/tsc')

/** npm, run as from a shell in `cwd`: without the npm_* variables of the `npx vitest` that started us. */
function npm(args: string[], cwd: string, timeoutMs = FIVE_MINUTES): Promise<CommandResult> {
  const clean: NodeJS.ProcessEnv = {}
  for (const key of Object.keys(process.env)) if (key.toLowerCase().startsWith('npm_')) clean[key] = undefined
  return run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, env: { ...clean, NO_COLOR: '1' }, timeoutMs })
}

function must(result: CommandResult, what: string): CommandResult {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}:\n${result.output}`)
  return result
}

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true })
  writeFileSync(join(root, file), text)
}

const repoPkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
const versionOf = (name: string) => {
  const version = repoPkg.devDependencies[name]
  if (!version) throw new Error(`${name} is not in the repo's devDependencies`)
  return version
}

let packDir: string
let appDir: string
let tarball: string
let tarEntries: string[]
let buildResult: CommandResult
let server: ChildProcess | undefined
let base: string
const timings: Record<string, number> = {}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now()
  try {
    return await fn()
  } finally {
    timings[label] = Date.now() - started
  }
}

function startServer(cwd: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['server.js'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server.js did not print its port within 30s:\n${output}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = /listening on (\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ child, port: Number(match[1]) })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server.js exited with ${code}:\n${output}`))
    })
  })
}

function get(path: string): Promise<Response> {
  return fetch(base + path, { redirect: 'manual', signal: AbortSignal.timeout(15_000) })
}

beforeAll(async () => {
  packDir = mkdtempSync(join(tmpdir(), 'vite-isr-pack-'))
  appDir = mkdtempSync(join(tmpdir(), 'vite-isr-app-'))

  // 1. npm pack. `npm test` has just built dist/; `--ignore-scripts` skips prepack's rebuild,
  // which would rewrite dist/ under the feet of test files running in parallel.
  must(await timed('npm pack', () => npm(['pack', '--ignore-scripts', '--pack-destination', packDir], REPO)), 'npm pack')
  const tgz = readdirSync(packDir).filter((f) => f.endsWith('.tgz'))
  expect(tgz).toHaveLength(1)
  tarball = join(packDir, tgz[0])
  tarEntries = must(await run('tar', ['-tzf', tarball], { cwd: packDir }), 'tar -tzf').stdout.split('\n').filter(Boolean)

  // 2. a fresh Vite app outside the repo, depending on the tarball
  write(appDir, 'package.json', JSON.stringify({
    name: 'fresh-isr-app',
    private: true,
    type: 'module',
    dependencies: {
      'vite-isr': `file:${tarball}`,
      react: versionOf('react'),
      'react-dom': versionOf('react-dom'),
      express: versionOf('express'),
      vite: versionOf('vite'),
      '@vitejs/plugin-react': versionOf('@vitejs/plugin-react'),
    },
  }, null, 2))
  write(appDir, 'vite.config.ts', `import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { isr } from 'vite-isr/plugin'

export default defineConfig({
  plugins: [react(), isr()],
})
`)
  write(appDir, 'app/layout.tsx', `import type { ReactNode } from 'react'

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head><meta charSet="utf-8" /></head>
      <body>{children}</body>
    </html>
  )
}
`)
  write(appDir, 'app/page.tsx', `export const revalidate = 60

export async function loader() {
  return { greeting: 'hello from the packed loader' }
}

export default function Home({ data }: { data: { greeting: string } }) {
  return <main><h1 id="greeting">{data.greeting}</h1></main>
}
`)
  write(appDir, 'app/blog/[id]/page.tsx', `export const revalidate = 60

export async function generateStaticParams() {
  return [{ id: '1' }]
}

export async function loader({ params }: { params: { id: string } }) {
  return { id: params.id }
}

export default function Post({ data }: { data: { id: string } }) {
  return <article><h1 id="post">post number {data.id}</h1></article>
}
`)
  write(appDir, 'server.js', `import express from 'express'
import { createISRHandler } from 'vite-isr/runtime'

const app = express()
app.use(await createISRHandler({ distDir: 'dist' }))
const server = app.listen(0, '127.0.0.1', () => {
  console.log('listening on ' + server.address().port)
})
`)
  write(appDir, 'check.ts', `import type { ISRHandlerOptions } from 'vite-isr/runtime'
import { isr } from 'vite-isr/plugin'
import defaultIsr from 'vite-isr/plugin'
import { createVarnishPurger } from 'vite-isr/cdn/varnish'

const options: ISRHandlerOptions = { distDir: 'dist', onRevalidate: createVarnishPurger({ url: 'http://127.0.0.1:6081' }) }
const plugins = isr({ appDir: 'app' })
const same: typeof isr = defaultIsr
// @ts-expect-error appDir is a string: proves the types are real, not \`any\`
isr({ appDir: 42 })
// @ts-expect-error distDir is a string
const wrong: ISRHandlerOptions = { distDir: 1 }
// @ts-expect-error createVarnishPurger needs Varnish's url
createVarnishPurger({})

export { options, plugins, same, wrong }
`)

  // 3. install, build
  must(await timed('npm install', () => npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], appDir)), 'npm install')
  buildResult = await timed('vite build', () => run('npx', ['vite', 'build'], { cwd: appDir, env: { NO_COLOR: '1' }, timeoutMs: FIVE_MINUTES }))
  must(buildResult, 'npx vite build')

  // 4. serve
  const started = await timed('server start', () => startServer(appDir))
  server = started.child
  base = `http://127.0.0.1:${started.port}`
}, FIVE_MINUTES)

afterAll(() => {
  if (server && server.exitCode === null) server.kill()
  for (const dir of [appDir, packDir]) if (dir) rmSync(dir, { recursive: true, force: true })
  console.log('[pack.test] timings (ms):', JSON.stringify(timings))
})

describe('npm pack, installed into a fresh Vite app outside the repo', () => {
  it('packs the built plugin and runtime with their types, and no tests or sources', () => {
    for (const file of ['dist/plugin/index.js', 'dist/plugin/index.d.ts', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'package.json']) {
      expect(tarEntries).toContain(`package/${file}`)
    }
    expect(tarEntries.filter((f) => f.endsWith('.d.ts')).length).toBeGreaterThan(2)
    expect(tarEntries.filter((f) => /(^|\/)test\/|\.test\.|(^|\/)fixtures\//.test(f))).toEqual([])
    // only the build output and the package metadata: no TypeScript sources, no example app
    expect(tarEntries.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$|LICENSE)/.test(f))).toEqual([])
    expect(tarEntries.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
  })

  it('ships a file for every target of the package.json exports map', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> }
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))
    expect(targets.length).toBeGreaterThan(3)
    const missing = targets.filter((t) => !tarEntries.includes('package/' + t.replace(/^\.\//, '')))
    expect(missing).toEqual([])
  })

  it('installs the package itself, not a link back into the repo', () => {
    const installed = join(appDir, 'node_modules/vite-isr')
    expect(existsSync(join(installed, 'dist/plugin/index.js'))).toBe(true)
    expect(existsSync(join(installed, 'plugin'))).toBe(false)
    expect(existsSync(join(installed, 'test'))).toBe(false)
  })

  it('vite build exits 0 and writes the prerender manifest listing the prerendered pages', () => {
    expect(buildResult.code).toBe(0)
    const manifestFile = join(appDir, 'dist/prerender-manifest.json')
    expect(existsSync(manifestFile)).toBe(true)
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      buildId: string
      routes: Record<string, { initialRevalidateSeconds: number | false; srcRoute: string }>
      dynamicRoutes: Record<string, unknown>
    }
    expect(typeof manifest.buildId).toBe('string')
    expect(Object.keys(manifest.routes).sort()).toEqual(['/', '/blog/1'])
    expect(manifest.routes['/']).toMatchObject({ initialRevalidateSeconds: 60, srcRoute: '/' })
    expect(manifest.routes['/blog/1']).toMatchObject({ initialRevalidateSeconds: 60, srcRoute: '/blog/[id]' })
    expect(Object.keys(manifest.dynamicRoutes)).toContain('/blog/[id]')
  })

  it('serves the prerendered home page from the cache (HIT) with the loader data', async () => {
    const res = await get('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(res.headers.get('cache-control')).toMatch(/s-maxage=60/)
    expect(await res.text()).toContain('hello from the packed loader')
  })

  it('serves the prerendered /blog/1 as a HIT', async () => {
    const res = await get('/blog/1')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(await res.text()).toMatch(/post number (<!-- -->)?1/)
  })

  it('renders /blog/2 on the first request (MISS), then serves it from the cache (HIT)', async () => {
    const first = await get('/blog/2')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    expect(await first.text()).toMatch(/post number (<!-- -->)?2/)
    const second = await get('/blog/2')
    expect(second.status).toBe(200)
    expect(second.headers.get('x-isr-cache')).toBe('HIT')
    expect(await second.text()).toMatch(/post number (<!-- -->)?2/)
  })

  it('serves the client assets the page points at', async () => {
    const html = await (await get('/')).text()
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1])
    expect(scripts.length).toBeGreaterThan(0)
    for (const src of scripts) {
      const res = await get(src)
      expect(res.status, src).toBe(200)
      expect(res.headers.get('content-type'), src).toMatch(/javascript/)
    }
  })

  it('resolves TypeScript types for the subpath exports', async () => {
    const result = await run(process.execPath, [TSC, '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'check.ts'], { cwd: appDir })
    expect(result.output).toBe('')
    expect(result.code).toBe(0)
  })
})
