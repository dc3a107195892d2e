/** What the sub-plugins share, set once Vite's config is resolved (as @vitejs/plugin-react does). */
import { scanApp, type AppTree } from './routes.js'
import type { ResolvedPluginOptions } from './options.js'

export interface PluginState {
  options: ResolvedPluginOptions
  /** The Vite root, absolute, with forward slashes. */
  root: string
  /** The build's output parent folder (`dist`): client/ and server/ go inside. */
  outDir: string
  /** The route tree, scanned on first use and again after a change in dev. */
  tree(): AppTree
  invalidateTree(): void
}

export function createPluginState(options: ResolvedPluginOptions): PluginState {
  let cached: AppTree | null = null
  const state: PluginState = {
    options,
    root: process.cwd().replaceAll('\\', '/'),
    outDir: 'dist',
    tree() {
      cached ??= scanApp(state.root, options.appDir)
      return cached
    },
    invalidateTree() {
      cached = null
    },
  }
  return state
}
