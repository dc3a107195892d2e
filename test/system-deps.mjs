#!/usr/bin/env node
/**
 * `npm test`'s first step (the `pretest` script): the system programs the tests start for
 * real. Each one found is fine; the missing ones are installed with apt-get when this
 * process may (root on a Debian-like system), and otherwise the run stops here with one
 * message naming the packages and the command, instead of a red test per program later.
 *
 *   ISR_SYSTEM_DEPS=check   only check: never install (exit 1 with the message if any is missing)
 *   ISR_SYSTEM_DEPS=dry-run print the install command instead of running it (exit 0)
 *   CHROMIUM_PATH           the browser the tests launch (default: `chromium` on PATH)
 *   ISR_SBIN_DIRS           where to look besides PATH (default /usr/local/sbin:/usr/sbin:/sbin,
 *                           where Debian puts daemons such as varnishd for users without them on PATH)
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Program -> Debian package, for every system program a test starts. */
export const SYSTEM_PROGRAMS = [
  { program: 'redis-server', pkg: 'redis-server', usedBy: 'test/cache-handlers/redis, test/multi-instance, test/docs/readme-redis' },
  { program: 'chromium', pkg: 'chromium', usedBy: 'test/e2e, test/faults/injection' },
  { program: 'varnishd', pkg: 'varnish', usedBy: 'test/cdn' },
]

const SBIN_DIRS = process.env.ISR_SBIN_DIRS ?? ['/usr/local/sbin', '/usr/sbin', '/sbin'].join(delimiter)

function onPath(program, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const file = join(dir, program)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

function found({ program }) {
  if (program === 'chromium' && process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH)
  return onPath(program) !== undefined || onPath(program, SBIN_DIRS) !== undefined
}

const missing = SYSTEM_PROGRAMS.filter((p) => !found(p))
if (missing.length === 0) process.exit(0)

const packages = missing.map((p) => p.pkg)
const command = `apt-get update && apt-get install -y ${packages.join(' ')}`
const mode = process.env.ISR_SYSTEM_DEPS ?? 'install'
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = onPath('apt-get') !== undefined
const list = missing.map((p) => `  ${p.program} (Debian package ${p.pkg}; used by ${p.usedBy})`).join('\n')

if (mode === 'dry-run') {
  console.log(`[vite-isr tests] missing:\n${list}\nwould run: ${command}`)
  process.exit(0)
}
if (mode === 'check' || !isRoot || !hasApt) {
  const why = mode === 'check' ? 'ISR_SYSTEM_DEPS=check' : !hasApt ? 'no apt-get on this system' : 'not running as root'
  console.error(
    `[vite-isr tests] the tests start these programs, and they are not installed:\n${list}\n` +
      `They were not installed automatically (${why}). Install them, then run npm test again:\n` +
      `  sudo sh -c '${command}'\n` +
      `(On another system, install the same programs with its package manager; set CHROMIUM_PATH if chromium lives elsewhere.)`,
  )
  process.exit(1)
}

console.log(`[vite-isr tests] installing ${packages.join(', ')} with apt-get (needed by the tests) ...`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
  const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env })
  if (result.status !== 0) {
    console.error(`[vite-isr tests] \`apt-get ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}); install the packages by hand: ${command}`)
    process.exit(1)
  }
}
const still = SYSTEM_PROGRAMS.filter((p) => !found(p))
if (still.length > 0) {
  console.error(`[vite-isr tests] installed, but still not found on PATH or in ${SBIN_DIRS}: ${still.map((p) => p.program).join(', ')}`)
  process.exit(1)
}
console.log('[vite-isr tests] system packages ready')
