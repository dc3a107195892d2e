/** What the sub-plugins share, set once Vite's config is resolved (as @vitejs/plugin-react does). */
import { scanApp, type AppTree } from './routes.js'
import type { ResolvedPluginOptions } from './options.js'

export interface PluginState {
  options: ResolvedPluginOptions
  /** The Vite root, absolute, with forward slashes. */
  root: string
  /** The build's output parent folder (`dist`): client/ and server/ go inside. */
  outDir: string
  /** `vite` (dev) rather than `vite build`: a mistake in one page then breaks only that page. */
  dev: boolean
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
    dev: false,
    tree() {
      cached ??= scanApp(state.root, options.appDir, { lenient: state.dev })
      return cached
    },
    invalidateTree() {
      cached = null
    },
  }
  return state
}
