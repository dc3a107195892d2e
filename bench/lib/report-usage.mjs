// Preloaded (`node --import`) into a child the bench wants to size up, e.g. `vite build`:
// when the process exits it prints its peak RSS and CPU time on one stderr line, which
// bench/lib/build.ts parses. Exact where sampling `ps` would miss a short peak.
process.once('exit', () => {
  const usage = process.resourceUsage()
  process.stderr.write(`[bench-usage] ${JSON.stringify({ maxRssKb: usage.maxRSS, userMicros: usage.userCPUTime, systemMicros: usage.systemCPUTime })}\n`)
})
