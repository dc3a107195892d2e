/**
 * `npm test` on a fresh machine: its pretest step finds the system programs the tests start,
 * installs the missing ones when it may, and otherwise stops with one message naming them.
 * Simulated here with a PATH that holds only `node` (and, for the install case, `apt-get`).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO } from '../helpers/build.js'

const SCRIPT = join(REPO, 'test/system-deps.mjs')
const bin = mkdtempSync(join(tmpdir(), 'isr-path-'))
symlinkSync(process.execPath, join(bin, 'node'))
// Stands for /usr/sbin and the like, which the script also searches (varnishd lives there).
const sbin = mkdtempSync(join(tmpdir(), 'isr-sbin-'))
afterAll(() => {
  rmSync(bin, { recursive: true, force: true })
  rmSync(sbin, { recursive: true, force: true })
})

function run(env: Record<string, string>) {
  const { CHROMIUM_PATH: _, ...rest } = process.env
  return spawnSync(process.execPath, [SCRIPT], { env: { ...rest, PATH: bin, ISR_SBIN_DIRS: sbin, ...env }, encoding: 'utf8' })
}

function fakeProgram(dir: string, program: string) {
  const file = join(dir, program)
  writeFileSync(file, '#!/bin/sh\n')
  chmodSync(file, 0o755)
}

describe('npm test on a machine without the system packages', () => {
  it('stops at once with one message naming each missing program, its package and the command, when it may not install', () => {
    const result = run({ ISR_SYSTEM_DEPS: 'check' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('redis-server (Debian package redis-server')
    expect(result.stderr).toContain('chromium (Debian package chromium')
    expect(result.stderr).toContain('varnishd (Debian package varnish; used by test/cdn)')
    expect(result.stderr).toContain('apt-get install -y redis-server chromium varnish')
  })

  it('plans the apt-get install of exactly the missing packages when it may install', () => {
    const result = run({ ISR_SYSTEM_DEPS: 'dry-run' })
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('would run: apt-get update && apt-get install -y redis-server chromium varnish')
  })

  it('finds varnishd in an sbin folder that is not on PATH, as Debian installs it', () => {
    fakeProgram(sbin, 'varnishd')
    const result = run({ ISR_SYSTEM_DEPS: 'dry-run' })
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('would run: apt-get update && apt-get install -y redis-server chromium\n')
    rmSync(join(sbin, 'varnishd'))
  })

  it('installs nothing and says nothing when every program is there', () => {
    for (const program of ['redis-server', 'chromium', 'varnishd']) fakeProgram(bin, program)
    const result = run({ ISR_SYSTEM_DEPS: 'check' })
    expect(result.status).toBe(0)
    expect(result.stdout + result.stderr).toBe('')
  })
})
