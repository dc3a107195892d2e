/**
 * Route + params -> a rendered page: loader, metadata, layouts and page through React,
 * then the document around it. The same function prerenders at build, regenerates at
 * run time and renders per request in dev, so all three produce the same bytes.
 */
import { createElement, type ComponentType, type ReactNode } from 'react'
import { renderToString } from 'react-dom/server'
import { prerenderToNodeStream } from 'react-dom/static'
import {
  dataScript,
  defaultHeadTags,
  injectIntoDocument,
  mergeMetadata,
  metadataTags,
  type Metadata,
} from './document.js'
import { sendableLocation } from './header-values.js'
import { headMeta, serializePayload, type PagePayload } from './payload.js'
import type { HydrationData } from '../../client/payload.js'
import { isNotFoundSignal, isRedirectSignal } from './navigation.js'
import { draftScope, lowerRevalidate, renderContext, type RenderContext } from '../cache/render-context.js'
import type { DataCache } from '../cache/data-cache.js'
import { implicitTags } from '../cache/revalidate.js'
import { RouterContext, type AppRouter } from '../../client/context.js'
import type { Params, Revalidate, RouteDefinition, ServerEntry } from '../routes/route-table.js'

/** Tags and scripts for one page, computed once per route (see `assets.ts`). */
export interface PageAssets {
  head: string
  body: string
  /** URLs of the page's and its layouts' chunks, for the data payload (none in dev: Vite serves modules). */
  scripts?: string[]
  styles?: string[]
}

export interface RenderApp {
  entry: ServerEntry
  assets(pageFile: string, layouts: string[]): PageAssets
  /** Where `cache()` and `fetch()` keep data during renders; none in dev. */
  dataCache?: DataCache
  /** The build rendered, written into the page for client navigation; the data cache's by default. */
  buildId?: string
}

/** The build id pages name when the app gives none (dev). */
export const DEV_BUILD_ID = 'development'

export interface RenderResult {
  status: number
  body: Buffer
  headers: Record<string, string>
  /** Tags collected from the data the render used. */
  tags: string[]
  /** The lowest of the route's revalidate and the revalidate of the data it used. */
  revalidate: Revalidate
  /** The page's data payload (JSON), from the same render: pages only, not the app's own 404 and 500 pages. */
  payload?: Buffer
}

type Module = Record<string, unknown>

export interface LoaderArgs {
  params: Params
  /** Only for pages rendered per request (`revalidate = 0`); cached pages are shared by everyone. */
  request?: Request
}

/**
 * What rendering learns about one server entry, kept for as long as the entry. Dev builds an
 * entry per request, so edits there are never held back by it.
 */
interface EntryState {
  /** One import() per module: a repeated import() of a loaded module still walks the ESM loader (resolve, module map, a job). */
  modules: Map<string, Promise<Module>>
  /** Pages whose render suspended (or failed inside a Suspense boundary) once: they go straight to `prerenderToNodeStream`. */
  suspending: Set<string>
}

const entryStates = new WeakMap<ServerEntry, EntryState>()

function stateOf(entry: ServerEntry): EntryState {
  let state = entryStates.get(entry)
  if (!state) entryStates.set(entry, (state = { modules: new Map(), suspending: new Set() }))
  return state
}

export function loadModule(app: RenderApp, file: string): Promise<Module> {
  const loaded = stateOf(app.entry).modules
  let mod = loaded.get(file)
  if (!mod) {
    const load = app.entry.modules[file]
    if (!load) return Promise.reject(new Error(`[vite-isr] ${file} is not in the server bundle; rebuild the app`))
    const pending = load()
    // A failed import is tried again on the next render (a transient error must not stick).
    pending.catch(() => loaded.get(file) === pending && loaded.delete(file))
    loaded.set(file, (mod = pending))
  }
  return mod
}

function componentOf(mod: Module, file: string): ComponentType<any> {
  const component = mod.default
  if (typeof component !== 'function' && (typeof component !== 'object' || component === null)) {
    throw new TypeError(`[vite-isr] ${file} has no default export. Export the page or layout component: \`export default function Page() { ... }\``)
  }
  return component as ComponentType<any>
}

