/**
 * A cache shared by several instances, on Redis (`ioredis`, loaded only when used).
 *
 * - Entries are stored under their key (which carries the build id) with a TTL, so Redis
 *   does not grow without bound.
 * - A tag invalidation is one sorted-set member per tag and mode, scored by its time, raised
 *   atomically and announced on a pub/sub channel; every instance keeps the tag times in
 *   memory, so reading them never waits on the network. The same script drops the times past
 *   `tagRetention` and folds the oldest records into a floor past `maxTags`, as each instance
 *   does in memory (runtime/cache-handlers/tag-times.ts): the set does not grow for ever.
 * - `lock()` is `SET NX PX` with a random token, released only by its owner, so a stale
 *   page regenerates once across all instances.
 * - When Redis is unreachable, reads miss and writes are skipped (the memory tier in front
 *   keeps serving), one warning is logged per outage, commands give up after
 *   `commandTimeout`, and the client reconnects and reloads tag times by itself.
 *   Invalidations are the exception: they reject, since other instances would not see them.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Redis as RedisClient, RedisOptions } from 'ioredis'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import { describeValue } from './memory.js'
import { checkTagTimesOptions, createTagTimes, DEFAULT_MAX_TAGS, DEFAULT_TAG_RETENTION } from './tag-times.js'
import type { CacheEntry, CacheHandler, Lock, SetOptions, TagInvalidation, TagTimes } from './types.js'

export interface RedisCacheHandlerOptions {
  /**
   * The Redis server.
   * @example 'redis://localhost:6379', 'rediss://user:pass@cache.internal:6380/2'
   */
  url: string
  /**
   * Prefix of every key and channel, so several sites can share one Redis without reading or
   * purging each other's pages. The default names the app by the `name` in the
   * `package.json` of the working folder (else a hash of the folder's path): the same for
   * every deploy and instance of one site, so invalidations outlive a deploy. Set it when two
   * sites share that name, or run from one folder.
   * @default `vite-isr:${name}:`
   */
  keyPrefix?: string
  /**
   * Seconds an invalidation time is kept (in Redis and in each instance's memory); an entry
   * older than this counts as expired whatever its tags say (see `CacheHandler.tagRetention`).
   * @default 31622400 (a year and a day)
   */
  tagRetention?: number
  /**
   * Tag records kept. Past it, the records raised longest ago are folded into one time that
   * applies to every tagged entry (entries older than it render once more; none is served
   * past an invalidation).
   * @default 100000
   */
  maxTags?: number
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
   * Milliseconds between two checks of the invalidation counter in Redis (one `GET`). A
   * pub/sub message lost without the connection dropping is caught by the next check: no
   * instance misses an invalidation for longer than this. The same check notices a Redis
   * emptied by `FLUSHALL` and writes back the invalidation times this instance holds.
   * @default 5000
   */
  checkInterval?: number
  /**
   * The clock of the ISR handler this store serves (pass the same `now` as to
   * `createISRHandler`). Invalidation times stored in Redis come from Redis's own clock
   * (`TIME`); each instance converts them to this one, so a skewed instance neither misses
   * nor repeats invalidations made elsewhere.
   * @default Date.now
   */
  now?: () => number
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
  /** Messages on the channel that were not vite-isr's (malformed, or of an unknown shape): ignored. */
  readonly ignoredMessages: number
  readonly keyPrefix: string
  readonly tagRetention: number
  /** Tag records held in this instance's memory (bounded by `maxTags`). */
  readonly tagCount: number
  getTagTimes(tags: readonly string[]): TagTimes
  watch(onChange: (key: string | null) => void): () => void
  dispose(): Promise<void>
}

/**
 * Raise each tag's time (never lower it) to Redis's clock, bump the invalidation counter,
 * drop the times past retention, fold the oldest records into the floor past the bound, and
 * announce it: one atomic step. The time is Redis's, never the caller's.
 * KEYS: times (sorted set), channel, floor (hash), version.
 * ARGV: sender id, field prefix, mode, retention ms, maxTags, tags…  Returns { at, version }.
 */
const INVALIDATE = `
local t = redis.call('TIME')
local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tags = {}
for i = 6, #ARGV do
  tags[#tags + 1] = ARGV[i]
  local field = ARGV[2] .. ARGV[i]
  local current = tonumber(redis.call('ZSCORE', KEYS[1], field) or '0')
  if at > current then redis.call('ZADD', KEYS[1], at, field) end
end
local horizon = at - tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. horizon)
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
if excess > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], excess + math.floor(tonumber(ARGV[5]) / 10))
  for j = 1, #popped, 2 do
    local mode = string.sub(popped[j], 1, 1)
    if tonumber(popped[j + 1]) > tonumber(redis.call('HGET', KEYS[3], mode) or '0') then redis.call('HSET', KEYS[3], mode, popped[j + 1]) end
  end
end
for _, mode in ipairs({'e', 's'}) do
  local floor = redis.call('HGET', KEYS[3], mode)
  if floor and tonumber(floor) < horizon then redis.call('HDEL', KEYS[3], mode) end
end
local version = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', KEYS[2], cjson.encode({ from = ARGV[1], type = 'tags', tags = tags, at = at, mode = ARGV[3], version = version }))
return { at, version }`

