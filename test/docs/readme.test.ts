/**
 * Every code block of README.md is checked, so the README cannot rot:
 *
 * - file blocks (first line `// <path>`) form the README apps (see APPS in readme.ts); each
 *   app is built and served by readme-<app>.test.ts, following the README's own shell lines;
 * - `sh` blocks: every line is a command the test knows; outside the apps, the scripts, npx
 *   binaries and packages they name must exist;
 * - TS/JS snippets are type-checked with the repo's tsc (nodenext, strict);
 * - text blocks (a directory tree, a build error, the debug log) are checked against the
 *   plugin's route scanner, a real failing `vite build`, the runtime and the repo;
 * - a block may opt out only with `<!-- readme-test: skip (reason) -->`, listed and limited.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { scanApp } from '../../plugin/routes.js'
import { createRouter } from '../../runtime/routes/router.js'
import { REPO, run, viteBuild } from '../helpers/build.js'
import {
  APPS,
  appFiles,
  appOfSection,
  checkRepoLine,
  isDebugLogBlock,
  logEventKey,
  MAX_SKIPS,
  parseReadme,
  repoFileOf,
  shLines,
  TEMPLATE,
  TMP,
  transcript,
  TSC,
  where,
  type Block,
} from './readme.js'

const blocks = parseReadme()

/** Text blocks the test knows how to check. */
const TEXT_CHECKS: { name: string; matches: (block: Block) => boolean }[] = [
  { name: 'app tree', matches: (b) => b.code.split('\n')[0] === 'app/' },
  { name: 'build error', matches: (b) => /^\[vite-isr\] \S+:\d+: [^\n]*\n$/.test(b.code) },
  { name: 'debug log', matches: isDebugLogBlock },
  { name: 'repo tree', matches: (b) => b.code.startsWith('plugin/ ') },
  { name: 'repo file', matches: (b) => repoFileOf(b) !== undefined },
]

/** The (not skipped) text blocks one of TEXT_CHECKS claims. */
const textBlocks = (check: string) => blocks.filter((b) => b.kind === 'text' && !b.skip && TEXT_CHECKS.find((c) => c.matches(b))?.name === check)

