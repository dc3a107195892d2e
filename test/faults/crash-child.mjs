/**
 * A real ISR server process for test/faults/crash.test.ts, run with `node` and killed
 * with SIGKILL while it writes: it serves the basic fixture on a cache folder and requests
 * its own pages `/blog/c0` … `/blog/c<COUNT-1>` over and over (round r starts at
 * c<50 r>, so that the rounds between kills together cover them all), each pass with its
 * clock 100 s later, so every pass renders and rewrites every entry (MISS the first time,
 * then STALE with a background regeneration).
 *
 * Each page's body says which version it is and how long it must be:
 *   `r<round>p<pass> id c<n> len <L> ` followed by L times `x`
 * with L between 2,000 and 40,000, so a torn or mixed entry cannot pass for a whole one.
 *
 * argv: <distDir> <cacheDir> <round> <count>
 * Prints `ready <port>` once it listens, then `pass <n>` after each pass.
 * Exits when its stdin closes, so it never outlives the test that spawned it.
 */
import { createServer } from 'node:http'
import { createISRHandler } from 'vite-isr/runtime'

const [distDir, cacheDir, roundArg, countArg] = process.argv.slice(2)
const round = Number(roundArg)
const count = Number(countArg)
const CONCURRENCY = 16
let pass = 0

/** A length that differs per version: a torn or mixed entry would not match it. */
function lengthOf(id, p) {
  let h = 2166136261
  for (const c of `${round}:${p}:${id}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619)
  return 2_000 + ((h >>> 0) % 38_000)
}

// The fixture's loaders read globalThis.__fixtureDb (test/fixtures/basic/server/db.ts).
globalThis.__fixtureDb = {
  posts: new Proxy(
    {},
    {
      get(_, id) {
        if (typeof id !== 'string' || !/^c\d+$/.test(id)) return undefined
        const length = lengthOf(id, pass)
        return { title: `Post ${id}`, body: `r${round}p${pass} id ${id} len ${length} ${'x'.repeat(length)}` }
      },
    },
  ),
  renders: {},
  fail: false,
  delayMs: 0,
}

// Each round's clock starts 10^7 ms after the last one's, so later writes are newer.
const started = Date.now()
const base = started + round * 10_000_000
// No bound on concurrent renders: every stale page's regeneration must start, so that the
// kills land among as many writes as possible (the bound would leave most of them for later).
const isr = await createISRHandler({ distDir, cacheDir, renderConcurrency: Infinity, now: () => base + pass * 100_000 + (Date.now() - started), log: () => {} })
const server = createServer(isr.wrap((req, res) => isr(req, res)))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}`
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
process.stdout.write(`ready ${server.address().port}\n`)

for (;;) {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const id = `c${(next++ + round * 50) % count}`
        const res = await fetch(`${url}/blog/${id}`)
        await res.arrayBuffer()
      }
    }),
  )
  process.stdout.write(`pass ${pass}\n`)
  pass++
}