/**
 * Write back invalidation times (Redis's clock) after Redis lost them: raise only, so times
 * stored meanwhile win. KEYS: times, version. ARGV: version, then field, time pairs.
 */
const RESTORE = `
for i = 2, #ARGV, 2 do
  local current = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > current then redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i]) end
end
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) > version then redis.call('SET', KEYS[2], ARGV[1]) end
return 1`

/** Extend the lock only if it still holds our token. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`

/** A lock lives this long unless its owner renews it (every third of it) while the render runs. */
const LOCK_LEASE_MS = 5_000

/** While a connection is open but commands time out, Redis is asked this often whether it answers again. */
const PROBE_INTERVAL_MS = 250

/** Invalidation times more than this ahead of Redis's clock are taken as Redis's now. */
const MAX_AHEAD_MS = 2_000

/** Members read per ZSCAN round when loading the tag times. */
const SCAN_COUNT = 1_000

const GRACE_MS = 24 * 60 * 60 * 1000

/** Delete the lock only if it still holds our token. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

type Message = { from: string } & ({ type: 'tags'; tags: string[]; at: number; mode: TagInvalidation['mode']; version: number } | { type: 'changed'; key: string })

const IGNORED_LOG_INTERVAL_MS = 60_000

/** `raw` as a message of ours, or `undefined` when it is not one (not JSON, a field missing or of the wrong type). */
export function parseMessage(raw: string): Message | undefined {
  let m: unknown
  try {
    m = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined
  const x = m as Record<string, unknown>
  if (typeof x.from !== 'string') return undefined
  if (x.type === 'changed') return typeof x.key === 'string' && x.key !== '' ? { from: x.from, type: 'changed', key: x.key } : undefined
  if (x.type !== 'tags') return undefined
  const { tags, at, mode, version } = x
  // Redis's Lua encodes an empty table as {}: a message without tags is not ours.
  if (!Array.isArray(tags) || tags.length === 0 || !tags.every((tag) => typeof tag === 'string')) return undefined
  if (typeof at !== 'number' || !Number.isFinite(at) || (mode !== 'expire' && mode !== 'stale')) return undefined
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return undefined
  return { from: x.from, type: 'tags', tags, at, mode, version }
}

/**
 * `vite-isr:<app>:`, the app being the `name` in `<cwd>/package.json`, else a hash of `cwd`:
 * stable across deploys of one site (its invalidations must outlive a deploy, so no build id),
 * different between sites.
 */
export function defaultKeyPrefix(cwd: string = process.cwd()): string {
  let name: unknown
  try {
    name = (JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name?: unknown }).name
  } catch {
    // no package.json, or not JSON: the folder names the app
  }
  const app = typeof name === 'string' && name !== '' ? name : createHash('sha256').update(cwd).digest('hex').slice(0, 12)
  return `vite-isr:${app}:`
}