/**
 * React leaves this marker where a Suspense boundary could not be rendered on the server
 * (it suspended, or threw): `renderToString` then sent the fallback. Page text cannot
 * contain it (React escapes `<`); raw HTML that does only costs a second render.
 */
const CLIENT_RENDERED_BOUNDARY = '<!--$!'

/**
 * Render a React tree to a complete document: waits for every Suspense boundary.
 * `renderToString` first, which does the same work as the streaming renderer in well under
 * half its time (no stream, no scheduling) and gives the same bytes for a tree that does not
 * suspend; a tree that does is rendered again with `prerenderToNodeStream`, which waits.
 */
async function renderDocument(app: RenderApp, pageFile: string, tree: ReactNode, signal: AbortSignal | undefined): Promise<string> {
  const { suspending } = stateOf(app.entry)
  if (!suspending.has(pageFile)) {
    const html = renderToString(tree)
    if (!html.includes(CLIENT_RENDERED_BOUNDARY)) return html
    suspending.add(pageFile)
  }
  const errors: unknown[] = []
  const { prelude } = await prerenderToNodeStream(tree, {
    signal,
    onError(error) {
      errors.push(error)
    },
  })
  const chunks: Buffer[] = []
  for await (const chunk of prelude) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  // An error inside a Suspense boundary still yields HTML (a client-rendered fallback):
  // for a cached page that is a broken page, so it fails the render instead.
  if (errors.length > 0) throw errors[0]
  return Buffer.concat(chunks).toString('utf8')
}

function wrapInLayouts(page: ReactNode, layouts: ComponentType<any>[], params: Params, pathname: string | null, search: string): ReactNode {
  let tree = page
  for (let i = layouts.length - 1; i >= 0; i--) tree = createElement(layouts[i], { params }, tree)
  // `usePathname()` / `useParams()` (and `useSearchParams()` on a page rendered per request)
  // read the same values on the server as after hydration.
  return pathname === null ? tree : createElement(RouterContext.Provider, { value: { router: SERVER_ROUTER, pathname, search, params } }, tree)
}

const SERVER_ROUTER: AppRouter = Object.freeze({ push() {}, replace() {}, back() {}, forward() {}, refresh() {}, prefetch() {} })

async function renderTree(
  app: RenderApp,
  pageFile: string,
  layoutFiles: string[],
  props: { params: Params; data: unknown },
  metadataFrom: (mods: Module[]) => Promise<Metadata>,
  signal: AbortSignal | undefined,
  hydrate: boolean,
  pathname: string | null = null,
  shell = false,
  search = '',
): Promise<{ html: string; metadata: Metadata; assets: PageAssets }> {
  const mods = await Promise.all([pageFile, ...layoutFiles].map((file) => loadModule(app, file)))
  const [pageMod, ...layoutMods] = mods
  const Page = componentOf(pageMod, pageFile)
  const layouts = layoutMods.map((mod, i) => componentOf(mod, layoutFiles[i]))
  const metadata = await metadataFrom([...layoutMods, pageMod])
  const html = await renderDocument(app, pageFile, wrapInLayouts(createElement(Page, props), layouts, props.params, pathname, search), signal)
  const assets = hydrate ? app.assets(pageFile, layoutFiles) : { head: '', body: '' }
  const payload: HydrationData = { page: pageFile, layouts: layoutFiles, params: props.params, data: props.data, buildId: buildIdOf(app), ...(search ? { search } : {}), ...(shell ? { shell: true } : {}) }
  const body = hydrate ? dataScript(payload) + assets.body : ''
  return { html: injectIntoDocument(html, metadataTags(metadata) + assets.head, body, defaultHeadTags(html)), metadata, assets }
}

function buildIdOf(app: RenderApp): string {
  return app.buildId ?? app.dataCache?.buildId ?? DEV_BUILD_ID
}

const payloadBytes = (payload: PagePayload) => exactBuffer(serializePayload(payload))
const NOT_FOUND_PAYLOAD = serializePayload({ kind: 'not-found' })

const HTML_HEADERS = { 'content-type': 'text/html; charset=utf-8' }

