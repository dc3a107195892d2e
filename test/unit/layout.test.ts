/**
 * The walls of DESIGN.md, checked on the source: runtime/ is rooms on floors, and no import
 * runs back up a floor (routes/ and inspect/ at the bottom, then cache/, render/, serve/,
 * and the files that assemble them at the top; cdn/ beside serve/).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from '../helpers/build.js'

const RUNTIME = join(REPO, 'runtime')
const FLOORS: Record<string, number> = { routes: 0, inspect: 0, cache: 1, render: 2, serve: 3, cdn: 3, '.': 4 }

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => join(d.parentPath, d.name))
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2])
}

const room = (file: string) => {
  const rel = relative(RUNTIME, file).split('/')
  return rel.length === 1 ? '.' : rel[0]
}

describe('runtime layout', () => {
  it('has no import that runs from a room to a floor above it', () => {
    const upward: string[] = []
    for (const file of sources(RUNTIME)) {
      for (const spec of imports(file)) {
        if (!spec.startsWith('.')) continue
        const target = join(dirname(file), spec)
        if (FLOORS[room(target)] > FLOORS[room(file)]) upward.push(`${relative(REPO, file)} -> ${relative(REPO, target)}`)
      }
    }
    expect(upward).toEqual([])
  })

  it('keeps the walls: the runtime never imports vite, the SWR core and the cache handlers never import express or react', () => {
    const broken: string[] = []
    for (const file of sources(RUNTIME)) {
      const rel = relative(REPO, file)
      for (const spec of imports(file)) {
        if (spec === 'vite' || spec.startsWith('vite/')) broken.push(`${rel} imports ${spec}`)
        const core = rel === 'runtime/cache/swr.ts' || rel.startsWith('runtime/cache/handlers/')
        if (core && /^(express|react|react-dom)(\/|$)/.test(spec)) broken.push(`${rel} imports ${spec}`)
      }
    }
    expect(broken).toEqual([])
  })
})
