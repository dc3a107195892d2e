/** The progress line while prerendering and the route table after it, like `next build`. */
import type { PrerenderManifest } from '../runtime/render/manifest.js'
import { formatBytes, lowerRevalidate } from '../runtime/environment.js'
import type { Revalidate, RouteDefinition } from '../runtime/routes/route-table.js'
import { styleText } from 'node:util'

export interface Reporter {
  info(message: string): void
  isTTY: boolean
}

export function progressReporter(out: Reporter): (done: number, total: number) => void {
  const started = Date.now()
  let lastPrinted = 0
  return (done, total) => {
    const now = Date.now()
    if (done !== total && now - lastPrinted < (out.isTTY ? 100 : 2000)) return
    lastPrinted = now
    const rate = done / Math.max(0.001, (now - started) / 1000)
    const line = `[vite-isr] prerendering ${done}/${total} pages (${rate.toFixed(0)}/s)`
    if (out.isTTY) process.stdout.write(`\r${line}${done === total ? '\n' : ''}`)
    else out.info(line)
  }
}

/** The route's kind as its pages turned out: data may lower the window or make it dynamic. */
function kindOf(route: RouteDefinition, manifest: PrerenderManifest, revalidates: Revalidate[]): string {
  if (route.kind === 'route' && route.revalidate === 0) return 'route handler'
  const handler = route.kind === 'route' ? ' handler' : ''
  if (route.revalidate === 0 || manifest.dynamicPages.includes(route.pattern)) return 'dynamic' + handler
  const lowest = revalidates.length > 0 ? revalidates.reduce(lowerRevalidate) : route.revalidate
  return (lowest === false ? 'static' : `ISR ${lowest}s`) + handler
}

type Style = 'green' | 'cyan' | 'yellow' | 'magenta' | 'dim' | 'bold'
/** Colours only for a terminal that wants them (a TTY, no NO_COLOR): logs and CI stay plain. */
export function stylerFor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): (style: Style, text: string) => string {
  const on = isTTY && !env.NO_COLOR && env.TERM !== 'dumb'
  // We decided from the logger's stream already; styleText must not second-guess it with stdout's.
  return (style, text) => (on ? styleText(style, text, { validateStream: false }) : text)
}

const KIND_STYLE = (kind: string): Style => (kind.startsWith('static') ? 'green' : kind.startsWith('ISR') ? 'cyan' : kind.startsWith('dynamic') ? 'yellow' : 'magenta')

export function routeTable(routes: RouteDefinition[], manifest: PrerenderManifest, color: (style: Style, text: string) => string = (_s, t) => t): string {
  const byRoute = new Map<string, { paths: string[]; bytes: number; tags: Set<string>; revalidates: Revalidate[] }>()
  for (const [path, info] of Object.entries(manifest.routes)) {
    const stats = byRoute.get(info.srcRoute) ?? { paths: [], bytes: 0, tags: new Set<string>(), revalidates: [] }
    stats.paths.push(path)
    stats.revalidates.push(info.initialRevalidateSeconds)
    stats.bytes += info.size
    for (const tag of info.tags) stats.tags.add(tag)
    byRoute.set(info.srcRoute, stats)
  }
  const rows = [...routes]
    .sort((a, b) => a.pattern.localeCompare(b.pattern))
    .map((route) => {
      const stats = byRoute.get(route.pattern)
      const count = stats?.paths.length ?? 0
      const sample = stats && route.segments.some((s) => s.type !== 'static')
        ? ` (${stats.paths.slice(0, 3).join(', ')}${count > 3 ? `, +${count - 3} more` : ''})`
        : ''
      return [
        route.pattern,
        kindOf(route, manifest, stats?.revalidates ?? []) + (route.fallback === 'shell' && route.dynamicParams && route.revalidate !== 0 ? ' (fallback: shell)' : ''),
        route.revalidate === 0 || kindOf(route, manifest, []).startsWith('dynamic') ? '-' : `${count}${sample}`,
        stats && count > 0 ? formatBytes(Math.round(stats.bytes / count)) : '-',
        stats && stats.tags.size > 0 ? [...stats.tags].join(', ') : '',
      ]
    })
  const header = ['Route', 'Kind', 'Prerendered', 'Size', 'Tags']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  // Pad before colouring: escape codes have no width.
  const line = (cells: string[], styleOf: (i: number, cell: string) => Style | undefined) =>
    cells.map((c, i) => (styleOf(i, c) ? color(styleOf(i, c)!, c.padEnd(widths[i])) : c.padEnd(widths[i]))).join('  ').trimEnd()
  const body = rows.map((cells) => line(cells, (i, cell) => (i === 1 ? KIND_STYLE(cell) : i === 4 ? 'dim' : undefined)))
  return [line(header, () => 'bold'), ...body].join('\n') + `\n\n${Object.keys(manifest.routes).length} pages prerendered, build ${manifest.buildId}`
}
