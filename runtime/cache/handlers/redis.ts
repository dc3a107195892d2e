/**
 * A cache shared by several instances, on Redis (`ioredis`, loaded only when used).
 *
 * - Entries are stored under their key (which carries the build id) with a TTL, so Redis
 *   does not grow without bound.
 * - A tag invalidation is one hash field per tag, raised atomically, and announced on a
 *   pub/sub channel; every instance keeps the tag times in memory, so reading them never
 *   waits on the network. Nothing is ever scanned.
 * - `lock()` is `SET NX PX` with a random token, released only by its owner, so a stale
 *   page regenerates once across all instances.
 * - When Redis is unreachable, reads miss and writes are skipped (the memory tier in front
 *   keeps serving), one warning is logged per outage, commands give up after
 *   `commandTimeout`, and the client reconnects and reloads tag times by itself.
 *   Invalidations are the exception: they reject, since other instances would not see them.
 */
import { randomBytes } from 'node:crypto'
import type { Redis as RedisClient, RedisOptions } from 'ioredis'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import { describeValue, maxTagTimes, recordInvalidation, type TagTimeMap } from './memory.js'
import type { CacheEntry, CacheHandler, Lock, SetOptions, TagInvalidation, TagTimes } from './types.js'

export interface RedisCacheHandlerOptions {
  /**
   * The Redis server.
   * @example 'redis://localhost:6379', 'rediss://user:pass@cache.internal:6380/2'
   */
  url: string
  /**
   * Prefix of every key and channel, so several sites can share one Redis.
   * @default 'vite-isr:'
   */
  keyPrefix?: string
  /**
   * Milliseconds a Redis command may take before it counts as failed: no request waits
   * longer on Redis.
   * @default 500
   */
  commandTimeout?: number
  /**
   * Milliseconds to wait for the first connection before starting without Redis (it keeps
   * trying in the background).
   * @default 2000
   */
  connectTimeout?: number
  /**
   * Where warnings go (an outage, a recovery).
   * @default a line to process.stderr
   */
  log?: (line: string) => void
}

export interface RedisCacheHandler extends CacheHandler {
  readonly name: 'redis'
  /** Whether the last command reached Redis. */
  readonly connected: boolean
  getTagTimes(tags: readonly string[]): TagTimes
  watch(onChange: (key: string | null) => void): () => void
  dispose(): Promise<void>
}

/** Raise each tag's time (never lower it) and announce it, in one atomic step. */
const INVALIDATE = `
local at = tonumber(ARGV[1])
for i = 4, #ARGV do
  local field = ARGV[2] .. ARGV[i]
  local current = tonumber(redis.call('HGET', KEYS[1], field) or '0')
  if at > current then redis.call('HSET', KEYS[1], field, ARGV[1]) end
end
redis.call('PUBLISH', KEYS[2], ARGV[3])
return 1`

const GRACE_MS = 24 * 60 * 60 * 1000

