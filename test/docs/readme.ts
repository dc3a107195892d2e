/**
 * README.md as a test fixture. `parseReadme()` splits it into its fenced blocks, each with
 * its section and kind; `APPS` groups the blocks of the sections that build an app; and
 * `ReadmeApp` follows an app's blocks the way a reader would: it starts from a snapshot of
 * `npm create vite`'s react-ts template, runs the README's shell lines (`rm`, `npm pkg set`,
 * `npm run build`, `npm start`), writes its files, and replays its `console` transcripts
 * (`$ curl ...` and the output the README promises) against the running `server.js`.
 *
 * Apps live in test/.tmp/readme-<name>, inside the repo, so `vite-isr`, react and vite
 * resolve from the repo's node_modules as they would from the reader's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { REPO, run, type CommandResult } from '../helpers/build.js'

export const README_PATH = join(REPO, 'README.md')
export const TEMPLATE = join(REPO, 'test/fixtures/readme/template-react-ts')
export const TMP = join(REPO, 'test/.tmp')
export const TSC = join(REPO, 'node_modules/typescript/bin/tsc')

/** Blocks that may opt out with `<!-- readme-test: skip (reason) -->`; keep it tiny. */
export const MAX_SKIPS = 1

export type BlockKind = 'file' | 'snippet' | 'sh' | 'console' | 'text'

export interface Block {
  /** 1-based line of the opening fence in README.md. */
  line: number
  lang: string
  code: string
  /** The `##` heading above the block, and the `###` one if any. */
  section: string
  subsection: string | undefined
  kind: BlockKind
  /** For a file block: the path named by its first line (`// app/blog/[id]/page.tsx`). */
  path?: string
  /** The reason given by a skip marker right before the block. */
  skip?: string
}

const CODE_LANGS = new Set(['ts', 'tsx', 'js', 'jsx', 'mjs', 'jsonc'])
const SH_LANGS = new Set(['sh', 'bash', 'shell'])
/** `// vite.config.ts`, `// app/layout.tsx: the root layout ...` */
const PATH_COMMENT = /^\/\/ ([^\s:]+\.(?:[cm]?[jt]sx?|jsonc?))(?::\s.*)?$/

export const where = (block: Pick<Block, 'line'>) => `README.md:${block.line}`

