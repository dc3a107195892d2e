/**
 * The client router: a navigation fetches the page's data payload (the same cache entry as
 * its HTML), imports the page's and layouts' modules and renders them in place, keeping the
 * layouts both pages share mounted. Anything unexpected ends in a full page load of the URL.
 */
import { createElement, useLayoutEffect, useState, type ComponentType, type ReactNode } from 'react'
import { flushSync } from 'react-dom'
import { RouterContext, type AppRouter, type NavigateOptions, type RouterContextValue } from './context.js'
import { announce, applyHead, focusContent } from './head.js'
import type { PagePayload } from './payload.js'
import { createPayloadCache, maxAgeOf, type PayloadCache } from './payload-cache.js'
import { payloadUrl } from './payload-url.js'
import { navigableUrl } from './decisions.js'
import { rememberedScroll, rememberScroll } from './scroll-memory.js'
import { createModuleGuess, type ClientRoute } from './route-table.js'

type Module = Record<string, unknown>
export type ModuleTable = Record<string, () => Promise<Module>>

export type { PagePayload } from './payload.js'

/** What is on screen: the modules and their props. */
export interface PageView {
  pathname: string
  search: string
  params: Record<string, string | string[]>
  data: unknown
  page: ComponentType<any>
  layouts: ComponentType<any>[]
}

export interface ClientRouter extends AppRouter {
  readonly initial: PageView
  /** The React root's state setter, once mounted. */
  attach(setView: (view: PageView) => void): () => void
  readonly payloads: PayloadCache<PagePayload>
}

export interface ClientRouterOptions {
  buildId: string
  modules: ModuleTable
  /** The app's routes: a navigation starts importing the page's modules before its payload is in. */
  routes?: readonly ClientRoute[]
  initial: PageView
  /**
   * The document is a loading shell (a `fallback = 'shell'` page never generated): once
   * mounted, the page's payload is loaded (joining its one render on the server) and shown in
   * place, as `refresh()` does.
   */
  shell?: boolean
  window?: Window
}

/** Quiet time after scrolling before the position is written into the history entry (ms). */
const SCROLL_SETTLE_MS = 100

/** Redirects followed on the client before a full load takes over (a loop ends there). */
const MAX_REDIRECTS = 5

function componentOf(mod: Module | undefined): ComponentType<any> | undefined {
  const component = mod?.default
  return typeof component === 'function' || (typeof component === 'object' && component !== null) ? (component as ComponentType<any>) : undefined
}

