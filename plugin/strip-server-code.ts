import { parseAst, type Plugin } from 'vite'
import type { PluginState } from './state.js'
import MagicString, { type SourceMap } from 'magic-string'
import type { ESTree } from 'vite'

export const SERVER_ONLY_EXPORTS: readonly string[] = [
  'loader',
  'generateStaticParams',
  'generateMetadata',
  'revalidate',
  'dynamicParams',
  'dynamic',
  'metadata',
]

const SERVER_ONLY = new Set(SERVER_ONLY_EXPORTS)

// Types are erased before the browser sees the module, so references from type
// positions must not keep a runtime import (e.g. a database client) alive.
const TYPE_ONLY_NODE = /^TS(Type|Interface|DeclareFunction|ClassImplements)|^TS.*(Type|Keyword)$/
const NON_REF_KEYS: Record<string, string> = {
  MemberExpression: 'property',
  JSXMemberExpression: 'property',
  Property: 'key',
  MethodDefinition: 'key',
  PropertyDefinition: 'key',
  AccessorProperty: 'key',
  TSAbstractMethodDefinition: 'key',
  TSAbstractPropertyDefinition: 'key',
  TSAbstractAccessorProperty: 'key',
  JSXAttribute: 'name',
}

type AnyNode = { type: string; start: number; end: number; [key: string]: unknown }

/** One removable piece of a top-level statement: an import specifier, a declarator, a declaration, an export specifier. */
interface Unit {
  node: AnyNode
  names: string[]
  refs: Map<string, number>
  exported: boolean
  server: boolean
  dead: boolean
}

interface Group {
  stmt: AnyNode
  kind: 'import' | 'list' | 'single'
  units: Unit[]
  /** Set when a declaration lost its server-only export but may keep its binding. */
  unexported: boolean
}

function collectRefs(node: unknown, refs: Map<string, number>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectRefs(child, refs)
    return
  }
  if (!node || typeof node !== 'object') return
  const n = node as AnyNode
  if (typeof n.type !== 'string' || TYPE_ONLY_NODE.test(n.type)) return
  if (n.type === 'Identifier' || n.type === 'JSXIdentifier') {
    const name = n.name as string
    refs.set(name, (refs.get(name) ?? 0) + 1)
    if (n.type === 'Identifier') collectRefs(n.decorators, refs)
    return
  }
  if (n.type === 'MetaProperty' || n.type === 'JSXNamespacedName') return
  const skip = n.computed ? undefined : NON_REF_KEYS[n.type]
  for (const key in n) {
    if (key === 'parent' || key === 'label' || key === skip) continue
    collectRefs(n[key], refs)
  }
}

function bindingNames(pattern: unknown, out: string[] = []): string[] {
  const p = pattern as AnyNode | null
  if (!p) return out
  if (p.type === 'Identifier') out.push(p.name as string)
  else if (p.type === 'ObjectPattern') for (const prop of p.properties as AnyNode[]) bindingNames(prop.type === 'RestElement' ? prop : prop.value, out)
  else if (p.type === 'ArrayPattern') for (const el of p.elements as AnyNode[]) bindingNames(el, out)
  else if (p.type === 'RestElement') bindingNames(p.argument, out)
  else if (p.type === 'AssignmentPattern') bindingNames(p.left, out)
  return out
}

function unit(node: AnyNode, names: string[], exported: boolean, walk: unknown = node): Unit {
  const refs = new Map<string, number>()
  collectRefs(walk, refs)
  return { node, names, refs, exported, server: false, dead: false }
}

function exportedName(spec: AnyNode): string {
  const exported = spec.exported as AnyNode
  return exported.type === 'Identifier' ? (exported.name as string) : String(exported.value)
}

