import { describe, expect, it } from 'vitest'
import { revalidatePath } from 'vite-isr/runtime'
import { useFixtureServer } from '../helpers/server.js'

describe('revalidatePath', () => {
  const t = useFixtureServer()

  it('refreshes one page from a route handler and leaves the others cached', async () => {
    t.db.posts['1'].title = 'Edited first'
    t.db.posts['2'].title = 'Edited second'
    t.clock.advance(1)
    const res = await t.server.get('/api/revalidate?path=/blog/1', { method: 'POST' })
    expect(await res.json()).toEqual({ revalidated: true, path: '/blog/1' })
    t.clock.advance(1)
    const one = await t.server.get('/blog/1')
    expect(one.headers.get('x-isr-cache')).toBe('MISS')
    expect(await one.text()).toContain('Edited first')
    const two = await t.server.get('/blog/2')
    expect(two.headers.get('x-isr-cache')).toBe('HIT')
    expect(await two.text()).toContain('<h1>Second post</h1>')
    expect((await t.server.get('/blog/1')).headers.get('x-isr-cache')).toBe('HIT')
  })

  it('works when called from server code outside any request', async () => {
    t.db.posts['2'].title = 'Changed by a script'
    t.clock.advance(1)
    await revalidatePath('/blog/2/')
    t.clock.advance(1)
    expect(await (await t.server.get('/blog/2')).text()).toContain('Changed by a script')
  })

  it('regenerates twice when revalidated twice', async () => {
    for (const title of ['Once', 'Twice']) {
      t.db.posts['1'].title = title
      t.clock.advance(1)
      await revalidatePath('/blog/1')
      t.clock.advance(1)
      expect(await (await t.server.get('/blog/1')).text()).toContain(`<h1>${title}</h1>`)
    }
    expect(t.db.renders['/blog/1']).toBe(2)
  })

  it('returns normally for a path that was never cached, and never admits an unlisted path of a dynamicParams = false route', async () => {
    await expect(revalidatePath('/never/cached')).resolves.toBeUndefined()
    t.clock.advance(1)
    await revalidatePath('/fixed/b', { regenerate: true })
    expect((await t.server.get('/fixed/b')).status).toBe(404)
  })

  it('with { regenerate: true } stores the new page before resolving, so the next reader gets a HIT', async () => {
    t.db.posts['2'].title = 'Eagerly regenerated'
    t.clock.advance(1)
    await revalidatePath('/blog/2', { regenerate: true })
    expect(t.db.renders['/blog/2']).toBe(1)
    const res = await t.server.get('/blog/2')
    expect(res.headers.get('x-isr-cache')).toBe('HIT')
    expect(await res.text()).toContain('Eagerly regenerated')
  })

  it('rejects invalid arguments with a TypeError that says what is wrong', async () => {
    await expect(revalidatePath(42 as unknown as string)).rejects.toThrow(new TypeError('[vite-isr] revalidatePath: path must be a string (got number)'))
    await expect(revalidatePath('blog/1')).rejects.toThrow(/must start with "\/"/)
    await expect(revalidatePath('/' + 'a'.repeat(1024))).rejects.toThrow(/at most 1024 characters/)
    await expect(revalidatePath('/blog/1', 'everything' as never)).rejects.toThrow(/type must be 'page' or 'layout'/)
  })
})
