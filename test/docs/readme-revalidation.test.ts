/**
 * The README's Revalidation section on top of the quick start: its webhook route handler,
 * built and started with a secret as the README says, its curl transcript, and the debug
 * log sample of "Debugging: the cache log" compared with what this server really prints.
 */
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { debugLogLines, ReadmeApp } from './readme.js'

describe('README: Revalidation (the webhook on the quick start app)', () => {
  const app = new ReadmeApp('revalidation')
  app.serverEnv = { ISR_DEBUG_CACHE: '1', NODE_OPTIONS: `--import=${pathToFileURL(join(import.meta.dirname, 'clock.mjs')).href}` }

  beforeAll(async () => {
    await app.follow()
  }, 180_000)
  afterAll(() => app.close())

  const post = (body: unknown, secret = 's3cret') =>
    fetch(`${app.server!.url}/api/revalidate`, { method: 'POST', headers: { 'x-revalidate-secret': secret, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const cacheState = async (path: string) => {
    const res = await fetch(app.server!.url + path)
    await res.text()
    return res.headers.get('x-isr-cache')
  }

  it('was started by the README with REVALIDATE_SECRET', () => {
    expect(app.server).toBeDefined()
  })

  it('refuses a wrong secret and revalidates a tag', async () => {
    expect((await post({ path: '/blog/2' }, 'wrong')).status).toBe(401)
    expect(await cacheState('/blog/2')).toBe('HIT')
    const res = await post({ tag: 'posts' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ revalidated: true })
  })

  it('serves a page past its window STALE, then regenerates it', async () => {
    const server = app.server!
    expect(await cacheState('/blog/4')).toBe('HIT')
    server.child.kill('SIGUSR2')
    await expect.poll(() => server.lines.some((l) => l.startsWith('[clock] +61s'))).toBe(true)
    expect(await cacheState('/blog/4')).toBe('STALE')
    await expect.poll(() => server.lines.some((l) => l.startsWith('[vite-isr] regenerate:done /blog/4'))).toBe(true)
    expect(await cacheState('/blog/4')).toBe('HIT')
  })

  it('renders a page that was not prerendered on its first request (MISS)', async () => {
    expect(await cacheState('/blog/17')).toBe('MISS')
    expect(await cacheState('/blog/17')).toBe('HIT')
  })

  it('prints the debug log lines the README shows', async () => {
    const { produced, unexercised } = debugLogLines(app.server!.lines)
    console.info(`README debug log: ${produced.length} lines matched by this server's log; not produced by the README apps (format checked by readme.test.ts):${unexercised.map((l) => `\n  ${l}`).join('')}`)
    expect(produced.length, 'README debug log lines this server printed').toBeGreaterThan(unexercised.length)
    expect(unexercised.length, 'README debug log lines no README app produces').toBeLessThanOrEqual(3)
  })
})
