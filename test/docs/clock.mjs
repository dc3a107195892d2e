// Preloaded into a README server (`node --import`) by test/docs: each SIGUSR2 moves the
// process's clock (Date.now) 61 s forward, so a page with `revalidate = 60` goes stale
// without the test waiting a minute.
const realNow = Date.now
let offset = 0
Date.now = () => realNow() + offset
process.on('SIGUSR2', () => {
  offset += 61_000
  process.stderr.write(`[clock] +${offset / 1000}s\n`)
})
