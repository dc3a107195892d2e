// The page: the fixture's `/` HTML (page.mjs, written by bench/lib/peers.ts). Counts its calls,
// so the bench can tell that the route rule's cache answered the requests, not this handler.
import { defineEventHandler, setResponseHeader } from 'h3'
import page from '../page.mjs'

globalThis.__benchCalls = 0

export default defineEventHandler((event) => {
  globalThis.__benchCalls++
  setResponseHeader(event, 'content-type', 'text/html; charset=utf-8')
  return page
})