/**
 * A body in a buffer of its own size. Buffer.from() puts small strings in a shared 8 KB
 * pool block, which a cached entry would then keep alive whole.
 */
export function exactBuffer(text: string): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(text))
  buffer.write(text, 'utf8')
  return buffer
}

/**
 * The page's revalidate is the lowest of its segment config and the data it used, and data
 * with `revalidate: 0` makes it dynamic (Next.js's rule), unless the route says otherwise:
 * `force-static` keeps it cached, `error` refuses to become dynamic.
 */
export function effectiveRevalidate(route: RouteDefinition, fromData: Revalidate): Revalidate {
  const lowest = lowerRevalidate(route.revalidate, fromData)
  if (lowest !== 0 || route.revalidate === 0) return lowest
  if (route.dynamic === 'force-static') return route.revalidate
  if (route.dynamic === 'error') {
    throw new Error(`[vite-isr] ${route.file} has \`dynamic = 'error'\` but its data has revalidate 0 (cache: 'no-store' or revalidate: 0), which would render it per request. Give that data a revalidate, or remove \`dynamic = 'error'\`.`)
  }
  return 0
}

export interface RenderPageOptions {
  route: RouteDefinition
  params: Params
  pathname: string
  request?: Request
  signal?: AbortSignal
  /** Rendered for a draft mode request: `draftMode().isEnabled` is true and no data is cached. */
  draft?: boolean
}

/** What a render of `route` at `pathname` collects (the tags and the lowest revalidate of the data it reads) and reads from. */
export function newRenderContext(route: RouteDefinition, pathname: string, reads: Pick<RenderContext, 'perRequest' | 'dataCache' | 'signal'>): RenderContext {
  return { pathname, implicitTags: implicitTags(pathname, route), tags: new Set(), revalidate: route.revalidate, ...reads }
}

/**
 * Render a page route. Resolves a 200 page, a 404 (`notFound()`) or a redirect
 * (`redirect()`); rejects when the loader, the metadata or React throws.
 */
export async function renderPage(app: RenderApp, options: RenderPageOptions): Promise<RenderResult> {
  const { route, pathname, signal } = options
  const context = newRenderContext(route, pathname, {
    perRequest: route.revalidate === 0 || options.draft === true,
    dataCache: options.draft ? undefined : app.dataCache,
    signal,
  })
  // A render for the cache may start inside a draft request (revalidatePath({ regenerate })
  // in a route handler): it must not see that request's draft mode.
  const run = () => renderContext.run(context, () => renderWithContext(app, options, context))
  return options.draft ? draftScope.run({ enabled: true }, run) : draftScope.exit(run)
}

async function renderWithContext(app: RenderApp, options: RenderPageOptions, context: RenderContext): Promise<RenderResult> {
  const { route, params, request, signal } = options
  const pageMod = await loadModule(app, route.file)
  let data: unknown
  try {
    const loader = pageMod.loader as ((args: LoaderArgs) => unknown) | undefined
    data = typeof loader === 'function' ? await loader({ params, request }) : undefined
  } catch (error) {
    if (isNotFoundSignal(error)) {
      const notFound = await renderNotFound(app, signal)
      return { ...notFound, tags: [...context.tags], revalidate: effectiveRevalidate(route, context.revalidate), payload: exactBuffer(NOT_FOUND_PAYLOAD) }
    }
    if (isRedirectSignal(error)) {
      const location = sendableLocation(error.url)
      return {
        status: error.status,
        body: Buffer.alloc(0),
        headers: { location },
        tags: [...context.tags],
        revalidate: effectiveRevalidate(route, context.revalidate),
        payload: payloadBytes({ kind: 'redirect', location, status: error.status }),
      }
    }
    throw error
  }
  const metadataFrom = async (mods: Module[]): Promise<Metadata> => {
    const list: (Metadata | undefined)[] = []
    for (const mod of mods) {
      const generate = mod.generateMetadata as ((args: { params: Params; data: unknown }) => Metadata | Promise<Metadata>) | undefined
      list.push(typeof generate === 'function' ? await generate({ params, data }) : (mod.metadata as Metadata | undefined))
    }
    return mergeMetadata(list)
  }
  // Only a page rendered per request has a request, and so a query string.
  const search = request ? new URL(request.url).search : ''
  const { html, metadata, assets } = await renderTree(app, route.file, route.layouts, { params, data }, metadataFrom, signal, true, options.pathname, false, search)
  const payload = payloadBytes({
    kind: 'page',
    page: route.file,
    layouts: route.layouts,
    params,
    data,
    head: { title: typeof metadata.title === 'string' ? metadata.title : undefined, meta: headMeta(metadata) },
    scripts: assets.scripts ?? [],
    styles: assets.styles ?? [],
  })
  return {
    status: 200,
    body: exactBuffer(html),
    headers: HTML_HEADERS,
    tags: [...context.tags],
    revalidate: effectiveRevalidate(route, context.revalidate),
    payload,
  }
}

