/**
 * `vite preview` after `vite build`: the build is served through the same `createISRHandler`
 * as `node server.js`, so pages, route handlers, assets and headers are what production
 * gives. Nothing of the build folder is served past it (Vite's preview would otherwise serve
 * `dist/` as files: the server bundle and the cache among them).
 */
import type { Plugin } from 'vite'
import type { PluginState } from './state.js'

export function previewPlugin(state: PluginState): Plugin {
  return {
    name: 'vite-isr:preview',
    config(config) {
      // Vite's preview answers CORS (and adds `Vary: Origin` to every page); production does
      // not, and preview should show production's headers, unless the app asked for CORS.
      if (config.preview?.cors === undefined) return { preview: { cors: false } }
    },
    async configurePreviewServer(server) {
      // Imported here: a build or dev run never loads the server runtime this way.
      const { createISRHandler } = await import('../runtime/index.js')
      const isr = await createISRHandler({ distDir: state.outDir })
      server.httpServer.once('close', () => void isr.close())
      server.middlewares.use(function isrPreview(req, res, next) {
        isr(req, res, (error?: unknown) => {
          if (error) return next(error)
          res.statusCode = 404
          res.setHeader('content-type', 'text/plain; charset=utf-8')
          res.setHeader('cache-control', 'no-store')
          res.end('Not Found')
        })
      })
    },
  }
}