export function parseReadme(text = readFileSync(README_PATH, 'utf8')): Block[] {
  const lines = text.split('\n')
  const blocks: Block[] = []
  let section = ''
  let subsection: string | undefined
  let skip: string | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const fence = /^```(\S*)\s*$/.exec(line)
    if (fence) {
      const start = i
      const body: string[] = []
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i])
      if (i >= lines.length) throw new Error(`README.md:${start + 1}: unclosed code fence`)
      blocks.push(makeBlock({ line: start + 1, lang: fence[1], code: body.join('\n') + '\n', section, subsection, skip }))
      skip = undefined
      continue
    }
    const heading = /^(#{1,6}) (.+)$/.exec(line)
    if (heading) {
      if (heading[1].length <= 2) {
        section = heading[2].trim()
        subsection = undefined
      } else if (heading[1].length === 3) subsection = heading[2].trim()
      skip = undefined
      continue
    }
    const marker = /^<!--\s*readme-test:(.*?)-->$/.exec(line.trim())
    if (marker) {
      const reason = /^\s*skip\s*\((.+)\)\s*$/.exec(marker[1])
      if (!reason) throw new Error(`README.md:${i + 1}: unknown marker "${line.trim()}"; the only one is <!-- readme-test: skip (reason) -->`)
      skip = reason[1].trim()
      continue
    }
    // A skip marker applies to the very next block: only blank lines may come between.
    if (line.trim() !== '') skip = undefined
  }
  return blocks
}

function makeBlock(raw: Omit<Block, 'kind' | 'path'>): Block {
  const first = raw.code.split('\n')[0]
  if (CODE_LANGS.has(raw.lang)) {
    const path = PATH_COMMENT.exec(first)?.[1]
    if (path) return { ...raw, kind: 'file', path }
    if (raw.lang === 'jsonc') throw new Error(`${where(raw)}: a jsonc block must be a file: start it with "// <path>"`)
    return { ...raw, kind: 'snippet' }
  }
  if (SH_LANGS.has(raw.lang)) return { ...raw, kind: 'sh' }
  if (raw.lang === 'console') return { ...raw, kind: 'console' }
  // A VCL or Dockerfile block is a copy of a repo file (checked by readme.test.ts).
  if (raw.lang === '' || raw.lang === 'text' || raw.lang === 'vcl' || raw.lang === 'dockerfile') return { ...raw, kind: 'text' }
  throw new Error(`${where(raw)}: code block language "${raw.lang}" is not one the README test knows (ts, tsx, js, jsonc, sh, console, text, vcl, dockerfile)`)
}

// ---------------------------------------------------------------------------------------
// Apps: the sections whose file blocks a reader puts together into one project.

export interface AppSpec {
  name: string
  /** The app this one adds to: its files and setup lines are replayed first. */
  base?: string
  sections: string[]
}

export const APPS: AppSpec[] = [
  { name: 'quick-start', sections: ['Quick start in your own Vite app'] },
  { name: 'revalidation', base: 'quick-start', sections: ['Revalidation'] },
  { name: 'data-cache', base: 'revalidation', sections: ['Data cache'] },
  { name: 'redis', base: 'revalidation', sections: ['Running several instances'] },
]

export const appOfSection = (section: string) => APPS.find((app) => app.sections.includes(section))

export function appSpec(name: string): AppSpec {
  const spec = APPS.find((app) => app.name === name)
  if (!spec) throw new Error(`no README app named ${name}`)
  return spec
}

/** The blocks an app is made of, base apps first, each marked as the app's own or not. */
export function appSteps(name: string, blocks = parseReadme()): { block: Block; own: boolean }[] {
  const chain: AppSpec[] = []
  for (let spec: AppSpec | undefined = appSpec(name); spec; spec = spec.base ? appSpec(spec.base) : undefined) chain.unshift(spec)
  const steps: { block: Block; own: boolean }[] = []
  for (const spec of chain) {
    for (const section of spec.sections) {
      const inSection = blocks.filter((b) => b.section === section)
      if (inSection.length === 0) throw new Error(`README.md has no "## ${section}" section with code blocks (README app ${spec.name}); update APPS in test/docs/readme.ts`)
      for (const block of inSection) if (!block.skip) steps.push({ block, own: spec.name === name })
    }
  }
  return steps
}

// ---------------------------------------------------------------------------------------
// Shell lines.

export type Command =
  | { kind: 'install'; packages: string[] }
  | { kind: 'create'; name: string; template: string }
  | { kind: 'cd'; dir: string }
  | { kind: 'rm'; paths: string[]; args: string[] }
  | { kind: 'pkg-set'; args: string[] }
  | { kind: 'script'; script: string }
  | { kind: 'npx'; bin: string }
  | { kind: 'node'; file: string }
  | { kind: 'curl'; args: string[] }

export interface ShellLine {
  /** The line as written (without its comment), for messages and `sh -c`. */
  text: string
  line: number
  env: Record<string, string>
  command: Command
}

/** Split a line into words, honouring '...' and "..." quotes (no expansions). */
export function shellWords(text: string): string[] {
  const words: string[] = []
  let word = ''
  let quote: string | undefined
  let inWord = false
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined
      else word += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += ch
      inWord = true
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${text}`)
  if (inWord) words.push(word)
  return words
}

/** The line without a trailing ` # comment` (a # inside quotes is kept). */
function stripComment(text: string): string {
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quote) {
      if (ch === quote) quote = undefined
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]))) return text.slice(0, i).trimEnd()
  }
  return text.trimEnd()
}

