import { describe, expect, it } from 'vitest'
import { type ServeMode, useFixtureServer } from '../helpers/server.js'

describe.each<ServeMode>(['middleware', 'fast-path'])('concurrent requests (%s)', (mode) => {
  const t = useFixtureServer({ mode })

  it('serves the stale page to 100 concurrent requests and regenerates it exactly once', async () => {
    t.db.delayMs = 500 // the regeneration is still running while the requests arrive
    t.clock.advance(61_000)
    const responses = await Promise.all(Array.from({ length: 100 }, () => t.server.get('/blog/2')))
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    // Nobody waits for the render: each request gets the stale page (or, on a slow
    // machine, the new one if the render finished first), never a MISS.
    const states = responses.map((r) => r.headers.get('x-isr-cache'))
    expect(states.every((s) => s === 'STALE' || s === 'HIT')).toBe(true)
    expect(states[0]).toBe('STALE')
    await expect.poll(async () => (await t.server.get('/blog/2')).headers.get('x-isr-cache')).toBe('HIT')
    expect(t.db.renders['/blog/2']).toBe(1)
  })

  it('shares one render among 50 concurrent first requests for a new path', async () => {
    t.db.delayMs = 100
    const responses = await Promise.all(Array.from({ length: 50 }, () => t.server.get('/blog/3')))
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200))
    const bodies = await Promise.all(responses.map((r) => r.text()))
    expect(new Set(bodies).size).toBe(1)
    expect(bodies[0]).toContain('Third post')
    expect(t.db.renders['/blog/3']).toBe(1)
  })
})
