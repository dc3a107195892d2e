// Writes `count` small data entries (keys `data:startup:<from..from+count>`) into the cache
// folder `dir` with the filesystem handler's direct writes, as the build writes its seed.
// Used by the start-up row (bench/lib/startup.ts); prints `{"ms":…}` when done.
import { createFileSystemCacheHandler } from 'vite-isr/runtime'

const [dir, from, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const handler = await createFileSystemCacheHandler({ dir, writes: 'direct' })
const value = Buffer.from('{"title":"a small cached value"}')
const started = performance.now()
for (let i = from; i < from + count; i++) {
  await handler.set(`data:startup:${i}`, { kind: 'data', value, lastModified: 1, revalidate: false, expire: 31_536_000, tags: ['startup'], buildId: 'older-build', status: 200, headers: {} })
}
await handler.dispose()
process.stdout.write(JSON.stringify({ ms: performance.now() - started }) + '\n')
