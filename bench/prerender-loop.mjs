// The baseline of the prerender rows: a plain loop that renders the same `items/[id]` pages
// as `vite build` prerenders (the same compiled components from that build's server bundle,
// the same loader, the same data) with react-dom and writes each to its own file, one page
// after the other. No cache, no ISR: the least work that turns those pages into files.
//
//   node bench/prerender-loop.mjs <distDir> <pages> <outDir> [string|static]
//
// `string` (default) renders with `renderToString` (react-dom/server), as the runtime
// renders a page that does not suspend; `static` with `prerenderToNodeStream`
// (react-dom/static), which the runtime falls back to for a page that does.
// Prints one JSON line: { ms, pages, bytes, maxRssKb }. `ms` covers importing the server
// bundle and the loop, as the plugin's "prerendering N/N pages (R/s)" covers importing it
// and its prerender (react-dom is loaded before either clock starts).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createElement } from 'react'
import { renderToString } from 'react-dom/server'
import { prerenderToNodeStream } from 'react-dom/static'

const [distDir, pagesArg, outDir, renderer = 'string'] = process.argv.slice(2)
const pages = Number(pagesArg)
if (!distDir || !outDir || !Number.isInteger(pages) || pages < 1) {
  throw new Error('usage: node bench/prerender-loop.mjs <distDir> <pages> <outDir> [string|static]')
}

const started = performance.now()
const entry = await import(pathToFileURL(join(distDir, 'server', 'entry.js')).href)
const route = entry.routes.find((r) => r.pattern === '/items/[id]')
if (!route) throw new Error(`${distDir}: no /items/[id] route in the server bundle`)
const [pageMod, ...layoutMods] = await Promise.all([route.file, ...route.layouts].map((file) => entry.modules[file]()))
const Page = pageMod.default
const layouts = layoutMods.map((mod) => mod.default)

async function render(tree) {
  if (renderer === 'string') return renderToString(tree)
  const { prelude } = await prerenderToNodeStream(tree)
  const chunks = []
  for await (const chunk of prelude) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

const dir = join(outDir, 'items')
mkdirSync(dir, { recursive: true })
let bytes = 0
for (let i = 0; i < pages; i++) {
  const params = { id: String(i) }
  const data = await pageMod.loader({ params })
  let tree = createElement(Page, { params, data })
  for (let j = layouts.length - 1; j >= 0; j--) tree = createElement(layouts[j], { params }, tree)
  const html = '<!DOCTYPE html>' + (await render(tree))
  writeFileSync(join(dir, `${i}.html`), html)
  bytes += html.length
}
const ms = performance.now() - started
process.stdout.write(JSON.stringify({ ms, pages, bytes, maxRssKb: process.resourceUsage().maxRSS }) + '\n')
