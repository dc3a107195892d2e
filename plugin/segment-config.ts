import { parseAst } from 'vite'

export type Revalidate = number | false
export type Dynamic = 'auto' | 'force-static' | 'force-dynamic' | 'error'
export type Fallback = 'blocking' | 'shell'

export interface SegmentConfig {
  revalidate?: Revalidate
  dynamicParams?: boolean
  dynamic?: Dynamic
  fallback?: Fallback
}

export interface ModuleExports extends SegmentConfig {
  hasDefault: boolean
  hasLoader: boolean
  hasGenerateStaticParams: boolean
  hasGenerateMetadata: boolean
  hasMetadata: boolean
}

export class SegmentConfigError extends Error {
  override name = 'SegmentConfigError'
  /** `line` and `column` are 1-based. */
  constructor(
    message: string,
    public file: string,
    public line: number,
    public column: number,
    public frame?: string,
  ) {
    super(message)
  }
}

// Derived from the parser's own return type so no undeclared dependency on @oxc-project/types is needed.
type Program = ReturnType<typeof parseAst>
type Statement = Program['body'][number]
type ExportNamed = Extract<Statement, { type: 'ExportNamedDeclaration' }>
type Declarator = Extract<NonNullable<ExportNamed['declaration']>, { type: 'VariableDeclaration' }>['declarations'][number]
type Expression = NonNullable<Declarator['init']>
type Span = { start: number; end: number }

const CONFIG_NAMES = new Set(['revalidate', 'dynamicParams', 'dynamic', 'fallback'])
const FALLBACK_VALUES: readonly Fallback[] = ['blocking', 'shell']
const DYNAMIC_VALUES: readonly Dynamic[] = ['auto', 'force-static', 'force-dynamic', 'error']
const REVALIDATE_USAGE =
  'Use 0 to render on every request, a number of seconds, or false to cache until revalidated on demand.'

function langOf(file: string): 'js' | 'jsx' | 'ts' | 'tsx' {
  const ext = /\.([cm]?[jt]sx?)$/.exec(file)?.[1] ?? 'tsx'
  if (ext === 'tsx' || ext === 'jsx') return ext
  if (ext.endsWith('ts')) return 'ts'
  // Plain .js pages may still contain JSX; the jsx grammar is a superset.
  return ext === 'js' ? 'jsx' : 'js'
}

function locate(code: string, offset: number): { line: number; column: number } {
  const before = code.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 }
}

function codeFrame(code: string, line: number, column: number): string {
  const lines = code.split(/\r?\n/)
  const last = Math.min(lines.length, line + 1)
  const width = String(last).length
  const out: string[] = []
  for (let n = Math.max(1, line - 1); n <= last; n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${lines[n - 1]}`)
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(column - 1)}^`)
  }
  return out.join('\n')
}

