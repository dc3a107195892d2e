/**
 * A real ISR server process for the security tests, so that an input which would end the
 * process ends this one, not the test runner. It serves the basic fixture twice, over
 * Express (middleware) and through `isr.wrap(app)` (fast path), each on its own cache folder.
 *
 * argv: one JSON object
 *   distDir, cacheDir          the build, and a folder holding `middleware/` and `fast-path/`
 *   cdnTagHeader?              passed to createISRHandler
 *   plant?                     [{ path, status, headers }]: entries written through each
 *                              handler's `cache.set` before listening, as another writer
 *                              (a damaged store, an older version) could have left them
 * `POST /__plant?path=<path>&header=<value>` plants such an entry while the server runs
 * (`x-origin: <value>`), for a page already held in memory.
 * Express runs one middleware in front of the handler, as apps do with `on-headers`: when a
 * request carries `x-greet`, its value, percent-decoded, becomes the `x-greeting` response
 * header as the headers go out (throwing inside `writeHead` when Node refuses the value).
 * The clock starts just after the build, so prerendered pages are fresh.
 *
 * Prints `ready <middleware port> <fast-path port>`. An unhandled rejection or uncaught
 * exception prints `FATAL <kind> <message>` and exits with code 70: the test fails on it.
 * Exits when its stdin closes, so it never outlives the test that spawned it.
 */
import express from 'express'
import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createISRHandler } from 'vite-isr/runtime'

const fatal = (kind) => (error) => {
  process.stdout.write(`FATAL ${kind} ${String(error?.stack ?? error).split('\n').slice(0, 6).join(' | ')}\n`)
  process.exit(70)
}
process.on('unhandledRejection', fatal('unhandledRejection'))
process.on('uncaughtException', fatal('uncaughtException'))

const config = JSON.parse(process.argv[2])
// Time runs from just after the build, as in test/helpers/server.ts: prerendered pages are fresh.
const { builtAt } = JSON.parse(readFileSync(join(config.distDir, 'prerender-manifest.json'), 'utf8'))
const started = Date.now()
const now = () => builtAt + 1_000 + (Date.now() - started)

/** The `on-headers` pattern: run a hook just before the headers are written. */
function greeting(req, res, next) {
  const greet = req.headers['x-greet']
  if (typeof greet === 'string') {
    const writeHead = res.writeHead
    let fired = false
    res.writeHead = function (...args) {
      if (!fired) {
        fired = true
        res.setHeader('x-greeting', decodeURIComponent(greet))
      }
      return writeHead.apply(this, args)
    }
  }
  next()
}

async function serve(name, fastPath) {
  const isr = await createISRHandler({ distDir: config.distDir, cacheDir: join(config.cacheDir, name), cdnTagHeader: config.cdnTagHeader, now, log: (line) => process.stderr.write(`[${name}] ${line}\n`) })
  const plant = ({ path, status, headers }) =>
    isr.cache.set(`page:${isr.buildId}:${path}`, {
      kind: 'page',
      value: Buffer.from(`<!DOCTYPE html><p>planted ${path}</p>`),
      lastModified: now(),
      revalidate: 3600,
      expire: 31_536_000,
      tags: [],
      buildId: isr.buildId,
      status,
      headers,
    })
  for (const entry of config.plant ?? []) await plant(entry)
  const app = express()
  app.post('/__plant', async (req, res) => {
    await plant({ path: req.query.path, status: 200, headers: { 'content-type': 'text/html', 'x-origin': req.query.header } })
    res.end('planted')
  })
  app.use(greeting)
  app.use(isr)
  const server = createServer(fastPath ? isr.wrap(app) : app)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server.address().port
}

const ports = [await serve('middleware', false), await serve('fast-path', true)]
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
process.stdout.write(`ready ${ports.join(' ')}\n`)
