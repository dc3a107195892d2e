/**
 * The hydration entry's one call: read the page's data from its HTML, import its modules,
 * hydrate the document under the client router. Used by the entry `isr()` generates.
 */
import { createElement } from 'react'
import { hydrateRoot } from 'react-dom/client'
import type { HydrationData } from './payload.js'
import { createClientRouter, RouterRoot, type ModuleTable, type PageView } from './router.js'
import type { ClientRoute } from './route-table.js'

export async function hydratePage(modules: ModuleTable, dataScriptId: string, routes?: readonly ClientRoute[]): Promise<void> {
  const script = document.getElementById(dataScriptId)
  if (!script) return
  const payload = JSON.parse(script.textContent ?? 'null') as HydrationData
  const [page, ...layouts] = await Promise.all([payload.page, ...payload.layouts].map((file) => modules[file]()))
  const initial: PageView = {
    pathname: location.pathname,
    // What the server rendered with: none for a cached page.
    search: payload.search ?? '',
    params: payload.params,
    data: payload.data,
    page: page.default as PageView['page'],
    layouts: layouts.map((mod) => mod.default as PageView['page']),
  }
  const router = createClientRouter({ buildId: payload.buildId ?? '', modules, routes, initial, shell: payload.shell === true })
  hydrateRoot(document, createElement(RouterRoot, { router }))
}
