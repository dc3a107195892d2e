/**
 * One real ISR server process for the disk tests (run with `node`): Express 5 with
 * `http.createServer(isr.wrap(app))`, the default filesystem cache at CACHE_DIR, the basic
 * fixture's data, and a controllable clock.
 *
 * Environment: DIST (required), CACHE_DIR (required), CLOCK_START (ms), FIXTURE_DB (JSON),
 * ISR_OPTIONS (JSON, more createISRHandler options).
 * Prints `listening <port> <ms since the process started> <ms createISRHandler took>` on stdout once it serves; the
 * handler's log goes to stderr. Test-only routes under /__test/: POST clock?advance=ms,
 * GET memory (process.memoryUsage), GET disk (what the filesystem store counted).
 * Exits when its stdin closes, so it never outlives the test that spawned it.
 */
import { createServer } from 'node:http'
import { performance } from 'node:perf_hooks'
import express from 'express'
import { createISRHandler } from 'vite-isr/runtime'

const env = process.env
let clock = env.CLOCK_START ? Number(env.CLOCK_START) : Date.now()
globalThis.__fixtureDb = { posts: {}, renders: {}, fail: false, delayMs: 0, ...(env.FIXTURE_DB ? JSON.parse(env.FIXTURE_DB) : {}) }

const creating = performance.now()
const isr = await createISRHandler({
  distDir: env.DIST,
  cacheDir: env.CACHE_DIR,
  now: () => clock,
  log: (line) => process.stderr.write(line + '\n'),
  ...(env.ISR_OPTIONS ? JSON.parse(env.ISR_OPTIONS) : {}),
})

const createMs = performance.now() - creating
const app = express()
app.post('/__test/clock', (req, res) => {
  clock += Number(req.query.advance ?? 0)
  res.json({ now: clock })
})
app.get('/__test/memory', (_req, res) => res.json(process.memoryUsage()))
app.get('/__test/disk', async (req, res) => {
  const store = isr.cache.store ?? isr.cache
  if (req.query.wait !== undefined) await store.indexed
  res.json({ entries: store.diskEntries, bytes: store.diskSize })
})
app.use(isr)

const server = createServer(isr.wrap(app))
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port} ${Math.round(performance.now())} ${Math.round(createMs)}\n`))
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
