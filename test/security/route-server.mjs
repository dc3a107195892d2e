/**
 * One ISR server in its own process (run with `node --expose-gc`), so a test can measure the
 * memory a request costs it: Express 5 + createISRHandler over a built fixture, with
 * `GET /__memory` (mounted before the handler) answering `{ rss, maxRss }` in bytes after a GC.
 *
 * Environment: DIST (the built fixture), CACHE_DIR, SERVE_MODE (`fast-path` or `middleware`).
 * Prints `listening <port>` on stdout; exits when its stdin closes.
 */
import { createServer } from 'node:http'
import express from 'express'
import { createISRHandler } from 'vite-isr/runtime'

globalThis.__fixtureDb = { posts: {}, renders: {}, fail: false, delayMs: 0 }
const isr = await createISRHandler({ distDir: process.env.DIST, cacheDir: process.env.CACHE_DIR })
const app = express()
app.get('/__memory', (_req, res) => {
  globalThis.gc?.()
  res.json({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 })
})
app.use(isr)
const server = createServer(process.env.SERVE_MODE === 'middleware' ? app : isr.wrap(app))
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
