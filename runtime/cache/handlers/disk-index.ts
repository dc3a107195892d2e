/**
 * The file-system handler's index of its entry files: file name → bytes of disk, least
 * recently used first out, bounded by a total size and a number of files. Eviction hands
 * the file's name to a callback (which deletes it).
 *
 * Held in typed arrays rather than a Map of strings: entry files are named by 64 bits of a
 * SHA-256 (16 hex digits), kept here as two 32-bit halves in an open-addressing table, with
 * the recency list threaded through the same slots. 100,000 files cost about 3 MB outside
 * the JS heap instead of about 11 MB of small objects inside it — which V8 would then
 * multiply by the room it keeps for garbage (up to 4x the live heap).
 *
 * Names of any other form (files of an older layout found at start) are keyed by a hash of
 * the name and keep their string beside the slot, so they are still bounded and evicted.
 */
import { createHash } from 'node:crypto'

export interface DiskIndexOptions {
  /** Bound on the total size; past it the least recently used files are evicted. `Infinity` for none. */
  maxSize: number
  /** Bound on the number of files; past it the least recently used are evicted. @default Infinity */
  maxCount?: number
  /** Called with the name of each file evicted to stay under the bounds. */
  evict: (name: string) => void
}

const NONE = -1
const HEX16 = /^[0-9a-f]{16}$/
const INITIAL_NODES = 256

export class DiskIndex {
  readonly #maxSize: number
  readonly #maxCount: number
  readonly #evict: (name: string) => void

  // Open addressing, linear probing: slot → node, NONE when empty. Twice the node capacity,
  // so the table is at most half full.
  #table = new Int32Array(INITIAL_NODES * 2).fill(NONE)
  #mask = INITIAL_NODES * 2 - 1

  // Nodes, one per file: its name's two halves, its size, and its neighbours in the recency
  // list (#oldest … #newest). Free nodes are chained through #next.
  #hi = new Uint32Array(INITIAL_NODES)
  #lo = new Uint32Array(INITIAL_NODES)
  #bytes = new Float64Array(INITIAL_NODES)
  #prev = new Int32Array(INITIAL_NODES)
  #next = new Int32Array(INITIAL_NODES)
  #allocated = 0
  #free = NONE
  #oldest = NONE
  #newest = NONE

  #count = 0
  #total = 0
  /** Names that are not 16 hex digits, by node. */
  readonly #otherNames = new Map<number, string>()

  // The halves of the name last parsed by #parse (no tuple allocated per lookup).
  #keyHi = 0
  #keyLo = 0

  constructor(options: DiskIndexOptions) {
    this.#maxSize = options.maxSize
    this.#maxCount = options.maxCount ?? Infinity
    this.#evict = options.evict
  }

  /** Number of files indexed. */
  get count(): number {
    return this.#count
  }

  /** Sum of the sizes indexed, in bytes. */
  get totalSize(): number {
    return this.#total
  }

  /** Marks `name` most recently used; false when it is not indexed. */
  touch(name: string): boolean {
    const node = this.#nodeOf(name)
    if (node === NONE) return false
    this.#unlink(node)
    this.#append(node)
    return true
  }

  /** Whether `name` is indexed (not a use). */
  has(name: string): boolean {
    return this.#nodeOf(name) !== NONE
  }

  /** Indexes `name` (or updates its size) as the most recently used, then evicts the least recently used others while a bound is exceeded. */
  set(name: string, bytes: number): void {
    const node = this.#insert(name, bytes)
    this.#append(node)
    this.#evictWhileOver(node)
  }

  /**
   * Indexes a file found on disk that no use of this process has indexed yet, as the least
   * recently used: whatever this process read or wrote since it started ranks above it. Then
   * evicts from the least recently used end while a bound is exceeded, which may be this very
   * file. False (and nothing changes) when `name` is already indexed.
   */
  addFound(name: string, bytes: number): boolean {
    if (this.has(name)) return false
    const node = this.#insert(name, bytes)
    this.#prepend(node)
    this.#evictWhileOver(NONE)
    return true
  }

