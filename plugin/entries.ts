/**
 * The generated modules: the server entry (route table + lazy page imports) that the
 * runtime loads, and the client entry that hydrates whichever page the HTML names.
 */
import { posix } from 'node:path'
import type { Plugin } from 'vite'
import { DATA_SCRIPT_ID } from '../runtime/environment.js'
import type { ClientRoute } from '../client/route-table.js'
import type { AppTree } from './routes.js'
import type { ResolvedPluginOptions } from './options.js'
import type { PluginState } from './state.js'

export const SERVER_ENTRY_ID = 'virtual:vite-isr/server-entry'
export const CLIENT_ENTRY_ID = 'virtual:vite-isr/client-entry'
export const BROWSER_RUNTIME_ID = 'virtual:vite-isr/browser-runtime'

const importer = (files: string[]) =>
  '{\n' + files.map((file) => `  ${JSON.stringify(file)}: () => import(${JSON.stringify('/' + file)}),`).join('\n') + '\n}'

/** `./cache-handler.ts` is relative to the Vite root (a virtual module has no folder of its own). */
const moduleSpecifier = (path: string) => (path.startsWith('.') ? '/' + posix.normalize(path) : path)

export function serverEntryCode(tree: AppTree, options: ResolvedPluginOptions): string {
  return [
    `export const routes = ${JSON.stringify(tree.routes)};`,
    `export const modules = ${importer(tree.files)};`,
    `export const app = ${JSON.stringify({ rootLayouts: tree.rootLayouts, notFound: tree.notFound, error: tree.error })};`,
    `export const config = ${JSON.stringify(options.runtimeDefaults)};`,
    options.cacheHandler ? `export { default as cacheHandler } from ${JSON.stringify(moduleSpecifier(options.cacheHandler))};` : '',
  ].join('\n')
}

/**
 * The client's route table: every route's segments (handlers too, so that they outrank pages
 * as on the server) and a page's modules, page first. Nothing else of the route goes to the browser.
 */
export function clientRoutes(tree: AppTree): ClientRoute[] {
  return tree.routes.map((route) => (route.kind === 'page' ? { segments: route.segments, files: [route.file, ...route.layouts] } : { segments: route.segments }))
}

/** The hydration entry: the page under the client router, which imports other pages from the same table. */
export function clientEntryCode(tree: AppTree, dataScriptId: string): string {
  return `import { hydratePage } from 'vite-isr/client/hydrate'
const modules = ${importer(tree.clientFiles)}
const routes = ${JSON.stringify(clientRoutes(tree))}
hydratePage(modules, ${JSON.stringify(dataScriptId)}, routes)
`
}

/** What `vite-isr/runtime` is in the browser: the navigation helpers fail loudly, nothing else exists. */
export const browserRuntimeCode = `const serverOnly = (name) => () => { throw new Error('[vite-isr] ' + name + '() runs on the server only (in a loader, a route handler or server code)') }
export const notFound = serverOnly('notFound')
export const redirect = serverOnly('redirect')
export const revalidatePath = serverOnly('revalidatePath')
export const revalidateTag = serverOnly('revalidateTag')
export const createISRHandler = serverOnly('createISRHandler')
export const draftMode = serverOnly('draftMode')
export const cache = (fn) => serverOnly('cache')
export const fetch = (...args) => globalThis.fetch(...args)
`

/** Turn a located user mistake into a Vite error with its frame (no stack: it is the user's file that needs fixing). */
export function reportUserError(ctx: { error(e: unknown): never }, error: unknown, root: string): never {
  const located = error as { file?: string; line?: number; column?: number; frame?: string; message?: string }
  if (error instanceof Error && typeof located.file === 'string') {
    ctx.error({
      message: error.message,
      id: `${root}/${located.file}`,
      loc: located.line ? { file: `${root}/${located.file}`, line: located.line, column: Math.max(0, (located.column ?? 1) - 1) } : undefined,
      frame: located.frame,
    } as never)
  }
  throw error
}

export function entriesPlugin(state: PluginState): Plugin {
  const RESOLVED = new Map([SERVER_ENTRY_ID, CLIENT_ENTRY_ID, BROWSER_RUNTIME_ID].map((id) => [id, '\0' + id]))
  return {
    name: 'vite-isr:entries',
    enforce: 'pre',
    resolveId(id) {
      if (RESOLVED.has(id)) return RESOLVED.get(id)
      // Pages import notFound/redirect from the runtime; in the browser they get a stub, never the server runtime.
      if (id === 'vite-isr/runtime' && this.environment.config.consumer === 'client') return RESOLVED.get(BROWSER_RUNTIME_ID)
    },
    load(id) {
      if (!id.startsWith('\0virtual:vite-isr/')) return
      try {
        if (id === RESOLVED.get(SERVER_ENTRY_ID)) return serverEntryCode(state.tree(), state.options)
        if (id === RESOLVED.get(CLIENT_ENTRY_ID)) return clientEntryCode(state.tree(), DATA_SCRIPT_ID)
        if (id === RESOLVED.get(BROWSER_RUNTIME_ID)) return browserRuntimeCode
      } catch (error) {
        reportUserError(this, error, state.root)
      }
    },
  }
}