function buildGroup(stmt: AnyNode): Group {
  const group: Group = { stmt, kind: 'single', units: [], unexported: false }
  if (stmt.type === 'ImportDeclaration') {
    group.kind = 'import'
    if (stmt.importKind === 'type') return group
    for (const spec of stmt.specifiers as AnyNode[]) {
      const local = (spec.local as AnyNode).name as string
      group.units.push(unit(spec, spec.importKind === 'type' ? [] : [local], false, null))
    }
    return group
  }
  const isExport = stmt.type === 'ExportNamedDeclaration'
  const decl = (isExport ? stmt.declaration : stmt) as AnyNode | null
  if (isExport && !decl) {
    group.kind = 'list'
    for (const spec of stmt.specifiers as AnyNode[]) {
      const u = unit(spec, [], true, stmt.source ? null : spec.local)
      u.server = stmt.exportKind !== 'type' && spec.exportKind !== 'type' && SERVER_ONLY.has(exportedName(spec))
      group.units.push(u)
    }
  } else if (decl?.type === 'VariableDeclaration') {
    group.kind = 'list'
    for (const d of decl.declarations as AnyNode[]) {
      const names = bindingNames(d.id)
      const u = unit(d, names, isExport)
      u.server = isExport && names.length > 0 && names.every((name) => SERVER_ONLY.has(name))
      group.units.push(u)
    }
  } else if (decl && /^(FunctionDeclaration|ClassDeclaration|TSDeclareFunction)$/.test(decl.type) && decl.id) {
    const name = (decl.id as AnyNode).name as string
    const u = unit(stmt, [name], isExport)
    u.server = isExport && SERVER_ONLY.has(name)
    group.units.push(u)
  } else {
    group.units.push(unit(stmt, [], true))
  }
  return group
}

/** Removes `start..end` plus the rest of the line when only whitespace follows. */
function removeStatement(s: MagicString, code: string, start: number, end: number): void {
  const rest = /^[ \t]*(\r?\n|$)/.exec(code.slice(end))
  s.remove(start, rest ? end + rest[0].length : end)
}

/** Removes dead items of a comma-separated list together with their separators. */
function removeListItems(s: MagicString, units: Unit[]): void {
  units.forEach((u, i) => {
    if (!u.dead) return
    if (units.slice(i + 1).some((next) => !next.dead)) {
      s.remove(u.node.start, units[i + 1].node.start)
    } else {
      const prevKept = units.slice(0, i).reverse().find((prev) => !prev.dead)
      if (prevKept) s.remove(prevKept.node.end, u.node.end)
    }
  })
}

/** Returns the new code and a source map, or null when nothing was removed. `ast` is an ESTree Program of `code`. */
export function stripServerCode(code: string, ast: ESTree.Program, id: string): { code: string; map: SourceMap } | null {
  const groups = (ast.body as unknown as AnyNode[]).map(buildGroup)
  const units = groups.flatMap((g) => g.units)
  const candidates = new Set<string>()
  const kill = (u: Unit) => {
    u.dead = true
    for (const name of u.refs.keys()) candidates.add(name)
  }
  for (const group of groups) {
    for (const u of group.units) {
      if (!u.server) continue
      if (u.names.length === 0) kill(u)
      else {
        // The export goes; the binding itself only if nothing else uses it (DCE below).
        u.exported = false
        group.unexported = true
        for (const name of u.names) candidates.add(name)
      }
    }
  }
  if (!units.some((u) => u.server)) return null

  for (let changed = true; changed; ) {
    changed = false
    const counts = new Map<string, number>()
    for (const u of units) {
      if (!u.dead) for (const [name, n] of u.refs) counts.set(name, (counts.get(name) ?? 0) + n)
    }
    for (const u of units) {
      if (u.dead || u.exported || u.names.length === 0) continue
      const unused = u.names.every((name) => candidates.has(name) && (counts.get(name) ?? 0) - (u.refs.get(name) ?? 0) === 0)
      if (unused) {
        kill(u)
        changed = true
      }
    }
  }

  const s = new MagicString(code)
  for (const { stmt, kind, units: list, unexported } of groups) {
    const kept = list.filter((u) => !u.dead)
    if (kept.length === list.length && !unexported) continue
    const keptValueImports = kept.filter((u) => u.names.length > 0)
    // An import left with only type specifiers could still load the module under verbatimModuleSyntax.
    if (kept.length === 0 || (kind === 'import' && keptValueImports.length === 0)) {
      removeStatement(s, code, stmt.start, stmt.end)
    } else if (kind === 'import') {
      const named = kept.filter((u) => u.node.type === 'ImportSpecifier')
      const parts = kept.filter((u) => u.node.type !== 'ImportSpecifier').map((u) => code.slice(u.node.start, u.node.end))
      if (named.length) parts.push(`{ ${named.map((u) => code.slice(u.node.start, u.node.end)).join(', ')} }`)
      s.overwrite(stmt.start, (stmt.source as AnyNode).start, `import ${parts.join(', ')} from `)
    } else {
      if (kind === 'list') removeListItems(s, list)
      if (unexported && kept.some((u) => u.server)) {
        // A surviving server-only binding stays local; other names keep being exported.
        s.remove(stmt.start, (stmt.declaration as AnyNode).start)
        const stillExported = kept.filter((u) => !u.server).flatMap((u) => u.names)
        if (stillExported.length) s.appendLeft(stmt.end, `\nexport { ${stillExported.join(', ')} };`)
      }
    }
  }
  return { code: s.toString(), map: s.generateMap({ source: id, includeContent: true, hires: 'boundary' }) }
}

