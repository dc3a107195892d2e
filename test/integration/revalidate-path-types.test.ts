import { beforeEach, describe, expect, it } from 'vitest'
import { revalidatePath } from 'vite-isr/runtime'
import { DATA_DIST, resetDataSource } from '../helpers/data-source.js'
import { useFixtureServer } from '../helpers/server.js'
import type { DataSource } from '../fixtures/data/server/source.js'

describe("revalidatePath with a route pattern or 'layout'", () => {
  let source: DataSource
  beforeEach(() => {
    source = resetDataSource()
  })
  const t = useFixtureServer({ distDir: DATA_DIST })
  const state = async (path: string) => (await t.server.get(path)).headers.get('x-isr-cache')

  it('a concrete path invalidates that page only, not its siblings of the same route', async () => {
    await t.server.get('/posts/2')
    t.clock.advance(1)
    await revalidatePath('/posts/1')
    t.clock.advance(1)
    expect(await state('/posts/1')).toBe('MISS')
    expect(await state('/posts/2')).toBe('HIT')
  })

  it("('/posts/[id]', 'page') invalidates every page of the route and nothing else", async () => {
    await t.server.get('/posts/2')
    t.clock.advance(1)
    await revalidatePath('/posts/[id]', 'page')
    t.clock.advance(1)
    expect(await state('/posts/1')).toBe('MISS')
    expect(await state('/posts/2')).toBe('MISS')
    expect(await state('/posts')).toBe('HIT')
  })

  it("('/section', 'layout') invalidates the pages under that layout and leaves siblings", async () => {
    t.clock.advance(1)
    await revalidatePath('/section', 'layout')
    t.clock.advance(1)
    expect(await state('/section/a')).toBe('MISS')
    expect(await state('/section/b')).toBe('MISS')
    expect(await state('/other')).toBe('HIT')
    expect(source.calls).toMatchObject({ 'render:section/a': 1, 'render:section/b': 1 })
    expect(source.calls['render:other']).toBeUndefined()
  })

  it("('/', 'layout') invalidates the whole site", async () => {
    t.clock.advance(1)
    await revalidatePath('/', 'layout')
    t.clock.advance(1)
    for (const path of ['/posts', '/posts/1', '/section/a', '/other']) expect(await state(path), path).toBe('MISS')
  })

  it('a path with a trailing slash is the same page; one with a query is refused', async () => {
    await expect(revalidatePath('/other/?from=cms')).rejects.toThrow(TypeError)
    t.clock.advance(1)
    await revalidatePath('/other/')
    t.clock.advance(1)
    expect(await state('/other')).toBe('MISS')
  })
})
