/**
 * Which client files a page needs, from Vite's client manifest: the hydration entry,
 * the page and layout chunks with their static imports (modulepreload) and their CSS.
 * Computed once per page and reused by every render.
 */
import type { PageAssets } from './render.js'

export interface ManifestChunk {
  file: string
  src?: string
  isEntry?: boolean
  isDynamicEntry?: boolean
  imports?: string[]
  css?: string[]
}

export type ClientManifest = Record<string, ManifestChunk>

export function createAssetResolver(manifest: ClientManifest, base: string): (pageFile: string, layouts: string[]) => PageAssets {
  const entryKey = Object.keys(manifest).find((key) => manifest[key].isEntry)
  if (!entryKey) throw new Error('[vite-isr] the client manifest has no entry chunk; rebuild the app with `vite build`')
  const memo = new Map<string, PageAssets>()
  const href = (file: string) => base + file

  return (pageFile, layouts) => {
    const memoKey = pageFile + '\0' + layouts.join('\0')
    const cached = memo.get(memoKey)
    if (cached) return cached
    const scripts = new Set<string>()
    const styles = new Set<string>()
    const visit = (key: string) => {
      const chunk = manifest[key]
      if (!chunk || scripts.has(chunk.file)) return
      scripts.add(chunk.file)
      for (const css of chunk.css ?? []) styles.add(css)
      for (const imported of chunk.imports ?? []) visit(imported)
    }
    for (const key of [entryKey, ...layouts, pageFile]) visit(key)
    const entryFile = manifest[entryKey].file
    let head = ''
    for (const css of styles) head += `<link rel="stylesheet" href="${href(css)}">`
    for (const file of scripts) if (file !== entryFile) head += `<link rel="modulepreload" href="${href(file)}">`
    const assets: PageAssets = {
      head,
      body: `<script type="module" src="${href(entryFile)}"></script>`,
      scripts: [...scripts].filter((file) => file !== entryFile).map(href),
      styles: [...styles].map(href),
    }
    memo.set(memoKey, assets)
    return assets
  }
}
