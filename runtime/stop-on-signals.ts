/**
 * `stopOnSignals(server, isr)`: the graceful stop a production server wants on SIGTERM
 * (docker stop, Kubernetes, systemd) and Ctrl-C, so that every server does not write its own.
 */
import type { Server } from 'node:http'
import type { ISRHandler } from './handler.js'

export interface StopOnSignalsOptions {
  /**
   * The signals that stop the server. A second one while stopping ends the process at once,
   * by that signal's default action.
   * @default ['SIGINT', 'SIGTERM']
   */
  signals?: NodeJS.Signals[]
  /**
   * Exit with code 0 once stopped. `false` leaves the process to end by itself (nothing of
   * vite-isr holds the event loop after `isr.close()`), e.g. when the app has more to close.
   * @default true
   */
  exit?: boolean
  /**
   * Called once the stop is done (before the exit), with the milliseconds since the signal.
   * Close the app's own resources here (a database) when `exit` is `false`.
   */
  onStopped?: (elapsedMs: number) => void
}

const DEFAULT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/**
 * On the first of `signals`: stop accepting connections (`server.close()`, idle keep-alive
 * connections closed), await `isr.close()` (running renders and writes, bounded by
 * `closeTimeoutMs`), close the connections still open, call `onStopped`, exit 0.
 * Returns a function that removes the listeners.
 */
export function stopOnSignals(server: Pick<Server, 'close' | 'closeIdleConnections' | 'closeAllConnections'>, isr: Pick<ISRHandler, 'close'>, options: StopOnSignalsOptions = {}): () => void {
  if (!server || typeof server.close !== 'function' || typeof server.closeIdleConnections !== 'function') {
    throw new TypeError('[vite-isr] stopOnSignals(server, isr): server must be the node:http (or https) server that listens, e.g. http.createServer(isr.wrap(app)).listen(3000)')
  }
  if (!isr || typeof isr.close !== 'function') throw new TypeError('[vite-isr] stopOnSignals(server, isr): isr must be the handler createISRHandler() returned')
  const signals = options.signals ?? DEFAULT_SIGNALS
  if (!Array.isArray(signals) || signals.length === 0 || !signals.every((s) => typeof s === 'string' && /^SIG[A-Z0-9]+$/.test(s))) {
    throw new TypeError(`[vite-isr] stopOnSignals: signals must be a non-empty array of signal names such as ['SIGINT', 'SIGTERM'] (got ${JSON.stringify(signals)})`)
  }
  if (options.exit !== undefined && typeof options.exit !== 'boolean') throw new TypeError(`[vite-isr] stopOnSignals: exit must be true or false (got ${String(options.exit)})`)
  if (options.onStopped !== undefined && typeof options.onStopped !== 'function') throw new TypeError('[vite-isr] stopOnSignals: onStopped must be a function')
  const exit = options.exit ?? true

  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
      return
    }
    stopping = true
    const since = performance.now()
    server.close()
    server.closeIdleConnections()
    void isr.close().then(() => {
      // What is still open (a request whose render was given up on) would hold the loop.
      server.closeAllConnections()
      try {
        options.onStopped?.(performance.now() - since)
      } finally {
        if (exit) process.exit(0)
      }
    })
  }
  for (const signal of signals) process.on(signal, onSignal)
  return () => {
    for (const signal of signals) process.off(signal, onSignal)
  }
}
