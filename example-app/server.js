// The production server: `npm start` (NODE_ENV=production node server.js) after `vite build`.
// NODE_ENV=production matters: without it Express answers errors with stack traces and file
// paths, and vite-isr prints a warning at start.
import http from 'node:http'
import express from 'express'
import { createISRHandler, stopOnSignals } from 'vite-isr/runtime'

const app = express()

// Serves the built assets, the cached pages and the route handlers in app/api/.
// ISR_CACHE_DIR puts the page cache outside dist/, e.g. on a volume (see Dockerfile).
const isr = await createISRHandler({ distDir: 'dist', cacheDir: process.env.ISR_CACHE_DIR || undefined })

// Your own Express routes go before the ISR handler (it answers every page path).
app.get('/healthz', (_req, res) => {
  res.json({ ok: true, buildId: isr.buildId })
})

app.use(isr)

// The fast path: cached pages (HIT, STALE, 304) are answered before Express runs;
// every other request goes to `app` unchanged.
const port = Number(process.env.PORT ?? 3000)
const server = http.createServer(isr.wrap(app)).listen(port, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  console.log(`vite-isr blog listening on http://localhost:${port}`)
  if (!process.env.REVALIDATE_SECRET) console.log('REVALIDATE_SECRET is not set: /api/revalidate and /api/posts/:slug will answer 500.')
})

// A graceful stop on SIGTERM (docker stop, Kubernetes, systemd) or Ctrl-C: accept no new
// connections, let vite-isr finish its running renders and writes (up to closeTimeoutMs,
// 10 s by default) and release its cache, then exit. A second signal exits at once.
stopOnSignals(server, isr)