export function parseCommand(text: string): { env: Record<string, string>; command: Command } {
  const words = shellWords(text)
  const env: Record<string, string> = {}
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [key, ...value] = words.shift()!.split('=')
    env[key] = value.join('=')
  }
  const [cmd, sub, ...rest] = words
  const fail = (why: string): never => {
    throw new Error(`${why}: ${text}`)
  }
  if (cmd === 'npm' && (sub === 'install' || sub === 'i' || sub === 'add')) {
    return { env, command: { kind: 'install', packages: rest.filter((w) => !w.startsWith('-')) } }
  }
  // `npm ci`: the lockfile's packages, no names of its own.
  if (cmd === 'npm' && sub === 'ci' && rest.every((w) => w.startsWith('-'))) return { env, command: { kind: 'install', packages: [] } }
  if (cmd === 'npm' && (sub === 'create' || sub === 'init')) {
    const [starter, name, dashes, ...flags] = rest
    if (!/^vite(@[\w.-]+)?$/.test(starter ?? '')) fail('only `npm create vite` is known')
    if (!name || dashes !== '--') fail('expected `npm create vite@latest <name> -- --template <template>`')
    let template: string | undefined
    for (let i = 0; i < flags.length; i++) {
      if (flags[i] === '--template' || flags[i] === '-t') template = flags[++i]
      else if (flags[i] !== '--no-immediate' && flags[i] !== '--no-interactive') fail(`unknown create-vite flag ${flags[i]}`)
    }
    if (!template) fail('name the template with --template')
    return { env, command: { kind: 'create', name, template: template! } }
  }
  if (cmd === 'npm' && sub === 'pkg' && rest[0] === 'set') return { env, command: { kind: 'pkg-set', args: rest } }
  if (cmd === 'npm' && (sub === 'start' || sub === 'test') && rest.length === 0) return { env, command: { kind: 'script', script: sub } }
  if (cmd === 'npm' && (sub === 'run' || sub === 'run-script') && rest.length === 1) return { env, command: { kind: 'script', script: rest[0] } }
  if (cmd === 'npx' && sub) return { env, command: { kind: 'npx', bin: sub } }
  if (cmd === 'cd' && sub && rest.length === 0) return { env, command: { kind: 'cd', dir: sub } }
  if (cmd === 'rm') {
    const args = [sub, ...rest].filter((w): w is string => w !== undefined)
    const paths = args.filter((w) => !w.startsWith('-'))
    if (paths.length === 0 || args.some((w) => w.startsWith('-') && !/^-[rf]+$/.test(w))) fail('expected `rm [-r] <paths>`')
    return { env, command: { kind: 'rm', paths, args } }
  }
  if (cmd === 'node' && sub && rest.length === 0 && /\.m?js$/.test(sub)) return { env, command: { kind: 'node', file: sub } }
  if (cmd === 'curl') return { env, command: { kind: 'curl', args: [sub, ...rest].filter((w): w is string => w !== undefined) } }
  return fail('a shell line the README test does not know (teach test/docs/readme.ts, or mark the block with <!-- readme-test: skip (reason) -->)')
}

/** The commands of an `sh` block: comments dropped, `\` continuations joined, `&&` split. */
export function shLines(block: Block): ShellLine[] {
  const out: ShellLine[] = []
  const lines = block.code.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const lineNo = block.line + 1 + i
    let text = stripComment(lines[i])
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + stripComment(lines[++i]).trim()
    if (text.trim() === '') continue
    for (const part of text.split('&&')) {
      const trimmed = part.trim()
      try {
        out.push({ text: trimmed, line: lineNo, ...parseCommand(trimmed) })
      } catch (error) {
        throw new Error(`README.md:${lineNo}: ${(error as Error).message}`)
      }
    }
  }
  return out
}

