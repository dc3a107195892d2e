/**
 * `isr()`: the Vite plugin. A few small sub-plugins sharing state through closures:
 * config (environments, builder), virtual entries, server-code stripping for the
 * client, prerender after the build, and the dev server.
 */
import { isAbsolute, join, resolve } from 'node:path'
import type { Plugin } from 'vite'
import { CLIENT_DIR } from '../runtime/environment.js'
import { devPlugin } from './dev.js'
import { devGuardPlugin } from './dev-guard.js'
import { compressAssetsPlugin } from './compress-assets.js'
import { previewPlugin } from './preview.js'
import { CLIENT_ENTRY_ID, entriesPlugin, SERVER_ENTRY_ID } from './entries.js'
import { resolvePluginOptions, type IsrPluginOptions } from './options.js'
import { prerenderPlugin } from './prerender.js'
import { createPluginState, type PluginState } from './state.js'
import { stripServerCodePlugin } from './strip-server-code.js'

export type { IsrPluginOptions } from './options.js'

function configPlugin(state: PluginState): Plugin {
  return {
    name: 'vite-isr:config',
    config(config, env) {
      state.dev = env.command === 'serve' && !env.isPreview
      state.root = resolve(config.root ?? process.cwd()).replaceAll('\\', '/')
      const outDir = config.build?.outDir ?? 'dist'
      state.outDir = isAbsolute(outDir) ? outDir : join(state.root, outDir)
      return {
        appType: 'custom',
        builder: {},
        environments: {
          client: {
            // The client entry is virtual and there is no index.html: tell the dependency
            // scanner where the app is, so the first dev visit does not reload to optimize.
            // Only the modules the browser hydrates: route handlers are server code (a webhook
            // importing node:crypto would fail the scan).
            optimizeDeps: {
              entries: [`${state.options.appDir}/**/{page,layout,not-found,error,loading}.{tsx,ts,jsx,js}`],
              include: ['react', 'react/jsx-runtime', 'react-dom/client'],
            },
            build: {
              outDir: join(state.outDir, CLIENT_DIR),
              emptyOutDir: true,
              manifest: true,
              rolldownOptions: { input: CLIENT_ENTRY_ID },
            },
          },
          ssr: {
            resolve: { external: ['vite-isr'] },
            build: {
              outDir: join(state.outDir, 'server'),
              emptyOutDir: true,
              // public/ is for browsers: the client build copies it; the server needs none of it.
              copyPublicDir: false,
              rolldownOptions: { input: { entry: SERVER_ENTRY_ID }, output: { entryFileNames: '[name].js' } },
            },
          },
        },
      }
    },
  }
}

export function isr(options: IsrPluginOptions = {}): Plugin[] {
  const state = createPluginState(resolvePluginOptions(options))
  return [configPlugin(state), entriesPlugin(state), stripServerCodePlugin(state), compressAssetsPlugin(), prerenderPlugin(state), devGuardPlugin(state), devPlugin(state), previewPlugin(state)]
}

export default isr
