/**
 * `npm run bench -- --peers`: the same HIT (the fixture's ~14 KB ISR page `/`) answered by two
 * other frameworks' own caches, measured on this machine beside bare node:http and the fast
 * path, as rows of the same table.
 *
 * - Nitro 2 (`nitropack@2`, preset `node-server`): a route answering the page's exact bytes,
 *   cached by `routeRules: { '/': { swr: 60 } }`, served by `node .output/server/index.mjs`.
 *   The handler counts its calls (GET /bench-calls, outside the rule), so the details show
 *   that Nitro's cache, not the handler, answered. Nitro does not compress, so no gzip rows.
 * - Next.js 15 (`next@15 react@19 react-dom@19`): an app-router page with `revalidate = 60`
 *   rendering the page's <body> content (dangerouslySetInnerHTML), `next build`, then
 *   `next start`; probed for `x-nextjs-cache: HIT` before and after measuring, with and without
 *   `Accept-Encoding: gzip` (`next start` compresses by default, on every request). Its answer
 *   is bigger than the page: Next inlines the page's RSC payload (the same text again) and its
 *   own scripts; the details give every variant's body bytes.
 *
 * Installing: `npm install --no-save --no-package-lock --prefix <scratch>` of pinned majors into
 * a scratch folder in the OS temp dir (removed at the end), never into this repo (the
 * `npm_config_local_prefix` that `npm run` exports, which points at this repo, is dropped).
 * The apps are copied from bench/peers, with the page's bytes written beside them (the bytes
 * bare-http answers: the ISR page's HIT). A peer that cannot be installed, built or started
 * (offline, a registry error...) makes its rows INVALID with the reason; the run goes on.
 *
 * Measuring: lib/load.ts measurePairs, like every throughput row (alternating rounds, 50
 * connections). The peers' servers are plain child processes without IPC, so their CPU comes
 * from /proc (servers.ts startExternalServer: utime + stime of the process and every process
 * below it; `next start` serves from its own process, which renames itself next-server).
 * Linux only for the req/CPU-s figures: elsewhere they are NaN and req/s is in the notes.
 */
import { spawn } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { VARIANTS } from '../rows.js'
import { runNode } from './build.js'
import type { BenchContext } from './context.js'
import { expectHit, measurePairs, median, pairedRatio, probe, ratioNote, REWARM_SECONDS, reqsPerCpu, type LoadSpec, type ProbeResult, type Sample, type Target } from './load.js'
import { track } from './processes.js'
import { evaluate } from './report.js'
import { freePort } from '../../test/helpers/local-servers.js'
import { startExternalServer, type RunningServer } from './servers.js'
import type { GroupSettings, RowResult, ThroughputRow } from './types.js'

const TEMPLATES = fileURLToPath(new URL('../peers', import.meta.url))

const HOME: LoadSpec = { path: '/' }
const HOME_GZIP: LoadSpec = { path: '/', headers: { 'accept-encoding': 'gzip' } }

/** Fewer rounds than the `hit` group: the peers are far from our servers, not close to a target. */
export const PEER_GROUP: GroupSettings = {
  rounds: 3,
  seconds: 3,
  warmup: 2,
  why: 'informational rows comparing other frameworks, several times apart from ours: fewer rounds; the installs and builds take about a minute more',
}

const PEER_WHY =
  'the same reason as the fast path ÷ bare node:http row: one autocannon thread cannot keep up with bare node:http or the fast path, so their req/s is the load generator\'s, and a peer ÷ bare node:http ratio in req/s (in the notes) flatters the peer. Nitro and next start saturate before the load generator does; next start also uses more than one core (gzip and GC run on other threads of its process), and all of it counts'

type ServerKind = 'bare-http' | 'fast-path-fs' | 'nitro' | 'next'

interface PeerVariant {
  label: string
  server: ServerKind
  load: LoadSpec
  /** What to probe before and after measuring. */
  check?: 'isr-hit' | 'next-hit' | 'nitro-cache'
  encoding?: 'gzip'
}