/** A `console` block: `$ command` lines, each followed by the output the README promises. */
export function transcript(block: Block): { text: string; line: number; expected: string; command: Command }[] {
  const steps: { text: string; line: number; expected: string[]; command: Command }[] = []
  block.code.split('\n').forEach((line, i) => {
    const lineNo = block.line + 1 + i
    if (line.startsWith('$ ')) {
      const text = line.slice(2).trim()
      try {
        steps.push({ text, line: lineNo, expected: [], command: parseCommand(text).command })
      } catch (error) {
        throw new Error(`README.md:${lineNo}: ${(error as Error).message}`)
      }
    } else if (steps.length === 0) {
      if (line.trim() !== '') throw new Error(`README.md:${lineNo}: a console block starts with a "$ " command line`)
    } else steps[steps.length - 1].expected.push(line)
  })
  return steps.map((s) => ({ ...s, expected: normaliseOutput(s.expected.join('\n')) }))
}

export const normaliseOutput = (text: string) =>
  text
    .replaceAll('\r', '')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '')

// ---------------------------------------------------------------------------------------
// Processes.

/** The environment of a reader's shell: none of the variables npm, npx or vitest set for us. */
export function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|vitest|node_env$|node_options$|test$)/i.test(key)) continue
    env[key] = value
  }
  return { ...env, NO_COLOR: '1', ...extra }
}

