/** Reading what `vite build` wrote: the server entry, the manifests, the client folder. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ClientManifest } from './assets.js'
import { PRERENDER_MANIFEST, PRERENDER_MANIFEST_VERSION, type PrerenderManifest } from './manifest.js'
import type { ServerEntry } from '../routes/route-table.js'
import { SEED_DIR_NAME } from '../cache/defaults.js'

export const SERVER_ENTRY_FILE = 'server/entry.js'
export const CLIENT_DIR = 'client'
export const DEFAULT_CACHE_DIR = SEED_DIR_NAME

export interface BuildOutput {
  distDir: string
  clientDir: string
  entry: ServerEntry
  manifest: PrerenderManifest
  clientManifest: ClientManifest
  /** URL paths of every file in the client folder (`/assets/index-abc.js`, `/favicon.ico`). */
  staticFiles: Set<string>
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch (error) {
    throw new Error(`[vite-isr] cannot read ${what} at ${file}. Run \`vite build\` first (with isr() in the Vite plugins).`, { cause: error })
  }
}

function listFiles(dir: string, base: string, out: Set<string>): Set<string> {
  if (!existsSync(dir)) return out
  for (const dirent of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!dirent.isFile()) continue
    const rel = relative(dir, join(dirent.parentPath, dirent.name)).split(sep).join('/')
    if (rel.split('/').some((part) => part.startsWith('.'))) continue
    out.add(base + rel)
  }
  return out
}

export async function loadBuildOutput(distDir: string): Promise<BuildOutput> {
  const dist = resolve(distDir)
  const manifest = readJson<PrerenderManifest>(join(dist, PRERENDER_MANIFEST), 'the prerender manifest')
  if (manifest.version !== PRERENDER_MANIFEST_VERSION) {
    throw new Error(`[vite-isr] ${join(dist, PRERENDER_MANIFEST)} has version ${manifest.version}, this vite-isr reads ${PRERENDER_MANIFEST_VERSION}. Rebuild the app.`)
  }
  const clientDir = join(dist, CLIENT_DIR)
  const clientManifest = readJson<ClientManifest>(join(clientDir, '.vite', 'manifest.json'), 'the client manifest')
  const entry = (await import(pathToFileURL(join(dist, SERVER_ENTRY_FILE)).href)) as ServerEntry
  return { distDir: dist, clientDir, entry, manifest, clientManifest, staticFiles: listFiles(clientDir, manifest.base, new Set()) }
}