const PEER_VARIANTS: Record<string, PeerVariant> = {
  'bare-http': { label: VARIANTS['bare-http'].label, server: 'bare-http', load: HOME },
  'fast-path-fs': { label: VARIANTS['fast-path-fs'].label, server: 'fast-path-fs', load: HOME, check: 'isr-hit' },
  'fast-path-gzip': { label: `${VARIANTS['fast-path-fs'].label}, Accept-Encoding: gzip`, server: 'fast-path-fs', load: HOME_GZIP, check: 'isr-hit', encoding: 'gzip' },
  nitro: { label: 'Nitro 2 (nitropack), routeRules { swr: 60 }, node-server preset', server: 'nitro', load: HOME, check: 'nitro-cache' },
  next: { label: 'next start (Next.js 15), app-router page, revalidate 60', server: 'next', load: HOME, check: 'next-hit' },
  'next-gzip': { label: 'next start (Next.js 15), app-router page, revalidate 60, Accept-Encoding: gzip', server: 'next', load: HOME_GZIP, check: 'next-hit', encoding: 'gzip' },
}

const row = (name: string, a: string, b: string): ThroughputRow => ({ kind: 'throughput', group: 'peers', name, a, b, metric: 'req/CPU-s', why: PEER_WHY })

export const PEER_ROWS: ThroughputRow[] = [
  row('peer HIT req/CPU-s: Nitro 2 (routeRules swr) ÷ bare node:http', 'nitro', 'bare-http'),
  row('peer HIT req/CPU-s: next start (ISR HIT) ÷ bare node:http', 'next', 'bare-http'),
  row('peer HIT req/CPU-s: next start (ISR HIT), Accept-Encoding: gzip ÷ bare node:http', 'next-gzip', 'bare-http'),
  row('peer HIT req/CPU-s: fast path ÷ Nitro 2 (routeRules swr)', 'fast-path-fs', 'nitro'),
  row('peer HIT req/CPU-s: fast path ÷ next start (ISR HIT)', 'fast-path-fs', 'next'),
  row('peer HIT req/CPU-s: fast path ÷ next start, both Accept-Encoding: gzip', 'fast-path-gzip', 'next-gzip'),
]

/** The peer rows `--only` selects: those whose name contains the text, or all of them for `--only peers`. */
export function selectPeerRows(only: string | undefined): ThroughputRow[] {
  if (!only || only.toLowerCase() === 'peers') return PEER_ROWS
  return PEER_ROWS.filter((r) => r.name.toLowerCase().includes(only.toLowerCase()))
}

/** One framework: what to install, how to write its page, build and start it. */
interface Peer {
  kind: 'nitro' | 'next'
  name: string
  packages: string[]
  /** Installed versions reported in the notes. */
  report: string[]
  writePage(dir: string, html: string): void
  build(dir: string): Promise<unknown>
  start(dir: string): Promise<RunningServer>
}

const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: '1' }

const PEERS: Record<'nitro' | 'next', Peer> = {
  nitro: {
    kind: 'nitro',
    name: 'Nitro',
    packages: ['nitropack@2'],
    report: ['nitropack', 'h3'],
    writePage: (dir, html) => writeFileSync(join(dir, 'page.mjs'), `export default ${JSON.stringify(html)}\n`),
    build: (dir) => runNode(binOf(dir, 'nitropack', 'nitropack'), ['build'], { cwd: dir, timeoutMs: 180_000 }),
    async start(dir) {
      const port = await freePort()
      return startExternalServer({
        label: 'Nitro (node .output/server/index.mjs)',
        command: process.execPath,
        args: ['.output/server/index.mjs'],
        cwd: dir,
        env: { PORT: String(port), HOST: '127.0.0.1', NITRO_PORT: String(port), NITRO_HOST: '127.0.0.1' },
        port,
        readyPath: '/bench-calls',
      })
    },
  },
  next: {
    kind: 'next',
    name: 'Next.js',
    packages: ['next@15', 'react@19', 'react-dom@19'],
    report: ['next', 'react', 'react-dom'],
    writePage(dir, html) {
      const body = /<body[^>]*>([\s\S]*)<\/body>/.exec(html)?.[1]
      if (body === undefined) throw new Error('the fixture page has no <body> to render in Next.js')
      // vite-isr's own scripts (hydration data, client entry) are not part of the content.
      writeFileSync(join(dir, 'page-body.mjs'), `export default ${JSON.stringify(body.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, ''))}\n`)
    },
    build: (dir) => runNode(binOf(dir, 'next', 'next'), ['build'], { cwd: dir, env: NEXT_ENV, timeoutMs: 300_000 }),
    async start(dir) {
      const port = await freePort()
      return startExternalServer({
        label: 'next start',
        command: process.execPath,
        args: [binOf(dir, 'next', 'next'), 'start', '-p', String(port), '-H', '127.0.0.1'],
        cwd: dir,
        env: NEXT_ENV,
        port,
      })
    },
  },
}

