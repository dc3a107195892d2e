/**
 * What rows share during one bench run: the built fixture, one Redis (started on first
 * use), temp folders, servers started from a variant, and the progress log.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expectHit, type LoadSpec, type Target } from './load.js'
import { makeTempDir, makeWorkDir } from './processes.js'
import { startRedis, type RedisServer } from './redis.js'
import { startServer, type RunningServer, type ServerConfig } from './servers.js'
import type { Variant } from './types.js'

export interface BenchContext {
  /** bench/fixture. */
  fixtureDir: string
  /** The fixture's `dist` (built by `vite build` at the start of the run). */
  distDir: string
  /** A progress line on stderr. */
  log(line: string): void
  redis(): Promise<RedisServer>
  tempDir(name: string, options?: { inMemory?: boolean }): string
  /** A folder under bench/.work (inside the repo, so that node_modules resolve from it), or in RAM with a node_modules link. */
  workDir(name: string, options?: { inMemory?: boolean }): string
  /** Start a server for `variant` (a fresh cache folder each time, in RAM when `inMemory`). */
  serve(id: string, variant: Variant, options?: { inMemory?: boolean }): Promise<Target>
  startServer(config: ServerConfig): Promise<RunningServer>
}

export function createContext(fixtureDir: string, log: (line: string) => void = () => {}): BenchContext {
  const distDir = join(fixtureDir, 'dist')
  let redis: Promise<RedisServer> | undefined
  let reference: Promise<RunningServer> | undefined
  const bodyFiles = new Map<string, Promise<string>>()

  const ctx: BenchContext = {
    fixtureDir,
    distDir,
    log,
    redis: () => (redis ??= startRedis()),
    tempDir: makeTempDir,
    workDir: makeWorkDir,
    startServer,
    async serve(id, variant, options = {}) {
      const { mode, cache, handlerOptions, bodyOf, env, nodeArgs } = variant.server
      const config: ServerConfig = { mode, distDir, handlerOptions, env, nodeArgs }
      if (mode === 'bare-http' || mode === 'express') {
        if (!bodyOf) throw new Error(`variant ${id}: ${mode} needs server.bodyOf (the page whose bytes it answers)`)
        config.bodyFile = await bodyFile(bodyOf)
      } else if (cache === 'redis') {
        config.cache = 'redis'
        config.redisUrl = (await ctx.redis()).url
      } else {
        config.cache = 'fs'
        config.cacheDir = makeTempDir(`cache-${id}`, options)
      }
      const server = await startServer(config)
      return { url: server.url, server, load: withBuildId(variant.load) }
    },
  }

  /** `{buildId}` in a load's path is the fixture build's id (payload URLs carry it). */
  function withBuildId(load: LoadSpec): LoadSpec {
    if (!load.path.includes('{buildId}')) return load
    const { buildId } = JSON.parse(readFileSync(join(distDir, 'prerender-manifest.json'), 'utf8')) as { buildId: string }
    return { ...load, path: load.path.replaceAll('{buildId}', encodeURIComponent(buildId)) }
  }

  /** The bytes a filesystem-cache middleware server answers for `path` as a HIT. */
  function bodyFile(path: string): Promise<string> {
    let file = bodyFiles.get(path)
    if (!file) {
      reference ??= startServer({ mode: 'middleware', distDir, cache: 'fs', cacheDir: makeTempDir('cache-reference') })
      file = reference.then(async (server) => {
        const { body } = await expectHit(server.url, { path }, 'reference server')
        const target = join(makeTempDir('body'), 'body.html')
        writeFileSync(target, body)
        return target
      })
      bodyFiles.set(path, file)
    }
    return file
  }

  return ctx
}
