// The server under test, in its own process so the load generator never shares its event
// loop. Started by bench/lib/servers.ts with a JSON config in BENCH_SERVER; reports
// `{ type: 'ready', port }` over IPC once listening, answers `{ type: 'cpu' }` with its CPU
// time, and exits when the parent goes away.
//
// Modes:
//   middleware  Express 5 with `app.use(isr)`
//   fast-path   `http.createServer(isr.wrap(app))` (cached pages answered before Express)
//   bare-http   `node:http` answering a Buffer (the limit of the stack)
//   express     a minimal Express 5 app answering the same Buffer with `res.end`
// Cache (ISR modes): `fs` (the default filesystem handler at `cacheDir`) or `redis`
// (`createRedisCacheHandler({ url })` as `cacheHandler`).
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

async function isrServer() {
  const { createISRHandler } = await import('vite-isr/runtime')
  const options = { distDir: config.distDir, ...config.handlerOptions }
  if (config.cache === 'redis') {
    const { createRedisCacheHandler } = await import('vite-isr/cache-handlers/redis')
    options.cacheHandler = await createRedisCacheHandler({ url: config.redisUrl })
  } else {
    options.cacheDir = config.cacheDir
  }
  const isr = await createISRHandler(options)
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

process.on('message', (message) => {
  if (message?.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage(), rss: process.memoryUsage.rss() })
})
process.on('disconnect', () => process.exit(0))
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0))