const APP_MODULE = /\/(page|layout|not-found|error)\.[jt]sx?$/

/**
 * Client builds only: strip server code from the app's page and layout modules, and refuse
 * `node:` imports reaching the browser bundle (they would mean server code leaked).
 */
export function stripServerCodePlugin(state: PluginState): Plugin {
  const inApp = (id: string) => id.startsWith(`${state.root}/${state.options.appDir}/`)
  const langOf = (file: string) => (file.endsWith('.tsx') ? 'tsx' : file.endsWith('.ts') ? 'ts' : file.endsWith('.jsx') ? 'jsx' : 'js')
  // What the browser last got for each module (source and stripped), to tell in dev whether
  // an edit touched only server code, which Fast Refresh cannot bring to an open page.
  const served = new Map<string, { source: string; client: string }>()
  return {
    name: 'vite-isr:strip-server-code',
    enforce: 'pre',
    applyToEnvironment: (environment) => environment.config.consumer === 'client',
    transform(code, id) {
      const file = id.split('?')[0]
      if (!inApp(file) || !APP_MODULE.test(file)) return
      const result = stripServerCode(code, this.parse(code, { lang: langOf(file) } as never) as unknown as ESTree.Program, file)
      if (this.environment.mode === 'dev') served.set(file, { source: code, client: result?.code ?? code })
      return result
    },
    async hotUpdate({ file, read }) {
      const last = served.get(file)
      if (!last) return
      const source = await read()
      if (source === last.source) return
      let client: string
      try {
        client = stripServerCode(source, parseAst(source, { lang: langOf(file) } as never) as unknown as ESTree.Program, file)?.code ?? source
      } catch {
        return // a syntax error: Vite's overlay reports it through the normal update
      }
      if (client !== last.client) return // the component changed: Fast Refresh applies it
      // Only the loader, generateMetadata or other server code changed: the open page needs
      // new data, which only a reload brings (its render shows the overlay if the loader throws).
      served.set(file, { source, client })
      this.environment.hot.send({ type: 'full-reload', path: '*' })
      return []
    },
    resolveId(source, importer, options) {
      // The dependency scanner reads pages before this plugin strips their loaders: what it
      // sees is not what the browser gets.
      if ((options as { scan?: boolean }).scan) return
      if (!importer || !(source.startsWith('node:') || NODE_BUILTINS.has(source.split('/')[0]))) return
      const from = importer.startsWith(state.root) ? importer.slice(state.root.length + 1) : importer
      this.error(
        `[vite-isr] ${from} imports "${source}" into the browser bundle. Use it only inside \`loader\`, \`generateStaticParams\` or \`generateMetadata\` (they are removed from the client), or move it to a server-only module.`,
      )
    },
  }
}

// Bare names that only exist on the server (npm has browser packages named `events`, `buffer`, ...).
const NODE_BUILTINS = new Set(['fs', 'child_process', 'net', 'tls', 'dgram', 'cluster', 'worker_threads', 'http2', 'v8', 'vm', 'inspector'])
