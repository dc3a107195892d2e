/**
 * example-app/Dockerfile, its final stage performed step by step OUTSIDE Docker: there is
 * no Docker engine on the machines this suite runs on (`docker build` is not available), so
 * the test reads the Dockerfile and does what the final stage does, in a fresh folder
 * outside the repository (so nothing resolves from the repo's node_modules):
 * its ENV, WORKDIR, COPY and RUN lines in order (`chown` to the image's `node` user
 * skipped: that user exists only in the image), then its CMD, its HEALTHCHECK command and
 * its STOPSIGNAL. The image's paths (/app, /var/cache/vite-isr, ...) become temp folders.
 *
 * The build stage's results are made the test's way: the example is built by `vite build`
 * in a copy under test/.tmp (another test builds example-app itself at the same time), and
 * `npm pack` runs with --ignore-scripts since `npm test` built dist/ already. Its
 * production-package.mjs and `npm install --package-lock-only` lines run as written.
 * npm runs with prefer-offline so packages come from the local npm cache when it has them.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, run, viteBuild } from '../helpers/build.js'
import { startExampleServer, type ExampleServer } from '../helpers/example-app.js'
import { freePort } from '../helpers/local-servers.js'

const DOCKERFILE = join(REPO, 'example-app/Dockerfile')

interface Instruction {
  line: number
  keyword: string
  args: string
}

/** The Dockerfile's stages, each a list of instructions (comments dropped, `\` lines joined). */
function parseDockerfile(text: string): { name: string | undefined; from: string; instructions: Instruction[] }[] {
  const stages: { name: string | undefined; from: string; instructions: Instruction[] }[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1
    let current = lines[i].trim()
    if (current === '' || current.startsWith('#')) continue
    while (current.endsWith('\\') && i + 1 < lines.length) current = current.slice(0, -1).trimEnd() + ' ' + lines[++i].trim()
    const m = /^([A-Z]+)\s+(.*)$/.exec(current)
    if (!m) throw new Error(`example-app/Dockerfile:${line}: cannot read "${current}"`)
    const [, keyword, args] = m
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      stages.push({ from: from![1], name: from![2], instructions: [] })
    } else {
      if (stages.length === 0) throw new Error(`example-app/Dockerfile:${line}: ${keyword} before FROM`)
      stages[stages.length - 1].instructions.push({ line, keyword, args })
    }
  }
  return stages
}

const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'))
const final = stages[stages.length - 1]
const build = stages.find((s) => s.name === 'build')
const all = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword)
const one = (keyword: string) => {
  const found = all(keyword)
  if (found.length !== 1) throw new Error(`the final stage has ${found.length} ${keyword} lines, expected one`)
  return found[0]
}
/** The JSON (exec) form of CMD / HEALTHCHECK CMD. */
const execForm = (args: string): string[] => JSON.parse(args.replace(/^(--\S+\s+)*CMD\s+/, ''))

let work: string
let out: string
let app: string
let buildRoot: string
let buildCopy: string
const volumes: Record<string, string> = {}
let env: Record<string, string> = {}
let server: ExampleServer
let url: string
let port: number
const skipped: string[] = []
const figures: string[] = []

/** The image's absolute paths, as folders of this test (longest first). */
function mapPaths(text: string, map: Record<string, string>): string {
  let result = text
  for (const from of Object.keys(map).sort((a, b) => b.length - a.length)) {
    result = result.replace(new RegExp(`(^|[\\s"'=:])${from.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?=$|[\\s/"'])`, 'g'), `$1${map[from]}`)
  }
  return result
}

/** A shell line as the image's RUN would run it (npm from the local cache first). */
async function sh(command: string, cwd: string, label = command): Promise<void> {
  const started = Date.now()
  const result = await run('sh', ['-c', command], { cwd, env: { ...cleanEnv(), ...env, npm_config_prefer_offline: 'true' }, timeoutMs: 170_000 })
  figures.push(`RUN ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  if (result.code !== 0) throw new Error(`\`${command}\` (in ${cwd}) exited with ${result.code}:\n${result.output}`)
}