export function createClientRouter(options: ClientRouterOptions): ClientRouter {
  const { buildId, modules } = options
  const win = options.window ?? window
  const doc = win.document
  let setView: ((view: PageView) => void) | undefined
  let current = options.initial
  let navigation = 0
  let shellPending = options.shell === true
  const guess = options.routes ? createModuleGuess(options.routes) : () => []

  const payloads = createPayloadCache<PagePayload>({
    async fetch(href) {
      const res = await win.fetch(payloadUrl(buildId, href), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      if (!res.ok) return undefined
      const payload = (await res.json()) as PagePayload
      // The page's code too, as Next.js prefetches a route's JS: a click then waits for neither.
      if (payload.kind === 'page') preload(payload)
      return { payload, maxAgeMs: maxAgeOf(res.headers.get('cache-control')) }
    },
    saveData: () => (win.navigator as Navigator & { connection?: { saveData?: boolean } }).connection?.saveData === true,
  })

  const fullLoad = (url: URL, replace: boolean) => (replace ? win.location.replace(url.href) : win.location.assign(url.href))

  function preload(payload: Extract<PagePayload, { kind: 'page' }>): void {
    for (const href of payload.scripts) {
      if (doc.head.querySelector(`link[rel="modulepreload"][href="${CSS.escape(href)}"]`)) continue
      const link = doc.createElement('link')
      link.rel = 'modulepreload'
      link.href = href
      doc.head.appendChild(link)
    }
  }

  /**
   * The page's and layouts' modules as the route table names them, imported alongside the
   * payload fetch instead of after it (one round trip less). Only for a navigation the user
   * committed to: importing runs the module, and Vite adds its stylesheets to the document.
   * The payload's own list is what renders; a wrong guess costs an unused import.
   */
  function headStart(pathname: string): void {
    for (const file of guess(pathname)) modules[file]?.().catch(() => {})
  }

  type Mode = 'push' | 'replace' | 'pop' | 'refresh'

  async function navigate(url: URL, mode: Mode, scroll: boolean, redirects = 0): Promise<void> {
    const id = ++navigation
    try {
      if (mode === 'refresh') payloads.clear()
      const pending = payloads.get(url.pathname + url.search)
      // After the payload request has gone out (it is queued first): the server's answer is the longer wait.
      if (mode !== 'refresh') queueMicrotask(() => headStart(url.pathname))
      const payload = await pending
      if (id !== navigation) return
      if (payload === undefined || payload.kind === 'not-found') return fullLoad(url, mode === 'pop')
      if (payload.kind === 'redirect') {
        const to = navigableUrl(payload.location, url.href)
        if (to === null || redirects >= MAX_REDIRECTS) return fullLoad(new URL(payload.location, url), mode === 'pop')
        return navigate(to, mode === 'push' ? 'push' : 'replace', scroll, redirects + 1)
      }
      preload(payload)
      const loaded = await Promise.all([payload.page, ...payload.layouts].map((file) => modules[file]?.()))
      if (id !== navigation) return
      const components = loaded.map(componentOf)
      if (components.some((c) => c === undefined) || !setView) return fullLoad(url, mode === 'pop')
      const [page, ...layouts] = components as ComponentType<any>[]
      if (mode === 'push' || mode === 'replace') {
        rememberScroll(win.history, { x: win.scrollX, y: win.scrollY })
        win.history[mode === 'push' ? 'pushState' : 'replaceState']({}, '', url.href)
      }
      const view: PageView = { pathname: url.pathname, search: url.search, params: payload.params, data: payload.data, page, layouts }
      current = view
      flushSync(() => setView!(view))
      applyHead(doc, payload.head)
      if (mode === 'refresh') return
      const saved = mode === 'pop' ? rememberedScroll(win.history.state) : undefined
      if (saved) win.scrollTo(saved.x, saved.y)
      else if (scroll) {
        const target = url.hash ? doc.getElementById(decodeURIComponent(url.hash.slice(1))) : null
        if (target) target.scrollIntoView()
        else win.scrollTo(0, 0)
      }
      focusContent(doc)
      announce(doc)
    } catch {
      if (id === navigation) fullLoad(url, mode === 'pop')
    }
  }

  const go = (href: string, mode: 'push' | 'replace', navigateOptions?: NavigateOptions) => {
    const url = navigableUrl(href, win.location.href)
    if (url === null) {
      // Another origin, or a #hash on this page: the browser's own navigation.
      if (mode === 'replace') win.location.replace(new URL(href, win.location.href).href)
      else win.location.assign(new URL(href, win.location.href).href)
      return
    }
    void navigate(url, mode, navigateOptions?.scroll ?? true)
  }

  const router: ClientRouter = {
    initial: options.initial,
    payloads,
    push: (href, navigateOptions) => go(href, 'push', navigateOptions),
    replace: (href, navigateOptions) => go(href, 'replace', navigateOptions),
    back: () => win.history.back(),
    forward: () => win.history.forward(),
    refresh: () => void navigate(new URL(win.location.href), 'refresh', false),
    prefetch(href) {
      const url = navigableUrl(href, win.location.href)
      if (url !== null && (url.pathname !== current.pathname || url.search !== current.search)) payloads.prefetch(url.pathname + url.search)
    },
    attach(setter) {
      setView = setter
      win.history.scrollRestoration = 'manual'
      const onPopState = () => {
        // A position still waiting would land in the entry we just arrived at.
        clearTimeout(settle)
        const url = new URL(win.location.href)
        // A #hash change on the same page: the browser has scrolled already.
        if (url.pathname === current.pathname && url.search === current.search) return
        void navigate(url, 'pop', true)
      }
      // popstate comes after the entry changed: the position is kept while scrolling (once the
      // scrolling settles; browsers limit how often replaceState may run) and on leaving.
      let settle: ReturnType<typeof setTimeout> | undefined
      const save = () => rememberScroll(win.history, { x: win.scrollX, y: win.scrollY })
      const onScroll = () => {
        clearTimeout(settle)
        settle = setTimeout(save, SCROLL_SETTLE_MS)
      }
      win.addEventListener('popstate', onPopState)
      win.addEventListener('scroll', onScroll, { passive: true })
      win.addEventListener('pagehide', save)
      // Hydrated with the query the HTML was rendered with (none, for a cached page): now the URL's.
      if (current.search !== win.location.search) {
        current = { ...current, search: win.location.search }
        setter(current)
      }
      if (shellPending) {
        shellPending = false
        void navigate(new URL(win.location.href), 'refresh', false)
      }
      return () => {
        setView = undefined
        clearTimeout(settle)
        win.removeEventListener('popstate', onPopState)
        win.removeEventListener('scroll', onScroll)
        win.removeEventListener('pagehide', save)
      }
    },
  }
  return router
}

/** The tree for a view: layouts from the root down around the page (keyed by path, so a new path mounts a new page). */
function treeOf(view: PageView): ReactNode {
  let tree: ReactNode = createElement(view.page, { key: view.pathname, params: view.params, data: view.data })
  for (let i = view.layouts.length - 1; i >= 0; i--) tree = createElement(view.layouts[i], { params: view.params }, tree)
  return tree
}

/** The React root of a page with client navigation. */
export function RouterRoot({ router }: { router: ClientRouter }): ReactNode {
  const [view, setView] = useState(router.initial)
  useLayoutEffect(() => router.attach(setView), [router])
  const value: RouterContextValue = { router, pathname: view.pathname, search: view.search, params: view.params }
  return createElement(RouterContext.Provider, { value }, treeOf(view))
}
