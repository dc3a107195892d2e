/**
 * A real ISR server process for test/faults/graceful-stop.test.ts, stopped with SIGTERM:
 * Express 5 with `http.createServer(isr.wrap(app))` and `stopOnSignals(server, isr)`, as
 * example-app/server.js (close the server, `await isr.close()`, exit 0; a second signal exits
 * at once). It serves the basic fixture; `/blog/<id>` shows version `VERSION` of post <id>.
 *
 * Environment: DIST, CACHE_DIR (required); REDIS_URL (use the Redis handler instead of the
 * folder); CLOSE_TIMEOUT_MS; CLOCK_START (ms);
 * EXIT=natural: after `isr.close()`, no `process.exit`: the process must end by itself
 * (nothing of vite-isr left holding the event loop).
 * Test-only routes under /__test/: POST clock?advance=ms, POST db (JSON merged into the
 * fixture db: version, delayMs, fail), GET renders (the loaders' counters), POST jam
 * ({ fifo }: holds a thread of libuv's pool in a blocking open of that FIFO).
 * ISR_OPTIONS: JSON, more createISRHandler options.
 * Prints `listening <port>` once it serves, `closed <ms>` once `isr.close()` resolved (ms
 * since the signal); the handler's log goes to stderr.
 */
import { open } from 'node:fs'
import { createServer } from 'node:http'
import express from 'express'
import { createISRHandler, stopOnSignals } from 'vite-isr/runtime'
import { createRedisCacheHandler } from 'vite-isr/cache-handlers/redis'

const env = process.env
let clock = env.CLOCK_START ? Number(env.CLOCK_START) : Date.now()
const log = (line) => process.stderr.write(line + '\n')

// The fixture's loaders read globalThis.__fixtureDb (test/fixtures/basic/server/db.ts).
const db = (globalThis.__fixtureDb = {
  version: 0,
  posts: new Proxy(
    {},
    {
      get(_, id) {
        if (typeof id !== 'string' || !/^s\d+$/.test(id)) return undefined
        return { title: `Post ${id}`, body: `version ${db.version} of ${id} ${'x'.repeat(20_000)}` }
      },
    },
  ),
  renders: {},
  fail: false,
  delayMs: 0,
})

const isr = await createISRHandler({
  distDir: env.DIST,
  cacheDir: env.CACHE_DIR,
  cacheHandler: env.REDIS_URL ? createRedisCacheHandler({ url: env.REDIS_URL, keyPrefix: `stop-${process.pid}:`, log }) : undefined,
  now: () => clock,
  log,
  renderTimeout: 60_000,
  // The burst of regenerations a stop must wait for is wider than the default render bound.
  renderConcurrency: Infinity,
  closeTimeoutMs: env.CLOSE_TIMEOUT_MS ? Number(env.CLOSE_TIMEOUT_MS) : undefined,
  ...(env.ISR_OPTIONS ? JSON.parse(env.ISR_OPTIONS) : {}),
})

const app = express()
app.post('/__test/clock', (req, res) => {
  clock += Number(req.query.advance ?? 0)
  res.json({ now: clock })
})
app.post('/__test/db', express.json(), (req, res) => {
  Object.assign(db, req.body)
  res.json({ ok: true })
})
// A stuck disk: with UV_THREADPOOL_SIZE=1, a blocking open of a FIFO no one writes to holds the
// one thread every file-system call of the process needs, until the test opens it for writing.
app.post('/__test/jam', express.json(), (req, res) => {
  open(req.body.fifo, 'r', () => {})
  res.json({ ok: true })
})
app.get('/__test/renders', (_req, res) => res.json(db.renders))
app.use(isr)

const server = createServer(isr.wrap(app))
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`))

// The stop example-app/server.js uses too.
stopOnSignals(server, isr, {
  exit: env.EXIT !== 'natural',
  onStopped(ms) {
    process.stdout.write(`closed ${Math.round(ms)}\n`)
    // stdin would hold the loop: the test's, not vite-isr's.
    if (env.EXIT === 'natural') {
      process.stdin.removeAllListeners('close')
      process.stdin.destroy()
    }
  },
})
// Never outlive the test that spawned it.
process.stdin.on('close', () => process.exit(3))
process.stdin.resume()