/** The environment without the npm_* and vitest variables of the `npx vitest` that started us. */
function cleanEnv(): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!/^(npm_|vitest|node_env$|node_options$)/i.test(key)) clean[key] = value
  return clean
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'vite-isr-docker-'))
  out = join(work, 'out')
  app = join(work, 'app')
  mkdirSync(out)

  // The build stage, the test's way (see the doc comment).
  // The copy keeps its place next to the repo's tsconfig.json, which its own extends.
  buildRoot = join(REPO, 'test/.tmp/docker-build')
  buildCopy = join(buildRoot, 'example-app')
  rmSync(buildRoot, { recursive: true, force: true })
  cpSync(join(REPO, 'example-app'), buildCopy, { recursive: true, filter: (src) => !/[/\\](dist|data|node_modules)$/.test(src) })
  cpSync(join(REPO, 'tsconfig.json'), join(buildRoot, 'tsconfig.json'))
  const [built, packed] = await Promise.all([viteBuild(buildCopy), run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: REPO, env: cleanEnv() })])
  if (built.code !== 0) throw new Error(`vite build of the example failed:\n${built.output}`)
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.output}`)
  const buildMap = { '/out': out, '/repo': REPO }
  for (const { args } of build!.instructions.filter((i) => i.keyword === 'RUN')) {
    if (args.includes('production-package.mjs') || args.includes('--package-lock-only')) await sh(mapPaths(args, buildMap), REPO, args)
  }

  // The final stage, as written.
  for (const path of all('VOLUME').flatMap((v) => JSON.parse(v.args) as string[])) volumes[path] = join(work, 'volume' + path.replaceAll('/', '-'))
  const map: Record<string, string> = { '/out': out, '/repo/example-app': buildCopy, '/app': app, ...volumes }
  let cwd = work
  for (const { keyword, args, line } of final.instructions) {
    const at = `example-app/Dockerfile:${line}`
    if (keyword === 'ENV') {
      const m = /^(\S+?)=(.*)$/.exec(args)
      if (!m) throw new Error(`${at}: write ENV as KEY=value`)
      env[m[1]] = mapPaths(m[2], map)
    } else if (keyword === 'WORKDIR') {
      cwd = mapPaths(args, map)
      mkdirSync(cwd, { recursive: true })
    } else if (keyword === 'COPY') {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'))
      const dest = parts.pop()!
      for (const src of parts) {
        const from = mapPaths(src, map)
        const to = join(cwd, dest === './' ? '' : dest)
        if (src.endsWith('/')) for (const name of readdirSync(from)) cpSync(join(from, name), join(to, name), { recursive: true })
        else cpSync(from, src.endsWith('/') || dest.endsWith('/') ? join(to, from.split('/').pop()!) : to, { recursive: true })
      }
    } else if (keyword === 'RUN') {
      const command = args.replace(/^(--\S+\s+)+/, '')
      for (const part of command.split('&&').map((p) => p.trim())) {
        if (part.startsWith('chown ')) {
          skipped.push(`${at}: ${part}`)
          continue
        }
        await sh(mapPaths(part, map), cwd, part)
      }
    }
  }
  app = cwd

  // CMD, with the image's env (PORT on a free port).
  port = await freePort()
  env = { ...env, PORT: String(port) }
  const [command, ...commandArgs] = execForm(one('CMD').args)
  const started = Date.now()
  server = await startExampleServer({ cwd: app, env: { PATH: process.env.PATH, HOME: work, ...env }, command: [command === 'node' ? process.execPath : command, ...commandArgs], name: 'CMD' })
  url = server.url
  figures.push(`CMD listening after ${Date.now() - started} ms`)
}, 300_000)

afterAll(async () => {
  await server?.stop('SIGKILL')
  console.log(`docker-steps (final stage run outside Docker: no engine here)\n  ${figures.join('\n  ')}\n  skipped: ${skipped.join('; ') || 'nothing'}`)
  if (work) rmSync(work, { recursive: true, force: true })
  if (buildRoot) rmSync(buildRoot, { recursive: true, force: true })
})

describe('example-app/Dockerfile, final stage performed outside Docker (no Docker engine here)', () => {
  it('is multi-stage: production dependencies only, NODE_ENV=production, a non-root user, the cache on a volume, a health check and SIGTERM', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(build, 'a stage named build').toBeDefined()
    expect(all('COPY').every((c) => c.args.startsWith('--from=build ')), 'the final stage takes only build results').toBe(true)
    expect(all('RUN').some((r) => /\bnpm ci --omit=dev\b/.test(r.args))).toBe(true)
    expect(all('ENV').map((e) => e.args)).toContain('NODE_ENV=production')
    const user = one('USER').args
    expect(user).not.toMatch(/^(root|0)(:|$)/)
    const cacheDir = all('ENV').find((e) => e.args.startsWith('ISR_CACHE_DIR='))!.args.split('=')[1]
    expect(JSON.parse(one('VOLUME').args)).toContain(cacheDir)
    expect(one('HEALTHCHECK').args).toContain('/healthz')
    expect(one('STOPSIGNAL').args).toBe('SIGTERM')
    expect(skipped.every((s) => s.includes(`chown ${user}:`)), 'only the chown to the image user was skipped').toBe(true)
  })

  it('installs no development package: no vite, vitest or typescript, and better-sqlite3 built without a compiler', () => {
    const modules = readdirSync(join(app, 'node_modules'))
    figures.push(`node_modules: ${modules.length} entries`)
    for (const dev of ['vite', 'vitest', 'typescript', '@vitejs', 'rolldown', 'tsx']) expect(modules, dev).not.toContain(dev)
    for (const needed of ['vite-isr', 'express', 'react', 'react-dom', 'better-sqlite3']) expect(modules, needed).toContain(needed)
    expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true)
    expect(existsSync(join(app, 'prebuilds')), 'the prebuild is removed after the install').toBe(false)
  })

  it('passes its HEALTHCHECK and serves pages from the cache folder on the volume (a HIT)', async () => {
    const [command, ...args] = execForm(one('HEALTHCHECK').args)
    const health = spawnSync(command === 'node' ? process.execPath : command, args, { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 })
    expect(health.status, 'the HEALTHCHECK command exits 0').toBe(0)
    expect((await fetch(url + '/healthz')).status).toBe(200)

    const home = await fetch(url + '/')
    expect(home.status).toBe(200)
    expect(['HIT', 'STALE'], 'the prerendered page, from the cache').toContain(home.headers.get('x-isr-cache'))
    const first = await fetch(url + '/blog/deploying')
    await first.text()
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    const second = await fetch(url + '/blog/deploying')
    expect(second.headers.get('x-isr-cache')).toBe('HIT')
    expect(await second.text()).toContain('<h1')
    const cacheDir = env.ISR_CACHE_DIR
    expect(readdirSync(cacheDir).length, 'the cache lives on the volume').toBeGreaterThan(0)
  })

  it('stops on its STOPSIGNAL with exit code 0', async () => {
    expect(server.process.exitCode).toBeNull()
    const started = Date.now()
    const { code } = await server.stop(one('STOPSIGNAL').args as NodeJS.Signals)
    figures.push(`stopped ${Date.now() - started} ms after ${one('STOPSIGNAL').args}, exit code ${code}`)
    expect(code).toBe(0)
  })
})
