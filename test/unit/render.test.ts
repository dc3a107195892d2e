import { createElement } from 'react'
import { describe, expect, it } from 'vitest'
import { renderPage, type RenderApp } from '../../runtime/render.js'
import type { RouteDefinition, ServerEntry } from '../../runtime/route-table.js'

const route: RouteDefinition = {
  kind: 'page',
  pattern: '/items/[id]',
  segments: [
    { type: 'static', value: 'items' },
    { type: 'dynamic', name: 'id' },
  ],
  file: 'app/items/[id]/page.tsx',
  layouts: ['app/layout.tsx'],
  revalidate: 60,
  dynamicParams: true,
  dynamic: 'auto',
  hasGenerateStaticParams: false,
}

const layout = {
  default: ({ children }: { children: unknown }) => createElement('html', null, createElement('body', null, children as never)),
}
const page = {
  loader: ({ params }: { params: { id: string } }) => ({ id: params.id }),
  default: ({ data }: { data: { id: string } }) => createElement('h1', null, `Item ${data.id}`),
}

/** A server entry as the build generates it, counting the imports of each module. */
function entryCounting(failFirst: string[] = []) {
  const imports: Record<string, number> = {}
  const modules: Record<string, Record<string, unknown>> = { [route.file]: page, 'app/layout.tsx': layout }
  const entry: ServerEntry = {
    routes: [route],
    modules: Object.fromEntries(
      Object.entries(modules).map(([file, mod]) => [
        file,
        async () => {
          imports[file] = (imports[file] ?? 0) + 1
          if (failFirst.includes(file) && imports[file] === 1) throw new Error(`cannot import ${file} (transient)`)
          return mod
        },
      ]),
    ),
    app: { rootLayouts: ['app/layout.tsx'], notFound: null, error: null },
  }
  const app: RenderApp = { entry, assets: () => ({ head: '', body: '' }) }
  return { app, imports }
}

describe('renderPage', () => {
  it('imports each module of an entry once, however many pages it renders', async () => {
    const { app, imports } = entryCounting()
    for (const id of ['1', '2', '3']) {
      const result = await renderPage(app, { route, params: { id }, pathname: `/items/${id}` })
      expect(result.body.toString()).toContain(`<h1>Item ${id}</h1>`)
    }
    expect(imports).toEqual({ [route.file]: 1, 'app/layout.tsx': 1 })
  })

  it('imports again after a failed import instead of failing every later render', async () => {
    const { app, imports } = entryCounting([route.file])
    await expect(renderPage(app, { route, params: { id: '1' }, pathname: '/items/1' })).rejects.toThrow('cannot import app/items/[id]/page.tsx (transient)')
    const result = await renderPage(app, { route, params: { id: '1' }, pathname: '/items/1' })
    expect(result.status).toBe(200)
    expect(imports[route.file]).toBe(2)
  })

  it('keeps the modules of one entry apart from another (dev makes an entry per request)', async () => {
    const first = entryCounting()
    const second = entryCounting()
    await renderPage(first.app, { route, params: { id: '1' }, pathname: '/items/1' })
    await renderPage(second.app, { route, params: { id: '1' }, pathname: '/items/1' })
    expect(first.imports[route.file]).toBe(1)
    expect(second.imports[route.file]).toBe(1)
  })
})
