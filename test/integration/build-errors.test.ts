import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { copyFixture, viteBuild } from '../helpers/build.js'

/** Build a copy of the minimal fixture with `files` added or replaced; resolves the output. */
async function buildWith(name: string, files: Record<string, string>) {
  const dir = copyFixture('minimal', `build-errors/${name}`)
  for (const [file, code] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), code)
  }
  return viteBuild(dir)
}

describe('build errors that teach', () => {
  it('stops on a non-literal revalidate, naming the file and line and the fix', async () => {
    const result = await buildWith('non-literal', {
      'app/blog/page.tsx': `import { x } from './x'\n\nexport const revalidate = 60 * 10\nexport default function Blog() { return <p>blog</p> }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain(
      'app/blog/page.tsx:3: `revalidate` must be a literal number >= 0 or false (found `60 * 10`). Write the value out, e.g. `export const revalidate = 600`.',
    )
  })

  it('stops on a negative revalidate', async () => {
    const result = await buildWith('negative', { 'app/page.tsx': `export const revalidate = -1\nexport default function P() { return null }\n` })
    expect(result.code).not.toBe(0)
    expect(result.output).toMatch(/app\/page\.tsx:1: `revalidate` .*found `-1`/)
  })

  it('stops when generateStaticParams throws, naming the page', async () => {
    const result = await buildWith('gsp-throws', {
      'app/p/[id]/page.tsx': `export async function generateStaticParams() { throw new Error('cms is down') }\nexport default function P() { return null }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/p/[id]/page.tsx: generateStaticParams() threw: cms is down')
  })

  it('stops when generateStaticParams returns the wrong shape, and shows the right one', async () => {
    const result = await buildWith('gsp-shape', {
      'app/p/[id]/page.tsx': `export async function generateStaticParams() { return [{ id: 1 }] }\nexport default function P() { return null }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain("app/p/[id]/page.tsx: generateStaticParams() returned {\"id\":1} at index 0")
    expect(result.output).toContain("e.g. [{ id: '1' }]")
  })

  it('stops when a page throws while prerendering, naming the page and the path', async () => {
    const result = await buildWith('page-throws', {
      'app/broken/page.tsx': `export default function Broken() { throw new Error('kaboom') }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/broken/page.tsx: prerendering /broken failed: kaboom')
  })

  it('stops on a page without a default export', async () => {
    const result = await buildWith('no-default', { 'app/x/page.tsx': `export const revalidate = 5\n` })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/x/page.tsx has no default export')
  })

  it('stops on a route handler and a page in the same folder', async () => {
    const result = await buildWith('page-and-route', {
      'app/x/page.tsx': `export default function X() { return null }\n`,
      'app/x/route.ts': `export function GET() { return new Response('x') }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/x/route.ts and app/x/page.tsx are in the same folder')
  })

  it('stops on two routes that resolve to the same path', async () => {
    const result = await buildWith('same-path', {
      'app/(a)/about/page.tsx': `export default function A() { return null }\n`,
      'app/(b)/about/page.tsx': `export default function B() { return null }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toMatch(/app\/\(b\)\/about\/page\.tsx and app\/\(a\)\/about\/page\.tsx resolve to the same path \(\/about\)/)
  })

  it('stops on a folder name that is not a valid route segment', async () => {
    const result = await buildWith('bad-folder', { 'app/[id/page.tsx': `export default function P() { return null }\n` })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/[id: the folder name "[id" is not a valid route segment. Use [name], [...name] or [[...name]]')
  })

  it('stops on a route folder nested under a catch-all', async () => {
    const result = await buildWith('after-catch-all', {
      'app/docs/[...slug]/page.tsx': `export default function P() { return null }\n`,
      'app/docs/[...slug]/edit/page.tsx': `export default function E() { return null }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/docs/[...slug]/edit: nothing can follow the catch-all segment [...slug]')
  })

  it('stops on a layout without a default export', async () => {
    const result = await buildWith('layout-no-default', { 'app/blog/layout.tsx': `export const revalidate = 60\n`, 'app/blog/page.tsx': `export default function B() { return null }\n` })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/blog/layout.tsx has no default export. Export the layout component')
  })

  it('stops when generateStaticParams returns something that is not an array', async () => {
    const result = await buildWith('gsp-not-array', {
      'app/p/[id]/page.tsx': `export async function generateStaticParams() { return { id: '1' } }\nexport default function P() { return null }\n`,
    })
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('app/p/[id]/page.tsx: generateStaticParams() must return an array (got object)')
  })

  it('stops when the app folder is missing, and says how to point at another one', async () => {
    const dir = copyFixture('minimal', 'build-errors/no-app')
    const { rmSync } = await import('node:fs')
    rmSync(join(dir, 'app'), { recursive: true })
    const result = await viteBuild(dir)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('no app directory at app/. Create app/page.tsx, or point isr({ appDir }) at your routes folder.')
  })
})
