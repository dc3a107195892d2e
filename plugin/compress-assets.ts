/**
 * Hashed assets are compressed once, at build, beside each file (`.br` at brotli's highest
 * quality, `.gz` at gzip's), and the server picks the variant the browser accepts: no
 * compression on the request thread, and better ratios than on-the-fly compression can
 * afford. Files smaller than `MIN_COMPRESS_BYTES` gain nothing and are left as they are.
 */
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants as zlib, gzip } from 'node:zlib'
import type { Plugin } from 'vite'

/** Below this many bytes a compressed copy saves less than a packet: sent as it is (pages too). */
export const MIN_COMPRESS_BYTES = 860
const COMPRESSIBLE = /\.(?:[cm]?js|css|html|svg|json|map|txt|xml|wasm|webmanifest|ico)$/i

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)

export function compressAssetsPlugin(): Plugin {
  return {
    name: 'vite-isr:compress-assets',
    apply: 'build',
    applyToEnvironment: (environment) => environment.name === 'client',
    async writeBundle(output, bundle) {
      const dir = output.dir
      if (!dir) return
      const files = Object.keys(bundle).filter((name) => COMPRESSIBLE.test(name))
      await Promise.all(files.map((name) => compressFile(join(dir, name))))
    },
  }
}

/** Writes `file.br` and `file.gz` when the file is large enough and each copy is smaller. */
export async function compressFile(file: string): Promise<void> {
  const info = await stat(file)
  if (!info.isFile() || info.size < MIN_COMPRESS_BYTES) return
  const data = await readFile(file)
  const [br, gzipped] = await Promise.all([
    brotli(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length } }),
    gz(data, { level: 9 }),
  ])
  await Promise.all([
    br.length < data.length ? writeFile(file + '.br', br) : undefined,
    gzipped.length < data.length ? writeFile(file + '.gz', gzipped) : undefined,
  ])
}
