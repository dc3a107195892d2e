import { describe, expect, it } from 'vitest'
import { copyFixture, viteBuild } from '../helpers/build.js'

describe('what vite build prints', () => {
  it('prints the prerender progress and a route table like next build, without colours off a TTY', async () => {
    const dir = copyFixture('basic', 'build-report')
    const result = await viteBuild(dir)
    expect(result.code).toBe(0)
    expect(result.output).toMatch(/\[vite-isr\] prerendering 6\/6 pages \(\d+\/s\)/)
    const table = result.output.slice(result.output.indexOf('Route '))
    expect(table).toMatch(/^Route\s+Kind\s+Prerendered\s+Size\s+Tags$/m)
    expect(table).toMatch(/^\/blog\/\[id\]\s+ISR 60s\s+2 \(\/blog\/1, \/blog\/2\)\s+[\d.]+k?B$/m)
    expect(table).toMatch(/^\/now\s+dynamic\s+-\s+-$/m)
    expect(table).toMatch(/^\/api\/revalidate\s+route handler\s+-\s+-$/m)
    expect(table).toMatch(/^\/static\s+static\s+1\s+[\d.]+k?B$/m)
    expect(table).toMatch(/6 pages prerendered, build [\w-]{16}/)
    // eslint-disable-next-line no-control-regex
    expect(result.output).not.toMatch(/\u001b\[/)
  })

  it('prints nothing of its own with --logLevel silent', async () => {
    const dir = copyFixture('minimal', 'build-report-silent')
    const { run } = await import('../helpers/build.js')
    const { join } = await import('node:path')
    const result = await run(process.execPath, [join(dir, '../../../node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'silent'], { cwd: dir, env: { NODE_ENV: 'production' } })
    expect(result.code).toBe(0)
    expect(result.output).not.toContain('[vite-isr]')
    expect(result.output).not.toContain('Route')
  })
})