/** The script of an installed package's bin, run with this node (not through a shell shim). */
function binOf(dir: string, pkg: string, bin: string): string {
  const root = join(dir, 'node_modules', pkg)
  const field = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> }).bin
  const file = typeof field === 'string' ? field : field?.[bin]
  if (!file) throw new Error(`${pkg} has no "${bin}" bin in ${root}/package.json`)
  return join(root, file)
}

function versionOf(dir: string, pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}

/** `npm install` of `packages` into `dir` only: never this repo, never saved to a package.json. */
async function npmInstall(dir: string, packages: string[], timeoutMs = 300_000): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...NEXT_ENV }
  // `npm run bench` exports the repo as npm's local prefix: this install must not go there.
  delete env.npm_config_local_prefix
  const args = ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--fetch-retries=1', '--prefix', dir, ...packages]
  const child = track(spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }))
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data))
  child.stderr!.on('data', (data: Buffer) => (output += data))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | string | null>((resolve) => {
    child.once('error', (error) => resolve(error.message))
    child.once('close', (exitCode, signal) => resolve(signal ?? exitCode))
  }).finally(() => clearTimeout(timer))
  if (code === 0) return
  // npm's own summary: its error code and the first line saying what went wrong (not the stack).
  const errors = output.split('\n').flatMap((line) => (line.startsWith('npm error ') ? [line.slice('npm error '.length).trim()] : []))
  const reason = [errors.find((line) => line.startsWith('code ')), errors.find((line) => line && !/^(code|syscall|errno) /.test(line))].filter(Boolean)
  const why = reason.length ? reason.join(': ') : output.trim().split('\n').slice(-2).join(' / ')
  throw new Error(`npm install ${packages.join(' ')} failed (${code === 'SIGKILL' ? `killed after ${timeoutMs / 1000} s` : `exit ${code}`}): ${why}`)
}

/** Probe until `next start` answers a 200 from its ISR cache (past its window it answers STALE once, then HIT). */
async function expectNextHit(url: string, load: LoadSpec): Promise<ProbeResult> {
  let last: ProbeResult | undefined
  for (let attempt = 0; attempt < 5; attempt++) {
    last = await probe(url, load)
    if (last.status === 200 && last.headers['x-nextjs-cache'] === 'HIT') return last
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`GET ${load.path} answered ${last!.status} with x-nextjs-cache: ${last!.headers['x-nextjs-cache'] ?? '(none)'}, not a 200 HIT`)
}

async function nitroCalls(url: string): Promise<number> {
  const { body, status } = await probe(url, { path: '/bench-calls' })
  if (status !== 200) throw new Error(`GET /bench-calls answered ${status}`)
  return (JSON.parse(body.toString()) as { calls: number }).calls
}

const round0 = (n: number) => Math.round(n).toString()
const percent = (n: number) => `${Math.round(n * 100)}%`
const firstLine = (error: unknown) => ((error as Error)?.message ?? String(error)).split('\n')[0]

export interface PeerRun {
  results: RowResult[]
  /** The group's section of RESULTS.md's details. */
  details: string
  /** Time per part, for the settings line. */
  timings: string[]
}

/**
 * Install, build and start the peers `rows` need, then measure every row's pair in
 * alternating rounds. Whatever fails (install, build, start, measuring) shows in the rows as
 * INVALID with the reason; only a row naming an unknown variant throws.
 */
