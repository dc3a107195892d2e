/**
 * The example app, run the way `npm start` runs it: a real `vite build`, then
 * `node server.js` in its own process with a real SQLite file.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, viteBuild } from '../helpers/build.js'

const APP = join(REPO, 'example-app')
const SECRET = 'example-secret-0123456789'

let child: ChildProcess
let url: string
let output = ''
let dataDir: string

beforeAll(async () => {
  const build = await viteBuild(APP)
  if (build.code !== 0) throw new Error(`example-app build failed:\n${build.output}`)
  dataDir = mkdtempSync(join(tmpdir(), 'vite-isr-example-db-'))
  child = spawn(process.execPath, ['server.js'], {
    cwd: APP,
    env: { ...process.env, PORT: '0', REVALIDATE_SECRET: SECRET, DATABASE_PATH: join(dataDir, 'blog.db'), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk
      const m = /listening on (http:\/\/localhost:\d+)/.exec(output)
      if (m) resolve(m[1].replace('localhost', '127.0.0.1'))
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk) => (output += chunk))
    child.once('exit', (code) => reject(new Error(`server.js exited with ${code}:\n${output}`)))
  })
})

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  rmSync(dataDir, { recursive: true, force: true })
})

const get = (path: string, init?: RequestInit) => fetch(url + path, { redirect: 'manual', ...init })

describe('example-app (node server.js)', () => {
  it('serves the ISR index and prerendered posts from the cache', async () => {
    const index = await get('/')
    expect(index.status).toBe(200)
    expect(index.headers.get('x-isr-cache')).toBe('HIT')
    expect(index.headers.get('cache-control')).toBe('s-maxage=60, stale-while-revalidate=31535940')
    expect(await index.text()).toMatch(/href="\/blog\/[a-z-]+"/)
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('generates a post that was not prerendered on its first request', async () => {
    const first = await get('/blog/deploying')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-isr-cache')).toBe('MISS')
    expect((await get('/blog/deploying')).headers.get('x-isr-cache')).toBe('HIT')
    expect((await get('/blog/no-such-post')).status).toBe(404)
  })

  it('renders /now on every request', async () => {
    const res = await get('/now', { headers: { 'user-agent': 'example-test-agent' } })
    expect(res.headers.get('x-isr-cache')).toBe('BYPASS')
    expect(await res.text()).toContain('example-test-agent')
  })

  it('guards the revalidation endpoint with the secret, and regenerates the page with it', async () => {
    expect((await get('/api/revalidate?path=/blog/hello-isr', { method: 'POST' })).status).toBe(401)
    expect((await get('/api/revalidate?path=/blog/hello-isr', { method: 'POST', headers: { 'x-revalidate-secret': SECRET.slice(0, -1) } })).status).toBe(401)
    const ok = await get('/api/revalidate?path=/blog/hello-isr', { method: 'POST', headers: { 'x-revalidate-secret': SECRET } })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ revalidated: true, path: '/blog/hello-isr' })
    expect((await get('/blog/hello-isr')).headers.get('x-isr-cache')).toBe('MISS')
  })

  it('shows an admin edit made in SQLite on the next load', async () => {
    const edit = await get('/api/posts/static-params', {
      method: 'PUT',
      headers: { 'x-revalidate-secret': SECRET, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Edited through the admin API' }),
    })
    expect(edit.status).toBe(200)
    const page = await get('/blog/static-params')
    expect(await page.text()).toContain('Edited through the admin API')
    expect(await (await get('/')).text()).toContain('Edited through the admin API')
  })

  it('never prints the secret', () => {
    expect(output).not.toContain(SECRET)
  })
})
