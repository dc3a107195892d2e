/**
 * `vite` (dev): pages and route handlers render on every request through Vite's SSR
 * module runner, with HMR in the browser. Nothing is cached, as in `next dev`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isRunnableDevEnvironment, type Plugin, type ViteDevServer } from 'vite'
import { createLogger } from '../runtime/inspect/debug.js'
import { normalizePathname } from '../runtime/routes/path.js'
import { DEV_BUILD_ID, renderNotFound, renderPage, type RenderApp, type RenderResult } from '../runtime/render/render.js'
import { parsePayloadPath } from '../runtime/serve/payload.js'
import { registerRevalidationTarget } from '../runtime/cache/revalidate.js'
import { callRouteHandler } from '../runtime/serve/route-handlers.js'
import { fillPattern, type Params, type ServerEntry } from '../runtime/routes/route-table.js'
import { createRouter, type Router } from '../runtime/routes/router.js'
import { toWebRequest } from '../runtime/serve/web-request.js'
import { CLIENT_ENTRY_ID } from './entries.js'
import type { PluginState } from './state.js'

const DEV_HEADERS = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-isr-cache': 'BYPASS' }

export function devPlugin(state: PluginState): Plugin {
  return {
    name: 'vite-isr:dev',
    apply: 'serve',
    configureServer(server) {
      const log = createLogger()
      log.debug('dev', 'caching is off in dev: every request renders, revalidatePath / revalidateTag are accepted and logged')
      const logger = server.config.logger
      logger.info('[vite-isr] dev: caching is off (every request renders, as in next dev); `vite build` then `vite preview` or `node server.js` serve with ISR', { timestamp: true })
      /** One line per request, as `next dev` prints (silenced by `quiet` or --logLevel warn). */
      const requestLine = (req: IncomingMessage, res: ServerResponse, started: number) => {
        if (state.options.quiet) return
        logger.info(`[vite-isr] ${req.method} ${(req.url ?? '/').slice(0, 200)} ${res.statusCode} in ${Date.now() - started}ms (not cached in dev)`, { timestamp: true })
      }
      const unregister = registerRevalidationTarget({
        async invalidate(invalidation) {
          // The internal path/route tags of a revalidatePath are not what the user wrote: show the path.
          const call = invalidation.paths.length ? `revalidatePath ${invalidation.paths.join(' ')}` : `revalidateTag ${invalidation.tags.join(' ')}`
          log.debug('dev', `${call} accepted (caching is off in dev)`)
        },
        async regenerate() {},
      })
      // Unregistered when the server closes, also in middleware mode (no httpServer there).
      const close = server.close.bind(server)
      server.close = () => {
        unregister()
        return close()
      }

      const appPrefix = `${state.root}/${state.options.appDir}/`
      let router: Router | null = null
      server.watcher.on('all', (event, file) => {
        if (!file.startsWith(appPrefix)) return
        router = null
        state.invalidateTree()
        if (event === 'add' || event === 'unlink' || event === 'unlinkDir' || event === 'addDir') {
          for (const env of Object.values(server.environments)) {
            for (const id of [`\0${CLIENT_ENTRY_ID}`]) {
              const mod = env.moduleGraph.getModuleById(id)
              if (mod) env.moduleGraph.invalidateModule(mod)
            }
          }
        }
      })

      let preamble: string | undefined
      const devHead = async (url: string) => {
        if (preamble === undefined) {
          const html = await server.transformIndexHtml(url, '<!DOCTYPE html><html><head></head><body></body></html>')
          preamble = /<head>([\s\S]*)<\/head>/.exec(html)?.[1] ?? ''
        }
        return preamble
      }

      return () => {
        server.middlewares.use((req, res, next) => {
          const started = Date.now()
          handle(server, req, res).then((handled) => {
            if (!handled) return next()
            if (res.writableFinished) requestLine(req, res, started)
            else res.once('finish', () => requestLine(req, res, started))
          }, (error: unknown) => {
            if (error instanceof Error) server.ssrFixStacktrace(error)
            if (!reachableFromNetwork(server)) return next(error)
            // Vite's error page and overlay show the module's source: on a network, say where
            // to look instead, and keep the source in the terminal.
            server.config.logger.error(`[vite-isr] dev: ${req.method} ${req.url?.slice(0, 200)} failed`, { error: error as Error, timestamp: true })
            next(new Error(`[vite-isr] this page failed to render; the error and its source are in the dev server's terminal (not sent to clients while the server listens beyond localhost)`))
          })
        })
      }

      async function handle(server: ViteDevServer, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
        const checked = normalizePathname(req.url ?? '/')
        if (!checked.ok) return false
        // A page's data payload for client navigation: rendered like the page, never cached.
        const payload = parsePayloadPath(checked.pathname, DEV_BUILD_ID)
        const pathname = payload?.kind === 'payload' ? payload.pathname : checked.pathname
        const tree = state.tree()
        router ??= createRouter(tree.routes)
        const routed = router.match(pathname)
        // A payload names a page: of another build, or of a route handler, it is a 404.
        const match = payload?.kind === 'gone' || (payload && routed?.route.kind === 'route') ? null : routed
        const broken = match && tree.broken.get(match.route.file)
        if (broken) throw withLocation(broken, state.root)
        const ssr = server.environments.ssr
        if (!isRunnableDevEnvironment(ssr)) throw new Error('[vite-isr] the ssr environment cannot run modules in dev')
        const load = (file: string) => ssr.runner.import(`/${file}`) as Promise<Record<string, unknown>>
        if (match?.route.kind === 'route') {
          log.debug('dev', `${req.method} ${pathname} -> ${match.route.file}`)
          await callRouteHandler(await load(match.route.file), req, res, match.params, match.route.file)
          return true
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') return false
        const entry: ServerEntry = {
          routes: tree.routes,
          modules: Object.fromEntries(tree.files.map((file) => [file, () => load(file)])),
          app: { rootLayouts: tree.rootLayouts, notFound: tree.notFound, error: tree.error },
        }
        const head = await devHead(req.url ?? '/')
        const app: RenderApp = { entry, assets: () => ({ head, body: `<script type="module" src="/@id/__x00__${CLIENT_ENTRY_ID}"></script>` }) }
        const started = Date.now()
        let result: RenderResult
        if (!match || (!match.route.dynamicParams && !(await isStaticParam(entry, match.route.file, match.params, pathname)))) {
          result = await renderNotFound(app)
        } else {
          // As in production, only pages rendered per request (revalidate = 0) see the request.
          const request = match.route.revalidate === 0 ? toWebRequest(req) : undefined
          result = await renderPage(app, { route: match.route, params: match.params, pathname, request })
        }
        log.debug('dev', `${pathname} rendered in ${Date.now() - started}ms, status ${result.status} (caching is off in dev)`)
        if (payload !== undefined) {
          const body = payload.kind === 'payload' ? result.payload : undefined
          res.writeHead(body ? (result.status === 404 ? 404 : 200) : 404, { ...DEV_HEADERS, 'content-type': 'application/json; charset=utf-8' })
          res.end(req.method === 'HEAD' ? undefined : (body ?? '{"kind":"not-found"}'))
          return true
        }
        res.writeHead(result.status, { ...DEV_HEADERS, ...result.headers, 'cache-control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : result.body)
        return true
      }

      async function isStaticParam(entry: ServerEntry, file: string, params: Params, pathname: string): Promise<boolean> {
        const route = entry.routes.find((r) => r.file === file)!
        if (!route.hasGenerateStaticParams) return false
        const mod = await entry.modules[file]()
        const list = (await (mod.generateStaticParams as () => Promise<Params[]>)()) ?? []
        return list.some((p) => {
          try {
            return fillPattern(route, p) === fillPattern(route, params) || fillPattern(route, p) === pathname
          } catch {
            return false
          }
        })
      }
    },
  }
}

/** `vite --host` (or `server.host`) binds beyond loopback: anyone on the network can ask. */
export function reachableFromNetwork(server: Pick<ViteDevServer, 'config'>): boolean {
  const host = server.config.server.host
  if (host === undefined || host === false) return false
  if (host === true) return true
  return !/^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i.test(host)
}

/** A route mistake as Vite's overlay shows errors: the file, line and column, and its frame. */
function withLocation(error: Error, root: string): Error {
  const { file, line, column, frame } = error as Error & { file?: string; line?: number; column?: number; frame?: string }
  if (file) Object.assign(error, { id: `${root}/${file}`, loc: { file: `${root}/${file}`, line: line ?? 1, column: column ?? 1 }, frame })
  return error
}
