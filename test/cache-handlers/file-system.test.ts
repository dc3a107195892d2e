import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createFileSystemCacheHandler } from '../../runtime/cache/handlers/file-system.js'
import type { FileSystemCacheHandler } from '../../runtime/cache/handlers/file-system.js'
import { makeEntry, testCacheHandler } from './contract.js'

let root: string
let dir: string
const handlers: FileSystemCacheHandler[] = []

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vite-isr-fs-'))
  dir = path.join(root, 'nested', 'cache')
})
afterEach(async () => {
  for (const h of handlers.splice(0)) await h.dispose()
  await fs.rm(root, { recursive: true, force: true })
})

async function open(): Promise<FileSystemCacheHandler> {
  const handler = await createFileSystemCacheHandler({ dir })
  handlers.push(handler)
  return handler
}

/** Every file under `base`, as paths relative to it with `/` separators. */
async function listTree(base: string): Promise<string[]> {
  const entries = await fs.readdir(base, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(base, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort()
}

function entryFile(key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16)
  return path.join(dir, 'entries', hash.slice(0, 2), `${hash}.entry`)
}

const exists = (file: string) => fs.access(file).then(() => true, () => false)

testCacheHandler('file-system', () => createFileSystemCacheHandler({ dir }), { durable: true })
testCacheHandler('file-system, direct writes', () => createFileSystemCacheHandler({ dir, writes: 'direct' }), { durable: true })

describe('file-system cache handler', () => {
  it('stores an entry as entries/<2 hex>/<first 16 hex of sha256(key)>.entry in a framed format', async () => {
    const handler = await open()
    await handler.set('/blog/hello', makeEntry())
    const file = entryFile('/blog/hello')
    expect(await listTree(dir)).toEqual([path.relative(dir, file).split(path.sep).join('/')])
    const data = await fs.readFile(file)
    expect(data.subarray(0, 4).toString('latin1')).toBe('VISR')
    expect(data[4]).toBe(3)
    const headerEnd = 13 + data.readUInt32BE(5)
    const header = JSON.parse(data.toString('utf8', 13, headerEnd))
    expect(header).toMatchObject({ key: '/blog/hello', bodyLength: 18 })
    expect(header).not.toHaveProperty('value')
    expect(data.readUInt32BE(9)).toBe(zlib.crc32(data.subarray(13)))
  })

  it('survives a restart: a new instance on the same dir reads entries and tag times', async () => {
    const first = await open()
    const entry = makeEntry({ tags: ['posts'] })
    await first.set('/posts', entry)
    await first.invalidateTags(['posts'], { at: 1234, mode: 'stale' })
    await first.dispose()
    const second = await open()
    expect(await second.get('/posts')).toEqual(entry)
    expect(second.getTagTimes(['posts'])).toEqual({ expired: 0, stale: 1234 })
  })

  it('answers getTagTimes synchronously', async () => {
    const handler = await open()
    await handler.invalidateTags(['t'], { at: 5, mode: 'expire' })
    expect(handler.getTagTimes(['t'])).toEqual({ expired: 5, stale: 0 })
  })

  describe('damaged entries read as a miss, are deleted, and can be replaced', () => {
    const damage: [string, (file: string, data: Buffer) => Promise<void>][] = [
      ['truncated body', (file, data) => fs.truncate(file, data.length - 1)],
      ['truncated header', (file) => fs.truncate(file, 20)],
      ['truncated prefix', (file) => fs.truncate(file, 5)],
      ['empty file', (file) => fs.truncate(file, 0)],
      ['flipped body byte', (file, data) => fs.writeFile(file, flip(data, data.length - 3))],
      ['flipped header byte', (file, data) => fs.writeFile(file, flip(data, 12))],
      ['bad magic', (file, data) => fs.writeFile(file, flip(data, 0))],
      ['unknown version', (file, data) => fs.writeFile(file, flip(data, 4))],
      ['trailing bytes', (file, data) => fs.writeFile(file, Buffer.concat([data, Buffer.from('x')]))],
      ['huge header length', (file, data) => fs.writeFile(file, Buffer.concat([data.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff, 0xff]), data.subarray(9)]))],
      ['entry of another key', async (file) => {
        const other = entryFile('/other')
        await fs.copyFile(other, file)
      }],
    ]

    it.each(damage)('%s', async (_, corrupt) => {
      const handler = await open()
      await handler.set('/page', makeEntry({ value: Buffer.from('a body long enough to damage') }))
      await handler.set('/other', makeEntry())
      const file = entryFile('/page')
      await corrupt(file, await fs.readFile(file))
      expect(await handler.get('/page')).toBeUndefined()
      expect(await exists(file)).toBe(false)
      const fresh = makeEntry({ value: Buffer.from('fresh') })
      await handler.set('/page', fresh)
      expect(await handler.get('/page')).toEqual(fresh)
    })
  })

  it('reads an entry of the body-only checksum format (version 1) as a miss', async () => {
    const handler = await open()
    const body = Buffer.from('written by an older version')
    const { value: _, ...fields } = makeEntry()
    const header = Buffer.from(JSON.stringify({ key: '/v1', ...fields, bodyLength: body.length, checksum: `crc32:${zlib.crc32(body).toString(16).padStart(8, '0')}` }))
    const prefix = Buffer.from('VISR\x01\0\0\0\0', 'latin1')
    prefix.writeUInt32BE(header.length, 5)
    await fs.mkdir(path.dirname(entryFile('/v1')), { recursive: true })
    await fs.writeFile(entryFile('/v1'), Buffer.concat([prefix, header, body]))
    expect(await handler.get('/v1')).toBeUndefined()
  })

  it('removes leftover temp files of crashed writes at start, not those of writes in flight', async () => {
    const first = await open()
    await first.set('/page', makeEntry())
    const shard = path.dirname(entryFile('/page'))
    const old = [path.join(shard, 'abc.entry.123.deadbeef.tmp'), path.join(dir, 'tags.log.123.deadbeef.tmp')]
    const recent = path.join(shard, 'def.entry.456.cafe.tmp')
    for (const file of [...old, recent]) await fs.writeFile(file, 'half a write')
    const past = new Date(Date.now() - 5 * 60_000)
    for (const file of old) await fs.utimes(file, past, past)

    await (await open()).indexed
    for (const file of old) expect(await exists(file)).toBe(false)
    expect(await exists(recent)).toBe(true)
    expect(await exists(entryFile('/page'))).toBe(true)
  })

  it('never writes outside dir, whatever the key', async () => {
    const handler = await open()
    const hostile = ['../../etc/passwd', '/../../../x', '..', '.', '', '/', '..\\..\\win', `${root}/escape`, 'a/'.repeat(300)]
    for (const key of hostile) await handler.set(key, makeEntry({ value: Buffer.from(key) }))
    await handler.invalidateTags(['../../tag', '/etc/tag'], { at: 1, mode: 'expire' })
    const files = await listTree(root)
    expect(files.length).toBe(hostile.length + 1)
    for (const file of files) expect(file).toMatch(/^nested\/cache\/(entries\/[0-9a-f]{2}\/[0-9a-f]{16}\.entry|tags\.log)$/)
    for (const key of hostile) expect((await handler.get(key))?.value.toString()).toBe(key)
  })

  it('writes nothing for memoryOnly entries, and drops an older entry under the key', async () => {
    const handler = await open()
    await handler.set('/404', makeEntry({ status: 404 }), { memoryOnly: true })
    expect(await handler.get('/404')).toBeUndefined()
    expect(await listTree(dir)).toEqual([])

    await handler.set('/gone', makeEntry({ status: 200 }))
    await handler.set('/gone', makeEntry({ status: 404 }), { memoryOnly: true })
    expect(await handler.get('/gone')).toBeUndefined()
    expect(await listTree(dir)).toEqual([])
  })

  it('leaves no temp file behind after concurrent writes', async () => {
    const handler = await open()
    await Promise.all(Array.from({ length: 50 }, (_, i) => handler.set(`/k${i % 5}`, makeEntry({ value: Buffer.from(`v${i}`) }))))
    const files = await listTree(dir)
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect(files).toHaveLength(5)
  })

  it('writes in place with writes: direct, in the same format an atomic handler reads', async () => {
    const direct = await createFileSystemCacheHandler({ dir, writes: 'direct' })
    handlers.push(direct)
    for (let i = 0; i < 20; i++) await direct.set(`/p/${i}`, makeEntry({ value: Buffer.from(`page ${i}`) }))
    const files = await listTree(dir)
    expect(files.filter((f) => !f.endsWith('.entry'))).toEqual([])
    expect(files).toHaveLength(20)
    const reader = await open()
    expect((await reader.get('/p/7'))?.value.toString()).toBe('page 7')
  })

  it('writes a body given as several chunks whole, and the temp name never repeats', async () => {
    const handler = await open()
    const big = Buffer.alloc(3 * 1024 * 1024, 'b')
    await Promise.all([handler.set('/big', makeEntry({ value: big })), handler.set('/big', makeEntry({ value: big }))])
    expect((await handler.get('/big'))?.value.equals(big)).toBe(true)
    expect((await listTree(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('recreates a shard directory removed behind its back', async () => {
    const handler = await open()
    await handler.set('/page', makeEntry())
    await fs.rm(path.join(dir, 'entries'), { recursive: true })
    await handler.set('/page', makeEntry({ status: 201 }))
    expect((await handler.get('/page'))?.status).toBe(201)
  })

  describe('tag log', () => {
    const logFile = () => path.join(dir, 'tags.log')
    const line = (tag: string, at: number, mode: 'expire' | 'stale') => JSON.stringify({ tag, at, mode }) + '\n'

    it('appends one JSON line per tag', async () => {
      const handler = await open()
      await handler.invalidateTags(['a', 'b'], { at: 10, mode: 'expire' })
      await handler.invalidateTags(['a'], { at: 20, mode: 'stale' })
      expect(await fs.readFile(logFile(), 'utf8')).toBe(line('a', 10, 'expire') + line('b', 10, 'expire') + line('a', 20, 'stale'))
    })

    it('ignores a torn last line and keeps later appends readable', async () => {
      await fs.mkdir(dir, { recursive: true })
      await fs.writeFile(logFile(), line('a', 10, 'expire') + line('b', 20, 'stale') + '{"tag":"c","at":3')
      const first = await open()
      expect(first.getTagTimes(['a'])).toEqual({ expired: 10, stale: 0 })
      expect(first.getTagTimes(['b'])).toEqual({ expired: 0, stale: 20 })
      expect(first.getTagTimes(['c'])).toEqual({ expired: 0, stale: 0 })
      await first.invalidateTags(['d'], { at: 40, mode: 'expire' })
      const second = await open()
      expect(second.getTagTimes(['a', 'b', 'd'])).toEqual({ expired: 40, stale: 20 })
    })

    it('skips damaged lines in the middle', async () => {
      await fs.mkdir(dir, { recursive: true })
      await fs.writeFile(logFile(), line('a', 10, 'expire') + 'garbage\n{"tag":1}\n' + line('a', 30, 'stale'))
      const handler = await open()
      expect(handler.getTagTimes(['a'])).toEqual({ expired: 10, stale: 30 })
    })

    it('compacts at start when the log has many more lines than tags', async () => {
      const first = await open()
      for (let i = 1; i <= 300; i++) await first.invalidateTags(['hot'], { at: i, mode: i % 2 ? 'expire' : 'stale' })
      await first.invalidateTags(['cold'], { at: 7, mode: 'expire' })
      await first.dispose()
      const second = await open()
      const lines = (await fs.readFile(logFile(), 'utf8')).split('\n').filter(Boolean)
      expect(lines.sort()).toEqual([line('cold', 7, 'expire'), line('hot', 299, 'expire'), line('hot', 300, 'stale')].map((l) => l.trim()).sort())
      expect(second.getTagTimes(['hot'])).toEqual({ expired: 299, stale: 300 })
      expect(second.getTagTimes(['cold'])).toEqual({ expired: 7, stale: 0 })
      expect((await listTree(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
    })

    it('does not rewrite a log that is mostly distinct tags', async () => {
      const first = await open()
      const tags = Array.from({ length: 200 }, (_, i) => `t${i}`)
      await first.invalidateTags(tags, { at: 1, mode: 'expire' })
      const before = await fs.stat(logFile())
      await open()
      expect((await fs.stat(logFile())).ino).toBe(before.ino)
    })
  })

  it.each([
    [undefined, 'file-system cache handler options must be an object (got undefined)'],
    [{}, 'dir must be a non-empty string (got undefined)'],
    [{ dir: '' }, 'dir must be a non-empty string (got "")'],
    [{ dir: 5 }, 'dir must be a non-empty string (got 5)'],
    [{ dir: 'x', writes: 'fast' }, `writes must be 'atomic' or 'direct' (got "fast")`],
  ])('rejects invalid options %j with a TypeError', async (options, message) => {
    const created = createFileSystemCacheHandler(options as never)
    await expect(created).rejects.toThrow(TypeError)
    await expect(created).rejects.toThrow(`[vite-isr] ${message}`)
  })
})

function flip(data: Buffer, index: number): Buffer {
  const copy = Buffer.from(data)
  copy[index] ^= 0xff
  return copy
}

describe('file-system cache handler: bounded disk use', () => {
  const entryOf = (size: number) => makeEntry({ value: Buffer.alloc(size, 'x') })
  const filesIn = async () => (await listTree(dir)).filter((f) => f.endsWith('.entry')).map((f) => path.join(dir, f))
  /** What the entry files really take on disk: allocated blocks, as `du` counts them. */
  const allocatedBytes = async () => {
    let bytes = 0
    for (const f of await filesIn()) bytes += (await fs.stat(f)).blocks * 512
    return bytes
  }
  /** The file system's block size: a small entry takes one block. */
  let block: number
  beforeEach(async () => {
    block = (await fs.statfs(root)).bsize
  })

  it('counts whole blocks of disk, not content bytes: diskSize is what the files really take', async () => {
    const h = await createFileSystemCacheHandler({ dir })
    handlers.push(h)
    let content = 0
    for (let i = 0; i < 200; i++) {
      const entry = makeEntry({ value: Buffer.from(`tiny ${i}`) })
      await h.set(`/tiny/${i}`, entry)
      content += (await fs.stat(entryFile(`/tiny/${i}`))).size
    }
    const real = await allocatedBytes()
    console.log(`200 tiny entries: ${content} bytes of content, ${real} bytes of disk allocated, diskSize ${h.diskSize}`)
    expect(h.diskSize).toBe(real)
    expect(h.diskSize).toBeGreaterThanOrEqual(10 * content)
    expect(h.diskEntries).toBe(200)
  })

  it('deletes the least recently used entries to stay under maxSize, in blocks of disk', async () => {
    const h = await createFileSystemCacheHandler({ dir, maxSize: 5 * block })
    handlers.push(h)
    // 300 bytes of content each: by content 60 would fit, by blocks 5.
    for (let i = 0; i < 20; i++) await h.set(`/p/${i}`, entryOf(300))
    expect(await filesIn()).toHaveLength(5)
    expect(await allocatedBytes()).toBeLessThanOrEqual(5 * block)
    expect(h.diskSize).toBe(await allocatedBytes())
    expect(await h.get('/p/19')).toBeDefined()
    expect(await h.get('/p/14')).toBeUndefined()
  })

  it('keeps at most maxEntries files, deleting the least recently used', async () => {
    const h = await createFileSystemCacheHandler({ dir, maxEntries: 5 })
    handlers.push(h)
    for (let i = 0; i < 30; i++) await h.set(`/p/${i}`, entryOf(10))
    expect(await h.get('/p/26')).toBeDefined() // a read is a use: /p/25 goes first
    await h.set('/p/30', entryOf(10))
    await expect.poll(async () => (await filesIn()).length).toBe(5)
    expect(h.diskEntries).toBe(5)
    for (const i of [26, 27, 28, 29, 30]) expect(await h.get(`/p/${i}`)).toBeDefined()
    expect(await h.get('/p/25')).toBeUndefined()
  })

  it('keeps an entry that is read often, evicting others first', async () => {
    const h = await createFileSystemCacheHandler({ dir, maxSize: 5 * block })
    handlers.push(h)
    await h.set('/hot', entryOf(1_000))
    for (let i = 0; i < 10; i++) {
      await h.set(`/cold/${i}`, entryOf(1_000))
      expect(await h.get('/hot')).toBeDefined()
    }
  })

  it('starts without reading the folder, then counts the files already there in the background and applies the bounds to them', async () => {
    const first = await createFileSystemCacheHandler({ dir, writes: 'direct' })
    for (let i = 0; i < 1_000; i++) await first.set(`/old/${i}`, entryOf(10))
    await first.dispose()
    const reopened = await createFileSystemCacheHandler({ dir, maxEntries: 300 })
    handlers.push(reopened)
    // Nothing counted yet when the handler is handed out: start-up did not wait for the walk.
    expect(reopened.diskEntries).toBe(0)
    expect((await reopened.get('/old/999'))?.value.toString()).toBe('x'.repeat(10))
    await reopened.indexed
    expect(reopened.diskEntries).toBe(300)
    await expect.poll(async () => (await filesIn()).length).toBe(300)
    // The one read since start ranks above every file the walk found, so it stays.
    expect(await reopened.get('/old/999')).toBeDefined()
  })

  it('applies the size bound to the files already there at start', async () => {
    const first = await createFileSystemCacheHandler({ dir })
    for (let i = 0; i < 10; i++) await first.set(`/old/${i}`, entryOf(300))
    await first.dispose()
    expect(await filesIn()).toHaveLength(10)
    const reopened = await createFileSystemCacheHandler({ dir, maxSize: 3 * block + block / 2 })
    handlers.push(reopened)
    await reopened.indexed
    await expect.poll(async () => (await filesIn()).length).toBe(3)
    expect(reopened.diskSize).toBe(await allocatedBytes())
  })

  it('counts and evicts files of an older layout (64-hex names) found at start before newer ones', async () => {
    const first = await createFileSystemCacheHandler({ dir })
    await first.set('/old', entryOf(300))
    await first.dispose()
    const legacy = path.join(dir, 'entries', 'ab', `ab${'0'.repeat(62)}.entry`)
    await fs.mkdir(path.dirname(legacy), { recursive: true })
    await fs.rename(entryFile('/old'), legacy)

    const h = await createFileSystemCacheHandler({ dir, maxSize: 3 * block + block / 2 })
    handlers.push(h)
    await h.indexed
    expect(h.diskSize).toBe((await fs.stat(legacy)).blocks * 512)
    for (let i = 0; i < 3; i++) await h.set(`/new/${i}`, entryOf(300))
    await expect.poll(() => exists(legacy)).toBe(false)
    expect(await h.get('/new/2')).toBeDefined()
    expect(h.diskSize).toBeLessThanOrEqual(3 * block + block / 2)
  })

  it('never writes an entry larger than the whole bound', async () => {
    const h = await createFileSystemCacheHandler({ dir, maxSize: 1_000 })
    handlers.push(h)
    await h.set('/big', entryOf(5_000))
    expect(await h.get('/big')).toBeUndefined()
    expect(await filesIn()).toEqual([])
  })

  it.each([
    [{ maxSize: 0 }, 'maxSize must be a positive integer of bytes or Infinity (got 0)'],
    [{ maxEntries: 0 }, 'maxEntries must be a positive integer or Infinity (got 0)'],
    [{ maxEntries: 1.5 }, 'maxEntries must be a positive integer or Infinity (got 1.5)'],
    [{ warn: 'stderr' }, 'warn must be a function (got "stderr")'],
  ])('rejects the bound %j with a TypeError', async (bound, message) => {
    const created = createFileSystemCacheHandler({ dir, ...(bound as object) })
    await expect(created).rejects.toThrow(TypeError)
    await expect(created).rejects.toThrow(`[vite-isr] ${message}`)
  })
})
