/**
 * A server process of its own for measuring what concurrent renders cost in memory: the
 * basic fixture through `isr.wrap(app)`, its posts given large bodies (one shared string, so
 * the source data costs the same whatever is rendered).
 *
 * argv: one JSON object
 *   distDir, cacheDir      the build and an empty cache folder
 *   renderConcurrency, renderQueueSize
 *   posts                  ids of the posts to add
 *   bodyBytes              size of each post's body
 * `GET /__memory` answers `{ rss, maxRss }` in bytes (maxRss: the process's peak so far).
 * `POST /__hold?until=<n>` holds every loader until `n` are running at once, or until the
 * bound stops more from starting (`renderConcurrency` of them); then lets them all go.
 * Renders may take 300 s: with no bound, 60 of them share the CPU and each takes long.
 * Prints `ready <port>`; exits when its stdin closes. An unhandled rejection prints FATAL.
 */
import express from 'express'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

process.on('unhandledRejection', (error) => {
  process.stdout.write(`FATAL unhandledRejection ${String(error?.stack ?? error).split('\n')[0]}\n`)
  process.exit(70)
})

const config = JSON.parse(process.argv[2])
const body = 'All work and no play makes a very long page. '.repeat(Math.ceil(config.bodyBytes / 46)).slice(0, config.bodyBytes)
const posts = Object.fromEntries(config.posts.map((id) => [String(id), { title: `Post ${id}`, body }]))
// The fixture's loaders read this object (test/fixtures/basic/server/db.ts).
const db = (globalThis.__fixtureDb = { posts, renders: {}, fail: false, delayMs: 0, running: 0, maxRunning: 0 })

const { createISRHandler } = await import('vite-isr/runtime')
const { builtAt } = JSON.parse(readFileSync(join(config.distDir, 'prerender-manifest.json'), 'utf8'))
const started = Date.now()
const isr = await createISRHandler({
  distDir: config.distDir,
  cacheDir: config.cacheDir,
  renderConcurrency: config.renderConcurrency,
  renderQueueSize: config.renderQueueSize,
  renderTimeout: 300_000,
  now: () => builtAt + 1_000 + (Date.now() - started),
  log: (line) => process.stderr.write(`${line}\n`),
})

const app = express()
app.get('/__memory', (req, res) => res.json({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024, maxRunning: db.maxRunning }))
app.post('/__hold', (req, res) => {
  const until = Math.min(Number(req.query.until), config.renderConcurrency)
  let open
  db.gate = new Promise((resolve) => (open = resolve))
  const check = setInterval(() => {
    if (db.running < until) return
    clearInterval(check)
    db.gate = undefined
    open()
  }, 5)
  res.end('held')
})
app.use(isr)
const server = createServer(isr.wrap(app))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
process.stdout.write(`ready ${server.address().port}\n`)
