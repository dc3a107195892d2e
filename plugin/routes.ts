/**
 * `app/` -> the route table (App Router conventions): `page`, `route`, nested `layout`,
 * `[param]`, `[...catchAll]`, `[[...optional]]`, `(group)` folders that add no URL
 * segment, `_private` folders that are ignored, and the root `not-found` / `error`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import type { RouteDefinition, RouteSegment } from '../runtime/routes/route-table.js'
import { effectiveConfig, readSegmentConfig, type ModuleExports, type SegmentConfig } from './segment-config.js'

const EXTENSIONS = ['.tsx', '.ts', '.jsx', '.js']

export interface AppTree {
  routes: RouteDefinition[]
  rootLayouts: string[]
  notFound: string | null
  error: string | null
  /** Every module the server entry loads (pages, layouts, handlers, special files). */
  files: string[]
  /** Modules the client hydrates (pages, layouts, not-found). */
  clientFiles: string[]
  /**
   * Dev only (`scanApp(..., { lenient: true })`): pages whose own module or a layout above
   * has a mistake, by file. Each is routed, and answers its error, while every other page works.
   */
  broken: Map<string, Error>
}

/** A mistake in `app/` the user must fix; `file` is relative to the project root. */
export class RouteError extends Error {
  override name = 'RouteError'
  constructor(
    message: string,
    public file: string,
    public line = 1,
    public column = 1,
    public frame?: string,
  ) {
    super(message)
  }
}

/** Next.js's metadata routes: `app/sitemap.ts` answers `/sitemap.xml`, `app/robots.ts` `/robots.txt`. */
const METADATA_ROUTES = [
  ['sitemap', '/sitemap.xml'],
  ['robots', '/robots.txt'],
] as const

/**
 * A route handler's own segment config (layouts do not wrap handlers). Its GET is cached when
 * it exports `revalidate` other than 0 or `dynamic = 'force-static'`; `fallback` is its
 * revalidate when it exports neither (0: not cached, for `route.ts`).
 */
function routeHandlerConfig(config: ModuleExports, fallback: 0 | false): Pick<RouteDefinition, 'revalidate' | 'dynamicParams' | 'dynamic' | 'hasGenerateStaticParams'> {
  const forced = config.dynamic === 'force-static'
  const revalidate = config.dynamic === 'force-dynamic' ? 0 : forced && !config.revalidate ? false : (config.revalidate ?? fallback)
  return {
    revalidate,
    dynamicParams: config.dynamicParams ?? true,
    dynamic: config.dynamic ?? (revalidate === 0 ? 'force-dynamic' : 'auto'),
    hasGenerateStaticParams: config.hasGenerateStaticParams,
  }
}

function findModule(dir: string, name: string): string | null {
  for (const ext of EXTENSIONS) if (existsSync(join(dir, name + ext))) return name + ext
  return null
}

function parseSegment(folder: string, file: string): RouteSegment | null {
  if (/^\(.+\)$/.test(folder)) return null
  let m = /^\[\[\.\.\.([A-Za-z_$][\w$]*)\]\]$/.exec(folder)
  if (m) return { type: 'optional-catch-all', name: m[1] }
  m = /^\[\.\.\.([A-Za-z_$][\w$]*)\]$/.exec(folder)
  if (m) return { type: 'catch-all', name: m[1] }
  m = /^\[([A-Za-z_$][\w$]*)\]$/.exec(folder)
  if (m) return { type: 'dynamic', name: m[1] }
  if (folder.includes('[') || folder.includes(']')) {
    throw new RouteError(`[vite-isr] ${file}: the folder name "${folder}" is not a valid route segment. Use [name], [...name] or [[...name]] with a JavaScript identifier as the name.`, file)
  }
  return { type: 'static', value: folder }
}

/** `/blog/[id]` is the same URL shape as `/blog/[slug]`: compare by shape, name params alike. */
function shapeOf(segments: RouteSegment[]): string {
  return '/' + segments.map((s) => (s.type === 'static' ? s.value : s.type === 'dynamic' ? '[]' : s.type === 'catch-all' ? '[...]' : '[[...]]')).join('/')
}