const repoPackage = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
  peerDependencies: Record<string, string>
}
const templatePackage = () =>
  JSON.parse(readFileSync(join(TEMPLATE, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> }

/** A package the README tells the reader to install: vite-isr, one of its peers, or the template's, and installed here. */
export function checkInstallable(name: string): void {
  const bare = name.replace(/(.)@.*$/, '$1')
  const template = templatePackage()
  const known = bare === 'vite-isr' || bare in repoPackage.peerDependencies || bare in template.dependencies || bare in template.devDependencies
  if (!known) throw new Error(`\`npm install ${name}\`: not vite-isr, one of its peer dependencies, or a package of the Vite template`)
  if (!existsSync(join(REPO, 'node_modules', bare, 'package.json'))) throw new Error(`\`npm install ${name}\`: ${bare} is not installed in the repo, so the README apps cannot use it`)
}

/** Check a shell line that is only named, not run: repo scripts, npx binaries, installable packages. */
export function checkRepoLine(line: ShellLine): void {
  const { command } = line
  const fail = (why: string): never => {
    throw new Error(`README.md:${line.line}: \`${line.text}\`: ${why}`)
  }
  switch (command.kind) {
    case 'install':
      for (const name of command.packages) checkInstallable(name)
      return
    case 'script':
      if (!(command.script in repoPackage.scripts)) fail(`package.json has no "${command.script}" script`)
      return
    case 'npx':
      if (!existsSync(join(REPO, 'node_modules/.bin', command.bin))) fail(`node_modules/.bin has no ${command.bin}`)
      return
    default:
      fail(`only an app section (${APPS.flatMap((a) => a.sections).join(', ')}) may ${command.kind}`)
  }
}

export interface AppServer {
  url: string
  port: number
  child: ChildProcess
  /** stdout and stderr, line by line, as the server printed them. */
  lines: string[]
  output(): string
  stop(): Promise<void>
}

/** `node <file>` in `cwd` with PORT=0; resolves once it prints `listening on http://localhost:<port>`. */
export function launchServer(cwd: string, file: string, env: NodeJS.ProcessEnv): Promise<AppServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd, env: shellEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    let partial = ''
    let started = false
    const onData = (chunk: Buffer) => {
      partial += chunk.toString()
      const parts = partial.split('\n')
      partial = parts.pop()!
      lines.push(...parts)
      const match = started ? null : /listening on http:\/\/localhost:(\d+)/.exec(lines.join('\n'))
      if (match) {
        started = true
        clearTimeout(timer)
        const port = Number(match[1])
        if (port === 3000) {
          child.kill('SIGKILL')
          reject(new Error(`${file} listens on 3000 although PORT=0: it must listen on process.env.PORT`))
          return
        }
        resolve({
          url: `http://localhost:${port}`,
          port,
          child,
          lines,
          output: () => [...lines, partial].join('\n'),
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done()
              child.once('exit', () => done())
              child.kill('SIGTERM')
              setTimeout(() => child.kill('SIGKILL'), 3000).unref()
            }),
        })
      }
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${file} did not print "listening on http://localhost:<port>" within 30 s:\n${lines.join('\n')}${partial}`))
    }, 30_000)
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (!started) reject(new Error(`${file} exited (${code ?? signal}) before listening:\n${lines.join('\n')}${partial}`))
    })
  })
}

export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  // `run` starts from process.env: unset vitest's NODE_ENV=test again, or `vite build` makes a
  // development bundle that a production server cannot run.
  return run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, env: { NODE_ENV: undefined, ...shellEnv(env) }, timeoutMs: 180_000 })
}

// ---------------------------------------------------------------------------------------
// Following an app.

export class ReadmeApp {
  readonly dir: string
  readonly spec: AppSpec
  /** Files written from README blocks, by path, with the README line each came from. */
  readonly files = new Map<string, { code: string; line: number }>()
  /** Environment added to every server this app starts (e.g. the debug log). */
  serverEnv: NodeJS.ProcessEnv = {}
  /** The server the README last started (`npm start` / `node server.js`); transcripts go to it. */
  server: AppServer | undefined
  /** Every server started, for close(). */
  private servers: AppServer[] = []
  private created: string | undefined
  private dirty = false
  /** Output of the last build. */
  buildOutput = ''
  /** What was followed, for failure messages. */
  readonly trail: string[] = []

  constructor(name: string, private readonly blocks = parseReadme()) {
    this.spec = appSpec(name)
    this.dir = join(TMP, `readme-${name}`)
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Follow every block of the app, in README order. */
  async follow(): Promise<this> {
    for (const { block, own } of appSteps(this.spec.name, this.blocks)) {
      try {
        await this.apply(block, own)
      } catch (error) {
        const e = error as Error
        if (!e.message.startsWith('README.md:')) e.message = `${where(block)} (README app "${this.spec.name}"): ${e.message}`
        e.message += `\n\nfollowed so far:\n  ${this.trail.join('\n  ')}`
        throw e
      }
    }
    return this
  }

  private async apply(block: Block, own: boolean): Promise<void> {
    if (block.kind === 'file') {
      this.requireCreated(block)
      this.write(block.path!, block.code)
      this.files.set(block.path!, { code: block.code, line: block.line })
      this.trail.push(`${where(block)} wrote ${block.path}`)
      return
    }
    if (block.kind === 'sh') {
      for (const line of shLines(block)) await this.shell(line, own)
      return
    }
    if (block.kind === 'console') {
      if (own) await this.replay(block)
      return
    }
    // Snippets and text blocks are checked by readme.test.ts, not part of an app.
  }

  private requireCreated(block: Pick<Block, 'line'>): void {
    if (!this.created) throw new Error(`${where(block)}: the app folder does not exist yet (no \`npm create vite\` above)`)
  }

  write(path: string, code: string): void {
    const file = join(this.dir, path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, code)
    this.dirty = true
  }

  read(path: string): string {
    return readFileSync(join(this.dir, path), 'utf8')
  }

  packageJson(): { type?: string; scripts: Record<string, string> } {
    return JSON.parse(this.read('package.json'))
  }

  private async shell(line: ShellLine, own: boolean): Promise<void> {
    const at = `README.md:${line.line}: \`${line.text}\``
    this.trail.push(`${at}${own ? '' : ' (setup of the base app)'}`)
    try {
      await this.runLine(line, own, at)
    } catch (error) {
      const e = error as Error
      if (!e.message.startsWith('README.md:')) e.message = `${at}: ${e.message}`
      throw e
    }
  }

  private async runLine(line: ShellLine, own: boolean, at: string): Promise<void> {
    const { command } = line
    switch (command.kind) {
      case 'install':
        for (const name of command.packages) checkInstallable(name)
        return
      case 'create':
        if (this.created) throw new Error(`${at}: the app was already created`)
        if (command.template !== 'react-ts') throw new Error(`${at}: test/fixtures/readme has a snapshot of the react-ts template, not ${command.template}`)
        cpSync(TEMPLATE, this.dir, { recursive: true })
        this.created = command.name
        return
      case 'cd':
        if (command.dir !== this.created) throw new Error(`${at}: expected \`cd ${this.created}\`, the folder \`npm create vite\` made`)
        return
      case 'rm': {
        this.requireCreated(line)
        for (const path of command.paths) if (!existsSync(join(this.dir, path))) throw new Error(`${at}: the template has no ${path} to delete`)
        const result = await run('rm', command.args, { cwd: this.dir })
        if (result.code !== 0) throw new Error(`${at} failed:\n${result.output}`)
        return
      }
      case 'pkg-set': {
        this.requireCreated(line)
        const result = await npm(['pkg', ...command.args], this.dir)
        if (result.code !== 0) throw new Error(`${at} failed:\n${result.output}`)
        return
      }
      case 'npx':
        if (!existsSync(join(REPO, 'node_modules/.bin', command.bin))) throw new Error(`${at}: there is no ${command.bin} binary`)
        return
      case 'script':
      case 'node': {
        if (!own) return // the base app's build and start: this app builds and starts its own
        this.requireCreated(line)
        if (command.kind === 'script' && command.script === 'build') {
          await this.build()
          return
        }
        let file: string
        let scriptEnv: Record<string, string> = {}
        if (command.kind === 'node') file = command.file
        else {
          const script = this.packageJson().scripts[command.script]
          if (script === undefined) throw new Error(`${at}: package.json has no "${command.script}" script (scripts: ${JSON.stringify(this.packageJson().scripts)})`)
          const node = parseCommand(script)
          if (node.command.kind !== 'node') throw new Error(`${at}: the README test only runs scripts that are \`[VAR=value ...] node <file>\` (this one is \`${script}\`)`)
          file = node.command.file
          scriptEnv = node.env
        }
        if (this.dirty) throw new Error(`${at}: starts the server without building the files written since the last \`npm run build\``)
        await this.start(file, { ...scriptEnv, ...line.env })
        return
      }
      case 'curl':
        throw new Error(`${at}: put curl lines in a \`console\` block with the output they print`)
    }
  }

  /** `npm run build` in the app, as the reader runs it. */
  async build(): Promise<string> {
    const result = await npm(['run', 'build'], this.dir)
    if (result.code !== 0) {
      const files = [...this.files].map(([path, { line }]) => `${path}: README.md:${line}`)
      throw new Error(`npm run build failed in ${this.dir} (exit ${result.code}):\n${result.output}\nthe app's files come from:\n  ${files.join('\n  ')}`)
    }
    this.dirty = false
    this.buildOutput = result.output
    this.trail.push(`npm run build (ok)`)
    return result.output
  }

  /** Start `node <file>` as the README's current server (stopping the previous one). */
  async start(file = 'server.js', env: NodeJS.ProcessEnv = {}): Promise<AppServer> {
    if (this.server) await this.server.stop()
    this.server = await this.launch(file, env)
    return this.server
  }

  /** Start another server process next to the others (several instances). */
  async launch(file = 'server.js', env: NodeJS.ProcessEnv = {}): Promise<AppServer> {
    if (!existsSync(join(this.dir, file))) throw new Error(`no ${file} in the app`)
    const server = await launchServer(this.dir, file, { ...this.serverEnv, ...env })
    this.servers.push(server)
    this.trail.push(`started ${file} on ${server.url}`)
    return server
  }

  private async replay(block: Block): Promise<void> {
    for (const step of transcript(block)) {
      const at = `README.md:${step.line}: \`${step.text}\``
      this.trail.push(at)
      if (step.command.kind !== 'curl') throw new Error(`${at}: a console block may only show curl commands`)
      if (!this.server) throw new Error(`${at}: no server is running (no \`npm start\` / \`node server.js\` above)`)
      if (!step.text.includes('http://localhost:3000')) throw new Error(`${at}: call the server at http://localhost:3000`)
      const command = step.text.replaceAll('http://localhost:3000', this.server.url)
      const result = HAS_CURL ? await run('sh', ['-c', command], { cwd: this.dir, env: shellEnv(), timeoutMs: 20_000 }) : await emulateCurl(command)
      const actual = normaliseOutput(result.stdout)
      if (actual !== step.expected) {
        throw new Error(`${at}\n  the README says it prints:\n    ${step.expected.split('\n').join('\n    ')}\n  it printed (exit ${result.code}):\n    ${actual.split('\n').join('\n    ')}\n${result.stderr}\n  server output:\n${this.server.output()}`)
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()))
  }
}

