// The server under test, in its own process so the load generator never shares its event
// loop. Started by bench/lib/servers.ts with a JSON config in BENCH_SERVER; reports
// `{ type: 'ready', port }` over IPC once listening, answers the questions below over IPC,
// and exits when the parent goes away.
//
// Modes:
//   middleware  Express 5 with `app.use(isr)`
//   fast-path   `http.createServer(isr.wrap(app))` (cached pages answered before Express)
//   bare-http   `node:http` answering a Buffer (the limit of the stack)
//   express     a minimal Express 5 app answering the same Buffer with `res.end`
// Cache (ISR modes): `fs` (the default filesystem handler at `cacheDir`) or `redis`
// (`createRedisCacheHandler({ url })` as `cacheHandler`).
//
// IPC questions (`{ type, id, ...}`, answered `{ type: 'reply', id, ... }`):
//   cpu            CPU time used so far and memory (rss, heap, external)
//   renders        renders counted by the fixture's pages (`globalThis.__BENCH_RENDERS__`)
//   fill           GET `prefix + n` for n in [from, to) from inside this process, `concurrency`
//                  at a time, over keep-alive sockets: fills the cache through the runtime;
//                  once per `encodings` entry (Accept-Encoding values) when given
//   revalidatePath `await revalidatePath(path, { regenerate: true })`: resolves once the new
//                  page is stored
//   revalidateTag  `calls` sequential `await revalidateTag(tag)`, timed
//   cacheInfo      entries and bytes in the memory tier, entries tagged `tag`
//   profile        diagnostics: `{ action: 'start' }`, then `{ action: 'stop', file }` writes a
//                  .cpuprofile of this process in between (for finding what bounds a row)
//   disk           what the filesystem store counted (entries, bytes of disk); `{ wait: true }`
//                  waits for its background count of the files there at start
//   gc             diagnostics: a full collection (needs `--expose-gc` in nodeArgs), then
//                  memory and V8 heap spaces
import { readFileSync } from 'node:fs'
import http from 'node:http'
import express from 'express'

const config = JSON.parse(process.env.BENCH_SERVER ?? '{}')

function bodyServer() {
  const body = readFileSync(config.bodyFile)
  const headers = { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length) }
  if (config.mode === 'bare-http') {
    return http.createServer((_req, res) => {
      res.writeHead(200, headers)
      res.end(body)
    })
  }
  const app = express()
  app.get('/{*splat}', (_req, res) => {
    res.writeHead(200, headers)
    res.end(body)
  })
  return http.createServer(app)
}

let isr
let runtime

async function isrServer() {
  runtime = await import('vite-isr/runtime')
  const options = { distDir: config.distDir, ...config.handlerOptions }
  if (config.cache === 'redis') {
    const { createRedisCacheHandler } = await import('vite-isr/cache-handlers/redis')
    options.cacheHandler = await createRedisCacheHandler({ url: config.redisUrl })
  } else {
    options.cacheDir = config.cacheDir
  }
  isr = await runtime.createISRHandler(options)
  const app = express()
  app.use(isr)
  const server = config.mode === 'fast-path' ? http.createServer(isr.wrap(app)) : http.createServer(app)
  server.on('close', () => void isr.close())
  return server
}

const MODES = ['middleware', 'fast-path', 'bare-http', 'express']
if (!MODES.includes(config.mode)) throw new Error(`bench/server.mjs: unknown mode ${JSON.stringify(config.mode)} (one of ${MODES.join(', ')})`)

const server = config.mode === 'bare-http' || config.mode === 'express' ? bodyServer() : await isrServer()
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port }))

function memory() {
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }
}

/** GET every path from inside this process; counts answers by status and by x-isr-cache. */
async function fill({ prefix, from, to, concurrency = 16, encodings = [undefined] }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const { port } = server.address()
  const statuses = {}
  const states = {}
  let next = from
  const get = (path, encoding) =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent, headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
          const state = res.headers['x-isr-cache'] ?? 'none'
          states[state] = (states[state] ?? 0) + 1
          res.resume()
          res.once('end', resolve)
          res.once('error', reject)
        })
        .once('error', reject)
    })
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) {
        const path = prefix + next++
        for (const encoding of encodings) await get(path, encoding)
      }
    }),
  )
  agent.destroy()
  return { ms: performance.now() - started, statuses, states }
}

async function revalidateTagTimed({ tag, calls, profile }) {
  const session = profile ? await startProfile() : undefined
  const times = []
  const cpu = process.cpuUsage()
  for (let i = 0; i < calls; i++) {
    const started = process.hrtime.bigint()
    await runtime.revalidateTag(tag)
    times.push(Number(process.hrtime.bigint() - started) / 1e3)
  }
  const used = process.cpuUsage(cpu)
  if (session) await stopProfile(session, profile)
  return { micros: times, cpuMicros: used.user + used.system }
}

let profiling

/** Diagnostics: a CPU profile of this process (written as a .cpuprofile file). */
async function startProfile() {
  const { Session } = await import('node:inspector/promises')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  return session
}

async function stopProfile(session, file) {
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  const { writeFileSync } = await import('node:fs')
  writeFileSync(file, JSON.stringify(profile))
}

function cacheInfo({ tag }) {
  const memoryTier = isr?.cache.memory ?? isr?.cache
  return {
    entries: memoryTier?.size,
    bytes: memoryTier?.calculatedSize,
    tagged: tag && memoryTier?.countTagged ? memoryTier.countTagged(tag) : undefined,
  }
}

async function disk({ wait }) {
  const store = isr?.cache.store ?? isr?.cache
  if (wait) await store?.indexed
  return { entries: store?.diskEntries, bytes: store?.diskSize }
}

const handlers = {
  disk,
  cpu: () => ({ usage: process.cpuUsage(), ...memory() }),
  renders: () => ({ renders: { ...globalThis.__BENCH_RENDERS__ } }),
  fill,
  revalidateTag: revalidateTagTimed,
  revalidatePath: async ({ path }) => {
    const started = performance.now()
    await runtime.revalidatePath(path, { regenerate: true })
    return { ms: performance.now() - started }
  },
  cacheInfo,
  profile: async ({ action, file }) => {
    if (action === 'start') profiling ??= await startProfile()
    else if (profiling) {
      await stopProfile(profiling, file)
      profiling = undefined
    }
    return {}
  },
  // Diagnostics only (needs `--expose-gc` in nodeArgs): a full collection, then memory.
  gc: async () => {
    globalThis.gc?.()
    const v8 = await import('node:v8')
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]))
    return { collected: typeof globalThis.gc === 'function', ...memory(), spaces }
  },
}

process.on('message', async (message) => {
  const handler = handlers[message?.type]
  if (!handler) return
  try {
    process.send?.({ type: 'reply', id: message.id, ...(await handler(message)) })
  } catch (error) {
    process.send?.({ type: 'reply', id: message.id, error: String(error?.stack ?? error) })
  }
})
process.on('disconnect', () => process.exit(0))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0))
