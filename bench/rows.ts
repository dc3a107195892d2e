/**
 * The rows of `npm run bench`. To add one: a throughput ratio names two variants (add them
 * below if new); anything else is a `custom` row that measures itself (see lib/types.ts).
 */
import type { LoadSpec } from './lib/load.js'
import type { Row, Variant } from './lib/types.js'

/** The ~14 KB ISR page (revalidate 60) of bench/fixture, plain GET. */
const HOME: LoadSpec = { path: '/' }

export const VARIANTS: Record<string, Variant> = {
  'middleware-fs': { label: 'app.use(isr), filesystem cache', server: { mode: 'middleware', cache: 'fs' }, load: HOME, expectHit: true },
  'middleware-fs-2': { label: 'app.use(isr), filesystem cache (a second, identical server)', server: { mode: 'middleware', cache: 'fs' }, load: HOME, expectHit: true },
  'middleware-redis': { label: 'app.use(isr), Redis cache', server: { mode: 'middleware', cache: 'redis' }, load: HOME, expectHit: true },
  'fast-path-fs': { label: 'isr.wrap(app), filesystem cache', server: { mode: 'fast-path', cache: 'fs' }, load: HOME, expectHit: true },
  'bare-http': { label: 'node:http, res.end(buffer)', server: { mode: 'bare-http', bodyOf: HOME.path }, load: HOME },
  express: { label: 'Express 5, res.end(buffer)', server: { mode: 'express', bodyOf: HOME.path }, load: HOME },
}

export const ROWS: Row[] = [
  // issue 4: the memory tier in front of Redis should make a HIT cost the same as on the filesystem.
  { kind: 'throughput', name: 'HIT req/s: Redis handler ÷ filesystem default (middleware)', a: 'middleware-redis', b: 'middleware-fs', target: { op: '>=', value: 0.9 } },
  // Two identical servers: how far from 1.00 this machine's noise alone moves a ratio today.
  { kind: 'throughput', name: 'noise floor: filesystem middleware ÷ an identical second server', a: 'middleware-fs-2', b: 'middleware-fs' },
  // issue 7 (informational until that issue sets its targets here).
  { kind: 'throughput', name: 'HIT req/s: middleware ÷ bare node:http', a: 'middleware-fs', b: 'bare-http' },
  { kind: 'throughput', name: 'HIT req/s: fast path ÷ bare node:http', a: 'fast-path-fs', b: 'bare-http' },
  { kind: 'throughput', name: 'HIT req/s: middleware ÷ minimal Express (res.end)', a: 'middleware-fs', b: 'express' },
]
