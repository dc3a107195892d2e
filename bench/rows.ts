/**
 * The rows of `npm run bench`. To add one: a throughput ratio names two variants (add them
 * below if new); anything else is a `custom` row that measures itself (see lib/types.ts).
 */
import type { LoadSpec } from './lib/load.js'
import { navigationBytesRow, navigationTimeRow } from './lib/navigation.js'
import { prerenderRow } from './lib/prerender.js'
import { firstHitRow, variantsMemoryRow } from './lib/prepared.js'
import { memoryCappedRow, memoryRow, revalidateTagRow, scaleHitRow } from './lib/scale.js'
import { staleStormRow } from './lib/stale-storm.js'
import { startupMemoryRow, startupTimeRow } from './lib/startup.js'
import type { GroupSettings, Row, Variant } from './lib/types.js'

/** The ~14 KB ISR page (revalidate 60) of bench/fixture, plain GET. */
const HOME: LoadSpec = { path: '/' }
const HOME_GZIP: LoadSpec = { path: '/', headers: { 'accept-encoding': 'gzip' } }
const HOME_BR: LoadSpec = { path: '/', headers: { 'accept-encoding': 'br' } }
/** A cached post of ~25 KB (its text in the loader's data), and its data payload (`{buildId}` is the fixture build's). */
const POST: LoadSpec = { path: '/nav/1' }
const POST_PAYLOAD: LoadSpec = { path: '/_isr/data/{buildId}/nav/1.json' }
/** The same GET, 4 in flight per connection: cheaper for autocannon, so both servers get closer to a full core. */
const HOME_PIPELINED: LoadSpec = { path: '/', pipelining: 4 }

export const VARIANTS: Record<string, Variant> = {
  'middleware-fs': { label: 'app.use(isr), filesystem cache', server: { mode: 'middleware', cache: 'fs' }, load: HOME, expectHit: true },
  'middleware-fs-2': { label: 'app.use(isr), filesystem cache (a second, identical server)', server: { mode: 'middleware', cache: 'fs' }, load: HOME, expectHit: true },
  'middleware-redis': { label: 'app.use(isr), Redis cache', server: { mode: 'middleware', cache: 'redis' }, load: HOME, expectHit: true },
  'fast-path-fs': { label: 'isr.wrap(app), filesystem cache', server: { mode: 'fast-path', cache: 'fs' }, load: HOME, expectHit: true },
  'fast-path-gzip': { label: 'isr.wrap(app), filesystem cache, Accept-Encoding: gzip', server: { mode: 'fast-path', cache: 'fs' }, load: HOME_GZIP, expectHit: true, expectEncoding: 'gzip' },
  'fast-path-br': { label: 'isr.wrap(app), filesystem cache, Accept-Encoding: br', server: { mode: 'fast-path', cache: 'fs' }, load: HOME_BR, expectHit: true, expectEncoding: 'br' },
  'bare-http': { label: 'node:http, res.end(buffer)', server: { mode: 'bare-http', bodyOf: HOME.path }, load: HOME },
  'fast-path-fs-p4': { label: 'isr.wrap(app), filesystem cache, 4 pipelined requests per connection', server: { mode: 'fast-path', cache: 'fs' }, load: HOME_PIPELINED, expectHit: true },
  'bare-http-p4': { label: 'node:http, res.end(buffer), 4 pipelined requests per connection', server: { mode: 'bare-http', bodyOf: HOME.path }, load: HOME_PIPELINED },
  express: { label: 'Express 5, res.end(buffer)', server: { mode: 'express', bodyOf: HOME.path }, load: HOME },
  'fast-path-post': { label: 'isr.wrap(app), filesystem cache, the post\'s HTML', server: { mode: 'fast-path', cache: 'fs' }, load: POST, expectHit: true },
  'fast-path-payload': { label: 'isr.wrap(app), filesystem cache, the same post\'s data payload', server: { mode: 'fast-path', cache: 'fs' }, load: POST_PAYLOAD, expectHit: true },
}

/** Rounds per throughput group (the command line's --rounds, --seconds, --warmup override them). */
export const GROUPS: Record<string, GroupSettings> = {
  hit: { rounds: 5, seconds: 3, warmup: 2, why: 'the rows that are close to their targets and the noise floor: most rounds' },
  compression: { rounds: 3, seconds: 3, warmup: 2, why: 'compressed HITs cost the server less than identity ones by a wide margin: fewer rounds' },
  payload: { rounds: 5, seconds: 3, warmup: 2, why: 'one pair on its own page and servers, apart from the hit group; as many rounds, since a burst of outside load can halve one round' },
}