/** The file blocks of an app, base apps first (later blocks of the same path win). */
export function appFiles(name: string, blocks = parseReadme()): Map<string, Block> {
  const files = new Map<string, Block>()
  for (const { block } of appSteps(name, blocks)) if (block.kind === 'file') files.set(block.path!, block)
  return files
}

/** The files `tsc -b` checks in an app (its tsconfig.app.json and tsconfig.node.json), relative to it. */
export async function typeCheckedFiles(dir: string): Promise<string[]> {
  const { default: ts } = await import('typescript')
  const files: string[] = []
  for (const config of ['tsconfig.app.json', 'tsconfig.node.json']) {
    const path = join(dir, config)
    if (!existsSync(path)) continue
    const read = ts.readConfigFile(path, ts.sys.readFile)
    if (read.error) throw new Error(`${config}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`)
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dir)
    files.push(...parsed.fileNames.map((f) => f.slice(dir.length + 1).replaceAll('\\', '/')))
  }
  return files
}

/** For a `vcl` / `dockerfile` block: the repo file a comment in its first lines names (`# example-app/Dockerfile: ...`). */
export function repoFileOf(block: Pick<Block, 'lang' | 'code'>): string | undefined {
  if (block.lang !== 'vcl' && block.lang !== 'dockerfile') return undefined
  for (const line of block.code.split('\n').slice(0, 3)) {
    const m = /^# ([\w./-]+)(?::|$)/.exec(line)
    if (m && m[1].includes('/')) return m[1]
  }
  return undefined
}

