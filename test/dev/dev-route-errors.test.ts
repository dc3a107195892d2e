/**
 * In `vite` (dev) a mistake in one page's segment config, or in a layout, breaks only the
 * pages it concerns: they answer the error (500, with the file and line Vite's overlay
 * shows) while every other page renders. `vite build` still stops on the same mistake.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { viteBuild } from '../helpers/build.js'
import { startDevServer, type DevServer } from '../helpers/dev-server.js'

let dev: DevServer
let dir: string
const get = (path: string) => dev.get(path)

beforeAll(async () => {
  dev = await startDevServer({
    as: 'dev-route-errors',
    prepare(scratch) {
      mkdirSync(join(scratch, 'app/broken'), { recursive: true })
      writeFileSync(join(scratch, 'app/broken/page.tsx'), `export const revalidate = 60 * 5\nexport default function Broken() { return <p>broken</p> }\n`)
      mkdirSync(join(scratch, 'app/area/inner'), { recursive: true })
      writeFileSync(join(scratch, 'app/area/layout.tsx'), `export const revalidate = 'often'\nexport default function L({ children }: { children: React.ReactNode }) { return children }\n`)
      writeFileSync(join(scratch, 'app/area/inner/page.tsx'), `export default function Inner() { return <p>inner</p> }\n`)
    },
  })
  dir = dev.dir
})

afterAll(async () => {
  await dev?.close()
})

describe('a mistake in one route, in dev', () => {
  it('answers that page with its error: the file, the line and how to fix it', async () => {
    const res = await get('/broken')
    expect(res.status).toBe(500)
    const html = await res.text()
    expect(html).toContain('app/broken/page.tsx:1')
    expect(html).toContain('export const revalidate = 300')
  })

  it('answers the pages under a broken layout with the layout\'s error', async () => {
    const res = await get('/area/inner')
    expect(res.status).toBe(500)
    expect(await res.text()).toContain('app/area/layout.tsx:1')
  })

  it('keeps every other page rendering', async () => {
    for (const path of ['/', '/blog/1', '/static']) {
      const res = await get(path)
      expect(res.status, path).toBe(200)
    }
  })

  it('still stops vite build on the same mistake', async () => {
    const result = await viteBuild(dir)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/area/layout.tsx:1')
  }, 120_000)
})
