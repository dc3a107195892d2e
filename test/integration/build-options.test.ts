import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFixture, viteBuild } from '../helpers/build.js'
import { startServer, type TestServer } from '../helpers/server.js'

describe('cache options given to isr() at build', () => {
  let dir: string
  let server: TestServer
  beforeAll(async () => {
    dir = copyFixture('minimal', 'build-options')
    writeFileSync(
      join(dir, 'cache-handler.ts'),
      `import { createMemoryCacheHandler } from 'vite-isr/runtime'
// A custom store: the memory handler under another name, made when the server starts.
export default async () => ({ ...createMemoryCacheHandler({ maxSize: 1_000_000 }), name: 'from-build' })
`,
    )
    writeFileSync(
      join(dir, 'vite.config.ts'),
      `import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { isr } from 'vite-isr/plugin'
export default defineConfig({ plugins: [react(), isr({ cacheHandler: './cache-handler.ts', cacheMaxMemorySize: 0 })] })
`,
    )
    const result = await viteBuild(dir)
    if (result.code !== 0) throw new Error(result.output)
    server = await startServer({ distDir: join(dir, 'dist') })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('uses the cache handler module named in isr({ cacheHandler }), with the memory size set there', () => {
    // cacheMaxMemorySize: 0 means no memory tier in front: the store itself is in use
    expect(server.isr.cache.name).toBe('from-build')
  })

  it('seeds that handler with the prerendered pages and serves them', async () => {
    const res = await server.get('/')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(await res.text()).toContain('minimal')
  })

  it('lets createISRHandler options win over the build defaults', async () => {
    const other = await startServer({ distDir: join(dir, 'dist'), cacheMaxMemorySize: 1024 * 1024 })
    try {
      expect(other.isr.cache.name).toBe('memory+from-build')
    } finally {
      await other.close()
    }
  })
})