/** Why the rows against bare node:http judge by requests per server CPU-second. */
const PER_CPU =
  'on 2 cores a single-threaded autocannon saturates its core (~35-50k req/s without pipelining) before these servers saturate theirs: req/s then measures the load generator, and every fast server looks alike. Requests per server CPU-second is what req/s would be with a load generator that keeps up, so the verdict uses it (req/s is in the notes). One bias remains: the less busy of two servers handles fewer requests per event-loop turn and so spends a little more CPU per request, which leans a ratio towards the busier one (against bare node:http, the fast path); the pipelined row is a cross-check with both servers closer to a full core'
const PER_SECOND = 'Express-based servers saturate their core well below the load generator\'s limit, so req/s measures them directly'

export const ROWS: Row[] = [
  // issue 4: the memory tier in front of Redis should make a HIT cost the same as on the filesystem.
  { kind: 'throughput', name: 'HIT req/s: Redis handler ÷ filesystem default (middleware)', a: 'middleware-redis', b: 'middleware-fs', target: { op: '>=', value: 0.9 }, why: PER_SECOND },
  // Two identical servers: how far from 1.00 this machine's noise alone moves a ratio today.
  { kind: 'throughput', name: 'noise floor: filesystem middleware ÷ an identical second server', a: 'middleware-fs-2', b: 'middleware-fs' },
  // issue 7, 1: the limit of the stack, and Express's own cost.
  { kind: 'throughput', name: 'HIT req/s: middleware ÷ bare node:http', a: 'middleware-fs', b: 'bare-http', why: PER_SECOND },
  { kind: 'throughput', name: 'HIT req/CPU-s: fast path ÷ bare node:http', a: 'fast-path-fs', b: 'bare-http', metric: 'req/CPU-s', target: { op: '>=', value: 0.8 }, why: PER_CPU },
  // A cross-check of the row above: with pipelining both servers run closer to a full core, so
  // neither gets the extra batching a less busy server gets (which flatters the less busy one's req/CPU-s).
  { kind: 'throughput', name: 'HIT req/CPU-s: fast path ÷ bare node:http, 4 pipelined per connection', a: 'fast-path-fs-p4', b: 'bare-http-p4', metric: 'req/CPU-s', why: 'the same as above; an informational cross-check of it' },
  { kind: 'throughput', name: 'HIT req/s: middleware ÷ minimal Express (res.end)', a: 'middleware-fs', b: 'express', target: { op: '>=', value: 0.9 }, why: PER_SECOND },
  // issue 7, 2: compressed variants are made once per entry, so a compressed HIT costs no more than a plain one.
  { kind: 'throughput', group: 'compression', name: 'HIT req/CPU-s: gzip ÷ uncompressed (fast path)', a: 'fast-path-gzip', b: 'fast-path-fs', metric: 'req/CPU-s', target: { op: '>=', value: 0.9 }, why: PER_CPU },
  { kind: 'throughput', group: 'compression', name: 'HIT req/CPU-s: br ÷ uncompressed (fast path)', a: 'fast-path-br', b: 'fast-path-fs', metric: 'req/CPU-s', target: { op: '>=', value: 0.9 }, why: PER_CPU },
  // issue 7, 3-6.
  staleStormRow(),
  prerenderRow(1_000, 5),
  prerenderRow(10_000, 3),
  prerenderRow(10_000, 3, 'static'),
  memoryRow(),
  memoryCappedRow(),
  scaleHitRow(4, 3, 2),
  revalidateTagRow(),
  // issue 12: start-up does not grow with the cache folder.
  startupTimeRow(),
  startupMemoryRow(),
  // Entries are prepared when stored: a first HIT compresses nothing, and the memory tier counts the compressed copies.
  firstHitRow(),
  variantsMemoryRow(),
  // Client navigation: a soft navigation against a full load in Chromium, and a payload HIT against the HTML HIT.
  navigationBytesRow(),
  navigationTimeRow(),
  { kind: 'throughput', group: 'payload', name: 'navigation: payload HIT req/CPU-s ÷ the same page\'s HTML HIT (fast path)', a: 'fast-path-payload', b: 'fast-path-post', metric: 'req/CPU-s', target: { op: '>=', value: 0.9 }, why: PER_CPU },
]
