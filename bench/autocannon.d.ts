// The part of autocannon 9's API the bench uses (its own package ships no types, and
// @types/autocannon describes 7.x).
declare module 'autocannon' {
  interface Options {
    url: string
    connections?: number
    duration?: number
    method?: string
    headers?: Record<string, string>
    timeout?: number
    pipelining?: number
    workers?: number
  }
  interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
    p99_9?: number
  }
  interface Result {
    url: string
    /** Seconds the run lasted. */
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    '2xx': number
    statusCodeStats: Record<string, { count: number }>
    /** Milliseconds. */
    latency: Histogram
    /** Per-second samples; `total` is every completed request. */
    requests: Histogram & { sent: number }
    /** Bytes per second samples; `total` is every byte read. */
    throughput: Histogram
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