/** Delete the lock only if it still holds our token. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

type Message = { from: string } & ({ type: 'tags'; tags: string[]; at: number; mode: TagInvalidation['mode'] } | { type: 'changed'; key: string })

function checkOptions(options: RedisCacheHandlerOptions): Required<Omit<RedisCacheHandlerOptions, 'log'>> {
  if (options === null || typeof options !== 'object') throw new TypeError(`[vite-isr] createRedisCacheHandler(options): options must be an object (got ${describeValue(options)})`)
  const { url, keyPrefix = 'vite-isr:', commandTimeout = 500, connectTimeout = 2_000 } = options
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new TypeError(`[vite-isr] createRedisCacheHandler: url must be a redis:// or rediss:// URL (got ${describeValue(url)})`)
  }
  if (typeof keyPrefix !== 'string') throw new TypeError(`[vite-isr] createRedisCacheHandler: keyPrefix must be a string (got ${describeValue(keyPrefix)})`)
  for (const [name, value] of [['commandTimeout', commandTimeout], ['connectTimeout', connectTimeout]] as const) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`[vite-isr] createRedisCacheHandler: ${name} must be a positive integer of milliseconds (got ${describeValue(value)})`)
  }
  return { url, keyPrefix, commandTimeout, connectTimeout }
}

async function loadIoredis(): Promise<typeof import('ioredis').Redis> {
  try {
    return (await import('ioredis')).Redis
  } catch (error) {
    throw new Error('[vite-isr] the Redis cache handler needs the `ioredis` package: npm install ioredis', { cause: error })
  }
}

/** Connects (waiting at most `connectTimeout`), loads the tag times, and subscribes to changes. */
export async function createRedisCacheHandler(options: RedisCacheHandlerOptions): Promise<RedisCacheHandler> {
  const { url, keyPrefix, commandTimeout, connectTimeout } = checkOptions(options)
  const write = options.log ?? ((line: string) => process.stderr.write(line + '\n'))
  const where = url.replace(/\/\/[^@/]*@/, '//***@')
  const Redis = await loadIoredis()
  const clientOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  }
  const client: RedisClient = new Redis(url, clientOptions)
  const subscriber: RedisClient = new Redis(url, { ...clientOptions, commandTimeout: undefined })
  const id = randomBytes(8).toString('hex')
  const keys = { tags: `${keyPrefix}tags`, channel: `${keyPrefix}events`, entry: (k: string) => `${keyPrefix}entry:${k}`, lock: (k: string) => `${keyPrefix}lock:${k}` }
  const tagTimes: TagTimeMap = new Map()
  const watchers = new Set<(key: string | null) => void>()
  let up = false
  let disposed = false
  let started = false
  let clientReady = false
  let subscribed = false
  let becameUp = () => {}

  const down = (error: unknown) => {
    if (!up || disposed) return
    up = false
    write(`[vite-isr] warning: Redis at ${where} is unreachable (${(error as Error)?.message ?? error}); serving from memory and retrying in the background`)
  }
  // Swallow connection errors here: ioredis reconnects by itself, and `down` reports the outage once.
  client.on('error', down)
  subscriber.on('error', () => {})
  client.on('close', () => {
    clientReady = false
    down(new Error('connection closed'))
  })
  subscriber.on('close', () => {
    subscribed = false
  })

  async function loadTagTimes(): Promise<void> {
    const all = await client.hgetall(keys.tags)
    for (const [field, value] of Object.entries(all)) {
      const mode = field.startsWith('e:') ? 'expire' : 'stale'
      recordInvalidation(tagTimes, [field.slice(2)], { at: Number(value), mode })
    }
  }

  /**
   * Up again only once both connections are: subscribed first, then the tag times reloaded,
   * so no invalidation announced while we were away is missed. Entries other instances
   * replaced meanwhile were never announced to us: the memory tier forgets everything.
   */
  let recovering: Promise<void> | undefined
  function recover(): Promise<void> {
    if (!clientReady || !subscribed || disposed || up) return Promise.resolve()
    recovering ??= loadTagTimes()
      .then(() => {
        if (!clientReady || !subscribed || disposed) return
        if (started) {
          for (const watcher of watchers) watcher(null)
          write(`[vite-isr] Redis at ${where} is reachable again`)
        }
        up = true
        becameUp()
      }, down)
      .finally(() => (recovering = undefined))
    return recovering
  }
  client.on('ready', () => {
    clientReady = true
    void recover()
  })
  subscriber.on('ready', () => {
    // Subscribing twice is harmless; waiting for it tells us when messages flow again.
    subscriber.subscribe(keys.channel).then(() => {
      subscribed = true
      void recover()
    }, () => {})
  })
  subscriber.on('message', (_channel: string, raw: string) => {
    let message: Message
    try {
      message = JSON.parse(raw) as Message
    } catch {
      return
    }
    if (message.from === id) return
    if (message.type === 'tags') recordInvalidation(tagTimes, message.tags, { at: message.at, mode: message.mode })
    else for (const watcher of watchers) watcher(message.key)
  })

  let timer: NodeJS.Timeout | undefined
  const firstUp = new Promise<void>((resolve) => {
    becameUp = resolve
    timer = setTimeout(resolve, connectTimeout + 200)
  })
  client.connect().catch(() => {})
  subscriber.connect().catch(() => {})
  await firstUp
  clearTimeout(timer)
  if (!up) write(`[vite-isr] warning: Redis at ${where} is unreachable at start; serving without it and retrying in the background`)
  started = true

  const announceChange = (key: string) => client.publish(keys.channel, JSON.stringify({ from: id, type: 'changed', key } satisfies Message))

  return {
    name: 'redis',
    get connected() {
      return up
    },
    async get(key) {
      try {
        const value = await client.getBuffer(keys.entry(key))
        return value ? decodeEntry(value, key) : undefined
      } catch (error) {
        down(error)
        return undefined
      }
    },
    async set(key: string, entry: CacheEntry, setOptions?: SetOptions) {
      try {
        if (setOptions?.memoryOnly) await client.del(keys.entry(key))
        else {
          // Kept a day past its expire: past it the entry is only the last good copy served
          // when a render fails, and then Redis forgets it by itself.
          const ttl = entry.expire === Infinity ? undefined : Math.max(0, entry.lastModified + entry.expire * 1000 - Date.now()) + GRACE_MS
          const value = Buffer.concat(encodeEntry(key, entry))
          await (ttl === undefined ? client.set(keys.entry(key), value) : client.set(keys.entry(key), value, 'PX', Math.ceil(ttl)))
        }
        await announceChange(key)
      } catch (error) {
        down(error)
      }
    },
    async delete(key) {
      try {
        await client.del(keys.entry(key))
        await announceChange(key)
      } catch (error) {
        down(error)
      }
    },
    async invalidateTags(tags, invalidation) {
      recordInvalidation(tagTimes, tags, invalidation)
      if (tags.length === 0) return
      const message = JSON.stringify({ from: id, type: 'tags', tags: [...tags], at: invalidation.at, mode: invalidation.mode } satisfies Message)
      try {
        await client.eval(INVALIDATE, 2, keys.tags, keys.channel, String(invalidation.at), invalidation.mode === 'expire' ? 'e:' : 's:', message, ...tags)
      } catch (error) {
        down(error)
        throw new Error(`[vite-isr] the invalidation of ${tags.join(', ')} could not be stored in Redis at ${where}; other instances do not see it. Try again.`, { cause: error })
      }
    },
    getTagTimes(tags) {
      return maxTagTimes(tagTimes, tags)
    },
    async lock(key, ttlMs): Promise<Lock | null> {
      const token = randomBytes(12).toString('hex')
      let ok: string | null
      try {
        ok = await client.set(keys.lock(key), token, 'PX', ttlMs, 'NX')
      } catch (error) {
        // Redis is down (reported once by `down`): each instance renders on its own meanwhile.
        down(error)
        return { release: async () => {} }
      }
      if (ok !== 'OK') return null
      return {
        async release() {
          await client.eval(RELEASE, 1, keys.lock(key), token).catch(down)
        },
      }
    },
    watch(onChange) {
      watchers.add(onChange)
      return () => watchers.delete(onChange)
    },
    async dispose() {
      disposed = true
      watchers.clear()
      await Promise.allSettled([client.quit(), subscriber.quit()])
      client.disconnect()
      subscriber.disconnect()
    },
  }
}