  /** The node of `name` with its new size, unlinked from the recency list. */
  #insert(name: string, bytes: number): number {
    this.#parse(name)
    const slot = this.#find(this.#keyHi, this.#keyLo)
    let node = this.#table[slot]
    if (node === NONE) {
      node = this.#allocate()
      this.#hi[node] = this.#keyHi
      this.#lo[node] = this.#keyLo
      if (!HEX16.test(name)) this.#otherNames.set(node, name)
      this.#table[this.#find(this.#keyHi, this.#keyLo)] = node // #allocate may have grown the table
      this.#count++
    } else {
      this.#total -= this.#bytes[node]
      this.#unlink(node)
    }
    this.#bytes[node] = bytes
    this.#total += bytes
    return node
  }

  #evictWhileOver(keep: number): void {
    while ((this.#total > this.#maxSize || this.#count > this.#maxCount) && this.#oldest !== keep && this.#oldest !== NONE) {
      const victim = this.#oldest
      const victimName = this.#nameOf(victim)
      this.#remove(victim)
      this.#evict(victimName)
    }
  }

  /** Removes `name` from the index (the file is the caller's); false when it was not indexed. */
  delete(name: string): boolean {
    const node = this.#nodeOf(name)
    if (node === NONE) return false
    this.#remove(node)
    return true
  }

  /** Names from least to most recently used. */
  *names(): IterableIterator<string> {
    for (let node = this.#oldest; node !== NONE; node = this.#next[node]) yield this.#nameOf(node)
  }

  #nodeOf(name: string): number {
    this.#parse(name)
    return this.#table[this.#find(this.#keyHi, this.#keyLo)]
  }

  #parse(name: string): void {
    if (HEX16.test(name)) {
      this.#keyHi = parseInt(name.slice(0, 8), 16)
      this.#keyLo = parseInt(name.slice(8), 16)
    } else {
      const digest = createHash('sha256').update(name).digest()
      this.#keyHi = digest.readUInt32BE(0)
      this.#keyLo = digest.readUInt32BE(4)
    }
  }

  #nameOf(node: number): string {
    return this.#otherNames.get(node) ?? hex8(this.#hi[node]) + hex8(this.#lo[node])
  }

  /** The slot holding (hi, lo), or the empty slot where it would go. */
  #find(hi: number, lo: number): number {
    let slot = lo & this.#mask
    for (;;) {
      const node = this.#table[slot]
      if (node === NONE || (this.#lo[node] === lo && this.#hi[node] === hi)) return slot
      slot = (slot + 1) & this.#mask
    }
  }

  #remove(node: number): void {
    this.#unlink(node)
    this.#vacate(this.#find(this.#hi[node], this.#lo[node]))
    this.#otherNames.delete(node)
    this.#total -= this.#bytes[node]
    this.#count--
    this.#next[node] = this.#free
    this.#free = node
  }

  /**
   * Empties `slot` by backward-shift deletion: later nodes of the same probe run move back
   * into the gap, so lookups never need tombstones.
   */
  #vacate(slot: number): void {
    const mask = this.#mask
    let gap = slot
    let probe = slot
    for (;;) {
      probe = (probe + 1) & mask
      const node = this.#table[probe]
      if (node === NONE) break
      const home = this.#lo[node] & mask
      // The node may move back only if its home is not within (gap, probe], cyclically.
      const stays = gap <= probe ? gap < home && home <= probe : gap < home || home <= probe
      if (!stays) {
        this.#table[gap] = node
        gap = probe
      }
    }
    this.#table[gap] = NONE
  }

  #allocate(): number {
    if (this.#free !== NONE) {
      const node = this.#free
      this.#free = this.#next[node]
      return node
    }
    if (this.#allocated === this.#hi.length) this.#grow()
    return this.#allocated++
  }

  #grow(): void {
    const capacity = this.#hi.length * 2
    this.#hi = resized(this.#hi, new Uint32Array(capacity))
    this.#lo = resized(this.#lo, new Uint32Array(capacity))
    this.#bytes = resized(this.#bytes, new Float64Array(capacity))
    this.#prev = resized(this.#prev, new Int32Array(capacity))
    this.#next = resized(this.#next, new Int32Array(capacity))
    this.#table = new Int32Array(capacity * 2).fill(NONE)
    this.#mask = capacity * 2 - 1
    for (let node = this.#oldest; node !== NONE; node = this.#next[node]) {
      this.#table[this.#find(this.#hi[node], this.#lo[node])] = node
    }
  }

  #unlink(node: number): void {
    const prev = this.#prev[node]
    const next = this.#next[node]
    if (prev === NONE) this.#oldest = next
    else this.#next[prev] = next
    if (next === NONE) this.#newest = prev
    else this.#prev[next] = prev
  }

  #prepend(node: number): void {
    this.#next[node] = this.#oldest
    this.#prev[node] = NONE
    if (this.#oldest === NONE) this.#newest = node
    else this.#prev[this.#oldest] = node
    this.#oldest = node
  }

  #append(node: number): void {
    this.#prev[node] = this.#newest
    this.#next[node] = NONE
    if (this.#newest === NONE) this.#oldest = node
    else this.#next[this.#newest] = node
    this.#newest = node
  }
}

function resized<T extends Uint32Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from)
  return to
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0')
}
