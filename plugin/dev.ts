/**
 * `vite` (dev): requests go through the runtime's one serving pipeline, as in production,
 * over a store that keeps nothing: pages and route handlers render on every request through
 * Vite's SSR module runner, with HMR in the browser, as in `next dev`. Routing, 404s,
 * redirects, headers and status codes are production's, and so are the loading shell of
 * `fallback = 'shell'` routes and draft mode; what dev adds is its own: the request log, HMR,
 * Vite's overlay for a broken route or a failed render, `quiet`, and holding the render a
 * shell started for its payload request (dev-shell.ts), since the store keeps nothing.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isRunnableDevEnvironment, loadEnv, type Connect, type Plugin, type ViteDevServer } from 'vite'
import {
  createDraftMode,
  createEnvironment,
  createLogger,
  DEV_BUILD_ID,
  createNullCacheHandler,
  MIN_DRAFT_SECRET_LENGTH,
  registerRevalidationTarget,
  resolveDraftSecret,
  StaticParamsError,
  type DevServing,
  type Environment,
} from '../runtime/environment.js'
import type { Logger } from '../runtime/inspect/debug.js'
import type { RouteDefinition, ServerEntry } from '../runtime/routes/route-table.js'
import { createShellRenders, type ShellRenders } from './dev-shell.js'
import { CLIENT_ENTRY_ID } from './entries.js'
import type { AppTree } from './routes.js'
import type { PluginState } from './state.js'

/** The debug log's events that mean something in dev (ISR_DEBUG_CACHE=1). */
const DEV_DEBUG_EVENTS = new Set(['dev', 'reject', 'redirect', 'bypass', 'revalidatePath', 'revalidateTag'])

interface DevApp {
  env: Environment
  tree: AppTree
}