// ---------------------------------------------------------------------------------------
// The debug log sample ("Debugging: the cache log").

export const isDebugLogBlock = (block: Block) =>
  block.kind === 'text' && block.code.trim().split('\n').length > 1 && block.code.trim().split('\n').every((l) => l.startsWith('[vite-isr] '))

/** A README log line as a pattern: numbers (and sizes) may differ, nothing else. */
export function logLinePattern(line: string): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  const parts = line.split(/(\d+(?:\.\d+)?(?:kB|MB|B)?)/)
  const source = parts.map((part, i) => (i % 2 === 0 ? escape(part) : /B$/.test(part) ? '[\\d.]+(?:B|kB|MB)' : '\\d+(?:\\.\\d+)?')).join('')
  return new RegExp(`^${source}$`)
}

/** What kind of event a log line is: its event word, `fetch` for data lookups, and its mode. */
export function logEventKey(line: string): string {
  const m = /^\[vite-isr\] (\S+)(?: (fetch) | )?(?:.*?( mode=\S+))?/.exec(line)
  return m ? [m[1], m[2], m[3]?.trim()].filter(Boolean).join(' ') : line
}

/**
 * Compare the README's debug log sample with the lines a real server printed: each README
 * line must match a real line (numbers aside), or be of an event kind this server never
 * printed (then it is reported as unexercised). A README line whose kind the server did
 * print, in another shape, has rotted: that throws.
 */