describe('README.md code blocks', () => {
  it('has a check for every block, and few, explained opt-outs', () => {
    const problems: string[] = []
    const summary: Record<string, number> = {}
    const skipped = blocks.filter((b) => b.skip)
    for (const block of blocks) {
      if (block.skip) continue
      const app = appOfSection(block.section)
      let check: string
      try {
        switch (block.kind) {
          case 'file':
            if (!app) throw new Error(`the file block ${block.path} is in "## ${block.section}", which builds no README app (add the section to APPS in test/docs/readme.ts)`)
            check = `file of app ${app.name}`
            break
          case 'console':
            if (!app) throw new Error(`a console transcript outside the app sections is not checked`)
            transcript(block)
            check = `transcript in app ${app.name}`
            break
          case 'sh':
            // Inside an app the lines are run by readme-<app>.test.ts; parsing them here fails fast.
            for (const line of shLines(block)) if (!app) checkRepoLine(line)
            check = app ? `shell lines of app ${app.name}` : 'shell lines (repo)'
            break
          case 'snippet':
            check = 'type-checked snippet'
            break
          case 'text': {
            const known = TEXT_CHECKS.find((c) => c.matches(block))
            if (!known) throw new Error(`a text block no check knows; teach TEXT_CHECKS in test/docs/readme.test.ts, or mark it <!-- readme-test: skip (reason) -->`)
            check = known.name
            break
          }
        }
        summary[check] = (summary[check] ?? 0) + 1
      } catch (error) {
        problems.push(`${where(block)} (${block.lang || 'text'} in "## ${block.section}"): ${(error as Error).message}`)
      }
    }
    console.info(
      `README.md: ${blocks.length} code blocks\n` +
        Object.entries(summary)
          .map(([check, n]) => `  ${n} × ${check}`)
          .join('\n') +
        `\n  ${skipped.length} skipped${skipped.map((b) => `\n    ${where(b)}: ${b.skip}`).join('')}`,
    )
    expect(problems).toEqual([])
    expect(skipped.length, `at most ${MAX_SKIPS} README blocks may opt out`).toBeLessThanOrEqual(MAX_SKIPS)
    for (const block of skipped) expect(block.skip!.length, `${where(block)}: give the skip a reason`).toBeGreaterThan(10)
  })

  it('has every section the README apps are made of, each with its files', () => {
    const sections = new Set(blocks.map((b) => b.section))
    for (const app of APPS) for (const section of app.sections) expect(sections, `README app ${app.name}`).toContain(section)
    for (const app of APPS) expect(appFiles(app.name, blocks).size, `README app ${app.name} has files`).toBeGreaterThan(0)
    const quick = appFiles('quick-start', blocks)
    for (const path of ['vite.config.ts', 'server.js', 'tsconfig.app.json']) expect([...quick.keys()], 'the quick start is complete').toContain(path)
    expect([...quick.keys()].some((p) => /^app\/.*page\.tsx$/.test(p))).toBe(true)
  })

  it('names a template whose packages satisfy vite-isr peer dependencies', () => {
    const repo = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }
    const template = JSON.parse(readFileSync(join(TEMPLATE, 'package.json'), 'utf8')) as { type: string; dependencies: Record<string, string>; devDependencies: Record<string, string> }
    expect(template.type).toBe('module')
    const major = (range: string) => /(\d+)/.exec(range)?.[1]
    for (const [name, range] of Object.entries({ ...template.dependencies, ...template.devDependencies })) {
      const peer = repo.peerDependencies[name]
      if (peer) expect(peer.split('||').map(major), `${name}: template ${range}, vite-isr peer ${peer}`).toContain(major(range))
    }
  })

  it('type-checks every TS/JS snippet (tsc, nodenext, strict)', async () => {
    const snippets = blocks.filter((b) => b.kind === 'snippet' && !b.skip)
    expect(snippets.length).toBeGreaterThan(0)
    const dir = join(TMP, 'readme-snippets')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          moduleDetection: 'force',
          strict: true,
          skipLibCheck: true,
          jsx: 'react-jsx',
          noEmit: true,
          types: ['node'],
        },
        include: ['*.ts', '*.tsx'],
      }),
    )
    const files = new Map<string, Block>()
    const added: string[] = []
    for (const block of snippets) {
      const prelude = snippetPrelude(block.code)
      if (prelude.length > 0) added.push(`${where(block)}: ${prelude.join('; ')}`)
      const file = `snippet-${block.line}.${block.lang === 'tsx' || block.lang === 'jsx' ? 'tsx' : 'ts'}`
      // The prelude is one line, so README line = fence line + tsc line - 1.
      writeFileSync(join(dir, file), `${prelude.join('; ')}\n${block.code}`)
      files.set(file, block)
    }
    if (added.length > 0) console.info(`README snippets: added before type-checking\n  ${added.join('\n  ')}`)
    const result = await run(process.execPath, [TSC, '-p', dir, '--pretty', 'false'], { cwd: dir })
    const errors = result.output.replace(/^(snippet-\d+\.tsx?)\((\d+),(\d+)\)/gm, (all, file: string, line: string) => {
      const block = files.get(file)
      return block ? `README.md:${block.line + Number(line) - 1} (${file} line ${line})` : all
    })
    expect(errors.trim(), 'tsc errors in README snippets').toBe('')
    expect(result.code).toBe(0)
  })

  it.each(textBlocks('build error'))('shows the build error a non-literal segment config really gives (README.md:$line)', async (block) => {
    const line = block.code.trim()
    const m = /^\[vite-isr\] (\S+):(\d+): `(\w+)` .*\(found `(.+?)`\)/.exec(line)
    expect(m, `${where(block)}: expected "[vite-isr] <file>:<line>: \`<export>\` ... (found \`<expression>\`)"`).not.toBeNull()
    const [, file, lineNo, name, expression] = m!
    const dir = join(TMP, 'readme-build-error')
    rmSync(dir, { recursive: true, force: true })
    const quick = appFiles('quick-start', blocks)
    const write = (path: string, code: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), code)
    }
    write('package.json', JSON.stringify({ type: 'module', private: true }))
    write('vite.config.ts', quick.get('vite.config.ts')!.code)
    write('app/layout.tsx', quick.get('app/layout.tsx')!.code)
    const before = Array.from({ length: Number(lineNo) - 1 }, (_, i) => `// line ${i + 1}`)
    write(file, [...before, `export const ${name} = ${expression}`, '', 'export default function Page() {', '  return <p>hello</p>', '}', ''].join('\n'))
    const result = await viteBuild(dir)
    expect(result.code, result.output).not.toBe(0)
    expect(result.output, `${where(block)}: the README's error line is not what vite build prints`).toContain(line)
  })

  it.each(textBlocks('app tree'))('maps the app/ tree the way the plugin scans it (README.md:$line)', (block) => {
    const entries = block.code
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const m = /^\s+(\S+)\s+(.*)$/.exec(l)
        if (!m) throw new Error(`${where(block)}: cannot read the tree line "${l}"`)
        return { path: m[1], comment: m[2] }
      })
    const dir = join(TMP, 'readme-app-tree')
    rmSync(dir, { recursive: true, force: true })
    const write = (path: string, code: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), code)
    }
    const CONTENT: Record<string, string> = {
      page: 'export default function Page() { return null }\n',
      layout: 'export default function Layout({ children }: { children: unknown }) { return children }\n',
      route: 'export async function POST() { return new Response(null) }\n',
      'not-found': 'export default function NotFound() { return null }\n',
      error: 'export default function Failed() { return null }\n',
      loading: 'export default function Loading() { return null }\n',
    }
    const SHELL = "export const fallback = 'shell'\n"
    for (const { path } of entries) {
      if (path.endsWith('/')) write(`app/${path}page.tsx`, CONTENT.page) // a private folder: even a page.tsx in it is no route
      else {
        const kind = /([\w-]+)\.tsx?$/.exec(path)?.[1] ?? ''
        expect(CONTENT, `${where(block)}: ${path} is not a file name the plugin knows`).toHaveProperty(kind)
        write(`app/${path}`, (kind === 'page' && entries.find((e) => e.path === path)!.comment.includes(SHELL.trim()) ? SHELL : '') + CONTENT[kind])
      }
    }
    const tree = scanApp(dir, 'app')
    const router = createRouter(tree.routes)
    const asUrl = (pattern: string) => pattern.replace(/\[(\w+)\]/g, ':$1')
    for (const { path, comment } of entries) {
      const file = `app/${path}`
      const at = `${where(block)}: ${path} (${comment})`
      if (path.endsWith('/')) {
        expect(tree.files.filter((f) => f.startsWith(file)), `${at}: not a route`).toEqual([])
        continue
      }
      const kind = /([\w-]+)\.tsx?$/.exec(path)![1]
      if (kind === 'layout') expect(tree.files, at).toContain(file)
      if (kind === 'not-found') expect(tree.notFound, at).toBe(file)
      if (kind === 'error') expect(tree.error, at).toBe(file)
      // A loading component is part of the app once a `fallback = 'shell'` page below uses it.
      if (kind === 'loading') expect(tree.routes.map((r) => r.loading), at).toContain(file)
      if (kind !== 'page' && kind !== 'route') continue
      const route = tree.routes.find((r) => r.file === file)
      expect(route, `${at}: a route`).toBeDefined()
      expect(route!.kind, at).toBe(kind)
      expect(route!.pattern, `${at}: route groups add no URL segment`).not.toMatch(/\(/)
      if (comment.includes(SHELL.trim())) expect(route!.fallback, at).toBe('shell')
      const url = /^(\/\S*)/.exec(comment)?.[1]
      if (url) expect(asUrl(route!.pattern), at).toBe(url)
      const also = /\(also (\/\S*)\)/.exec(comment)?.[1]
      if (also) expect(router.match(also)?.route.file, `${at}: matches ${also}`).toBe(file)
      const catchAll = /params\.(\w+): string\[\]/.exec(comment)?.[1]
      if (catchAll) {
        const prefix = route!.pattern.replace(/\/\[\.\.\.\w+\]$/, '')
        expect(router.match(`${prefix}/a/b`)?.params[catchAll], at).toEqual(['a', 'b'])
      }
    }
  })

  it.each(textBlocks('repo tree'))('names only files that exist in the repo tree (README.md:$line)', (block) => {
    const listing = (dir: string): string[] =>
      readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? [`${dir}/${d.name}/`, ...listing(`${dir}/${d.name}`)] : [`${dir}/${d.name}`]))
    let top: string | undefined
    const missing: string[] = []
    let named = 0
    for (const line of block.code.split('\n')) {
      const head = /^([\w-]+)\/\s/.exec(line)
      if (head) {
        top = head[1]
        if (!existsSync(join(REPO, top))) missing.push(`${top}/`)
      }
      if (!top) continue
      const files = listing(top)
      for (const name of line.slice(head ? head[0].length : 0).match(/[\w-]+(?:\.ts\b|\/(?= \())/g) ?? []) {
        named++
        if (!files.some((f) => f.endsWith(`/${name}`))) missing.push(`${top}/…/${name}`)
      }
    }
    expect(named).toBeGreaterThan(10)
    expect(missing, `${where(block)}: named in the README, not in the repo`).toEqual([])
  })

  it.each(textBlocks('repo file'))('shows the repo file it names, unchanged (README.md:$line)', (block) => {
    const file = repoFileOf(block)!
    expect(existsSync(join(REPO, file)), `${where(block)}: ${file} is not in the repo`).toBe(true)
    expect(block.code, `${where(block)}: the README's copy of ${file} differs from the file`).toBe(readFileSync(join(REPO, file), 'utf8'))
  })

  it.each(textBlocks('debug log'))('shows only debug log events the runtime prints (README.md:$line)', (block) => {
    const source = readdirSync(join(REPO, 'runtime'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(REPO, 'runtime', f), 'utf8'))
      .join('\n')
    for (const line of block.code.trim().split('\n')) {
      expect(line, where(block)).toMatch(/^\[vite-isr\] (error: \S.*|[\w:]+ \S+( [\w-]+=\S+)*|hit fetch (GET|HEAD) https?:\/\/\S+( [\w-]+=\S+)*)$/)
      const event = logEventKey(line).split(' ')[0]
      const emitted = event === 'error:' ? /log\.error\(/.test(source) : new RegExp(`['\`]${event}['\` ]`).test(source)
      expect(emitted, `${where(block)}: the runtime never logs "${event}"`).toBe(true)
      if (logEventKey(line).includes('fetch')) expect(source).toMatch(/`fetch \$\{/)
    }
  })
})

/** Imports a snippet leaves implicit, and stand-ins for the reader's own functions. */
const AUTO_IMPORTS: Record<string, string> = {
  createISRHandler: 'vite-isr/runtime',
  revalidatePath: 'vite-isr/runtime',
  revalidateTag: 'vite-isr/runtime',
  notFound: 'vite-isr/runtime',
  redirect: 'vite-isr/runtime',
  cache: 'vite-isr/runtime',
  isr: 'vite-isr/plugin',
  createRedisCacheHandler: 'vite-isr/cache-handlers/redis',
}
const STUBS: Record<string, string> = {
  purgeCdnTags: 'declare function purgeCdnTags(tags: string[]): Promise<void>',
}

function snippetPrelude(code: string): string[] {
  const used = (name: string) => new RegExp(`(?<![\\w.])${name}\\s*\\(`).test(code)
  const imported = (name: string) => new RegExp(`import\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`).test(code) || new RegExp(`\\b(const|let|function)\\s+${name}\\b`).test(code)
  const bySource = new Map<string, string[]>()
  for (const [name, source] of Object.entries(AUTO_IMPORTS)) {
    if (used(name) && !imported(name)) bySource.set(source, [...(bySource.get(source) ?? []), name])
  }
  const prelude = [...bySource].map(([source, names]) => `import { ${names.join(', ')} } from '${source}'`)
  for (const [name, stub] of Object.entries(STUBS)) if (used(name) && !imported(name)) prelude.push(stub)
  return prelude
}
