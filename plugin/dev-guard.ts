/**
 * `vite` (dev) serves every file under the project root to whoever can reach it, and `vite
 * --host` makes that the network. This plugin keeps what only the server may read out of
 * the browser's reach: a source module is served only once the client's module graph
 * imports it (a browser never asks for one before its importer was served), so server
 * modules, route handlers and whatever only loaders import stay out; so do configuration,
 * databases, and the raw source of any module (a page's `?raw` would show its loader).
 */
import { basename, isAbsolute, relative, sep } from 'node:path'
import type { Connect, Plugin } from 'vite'
import type { PluginState } from './state.js'

/** Vite's own defaults, kept: a `server.fs.deny` of ours would otherwise replace them. */
const VITE_DENY = ['.env', '.env.*', '*.{crt,pem}', '**/.git/**']
/** Database files (SQLite and its journals) anywhere under the root. */
const DATA_DENY = ['**/*.{db,sqlite,sqlite3}', '**/*.{db,sqlite,sqlite3}-{wal,shm,journal}']

const SOURCE = /\.(?:[cm]?[jt]sx?)$/
const RAW_QUERY = /(?:^|&)(?:raw|inline)(?:&|=|$)/
const CONFIG = /^(?:vite|vitest|tsconfig|package|server|\.env)(?:\.|$)/
const DATABASE = /\.(?:db|sqlite3?)(?:-(?:wal|shm|journal))?$/

export function devGuardPlugin(state: PluginState): Plugin {
  return {
    name: 'vite-isr:dev-guard',
    apply: 'serve',
    config() {
      return { server: { fs: { deny: [...VITE_DENY, ...DATA_DENY] } } }
    },
    configureServer(server) {
      // Registered now (not in a returned hook), so it runs before Vite's transform and
      // static-file middlewares see the request.
      server.middlewares.use(function isrDevGuard(req, res, next) {
        const client = server.environments.client.moduleGraph
        const reason = refused(req.url ?? '/', state, (file) => (client.getModulesByFile(file)?.size ?? 0) > 0)
        if (!reason) return next()
        server.config.logger.warn(`[vite-isr] dev: refused ${req.url?.slice(0, 200)} (${reason})`, { timestamp: true })
        res.statusCode = 404
        res.setHeader('content-type', 'text/plain; charset=utf-8')
        res.end('Not Found')
      } satisfies Connect.NextHandleFunction)
    },
  }
}

/** Why a dev request must not be answered with a file of the project, or `undefined`. */
export function refused(url: string, state: Pick<PluginState, 'root' | 'options'>, inClientGraph: (file: string) => boolean): string | undefined {
  const q = url.indexOf('?')
  const query = q === -1 ? '' : url.slice(q + 1)
  let path = q === -1 ? url : url.slice(0, q)
  try {
    path = decodeURIComponent(path)
  } catch {
    return undefined // not a file request Vite would serve either
  }
  if (path.startsWith('/@fs/')) path = path.slice('/@fs'.length)
  else if (path.startsWith('/@id/') || path.startsWith('/@vite/') || path.startsWith('/@react-refresh')) return undefined
  else path = state.root + path
  const rel = relative(state.root, path).replaceAll(sep, '/')
  const inRoot = rel !== '' && !rel.startsWith('../') && !isAbsolute(rel)
  const name = basename(path)
  if (SOURCE.test(name) && RAW_QUERY.test(query)) return 'raw source of a module'
  if (DATABASE.test(name)) return 'a database file'
  if (!inRoot) return undefined
  if (!rel.includes('/') && CONFIG.test(name)) return 'configuration or server entry'
  const appDir = state.options.appDir + '/'
  if (rel.startsWith(appDir) && /^(?:route|sitemap|robots)\.[cm]?[jt]sx?$/.test(name)) return 'a route handler'
  if (SOURCE.test(name) && !rel.startsWith('node_modules/') && !inClientGraph(path)) return 'a module no client module imports'
  return undefined
}