export function scanApp(root: string, appDir: string, { lenient = false }: { lenient?: boolean } = {}): AppTree {
  const appPath = join(root, appDir)
  if (!existsSync(appPath)) {
    throw new RouteError(`[vite-isr] no app directory at ${appDir}/. Create ${appDir}/page.tsx, or point isr({ appDir }) at your routes folder.`, appDir)
  }
  const rel = (abs: string) => relative(root, abs).split(sep).join('/')
  const configs = new Map<string, ModuleExports>()
  const readConfig = (file: string): ModuleExports => {
    let config = configs.get(file)
    if (!config) {
      config = readSegmentConfig(readFileSync(join(root, file), 'utf8'), file)
      configs.set(file, config)
    }
    return config
  }

  const routes: RouteDefinition[] = []
  const byShape = new Map<string, string>()
  const files: string[] = []
  const clientFiles: string[] = []
  const broken = new Map<string, Error>()
  const layoutErrors = new Map<string, Error | undefined>()
  const attempt = (check: () => void): Error | undefined => {
    try {
      check()
      return undefined
    } catch (error) {
      return error as Error
    }
  }

  function visit(dir: string, segments: RouteSegment[], layouts: string[], catchAllAbove: string | null, loadingAbove: string | null): void {
    const loadingName = findModule(dir, 'loading')
    const loading = loadingName ? rel(join(dir, loadingName)) : loadingAbove
    const layoutName = findModule(dir, 'layout')
    const chain = layoutName ? [...layouts, rel(join(dir, layoutName))] : layouts
    if (layoutName) {
      const file = chain[chain.length - 1]
      const checkLayout = () => {
        if (!readConfig(file).hasDefault) throw new RouteError(`[vite-isr] ${file} has no default export. Export the layout component: \`export default function Layout({ children }) { return children }\``, file)
      }
      // Dev: a broken layout breaks the pages under it (their config reads it again), no others.
      if (lenient) layoutErrors.set(file, attempt(checkLayout))
      else checkLayout()
      files.push(file)
      clientFiles.push(file)
    }
    const pageName = findModule(dir, 'page')
    const handlerName = findModule(dir, 'route')
    if (pageName && handlerName) {
      const file = rel(join(dir, handlerName))
      throw new RouteError(`[vite-isr] ${file} and ${rel(join(dir, pageName))} are in the same folder: a path is either a page or a route handler. Move the route handler into its own folder (e.g. api/).`, file)
    }
    const own = pageName ?? handlerName
    if (own) {
      const file = rel(join(dir, own))
      const pattern = '/' + segments.map((s) => (s.type === 'static' ? s.value : s.type === 'dynamic' ? `[${s.name}]` : s.type === 'catch-all' ? `[...${s.name}]` : `[[...${s.name}]]`)).join('/')
      const shape = shapeOf(segments)
      const other = byShape.get(shape)
      if (other) {
        throw new RouteError(`[vite-isr] ${file} and ${other} resolve to the same path (${pattern}). Remove one, or give them different URLs (route groups like (marketing) do not change the URL).`, file)
      }
      byShape.set(shape, file)
      files.push(file)
      if (pageName) {
        let page: ModuleExports
        let config: ReturnType<typeof effectiveConfig>
        let staticParamsLayouts: string[] = []
        let shell = false
        try {
          page = readConfig(file)
          if (!page.hasDefault) throw new RouteError(`[vite-isr] ${file} has no default export. Export the page component: \`export default function Page({ params, data }) { ... }\``, file)
          config = effectiveConfig(chain.map(readConfig) as SegmentConfig[], page)
          const layoutError = chain.map((layout) => layoutErrors.get(layout)).find(Boolean)
          if (layoutError) throw layoutError
          staticParamsLayouts = chain.filter((layout) => readConfig(layout).hasGenerateStaticParams)
          if (config.fallback === 'shell') {
            if (!loading) {
              throw new RouteError(`[vite-isr] ${file} exports \`fallback = 'shell'\` but there is no loading.tsx beside it or in a folder above: the shell shows that component while the page renders. Add ${rel(join(dir, 'loading.tsx'))} (\`export default function Loading() { return <p>Loading...</p> }\`), or remove the \`fallback\` export.`, file)
            }
            if (!readConfig(loading).hasDefault) throw new RouteError(`[vite-isr] ${loading} has no default export. Export the loading component: \`export default function Loading() { return <p>Loading...</p> }\``, loading)
            shell = true
          }
        } catch (error) {
          if (!lenient) throw error
          // Dev: this page answers its mistake (with Vite's overlay); the others keep working.
          broken.set(file, error as Error)
          page = { hasDefault: true, hasGenerateStaticParams: false } as ModuleExports
          config = { revalidate: 0, dynamicParams: true, dynamic: 'force-dynamic', fallback: 'blocking' }
        }
        routes.push({
          kind: 'page',
          pattern,
          segments,
          file,
          layouts: chain,
          revalidate: config.revalidate,
          dynamicParams: config.dynamicParams,
          dynamic: config.dynamic,
          hasGenerateStaticParams: page.hasGenerateStaticParams,
          ...(staticParamsLayouts.length > 0 ? { staticParamsLayouts } : {}),
          ...(shell ? { fallback: 'shell' as const, loading: loading! } : {}),
        })
        clientFiles.push(file)
        if (shell) {
          files.push(loading!)
          clientFiles.push(loading!)
        }
      } else {
        routes.push({ kind: 'route', pattern, segments, file, layouts: [], ...routeHandlerConfig(readConfig(file), 0) })
      }
    }
    if (segments.length === 0) {
      for (const [name, path] of METADATA_ROUTES) {
        const found = findModule(dir, name)
        if (!found) continue
        const file = rel(join(dir, found))
        const segment: RouteSegment = { type: 'static', value: path.slice(1) }
        const other = byShape.get(shapeOf([segment]))
        if (other) throw new RouteError(`[vite-isr] ${file} and ${other} both answer ${path}. Keep one of them.`, file)
        const config = readConfig(file)
        if (!config.hasDefault) throw new RouteError(`[vite-isr] ${file} has no default export. Export a function returning the ${name === 'sitemap' ? 'sitemap entries' : 'robots rules'}: \`export default function ${name}() { ... }\``, file)
        byShape.set(shapeOf([segment]), file)
        files.push(file)
        // Static by default, as in Next.js: cached until revalidated.
        routes.push({ kind: 'route', pattern: path, segments: [segment], file, layouts: [], ...routeHandlerConfig(config, false), metadata: name })
      }
    }
    for (const dirent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!dirent.isDirectory() || dirent.name.startsWith('_') || dirent.name.startsWith('.') || dirent.name === 'node_modules') continue
      const childDir = join(dir, dirent.name)
      const segment = parseSegment(dirent.name, rel(childDir))
      if (catchAllAbove && segment) {
        throw new RouteError(`[vite-isr] ${rel(childDir)}: nothing can follow the catch-all segment ${catchAllAbove}. Move this folder out of it.`, rel(childDir))
      }
      const isCatchAll = segment?.type === 'catch-all' || segment?.type === 'optional-catch-all'
      visit(childDir, segment ? [...segments, segment] : segments, chain, isCatchAll ? dirent.name : catchAllAbove, loading)
    }
  }

  visit(appPath, [], [], null, null)
  const rootLayoutName = findModule(appPath, 'layout')
  const special = (name: string) => {
    const found = findModule(appPath, name)
    return found ? rel(join(appPath, found)) : null
  }
  const notFound = special('not-found')
  const error = special('error')
  for (const file of [notFound, error]) {
    if (!file) continue
    if (!readConfig(file).hasDefault) throw new RouteError(`[vite-isr] ${file} has no default export. Export the component: \`export default function NotFound() { ... }\``, file)
    files.push(file)
  }
  if (notFound) clientFiles.push(notFound)
  return {
    routes,
    rootLayouts: rootLayoutName ? [rel(join(appPath, rootLayoutName))] : [],
    notFound,
    error,
    files: [...new Set(files)],
    clientFiles: [...new Set(clientFiles)],
    broken,
  }
}