export function devPlugin(state: PluginState): Plugin {
  return {
    name: 'vite-isr:dev',
    apply: 'serve',
    configureServer(server) {
      const base = createLogger()
      // Failed renders are shown by Vite's error page, which logs them; the rest, with stacks mapped to the source.
      const log: Logger = {
        debugEnabled: base.debugEnabled,
        // The cache's own events (miss, set, regenerate) would describe a store that keeps nothing.
        debug: (event, subject, fields) => DEV_DEBUG_EVENTS.has(event) && base.debug(event, subject, fields),
        warn: base.warn,
        error(message, error) {
          if (error instanceof Error) server.ssrFixStacktrace(error)
          base.error(message, error)
        },
      }
      log.debug('dev', 'caching is off in dev: every request renders, revalidatePath / revalidateTag are accepted and logged')
      const logger = server.config.logger
      logger.info('[vite-isr] dev: caching is off (every request renders, as in next dev); `vite build` then `vite preview` or `node server.js` serve with ISR', { timestamp: true })
      /** One line per request, as `next dev` prints (silenced by `quiet` or --logLevel warn). */
      const requestLine = (req: IncomingMessage, res: ServerResponse, started: number) => {
        log.debug('dev', `${(req.url ?? '/').split('?')[0].slice(0, 200)} rendered in ${Date.now() - started}ms, status ${res.statusCode} (caching is off in dev)`)
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
        shells.clear()
        current?.then(({ env }) => env.close(), () => {})
        return close()
      }

      /** Each request's `next`, for a render that fails: Vite's error page and overlay answer it. */
      const nextOf = new WeakMap<IncomingMessage, Connect.NextFunction>()
      const store = createNullCacheHandler()
      /** Renders loading shells started, for their payload requests (dev-shell.ts); shared by every version of the app. */
      const shells: DevServing['shells'] & Pick<ShellRenders<unknown>, 'clear'> = createShellRenders()
      // Draft mode as production has it, with production's secret: ISR_DRAFT_SECRET, from the
      // environment or Vite's .env files (the environment wins, as Vite has it). With none set,
      // a key of this server's own, as `next dev` makes its preview keys: draft mode works
      // without setup, and its cookies end with the server. The key is kept in memory only. A
      // secret set too short stays production's mistake: a warning, and draft mode off.
      const warnings: string[] = []
      const loaded = loadEnv(server.config.mode, server.config.envDir, 'ISR_DRAFT_SECRET')
      const configured = resolveDraftSecret(undefined, warnings, loaded)
      const unset = loaded.ISR_DRAFT_SECRET === undefined || loaded.ISR_DRAFT_SECRET === ''
      const draft = createDraftMode({ secret: configured ?? (unset ? randomBytes(MIN_DRAFT_SECRET_LENGTH).toString('hex') : undefined), now: Date.now })
      for (const warning of warnings) log.warn(warning)
      /**
       * The paths `generateStaticParams` gives each route with `dynamicParams = false`, asked
       * once per version of the page module: a 404 is decided as production decides it, from
       * that list, without calling it per request. An edit to the page, or to a module it
       * imports, makes a new module and so asks again.
       */
      const pathsByModule = new WeakMap<object, Promise<ReadonlySet<string>>>()
      const latest = new Map<string, ReadonlySet<string>>()
      const admitted = {
        has(pathname: string): boolean {
          for (const paths of latest.values()) if (paths.has(pathname)) return true
          return false
        },
      }
      let current: Promise<DevApp> | null = null

      const appPrefix = `${state.root}/${state.options.appDir}/`
      server.watcher.on('all', (event, file) => {
        // A held render was made by the code before the edit.
        shells.clear()
        if (file.replaceAll('\\', '/').startsWith(appPrefix)) {
          current = null
          state.invalidateTree()
          if (event === 'add' || event === 'unlink' || event === 'unlinkDir' || event === 'addDir') {
            for (const env of Object.values(server.environments)) {
              for (const id of [`\0${CLIENT_ENTRY_ID}`]) {
                const mod = env.moduleGraph.getModuleById(id)
                if (mod) env.moduleGraph.invalidateModule(mod)
              }
            }
          }
        }
      })

      let preamble: Promise<string> | undefined
      const devHead = () =>
        (preamble ??= server.transformIndexHtml('/', '<!DOCTYPE html><html><head></head><body></body></html>').then((html) => /<head>([\s\S]*)<\/head>/.exec(html)?.[1] ?? '')).catch((error: unknown) => {
          preamble = undefined
          throw error
        })

      async function createDevApp(): Promise<DevApp> {
        const ssr = server.environments.ssr
        if (!isRunnableDevEnvironment(ssr)) throw new Error('[vite-isr] the ssr environment cannot run modules in dev')
        const load = (file: string) => ssr.runner.import(`/${file}`) as Promise<Record<string, unknown>>
        const tree = state.tree()
        const entry: ServerEntry = {
          routes: tree.routes,
          modules: Object.fromEntries(tree.files.map((file) => [file, () => load(file)])),
          app: { rootLayouts: tree.rootLayouts, notFound: tree.notFound, error: tree.error },
        }
        const head = await devHead()
        const body = `<script type="module" src="/@id/__x00__${CLIENT_ENTRY_ID}"></script>`
        const env = createEnvironment(
          { entry, buildId: DEV_BUILD_ID, assets: () => ({ head, body }), base: server.config.base, prerendered: admitted },
          {
            store,
            log,
            expireTime: state.options.expireTime,
            // A render that fails in dev is retried on the next request, not after a back-off.
            retryBackoffMs: { min: 1, max: 1 },
            dev: {
              renderFailed(req, _res, error) {
                const next = nextOf.get(req)
                if (next) next(error)
              },
              shells,
            },
            draft,
          },
        )
        return { env, tree }
      }

      function devApp(): Promise<DevApp> {
        const made = (current ??= createDevApp())
        made.catch(() => {
          if (current === made) current = null
        })
        return made
      }

      async function learnPaths(env: Environment, route: RouteDefinition): Promise<void> {
        const mod = await env.entry.modules[route.file]()
        let paths = pathsByModule.get(mod)
        if (!paths) {
          const asked = env.staticPaths(route).then((list) => new Set(list.map((p) => p.pathname)))
          pathsByModule.set(mod, (paths = asked))
          asked.catch(() => pathsByModule.delete(mod))
        }
        latest.set(route.file, await paths)
      }

      /** Before the pipeline: a broken route throws to Vite's overlay; static params are known. */
      async function prepare(req: IncomingMessage): Promise<Environment> {
        const { env, tree } = await devApp()
        const match = env.match(req.url ?? '/')
        if (!match) return env
        const broken = tree.broken.get(match.route.file)
        if (broken) throw withLocation(broken, state.root)
        if (match.route.kind === 'page' && !match.route.dynamicParams) {
          try {
            await learnPaths(env, match.route)
          } catch (error) {
            // A mistake in generateStaticParams is a route error: Vite's overlay shows the file.
            throw error instanceof StaticParamsError ? withLocation(error, state.root) : error
          }
        }
        return env
      }

      return () => {
        server.middlewares.use((req, res, next) => {
          const started = Date.now()
          let passed = false
          const fail = (error: unknown) => {
            passed = true
            if (error instanceof Error) server.ssrFixStacktrace(error)
            if (!reachableFromNetwork(server)) return next(error)
            // Vite's error page and overlay show the module's source: on a network, say where
            // to look instead, and keep the source in the terminal.
            server.config.logger.error(`[vite-isr] dev: ${req.method} ${req.url?.slice(0, 200)} failed`, { error: error as Error, timestamp: true })
            next(new Error(`[vite-isr] this page failed to render; the error and its source are in the dev server's terminal (not sent to clients while the server listens beyond localhost)`))
          }
          res.once('finish', () => {
            if (!passed) requestLine(req, res, started)
          })
          prepare(req).then((env) => {
            nextOf.set(req, fail)
            env.pipeline(req, res, (error?: unknown) => {
              passed = true
              next(error)
            })
          }, fail)
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
