/**
 * One real ISR server process for the multi-instance tests (run with `node`, any cwd):
 * Express 5 + createISRHandler on a shared Redis, with a controllable clock and the
 * basic fixture's database driven through test-only routes under /__test/.
 *
 * Environment:
 *   DIST           the built fixture (required)
 *   REDIS_URL      the Redis server (required)
 *   KEY_PREFIX     shared by the instances of one test run (empty: the handler's default)
 *   CLOCK_START    initial clock (ms since the epoch; default Date.now())
 *   FIXTURE_DB     JSON of the fixture db's initial content ({ posts, ... })
 *   SERVE_MODE     `fast-path` (http.createServer(isr.wrap(app)), default) or `middleware`
 *   RENDER_TIMEOUT ms (default 5000)
 *   CHECK_INTERVAL ms between the Redis handler's checks of its invalidation counter (default its own)
 *   LOG_TIMESTAMPS prefix each log line with Date.now()
 *   HOLD_SUBSCRIBER_RECONNECT_MS  delay each reconnection attempt of Redis subscriber
 *                  connections (not command connections) by this many ms, to open the
 *                  window where the client is back and the subscriber is not yet
 *
 * Prints `listening <port>` on stdout once it serves; logs go to stderr.
 * Exits when its stdin closes, so it never outlives the test process that spawned it.
 */
import { createServer } from 'node:http'
import express from 'express'
import { createISRHandler, revalidatePath, revalidateTag } from 'vite-isr/runtime'
import { createRedisCacheHandler } from 'vite-isr/cache-handlers/redis'

const env = process.env
if (!env.DIST || !env.REDIS_URL) {
  process.stderr.write('instance-server: DIST and REDIS_URL are required\n')
  process.exit(2)
}

if (env.HOLD_SUBSCRIBER_RECONNECT_MS) {
  // ioredis keeps the subscriptions of a lost connection in `prevCondition` until it is back.
  const { Redis } = await import('ioredis')
  const hold = Number(env.HOLD_SUBSCRIBER_RECONNECT_MS)
  const connect = Redis.prototype.connect
  Redis.prototype.connect = function (...args) {
    if (!this.prevCondition?.subscriber) return connect.apply(this, args)
    return new Promise((resolve) => setTimeout(resolve, hold)).then(() => connect.apply(this, args))
  }
}

let clock = env.CLOCK_START ? Number(env.CLOCK_START) : Date.now()
// LOG_TIMESTAMPS=1 prefixes each line with the wall clock (to order lines across processes).
const log = env.LOG_TIMESTAMPS ? (line) => process.stderr.write(`${Date.now()} ${line}\n`) : (line) => process.stderr.write(line + '\n')

// The fixture's loaders read globalThis.__fixtureDb (test/fixtures/basic/server/db.ts keeps
// an existing object), so it is set before the app's modules load.
const initial = env.FIXTURE_DB ? JSON.parse(env.FIXTURE_DB) : {}
const db = (globalThis.__fixtureDb = { posts: {}, renders: {}, fail: false, delayMs: 0, ...initial })

const cacheHandler = await createRedisCacheHandler({
  url: env.REDIS_URL,
  keyPrefix: env.KEY_PREFIX || undefined,
  commandTimeout: 300,
  checkInterval: env.CHECK_INTERVAL ? Number(env.CHECK_INTERVAL) : undefined,
  now: () => clock,
  log,
})
const isr = await createISRHandler({
  distDir: env.DIST,
  cacheHandler,
  now: () => clock,
  debug: true,
  log,
  renderTimeout: Number(env.RENDER_TIMEOUT ?? 5_000),
  retryBackoff: { min: 50, max: 200 },
})

const app = express()
const control = express.Router()
control.use(express.json())

control.post('/clock', (req, res) => {
  if (req.query.set !== undefined) clock = Number(req.query.set)
  if (req.query.advance !== undefined) clock += Number(req.query.advance)
  res.json({ now: clock })
})

control.get('/db', (_req, res) => {
  res.json(db.renders)
})

control.post('/db', (req, res) => {
  const patch = req.body ?? {}
  for (const [field, value] of Object.entries(patch)) {
    // Merge into the live objects the loaders hold (posts, renders), replace the rest.
    if ((field === 'posts' || field === 'renders') && value && typeof value === 'object') Object.assign(db[field], value)
    else db[field] = value
  }
  res.json({ ok: true })
})

control.post('/revalidate-tag', async (req, res) => {
  const { tag, path, profile } = req.query
  try {
    if (typeof path === 'string') await revalidatePath(path)
    else if (typeof tag === 'string') await revalidateTag(tag, profile === 'max' ? 'max' : undefined)
    else return void res.status(400).json({ error: 'tag or path is required' })
    res.json({ revalidated: true })
  } catch (error) {
    res.status(500).json({ error: error instanceof Error ? error.message : String(error) })
  }
})

app.use('/__test', control)
app.use(isr)

const server = createServer(env.SERVE_MODE === 'middleware' ? app : isr.wrap(app))
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  server.closeAllConnections()
  server.close()
  // Redis may be down: do not wait on it for long.
  await Promise.race([isr.close(), new Promise((resolve) => setTimeout(resolve, 500))])
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
process.stdin.on('end', shutdown)
process.stdin.on('error', shutdown)
process.stdin.resume()
