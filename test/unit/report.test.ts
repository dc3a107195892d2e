import { describe, expect, it } from 'vitest'
import { stylerFor } from '../../plugin/report.js'

describe('build output colours', () => {
  it('colours on a TTY, and never with NO_COLOR, TERM=dumb or off a TTY', () => {
    expect(stylerFor(true, {})('green', 'static')).toMatch(/\u001b\[32mstatic\u001b\[39m/)
    expect(stylerFor(true, { NO_COLOR: '1' })('green', 'static')).toBe('static')
    expect(stylerFor(true, { TERM: 'dumb' })('green', 'static')).toBe('static')
    expect(stylerFor(false, {})('green', 'static')).toBe('static')
  })
})