export function debugLogLines(serverLines: string[], blocks = parseReadme()): { produced: string[]; unexercised: string[] } {
  const real = serverLines.filter((l) => l.startsWith('[vite-isr] '))
  const produced: string[] = []
  const unexercised: string[] = []
  for (const block of blocks.filter((b) => !b.skip && isDebugLogBlock(b))) {
    for (const line of block.code.trim().split('\n')) {
      const pattern = logLinePattern(line)
      if (real.some((l) => pattern.test(l))) {
        produced.push(line)
        continue
      }
      const key = logEventKey(line)
      const sameKind = real.filter((l) => logEventKey(l) === key)
      if (sameKind.length > 0) {
        throw new Error(`${where(block)}: the README's log line\n  ${line}\ndoes not match what the server prints for "${key}":\n  ${sameKind.slice(0, 3).join('\n  ')}`)
      }
      unexercised.push(line)
    }
  }
  return { produced, unexercised }
}

// ---------------------------------------------------------------------------------------
// curl, for machines without it: the subset the README uses (-s -I -X -H -d -o -w, and a
// `| grep -i <text>` after it).

const HAS_CURL = !process.env.README_TEST_NO_CURL && spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0

export async function emulateCurl(command: string): Promise<CommandResult> {
  const [curlPart, ...pipes] = command.split(/\s\|\s/)
  const args = shellWords(curlPart).flatMap((a) => (/^-[a-zA-Z]{2,}$/.test(a) ? [...a.slice(1)].map((c) => `-${c}`) : [a]))
  if (args.shift() !== 'curl') throw new Error(`not a curl command: ${command}`)
  let method: string | undefined
  let head = false
  let data: string | undefined
  let discardBody = false
  let writeOut: string | undefined
  let url: string | undefined
  const headers = new Headers()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '-s' || arg === '--silent') continue
    else if (arg === '-I' || arg === '--head') head = true
    else if (arg === '-X' || arg === '--request') method = args[++i]
    else if (arg === '-H' || arg === '--header') {
      const [name, ...value] = args[++i].split(':')
      headers.set(name.trim(), value.join(':').trim())
    } else if (arg === '-d' || arg === '--data') data = args[++i]
    else if (arg === '-o' || arg === '--output') discardBody = args[++i] === '/dev/null'
    else if (arg === '-w' || arg === '--write-out') writeOut = args[++i]
    else if (!arg.startsWith('-')) url = arg
    else throw new Error(`the curl stand-in does not know ${arg} (install curl)`)
  }
  if (data !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded')
  const res = await fetch(url!, { method: method ?? (head ? 'HEAD' : data !== undefined ? 'POST' : 'GET'), headers, body: data, redirect: 'manual' })
  const body = await res.text()
  let stdout = head ? [`HTTP/1.1 ${res.status} ${res.statusText}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n') : discardBody ? '' : body
  if (writeOut) stdout += writeOut.replaceAll('%{http_code}', String(res.status)).replaceAll('\\n', '\n')
  for (const pipe of pipes) {
    const grep = /^grep -i (\S+)$/.exec(pipe.trim())
    if (!grep) throw new Error(`the curl stand-in only pipes into \`grep -i <text>\` (install curl): ${pipe}`)
    stdout = stdout
      .split('\n')
      .filter((l) => l.toLowerCase().includes(grep[1].toLowerCase()))
      .map((l) => l + '\n')
      .join('')
  }
  return { code: 0, stdout, stderr: '', output: stdout }
}
