/**
 * Prerender throughput: `vite build` of the fixture with BENCH_PRERENDER_PAGES `items/[id]`
 * pages, against a plain loop (bench/prerender-loop.mjs) that renders the same pages with
 * react-dom from that build's server bundle and writes each to a file. Alternating rounds;
 * each side's median pages per second, and the median of the rounds' ratios.
 *
 * The build's figure is the plugin's own "[vite-isr] prerendering N/N pages (R/s)": its
 * clock starts right before the prerender (after Vite's client and server builds) and covers
 * importing the server bundle, generateStaticParams, every render and every cache write.
 * The loop's covers its loop (after importing the bundle). Both write into the same folder,
 * each round into subfolders of its own, and nothing is deleted until the run ends. That
 * folder is on the RAM disk when there is one: on the ext4 (without a journal) of the
 * machines this was tuned on, creating a file within minutes of thousands being deleted
 * scans past every recently deleted inode, so either side's rate swung 3x with what the
 * bench or anything else had deleted just before: a property of that disk, not of the code
 * measured. Elsewhere both write to bench/.work, with `sync` before each timed run so that
 * neither pays for the other's dirty pages.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNode, viteBuild, type Usage } from './build.js'
import type { BenchContext } from './context.js'
import { median, pairedRatio } from './load.js'
import type { CustomRow, Measurement } from './types.js'

const LOOP_SCRIPT = fileURLToPath(new URL('../prerender-loop.mjs', import.meta.url))

const mb = (kb: number | undefined) => (kb === undefined ? '?' : `${Math.round(kb / 1024)} MB`)

function sync(): void {
  try {
    execFileSync('sync', { stdio: 'ignore' })
  } catch {
    // no sync(1): the rounds are noisier, not wrong
  }
}

type LoopRenderer = 'string' | 'static'

/**
 * `string`: the row with the target. The loop renders with react-dom/server's
 * `renderToString`, the least work that turns these pages (they do not suspend) into files,
 * and what the runtime renders such a page with. `static`: the same build against a loop
 * with react-dom/static's `prerenderToNodeStream` (what a page that suspends needs, and
 * this row's baseline before the runtime rendered with `renderToString`), for comparison.
 */
export function prerenderRow(pages: number, rounds: number, renderer: LoopRenderer = 'string'): CustomRow {
  const count = pages.toLocaleString('en')
  const loop =
    renderer === 'string'
      ? 'react-dom/server renderToString of the same components and data (as the runtime renders a page that does not suspend)'
      : 'react-dom/static prerenderToNodeStream of the same components and data (what a page that suspends needs)'
  return {
    kind: 'custom',
    name: renderer === 'string' ? `prerender ${count} ISR pages: vite build ÷ plain render-and-write loop` : `prerender ${count} ISR pages: vite build ÷ the loop with prerenderToNodeStream`,
    unit: 'pages/s',
    target: renderer === 'string' ? { op: '>=', value: 0.8 } : undefined,
    how: `${rounds} rounds, alternating; build: the plugin's own prerender rate (prerender phase only); loop: ${loop}, writeFileSync per page, one page at a time`,
    run: (ctx) => measurePrerender(ctx, pages, rounds, renderer),
  }
}

async function measurePrerender(ctx: BenchContext, pages: number, rounds: number, renderer: LoopRenderer): Promise<Measurement> {
  const work = ctx.workDir(`prerender-${pages}-${renderer}`, { inMemory: true })
  let outDir = ''
  const build: { rate: number; total: number; buildMs: number; usage?: Usage }[] = []
  const loop: { rate: number; bytes: number; usage?: Usage }[] = []

  const runBuild = async () => {
    outDir = join(work, `dist-${build.length}`)
    sync()
    const result = await viteBuild(ctx.fixtureDir, { BENCH_PRERENDER_PAGES: String(pages) }, ['--outDir', outDir, '--emptyOutDir'])
    const matches = [...result.output.matchAll(/\[vite-isr\] prerendering (\d+)\/(\d+) pages \((\d+)\/s\)/g)]
    const last = matches.at(-1)
    if (!last || last[1] !== last[2]) throw new Error(`vite build printed no final "[vite-isr] prerendering N/N pages (R/s)" line:\n${result.output.slice(-2000)}`)
    const total = Number(last[2])
    if (total < pages) throw new Error(`vite build prerendered ${total} pages, expected at least ${pages}`)
    build.push({ rate: Number(last[3]), total, buildMs: result.ms, usage: result.usage })
    ctx.log(`prerender ${pages}: vite build ${last[3]} pages/s (${total} pages), build ${(result.ms / 1000).toFixed(1)} s, peak RSS ${mb(result.usage?.maxRssKb)}`)
  }
  const runLoop = async () => {
    const loopOut = join(work, `loop-${loop.length}`)
    sync()
    const result = await runNode(LOOP_SCRIPT, [outDir, String(pages), loopOut, renderer], { cwd: ctx.fixtureDir })
    const line = result.output.split('\n').find((l) => l.startsWith('{'))
    if (!line) throw new Error(`prerender-loop.mjs printed no result:\n${result.output}`)
    const { ms, bytes } = JSON.parse(line) as { ms: number; bytes: number }
    loop.push({ rate: (pages / ms) * 1000, bytes, usage: result.usage })
    ctx.log(`prerender ${pages}: plain loop (${renderer}) ${Math.round((pages / ms) * 1000)} pages/s, peak RSS ${mb(result.usage?.maxRssKb)}`)
  }

  // The loop renders from the build's server bundle: the first run is always a build.
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? ['build', 'loop'] : ['loop', 'build']) await (side === 'build' ? runBuild() : runLoop())
  }

  const a = median(build.map((b) => b.rate))
  const b = median(loop.map((l) => l.rate))
  const ratio = pairedRatio(build.map((b) => b.rate), loop.map((l) => l.rate))
  const peak = Math.max(...build.map((r) => r.usage?.maxRssKb ?? 0))
  const cpuSeconds = (u: Usage | undefined) => (u ? (u.userMicros + u.systemMicros) / 1e6 : NaN)
  return {
    a,
    b,
    ratio,
    notes: [
      `build peak RSS ${mb(peak)} (whole \`vite build\` process: Vite's two builds, then the prerender; max over rounds); plain loop peak RSS ${mb(Math.max(...loop.map((l) => l.usage?.maxRssKb ?? 0)))}`,
      `per round: build ${build.map((r) => r.rate).join(', ')} pages/s (${build[0].total} pages: the ${pages} items and the fixture's other ISR pages), loop ${loop.map((l) => Math.round(l.rate)).join(', ')} pages/s; whole vite build ${build.map((r) => (r.buildMs / 1000).toFixed(1)).join(', ')} s, ${build.map((r) => cpuSeconds(r.usage).toFixed(1)).join(', ')} CPU-s; loop ${loop.map((l) => cpuSeconds(l.usage).toFixed(1)).join(', ')} CPU-s (process total)`,
    ],
  }
}
