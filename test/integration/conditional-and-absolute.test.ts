/**
 * HTTP details a CDN or a proxy relies on, through both servers: absolute-form request
 * targets (RFC 9112 §3.2.2) sent on a raw socket, exact `If-None-Match` matching, and
 * `Last-Modified` / `If-Modified-Since` on cached pages.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { type ServeMode, useFixtureServer } from '../helpers/server.js'

/** One raw HTTP/1.1 request; resolves with the status line and the headers block. */
function rawRequest(url: string, target: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`))
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => (data += chunk))
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
}

describe.each<ServeMode>(['middleware', 'fast-path'])('request targets and conditional requests (%s)', (mode) => {
  const t = useFixtureServer({ mode })

  it('routes an absolute-form target like its path', async () => {
    await t.server.get('/blog/1') // once through Express, so the fast path knows the page too
    const { host } = new URL(t.server.url)
    const answer = await rawRequest(t.server.url, `http://${host}/blog/1`)
    console.log(`GET http://${host}/blog/1 HTTP/1.1 → ${answer.split('\r\n')[0]}`)
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toContain('<h1>First post</h1>')
    expect(await rawRequest(t.server.url, `HTTP://${host}/blog/2?x=1`)).toMatch(/^HTTP\/1\.1 200 /)
  })

  it('answers 304 only to an If-None-Match that is exactly one of the page’s ETags', async () => {
    const first = await t.server.get('/blog/1', { headers: { 'accept-encoding': 'gzip' } })
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[^"]+-gz"$/)
    const tag = etag.slice(1, -'-gz"'.length)
    const status = async (inm: string) => (await t.server.get('/blog/1', { headers: { 'if-none-match': inm, 'accept-encoding': 'gzip' } })).status
    expect(await status(etag)).toBe(304)
    expect(await status(`"${tag}"`)).toBe(304)
    expect(await status(`W/"${tag}-br"`)).toBe(304)
    expect(await status(`"${tag}-anything"`)).toBe(200)
    expect(await status(`"${tag}-"`)).toBe(200)
  })

  it('sends Last-Modified from the entry’s time and answers If-Modified-Since with 304', async () => {
    const first = await t.server.get('/blog/1')
    const lastModified = first.headers.get('last-modified')
    expect(lastModified).not.toBeNull()
    expect(Date.parse(lastModified!)).toBeLessThanOrEqual(t.clock.now())
    const since = async (date: string, extra: Record<string, string> = {}) => (await t.server.get('/blog/1', { headers: { 'if-modified-since': date, ...extra } })).status
    expect(await since(lastModified!)).toBe(304)
    expect(await since(new Date(Date.parse(lastModified!) - 1_000).toUTCString())).toBe(200)
    expect(await since('not a date')).toBe(200)
    // If-None-Match wins when both are sent (RFC 9110 §13.1.3).
    expect(await since(lastModified!, { 'if-none-match': '"other"' })).toBe(200)
  })
})