/**
 * The loading shell of a `fallback = 'shell'` route (SPEC §9): its layouts with the route's
 * `loading.tsx` in the page's place, and the layouts' own metadata. It runs no loader; its
 * client code loads the page's payload (joining the one render) and shows the page in place.
 */
export async function renderShell(app: RenderApp, options: { route: RouteDefinition; params: Params; pathname: string; signal?: AbortSignal }): Promise<Buffer> {
  const { route, params, pathname, signal } = options
  if (route.loading === undefined) throw new Error(`[vite-isr] ${route.file} has no loading component for its shell; rebuild the app`)
  const layoutMetadata = async (mods: Module[]) => mergeMetadata(mods.slice(0, -1).map((mod) => mod.metadata as Metadata | undefined))
  const { html } = await renderTree(app, route.loading, route.layouts, { params, data: undefined }, layoutMetadata, signal, true, pathname, true)
  return exactBuffer(html)
}

/** The 404 and error pages are never indexed, whatever the layouts' metadata says (as Next.js). */
const noindexMetadata = async (mods: Module[]) => ({ ...mergeMetadata(mods.map((mod) => mod.metadata as Metadata | undefined)), robots: 'noindex' })

const PLAIN_HEAD = '<meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width, initial-scale=1">'
const PLAIN_404 = `<!DOCTYPE html><html><head>${PLAIN_HEAD}<title>404: This page could not be found</title></head><body><h1>404</h1><p>This page could not be found.</p></body></html>`
const PLAIN_500 = `<!DOCTYPE html><html><head>${PLAIN_HEAD}<title>500: Internal Server Error</title></head><body><h1>500</h1><p>Internal Server Error.</p></body></html>`

/** The app's `not-found.tsx` inside the root layout, or a plain 404 page. */
export async function renderNotFound(app: RenderApp, signal?: AbortSignal): Promise<RenderResult> {
  const file = app.entry.app.notFound
  const html = file
    ? (await renderTree(app, file, app.entry.app.rootLayouts, { params: {}, data: undefined }, noindexMetadata, signal, true)).html
    : PLAIN_404
  return { status: 404, body: exactBuffer(html), headers: HTML_HEADERS, tags: [], revalidate: false }
}

/**
 * The app's `error.tsx` (props `{ error: { message, digest } }`) inside the root layout,
 * or a plain 500 page when there is none or it throws too. Never rejects.
 */
export async function renderError(app: RenderApp, error: unknown): Promise<RenderResult> {
  const file = app.entry.app.error
  let html = PLAIN_500
  if (file) {
    try {
      // Only the message reaches the page, as in Next.js production: no stack, no cause.
      const safe = { message: 'An error occurred while rendering this page.', digest: digestOf(error) }
      html = (await renderTree(app, file, app.entry.app.rootLayouts, { params: {}, data: undefined, error: safe } as never, noindexMetadata, undefined, false)).html
    } catch {
      html = PLAIN_500
    }
  }
  return { status: 500, body: exactBuffer(html), headers: HTML_HEADERS, tags: [], revalidate: 0 }
}

function digestOf(error: unknown): string {
  const text = error instanceof Error ? `${error.name}:${error.message}` : String(error)
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return (h >>> 0).toString(36)
}
