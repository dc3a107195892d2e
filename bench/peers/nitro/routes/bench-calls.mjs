// How many times the page handler ran (not cached: no route rule matches this path).
import { defineEventHandler } from 'h3'

export default defineEventHandler(() => ({ calls: globalThis.__benchCalls ?? 0 }))