function checkOptions(options: RedisCacheHandlerOptions): Required<Omit<RedisCacheHandlerOptions, 'log'>> {
  if (options === null || typeof options !== 'object') throw new TypeError(`[vite-isr] createRedisCacheHandler(options): options must be an object (got ${describeValue(options)})`)
  const { url, keyPrefix = defaultKeyPrefix(), commandTimeout = 500, connectTimeout = 2_000, checkInterval = 5_000, now = Date.now, tagRetention = DEFAULT_TAG_RETENTION, maxTags = DEFAULT_MAX_TAGS } = options
  if (typeof now !== 'function') throw new TypeError(`[vite-isr] createRedisCacheHandler: now must be a function returning ms since the epoch (got ${describeValue(now)})`)
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new TypeError(`[vite-isr] createRedisCacheHandler: url must be a redis:// or rediss:// URL (got ${describeValue(url)})`)
  }
  if (typeof keyPrefix !== 'string') throw new TypeError(`[vite-isr] createRedisCacheHandler: keyPrefix must be a string (got ${describeValue(keyPrefix)})`)
  for (const [name, value] of [['commandTimeout', commandTimeout], ['connectTimeout', connectTimeout], ['checkInterval', checkInterval]] as const) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`[vite-isr] createRedisCacheHandler: ${name} must be a positive integer of milliseconds (got ${describeValue(value)})`)
  }
  checkTagTimesOptions('createRedisCacheHandler', tagRetention, maxTags)
  return { url, keyPrefix, commandTimeout, connectTimeout, checkInterval, now, tagRetention, maxTags }
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
  const { url, keyPrefix, commandTimeout, connectTimeout, checkInterval, now, tagRetention, maxTags } = checkOptions(options)
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
  const keys = { tags: `${keyPrefix}tag-times`, floor: `${keyPrefix}tag-floor`, version: `${keyPrefix}tag-version`, channel: `${keyPrefix}events`, entry: (k: string) => `${keyPrefix}entry:${k}`, lock: (k: string) => `${keyPrefix}lock:${k}` }
  const tagTimes = createTagTimes({ retention: tagRetention, maxTags })
  const watchers = new Set<(key: string | null) => void>()
  let up = false
  let disposed = false
  let started = false
  let clientReady = false
  let subscribed = false
  let becameUp = () => {}

  const down = (error: unknown) => {
    if (disposed) return
    // A timed-out command leaves the connection open: no event will say Redis answers again, so ask.
    if (clientReady && !probing) {
      probing = true
      const probe = () => {
        if (disposed) return
        client.ping().then(
          () => {
            probing = false
            reached()
          },
          () => setTimeout(probe, PROBE_INTERVAL_MS).unref(),
        )
      }
      setTimeout(probe, PROBE_INTERVAL_MS).unref()
    }
    if (!up) return
    up = false
    write(`[vite-isr] warning: Redis at ${where} is unreachable (${(error as Error)?.message ?? error}); serving from memory and retrying in the background`)
  }
  let probing = false
  /** A command reached Redis: up again (after a timeout no connection event tells us so), and stranded locks can go. */
  const reached = () => {
    if (disposed) return
    if (stranded.size > 0) releaseStranded()
    if (!up) void recover()
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
    // Messages sent while it is away are lost: not up until it is back and the times reloaded.
    down(new Error('subscriber connection closed'))
  })

  /** Invalidations counted by Redis that this instance has taken in (the `version` of the last one). */
  let seenVersion = 0

  /**
   * Read in rounds of `SCAN_COUNT` members, never the whole set in one reply. Times are
   * Redis's: each becomes this instance's clock by the offset measured now, and one ahead of
   * Redis's own clock (written by hand, or by an older version) counts as Redis's now.
   */
  async function loadTagTimes(): Promise<void> {
    const [seconds, micros] = await client.time()
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    const offset = now() - redisNow
    const local = (value: unknown) => {
      const at = Number(value)
      if (!Number.isFinite(at) || at <= 0) return 0
      return (at > redisNow + MAX_AHEAD_MS ? redisNow : at) + offset
    }
    const version = await client.get(keys.version)
    if (version === null && (seenVersion > 0 || tagTimes.size > 0)) await restore(offset)
    const floor = await client.hgetall(keys.floor)
    tagTimes.raiseFloor({ expired: local(floor.e), stale: local(floor.s) })
    let cursor = '0'
    do {
      const [next, flat] = await client.zscan(keys.tags, cursor, 'COUNT', SCAN_COUNT)
      cursor = next
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i]
        const at = local(flat[i + 1])
        if (at === 0 || (!field.startsWith('e:') && !field.startsWith('s:'))) continue
        tagTimes.record([field.slice(2)], { at, mode: field.startsWith('e:') ? 'expire' : 'stale' })
      }
    } while (cursor !== '0')
    if (version !== null && Number(version) > seenVersion) seenVersion = Number(version)
  }

  /**
   * Redis lost its data (FLUSHALL, a restart without persistence) while this instance
   * remembers invalidations: write them back before anything else reads the store, so an
   * instance started now does not serve build-time pages over them.
   */
  async function restore(offset: number): Promise<void> {
    const pairs: string[] = []
    for (const [tag, times] of tagTimes.records()) {
      if (times.expired > 0) pairs.push(`e:${tag}`, String(Math.round(times.expired - offset)))
      if (times.stale > 0) pairs.push(`s:${tag}`, String(Math.round(times.stale - offset)))
    }
    for (let i = 0; i < pairs.length || i === 0; i += 2 * SCAN_COUNT) {
      await client.eval(RESTORE, 2, keys.tags, keys.version, String(Math.max(seenVersion, 1)), ...pairs.slice(i, i + 2 * SCAN_COUNT))
    }
    write(`[vite-isr] warning: Redis at ${where} had lost its invalidation times (FLUSHALL, or a restart without persistence); wrote back the ${tagTimes.size} this instance holds`)
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
        if (!clientReady || !subscribed || disposed || up) return
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
  // Anyone who can PUBLISH on the channel can send anything: a message is checked against
  // its schema before it is used, and one that fails is counted and ignored.
  let ignoredMessages = 0
  let lastIgnoredLog = -Infinity
  subscriber.on('message', (_channel: string, raw: string) => {
    const message = parseMessage(raw)
    if (message === undefined) {
      ignoredMessages++
      const t = Date.now()
      if (t - lastIgnoredLog >= IGNORED_LOG_INTERVAL_MS) {
        lastIgnoredLog = t
        write(`[vite-isr] warning: ignored a malformed message on the Redis channel ${keys.channel} (${ignoredMessages} so far); is another program publishing there? Give each site its own keyPrefix.`)
      }
      return
    }
    if (message.from === id) return
    if (message.type === 'tags') {
      // The message's time is another clock's: what it tells is "invalidated just now", which
      // on this instance's clock is now (its entries rendered before now are older).
      tagTimes.record(message.tags, { at: now(), mode: message.mode })
      if (message.version > seenVersion) seenVersion = message.version
    } else for (const watcher of watchers) watcher(message.key)
  })

  // A message can be lost without either connection dropping: the counter in Redis tells.
  const check = setInterval(() => {
    if (disposed || !clientReady) return
    client.get(keys.version).then((version) => {
      reached()
      const emptied = version === null && (seenVersion > 0 || tagTimes.size > 0)
      if ((emptied || Number(version) > seenVersion) && up) loadTagTimes().catch(down)
    }, down)
  }, checkInterval)
  check.unref()

  /** Locks whose `SET NX` timed out: it may have run on the server, so they are released by token once Redis answers. */
  const stranded = new Map<string, string>()
  function releaseStranded(): void {
    for (const [lockKey, token] of stranded) {
      client.eval(RELEASE, 1, lockKey, token).then(
        () => {
          if (stranded.get(lockKey) === token) stranded.delete(lockKey)
          reached()
        },
        () => {},
      )
    }
  }

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
    keyPrefix,
    tagRetention,
    get tagCount() {
      return tagTimes.size
    },
    get connected() {
      return up
    },
    get ignoredMessages() {
      return ignoredMessages
    },
    async get(key) {
      try {
        const value = await client.getBuffer(keys.entry(key))
        reached()
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
        reached()
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
      tagTimes.record(tags, invalidation)
      if (tags.length === 0) return
      try {
        const [, version] = (await client.eval(INVALIDATE, 4, keys.tags, keys.channel, keys.floor, keys.version, id, invalidation.mode === 'expire' ? 'e:' : 's:', invalidation.mode, String(tagRetention * 1000), String(maxTags), ...tags)) as [number, number]
        if (version === seenVersion + 1) seenVersion = version
        reached()
      } catch (error) {
        down(error)
        throw new Error(`[vite-isr] the invalidation of ${tags.join(', ')} could not be stored in Redis at ${where}; other instances do not see it. Try again.`, { cause: error })
      }
    },
    getTagTimes(tags) {
      return tagTimes.max(tags)
    },
    async lock(key, ttlMs): Promise<Lock | null> {
      const lockKey = keys.lock(key)
      const token = randomBytes(12).toString('hex')
      // Short unless renewed: a lock whose owner died goes within LOCK_LEASE_MS, not ttlMs.
      const lease = Math.min(ttlMs, LOCK_LEASE_MS)
      let ok: string | null
      try {
        ok = await client.set(lockKey, token, 'PX', lease, 'NX')
        reached()
      } catch (error) {
        // Unknown outcome: the SET may have run. Released by token as soon as Redis answers
        // (sent now, it runs after the SET on the same connection); meanwhile this instance
        // renders on its own.
        down(error)
        stranded.set(lockKey, token)
        releaseStranded()
        return { release: async () => {} }
      }
      if (ok !== 'OK') return null
      const until = Date.now() + ttlMs
      const renew = setInterval(() => {
        if (Date.now() >= until) return clearInterval(renew)
        client.eval(RENEW, 1, lockKey, token, String(lease)).then(reached, down)
      }, Math.max(1, Math.floor(lease / 3)))
      renew.unref()
      return {
        async release() {
          clearInterval(renew)
          await client.eval(RELEASE, 1, lockKey, token).then(reached, (error) => {
            down(error)
            stranded.set(lockKey, token)
          })
        },
      }
    },
    watch(onChange) {
      watchers.add(onChange)
      return () => watchers.delete(onChange)
    },
    async dispose() {
      disposed = true
      clearInterval(check)
      watchers.clear()
      await Promise.allSettled([client.quit(), subscriber.quit()])
      client.disconnect()
      subscriber.disconnect()
    },
  }
}
