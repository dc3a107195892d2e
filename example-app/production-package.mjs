#!/usr/bin/env node
/**
 * What the example needs at run time, for its container image (see Dockerfile), written into
 * <out> after `npm pack --pack-destination <out>` put vite-isr's tarball there:
 *
 * - package.json: vite-isr from that tarball, and the packages server.js and the server
 *   bundle import, at the versions the repository's lock file pins;
 * - prebuilds/: better-sqlite3's compiled binary as a prebuild, which its install script
 *   (prebuild-install) takes instead of downloading one or compiling, so the production
 *   install needs no compiler.
 *
 * Usage: node example-app/production-package.mjs <out>
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const out = resolve(process.argv[2] ?? '')
if (!process.argv[2]) {
  console.error('usage: node example-app/production-package.mjs <out>   (after npm pack --pack-destination <out>)')
  process.exit(1)
}

const tarball = readdirSync(out).find((f) => /^vite-isr-.*\.tgz$/.test(f))
if (!tarball) {
  console.error(`no vite-isr-*.tgz in ${out}: run \`npm pack --pack-destination ${out}\` in the repository first`)
  process.exit(1)
}

// What server.js (express, vite-isr) and dist/server (react, react-dom, better-sqlite3) import.
const RUNTIME = ['express', 'react', 'react-dom', 'better-sqlite3']
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')).packages
const versionOf = (name) => {
  const version = lock[`node_modules/${name}`]?.version
  if (!version) throw new Error(`${name} is not in the repository's package-lock.json`)
  return version
}

const app = JSON.parse(readFileSync(join(repo, 'example-app/package.json'), 'utf8'))
const pkg = {
  name: app.name,
  private: true,
  type: 'module',
  scripts: { start: app.scripts.start },
  dependencies: Object.fromEntries([['vite-isr', `file:./${tarball}`], ...RUNTIME.map((name) => [name, versionOf(name)])]),
}
writeFileSync(join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')

// The name prebuild-install looks for: <name>-v<version>-node-v<ABI>-<platform>-<arch>.tar.gz
const sqlite = join(repo, 'node_modules/better-sqlite3')
const prebuild = `better-sqlite3-v${versionOf('better-sqlite3')}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
mkdirSync(join(out, 'prebuilds'), { recursive: true })
const tar = spawnSync('tar', ['-czf', join(out, 'prebuilds', prebuild), '-C', sqlite, 'build/Release/better_sqlite3.node'], { stdio: 'inherit' })
if (tar.status !== 0) throw new Error(`tar could not pack ${sqlite}/build/Release/better_sqlite3.node`)

console.log(`${out}: package.json (${Object.keys(pkg.dependencies).join(', ')}), prebuilds/${prebuild}`)
