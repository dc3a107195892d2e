// Next.js peer of `npm run bench -- --peers` (copied to a scratch folder by bench/lib/peers.ts,
// with page-body.mjs written beside it). Defaults: `compress` is on, as `next start` ships.
export default {}