function snippet(code: string, node: Span): string {
  const text = code.slice(node.start, node.end).replace(/\s+/g, ' ').trim()
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

function fail(code: string, file: string, offset: number, message: string): never {
  const { line, column } = locate(code, offset)
  throw new SegmentConfigError(`[vite-isr] ${file}:${line}: ${message}`, file, line, column, codeFrame(code, line, column))
}

function unwrap(node: Expression): Expression {
  // `60 as const`, `'auto' satisfies Dynamic` and parentheses keep the literal statically readable.
  while (node.type === 'TSAsExpression' || node.type === 'TSSatisfiesExpression' || node.type === 'ParenthesizedExpression') {
    node = node.expression
  }
  return node
}

function readRevalidate(code: string, file: string, expr: Expression): Revalidate {
  const node = unwrap(expr)
  const found = `(found \`${snippet(code, expr)}\`)`
  const prefix = `\`revalidate\` must be a literal number >= 0 or false ${found}.`
  if (node.type === 'Literal') {
    if (node.value === false) return false
    if (typeof node.value === 'number' && Number.isFinite(node.value) && node.value >= 0) return node.value
    if (typeof node.value === 'string') {
      const n = Number(node.value)
      const example = node.value.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : 60
      fail(code, file, expr.start, `${prefix} Write it as a number without quotes, e.g. \`export const revalidate = ${example}\`.`)
    }
    if (node.value === true) fail(code, file, expr.start, `${prefix} ${REVALIDATE_USAGE}`)
  }
  if (node.type === 'UnaryExpression' && node.operator === '-' && node.argument.type === 'Literal' && typeof node.argument.value === 'number') {
    fail(code, file, expr.start, `${prefix} ${REVALIDATE_USAGE}`)
  }
  const folded = fold(node)
  const example = folded !== undefined && Number.isFinite(folded) && folded >= 0 ? folded : 600
  fail(code, file, expr.start, `${prefix} Write the value out, e.g. \`export const revalidate = ${example}\`.`)
}

/** The value of a constant arithmetic expression (`60 * 5`), to suggest it written out. */
function fold(node: Expression): number | undefined {
  node = unwrap(node)
  if (node.type === 'Literal') return typeof node.value === 'number' ? node.value : undefined
  if (node.type === 'UnaryExpression' && (node.operator === '-' || node.operator === '+')) {
    const value = fold(node.argument as Expression)
    return value === undefined ? undefined : node.operator === '-' ? -value : value
  }
  if (node.type !== 'BinaryExpression') return undefined
  const left = fold(node.left as Expression)
  const right = fold(node.right as Expression)
  if (left === undefined || right === undefined) return undefined
  switch (node.operator) {
    case '+': return left + right
    case '-': return left - right
    case '*': return left * right
    case '/': return left / right
    case '%': return left % right
    case '**': return left ** right
    default: return undefined
  }
}

/** A literal that must be one of `allowed`; anything else fails the build with `rule`, what was found, and `hint`. */
function readLiteral<T extends string | boolean>(code: string, file: string, expr: Expression, allowed: readonly T[], rule: string, hint: string): T {
  const node = unwrap(expr)
  if (node.type === 'Literal' && allowed.includes(node.value as T)) return node.value as T
  fail(code, file, expr.start, `${rule} (found \`${snippet(code, expr)}\`). ${hint}`)
}

const readDynamicParams = (code: string, file: string, expr: Expression): boolean =>
  readLiteral(
    code, file, expr, [true, false],
    '`dynamicParams` must be a literal true or false',
    'Write `export const dynamicParams = false` to return 404 for params not listed by generateStaticParams, or true (the default) to render them on demand.',
  )

const readDynamic = (code: string, file: string, expr: Expression): Dynamic =>
  readLiteral(
    code, file, expr, DYNAMIC_VALUES,
    "`dynamic` must be one of the string literals 'auto', 'force-static', 'force-dynamic' or 'error'",
    "Write the string out, e.g. `export const dynamic = 'force-static'`.",
  )

const readFallback = (code: string, file: string, expr: Expression): Fallback =>
  readLiteral(
    code, file, expr, FALLBACK_VALUES,
    "`fallback` must be the string literal 'blocking' or 'shell'",
    "Write `export const fallback = 'shell'` to show browsers the loading.tsx shell while a new page renders, or 'blocking' (the default) to make them wait for it.",
  )

function badDeclaration(code: string, file: string, name: string, node: Span): never {
  fail(
    code, file, node.start,
    `\`${name}\` must be declared as \`export const ${name} = <literal>\` (found \`${snippet(code, node)}\`). ` +
      'It is read from the source at build time, so it cannot be re-exported, renamed, destructured or declared with let/var.',
  )
}

type Binding = Declarator['id'] | Extract<Extract<Declarator['id'], { type: 'ArrayPattern' }>['elements'][number], { type: 'RestElement' }>

function bindingNames(pattern: Binding): string[] {
  switch (pattern.type) {
    case 'Identifier': return [pattern.name]
    case 'AssignmentPattern': return bindingNames(pattern.left)
    case 'ArrayPattern': return pattern.elements.flatMap((e) => (e ? bindingNames(e) : []))
    case 'ObjectPattern': return pattern.properties.flatMap((p) => bindingNames(p.type === 'RestElement' ? p : p.value))
    case 'RestElement': return bindingNames(pattern.argument)
  }
  return []
}

function parse(code: string, file: string): Program {
  try {
    return parseAst(code, { lang: langOf(file) }, file)
  } catch (err) {
    const e = err as { pos?: unknown; message?: string }
    const lines = String(e.message ?? err).split('\n')
    const reason = (lines[0].startsWith('Parse failed') ? lines[1] : lines[0]) || 'syntax error'
    const { line, column } = typeof e.pos === 'number' ? locate(code, e.pos) : { line: 1, column: 1 }
    throw new SegmentConfigError(
      `[vite-isr] ${file}:${line}: could not parse the module to read its exports (${reason}).`,
      file, line, column, codeFrame(code, line, column),
    )
  }
}

export function readSegmentConfig(code: string, file: string): ModuleExports {
  const names = new Set<string>()
  const config: SegmentConfig = {}

  for (const stmt of parse(code, file).body) {
    if (stmt.type === 'ExportDefaultDeclaration') names.add('default')
    if (stmt.type === 'ExportAllDeclaration' && stmt.exported) {
      const name = stmt.exported.type === 'Identifier' ? stmt.exported.name : String(stmt.exported.value)
      if (CONFIG_NAMES.has(name)) badDeclaration(code, file, name, stmt)
      names.add(name)
    }
    if (stmt.type !== 'ExportNamedDeclaration' || stmt.exportKind === 'type') continue

    for (const spec of stmt.specifiers) {
      if (spec.exportKind === 'type') continue
      const name = spec.exported.type === 'Identifier' ? spec.exported.name : String(spec.exported.value)
      if (CONFIG_NAMES.has(name)) badDeclaration(code, file, name, stmt)
      names.add(name)
    }

    const decl = stmt.declaration
    if (!decl || ('declare' in decl && decl.declare)) continue
    if (decl.type !== 'VariableDeclaration') {
      const name = 'id' in decl && decl.id?.type === 'Identifier' ? decl.id.name : undefined
      if (!name) continue
      if (CONFIG_NAMES.has(name)) badDeclaration(code, file, name, stmt)
      names.add(name)
      continue
    }
    for (const d of decl.declarations) {
      if (d.id.type !== 'Identifier') {
        for (const name of bindingNames(d.id)) {
          if (CONFIG_NAMES.has(name)) badDeclaration(code, file, name, stmt)
          names.add(name)
        }
        continue
      }
      const name = d.id.name
      names.add(name)
      if (!CONFIG_NAMES.has(name)) continue
      if (decl.kind !== 'const' || !d.init) badDeclaration(code, file, name, stmt)
      if (name === 'revalidate') config.revalidate = readRevalidate(code, file, d.init)
      else if (name === 'dynamicParams') config.dynamicParams = readDynamicParams(code, file, d.init)
      else if (name === 'fallback') config.fallback = readFallback(code, file, d.init)
      else config.dynamic = readDynamic(code, file, d.init)
    }
  }

  return {
    ...config,
    hasDefault: names.has('default'),
    hasLoader: names.has('loader'),
    hasGenerateStaticParams: names.has('generateStaticParams'),
    hasGenerateMetadata: names.has('generateMetadata'),
    hasMetadata: names.has('metadata'),
  }
}

/** The lowest revalidate wins; `false` means never, `undefined` means "not set". */
export function mergeRevalidate(values: (Revalidate | undefined)[]): Revalidate {
  let lowest: Revalidate = false
  for (const v of values) {
    if (v === undefined || v === false) continue
    if (lowest === false || v < lowest) lowest = v
  }
  return lowest
}

/** `layouts` are ordered from the root layout to the one nearest the page. */
export function effectiveConfig(
  layouts: SegmentConfig[],
  page: SegmentConfig,
): { revalidate: Revalidate; dynamicParams: boolean; dynamic: Dynamic; fallback: Fallback } {
  const chain = [...layouts, page]
  const nearest = <K extends keyof SegmentConfig>(key: K): SegmentConfig[K] =>
    chain.findLast((c) => c[key] !== undefined)?.[key]
  const forceDynamic = chain.some((c) => c.dynamic === 'force-dynamic')
  return {
    revalidate: forceDynamic ? 0 : mergeRevalidate(chain.map((c) => c.revalidate)),
    dynamicParams: nearest('dynamicParams') ?? true,
    dynamic: nearest('dynamic') ?? 'auto',
    fallback: nearest('fallback') ?? 'blocking',
  }
}
