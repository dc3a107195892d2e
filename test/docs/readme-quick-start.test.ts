/**
 * The README's quick start, followed as a newcomer would: `npm create vite` (a snapshot of
 * the react-ts template), the README's `rm` and `npm pkg set` lines, its files, its
 * `npm run build` (`tsc -b && vite build`) and `npm start`, and its curl transcript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ReadmeApp, typeCheckedFiles } from './readme.js'

describe('README: Quick start in your own Vite app', () => {
  const app = new ReadmeApp('quick-start')

  beforeAll(async () => {
    await app.follow()
  }, 180_000)
  afterAll(() => app.close())

  it('ends with a built app served by its own server.js', () => {
    expect(app.server, 'the quick start starts server.js').toBeDefined()
    expect(app.packageJson().type, 'server.js needs "type": "module"').toBe('module')
    expect(app.buildOutput).toMatch(/\/blog\/\[id\]\s+ISR 60s\s+10 \(/)
    expect(app.buildOutput).toMatch(/^\/\s+ISR 60s\s+1\s/m)
    expect(app.buildOutput).toContain('11 pages prerendered')
  })

  it('type-checks every TypeScript file of the quick start with the template tsconfig (tsc -b)', async () => {
    const checked = await typeCheckedFiles(app.dir)
    const ts = [...app.files.keys()].filter((p) => /\.tsx?$/.test(p))
    expect(ts.length).toBeGreaterThan(0)
    for (const path of ts) expect(checked, `${path} (README.md:${app.files.get(path)!.line}) is outside tsconfig includes`).toContain(path)
  })

  it('serves the pages as the README says', async () => {
    const url = app.server!.url
    const post = await fetch(`${url}/blog/3`)
    expect(post.status).toBe(200)
    expect(post.headers.get('x-isr-cache')).toBe('HIT')
    expect(post.headers.get('cache-control')).toMatch(/s-maxage=60/)
    expect(await post.text()).toContain('<h1>Post 3</h1>')

    const missing = await fetch(`${url}/blog/99`)
    expect(missing.status).toBe(404)
    await missing.body?.cancel()
  })
})