export async function runPeerRows(ctx: BenchContext, rows: readonly ThroughputRow[], settings: Required<Omit<GroupSettings, 'why'>>): Promise<PeerRun> {
  const log = (line: string) => ctx.log(`peers: ${line}`)
  const ids = [...new Set(rows.flatMap((r) => [r.a, r.b]))]
  for (const id of ids) if (!PEER_VARIANTS[id]) throw new Error(`bench/lib/peers.ts: row uses unknown variant "${id}"`)
  const kinds = [...new Set(ids.map((id) => PEER_VARIANTS[id].server))]
  const servers = new Map<ServerKind, RunningServer>()
  /** Why a server is missing. */
  const missing = new Map<ServerKind, string>()
  /** Installed versions and cache counts, per peer: in the details, and in the first row with that peer. */
  const peerNotes = new Map<ServerKind, string[]>()
  const note = (kind: ServerKind, text: string) => peerNotes.set(kind, [...(peerNotes.get(kind) ?? []), text])
  const timings: string[] = []
  const problems = new Map<string, string[]>()
  const problem = (id: string, text: string) => problems.set(id, [...(problems.get(id) ?? []), text])
  let failure: string | undefined

  const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now()
    try {
      return await work()
    } finally {
      timings.push(`${label} ${Math.round((Date.now() - started) / 1000)} s`)
    }
  }

  let samples = new Map<string, Sample[]>(ids.map((id) => [id, []]))
  let measured: { a: Sample[]; b: Sample[] }[] = []
  const sizes = new Map<string, string>()
  const measurable = (r: ThroughputRow) => !missing.has(PEER_VARIANTS[r.a].server) && !missing.has(PEER_VARIANTS[r.b].server)

  try {
    // Our own servers first: bare-http's body file holds the bytes the peers answer.
    const bare = await ctx.serve('bare-http', VARIANTS['bare-http'])
    servers.set('bare-http', bare.server)
    if (kinds.includes('fast-path-fs')) servers.set('fast-path-fs', (await ctx.serve('fast-path-fs', VARIANTS['fast-path-fs'])).server)
    const html = readFileSync(bare.server.config.bodyFile!, 'utf8')

    const peers = (['nitro', 'next'] as const).filter((kind) => kinds.includes(kind)).map((kind) => PEERS[kind])
    const scratch = ctx.tempDir('peers')
    const dirs = new Map(peers.map((peer) => [peer.kind, join(scratch, peer.kind)]))
    // Installs side by side (mostly waiting on the registry), builds one at a time (CPU).
    const installed = await timed('npm install', () =>
      Promise.allSettled(
        peers.map(async (peer) => {
          const dir = dirs.get(peer.kind)!
          cpSync(join(TEMPLATES, peer.kind), dir, { recursive: true })
          writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `vite-isr-bench-peer-${peer.kind}`, private: true, type: 'module' }, null, 2) + '\n')
          peer.writePage(dir, html)
          log(`npm install ${peer.packages.join(' ')} in ${dir}`)
          await npmInstall(dir, peer.packages)
        }),
      ),
    )
    for (const [i, peer] of peers.entries()) {
      const dir = dirs.get(peer.kind)!
      const install = installed[i]
      if (install.status === 'rejected') {
        missing.set(peer.kind, `${peer.name} not available: ${firstLine(install.reason)}`)
        log(missing.get(peer.kind)!)
        continue
      }
      note(peer.kind, `${peer.name}: ${peer.report.map((pkg) => `${pkg} ${versionOf(dir, pkg)}`).join(', ')} (installed with npm into a scratch folder)`)
      try {
        log(`building ${peer.name}`)
        await timed(`${peer.kind} build`, () => peer.build(dir))
        servers.set(peer.kind, await peer.start(dir))
        log(`started ${peer.name}`)
      } catch (error) {
        missing.set(peer.kind, `${peer.name} did not build or start: ${firstLine(error)}`)
        log(`${missing.get(peer.kind)!}\n${(error as Error)?.message ?? error}`)
      }
    }

    const targets = new Map<string, Target>()
    for (const id of ids) {
      const server = servers.get(PEER_VARIANTS[id].server)
      if (server) targets.set(id, { url: server.url, server, load: PEER_VARIANTS[id].load })
    }
    const encoded = new Map<string, string>()
    let callsBefore: number | undefined
    const check = async (id: string, when: string) => {
      const variant = PEER_VARIANTS[id]
      const target = targets.get(id)!
      try {
        let hit: { status: number; encoding: string | null; body: Buffer } | undefined
        if (variant.check === 'isr-hit') hit = await expectHit(target.url, target.load, id)
        else if (variant.check === 'next-hit') hit = await expectNextHit(target.url, target.load)
        else if (variant.check === 'nitro-cache') {
          const calls = await nitroCalls(target.url)
          if (when.includes('before')) callsBefore = calls
          else if (callsBefore !== undefined) {
            const requests = samples.get(id)!.reduce((n, s) => n + s.requests, 0)
            const during = calls - callsBefore
            note('nitro', `Nitro: its page handler ran ${calls} time${calls === 1 ? '' : 's'} in all, ${during} of them while measuring ${requests} requests (the route rule's cache answered the rest)`)
            // Past its 60 s window Nitro regenerates in the background: once a minute at most.
            if (during > 5) problem(id, `${when}: the page handler ran ${during} times for ${requests} requests: not answered from Nitro's cache`)
          }
        }
        if (variant.encoding && hit) {
          const plain = await probe(target.url, { path: target.load.path })
          if (hit.encoding !== variant.encoding) problem(id, `${when}: content-encoding ${hit.encoding ?? '(none)'}, not ${variant.encoding}`)
          else if (hit.body.length >= plain.body.length) problem(id, `${when}: ${hit.body.length} bytes ${hit.encoding}, not fewer than the ${plain.body.length} bytes uncompressed`)
          else encoded.set(id, `${hit.encoding} ${hit.body.length} bytes (identity ${plain.body.length})`)
        }
      } catch (error) {
        problem(id, `${when}: ${firstLine(error)}`)
      }
    }

    const runnable = rows.filter(measurable)
    if (runnable.length > 0) {
      const runIds = [...new Set(runnable.flatMap((r) => [r.a, r.b]))]
      const runTargets = new Map(runIds.map((id) => [id, targets.get(id)!]))
      const pairs = await timed('measuring', () =>
        measurePairs(
          runTargets,
          runnable.map((r) => [r.a, r.b] as const),
          {
            ...settings,
            afterWarmup: (id) => check(id, 'probe before measuring'),
            beforeRounds: async () => log(`warmed up and probed ${runIds.length} variants; measuring ${runnable.length} pairs, ${settings.rounds} rounds of ${settings.seconds} s each`),
            onRun: (id, round, s) =>
              log(`round ${round + 1}/${settings.rounds} ${id.padEnd(16)} ${round0(s.reqPerSec).padStart(6)} req/s  p99 ${s.p99Ms} ms  server CPU ${percent(s.serverCpu)}  load CPU ${percent(s.loadCpu)}`),
          },
        ),
      )
      samples = new Map(runIds.map((id) => [id, []]))
      runnable.forEach((r, i) => {
        samples.get(r.a)!.push(...pairs[i].a)
        samples.get(r.b)!.push(...pairs[i].b)
      })
      measured = rows.map((r) => (measurable(r) ? pairs[runnable.indexOf(r)] : { a: [], b: [] }))
      for (const id of runIds) await check(id, 'probe after measuring')
      for (const id of runIds) {
        const target = runTargets.get(id)!
        sizes.set(id, encoded.get(id) ?? String((await probe(target.url, target.load)).body.length))
        const list = samples.get(id)!
        const bad = list.reduce((n, s) => n + s.non2xx + s.errors + s.timeouts, 0)
        if (bad > 0) problem(id, `${list.reduce((n, s) => n + s.non2xx, 0)} non-2xx, ${list.reduce((n, s) => n + s.errors, 0)} errors, ${list.reduce((n, s) => n + s.timeouts, 0)} timeouts`)
      }
    }
  } catch (error) {
    failure = `the peer group failed: ${firstLine(error)}`
    ctx.log(`peers: ${(error as Error)?.stack ?? error}`)
  } finally {
    await Promise.allSettled([...servers.values()].map((server) => server.close()))
  }

  const results = rows.map((r, i): RowResult => {
    const base = { name: r.name, unit: 'req/CPU-s', compare: 'ratio' as const, target: r.target }
    const why = failure ?? [PEER_VARIANTS[r.a].server, PEER_VARIANTS[r.b].server].map((kind) => missing.get(kind)).find(Boolean)
    const pair = measured[i]
    if (why || !pair || pair.a.length === 0) {
      const invalid = why ?? 'not measured'
      return { ...base, a: NaN, b: NaN, ratio: NaN, status: 'invalid', invalid, notes: [] }
    }
    const { a, b } = pair
    const ratio = pairedRatio(a.map(reqsPerCpu), b.map(reqsPerCpu))
    const invalid =
      [r.a, r.b].flatMap((id) => (problems.get(id) ?? []).map((p) => `${id}: ${p}`)).join('; ') ||
      (Number.isFinite(ratio) ? undefined : 'no server CPU figure (the peers\' CPU is read from Linux /proc)')
    const rowNotes = [ratioNote(a, b, 'req/CPU-s')]
    for (const [side, list] of [['A', a], ['B', b]] as const) {
      const loadCpu = median(list.map((s) => s.loadCpu))
      if (loadCpu >= 0.85) rowNotes.push(`${side}: the load generator used ${percent(loadCpu)} of a core, so ${side}'s req/s is the load generator's limit here (the server may be faster)`)
    }
    return { ...base, a: median(a.map(reqsPerCpu)), b: median(b.map(reqsPerCpu)), ratio, status: evaluate(ratio, r.target, invalid), invalid, notes: rowNotes }
  })

  const lines = [
    '### Group `peers` (`--peers`)',
    '',
    `${settings.warmup} s warm-up per variant, then ${settings.rounds} rounds of ${settings.seconds} s per side (each after ${REWARM_SECONDS} s unmeasured). Why: ${PEER_GROUP.why}.`,
    '',
    '| Variant | Server | Body bytes | req/s per run | median | p99 ms (median) | server CPU | req per server CPU-s | load generator CPU | other processes CPU |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const id of ids) {
    const list = samples.get(id) ?? []
    if (list.length === 0) {
      lines.push(`| ${id} | ${PEER_VARIANTS[id].label} | - | not measured | - | - | - | - | - | - |`)
      continue
    }
    const other = median(list.map((s) => s.otherCpu))
    lines.push(
      `| ${id} | ${PEER_VARIANTS[id].label} | ${sizes.get(id) ?? '-'} | ${list.map((s) => round0(s.reqPerSec)).join(', ')} | ${round0(median(list.map((s) => s.reqPerSec)))} | ${median(list.map((s) => s.p99Ms))} | ${percent(median(list.map((s) => s.serverCpu)))} | ${round0(median(list.map((s) => s.reqPerSec / s.serverCpu)))} | ${percent(median(list.map((s) => s.loadCpu)))} | ${Number.isFinite(other) ? percent(other) : '-'} |`,
    )
  }
  lines.push('')
  for (const list of peerNotes.values()) for (const text of list) lines.push(`- ${text}`)
  for (const reason of missing.values()) lines.push(`- ${reason}`)
  if (failure) lines.push(`- ${failure}`)
  for (const [id, list] of problems) lines.push(`- ${id}: ${list.join('; ')}`)
  lines.push(
    '- The peers\' server CPU is utime + stime from /proc/<pid>/stat of the server process and its descendants (10 ms ticks); ours is process.cpuUsage() in the server process.',
    `- Time: ${timings.join(', ')}`,
  )
  // Each peer's versions and counts also go with the first row that has it, so the console shows them.
  for (const [kind, list] of peerNotes) {
    const i = rows.findIndex((r) => PEER_VARIANTS[r.a].server === kind || PEER_VARIANTS[r.b].server === kind)
    if (i >= 0) results[i].notes.push(...list)
  }
  return { results, details: lines.join('\n') + '\n', timings }
}
