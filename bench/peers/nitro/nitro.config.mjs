// Nitro 2 peer of `npm run bench -- --peers` (copied to a scratch folder by bench/lib/peers.ts,
// with page.mjs written beside it). The page is cached by Nitro's own route rule, the way its
// docs serve an ISR-like page on a Node server: stale-while-revalidate, 60 s like the fixture.
import { defineNitroConfig } from 'nitropack/config'

export default defineNitroConfig({
  preset: 'node-server',
  compatibilityDate: '2025-01-01',
  routeRules: { '/': { swr: 60 } },
})
