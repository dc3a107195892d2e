import { createElement, Suspense, use } from 'react'
import { describe, expect, it } from 'vitest'
import { renderPage, type RenderApp } from '../../runtime/render/render.js'
import type { RouteDefinition, ServerEntry } from '../../runtime/routes/route-table.js'

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
function entryCounting(failFirst: string[] = [], pageModule: Record<string, unknown> = page) {
  const imports: Record<string, number> = {}
  const modules: Record<string, Record<string, unknown>> = { [route.file]: pageModule, 'app/layout.tsx': layout }
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

  describe('Suspense', () => {
    // One promise per id, as a data cache would hand out: a render that suspends on it and
    // the render that waits for it read the same one.
    const late = new Map<string, Promise<string>>()
    const lateText = (id: string) => {
      if (!late.has(id)) late.set(id, new Promise((resolve) => setTimeout(() => resolve(`late text ${id}`), 5)))
      return late.get(id)!
    }
    const Late = ({ id }: { id: string }) => createElement('p', null, use(lateText(id)))
    const suspending = {
      loader: page.loader,
      default: ({ data }: { data: { id: string } }) =>
        createElement('main', null, createElement('h1', null, `Item ${data.id}`), createElement(Suspense, { fallback: createElement('i', null, 'loading') }, createElement(Late, { id: data.id }))),
    }

    it('waits for every boundary: the page has what it suspended on, not the fallback, render after render', async () => {
      const { app } = entryCounting([], suspending)
      for (const id of ['1', '2', '3']) {
        const html = (await renderPage(app, { route, params: { id }, pathname: `/items/${id}` })).body.toString()
        expect(html).toMatch(/^<!DOCTYPE html>/)
        expect(html).toContain(`<h1>Item ${id}</h1>`)
        expect(html).toContain(`<p>late text ${id}</p>`)
        expect(html).not.toContain('loading')
        expect(html).not.toContain('<!--$!')
      }
    })

    it('fails the render when a component throws inside a boundary, instead of caching its fallback', async () => {
      const Broken = () => {
        throw new Error('broken inside a boundary')
      }
      const { app } = entryCounting([], {
        loader: page.loader,
        default: () => createElement('main', null, createElement(Suspense, { fallback: createElement('i', null, 'loading') }, createElement(Broken))),
      })
      for (let i = 0; i < 2; i++) {
        await expect(renderPage(app, { route, params: { id: '1' }, pathname: '/items/1' })).rejects.toThrow('broken inside a boundary')
      }
    })

    it('renders a page without Suspense to the same document, doctype first', async () => {
      const { app } = entryCounting()
      const html = (await renderPage(app, { route, params: { id: '7' }, pathname: '/items/7' })).body.toString()
      const data = '{"page":"app/items/[id]/page.tsx","layouts":["app/layout.tsx"],"params":{"id":"7"},"data":{"id":"7"},"buildId":"development"}'
      // The layout writes no charset or viewport: the default document's come first in the head.
      const head = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
      expect(html).toBe(`<!DOCTYPE html><html><head>${head}</head><body><h1>Item 7</h1><script id="__ISR_DATA__" type="application/json">${data}</script></body></html>`)
    })
  })
})
