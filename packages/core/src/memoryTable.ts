/**
 * The memory stores' table (both Effect lines): many small `Map`s instead of one big one.
 *
 * Why: when a `Map` loses most of its entries V8 shrinks it, rehashing the survivors in one
 * synchronous step. On a single map of a million sessions that step alone stalls the event loop
 * for 15-20 ms in the middle of a sweep, however finely the sweep is sliced. Split over 256 maps,
 * the same rehash is ~256 times smaller.
 */

/**
 * A stored record, its expiry (`Infinity`: never) and its write sequence number. The record is
 * either its JSON text or, once parsed, the store's own copy of it (see `MemoryStore`); `V` is
 * the type of that copy.
 */
export interface Entry<V> {
  value: string | V
  readonly expiresAt: number
  readonly seq: number
}

const SHARD_BITS = 8
const SHARDS = 1 << SHARD_BITS

/** FNV-1a over the key: cheap, and spreads both hashed storage keys and hand-made ones. */
const shardOf = (key: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) & (SHARDS - 1)
}

/** The table: get, set (with least-recently-written eviction beyond a bound), delete, sweep in slices. */
export class Entries<V> {
  private readonly shards: Array<Map<string, Entry<V>>> = Array.from({ length: SHARDS }, () => new Map())
  private count = 0
  private seq = 0

  get size(): number {
    return this.count
  }

  get(key: string): Entry<V> | undefined {
    return this.shards[shardOf(key)]!.get(key)
  }

  /**
   * Stores `value` under `key` as its most recent write; when that adds an entry beyond
   * `maxEntries`, the least recently written entry of the whole table is evicted first.
   */
  set(key: string, value: string | V, expiresAt: number, maxEntries: number): void {
    const shard = this.shards[shardOf(key)]!
    // Re-insert: within a shard, Map order is then least-recently-written first.
    if (shard.delete(key)) this.count--
    else if (this.count >= maxEntries) this.evictOldest()
    shard.set(key, { value, expiresAt, seq: ++this.seq })
    this.count++
  }

  delete(key: string): boolean {
    const deleted = this.shards[shardOf(key)]!.delete(key)
    if (deleted) this.count--
    return deleted
  }

  /** Each shard's oldest entry is its first: the global oldest is the smallest of those. */
  private evictOldest(): void {
    let oldestShard: Map<string, Entry<V>> | undefined
    let oldestKey: string | undefined
    let oldestSeq = Infinity
    for (const shard of this.shards) {
      for (const [key, entry] of shard) {
        if (entry.seq < oldestSeq) {
          oldestSeq = entry.seq
          oldestKey = key
          oldestShard = shard
        }
        break
      }
    }
    if (oldestShard !== undefined && oldestShard.delete(oldestKey!)) this.count--
  }

  /**
   * A sweep in slices: each call of the returned function removes entries expired at `now()`
   * until `shouldYield(visited)` says the slice is over, and reports how many it removed and
   * whether the whole table has been visited. Entries written between slices may be skipped
   * (the next sweep sees them).
   */
  sweeper(now: () => number): (shouldYield: (visited: number) => boolean) => { removed: number; done: boolean } {
    let index = 0
    let keys: IterableIterator<string> | undefined
    return (shouldYield) => {
      const at = now()
      let removed = 0
      let visited = 0
      while (index < SHARDS) {
        const shard = this.shards[index]!
        keys ??= shard.keys()
        for (const key of keys) {
          if (at >= shard.get(key)!.expiresAt) {
            shard.delete(key)
            this.count--
            removed++
          }
          if (shouldYield(++visited)) return { removed, done: false }
        }
        keys = undefined
        index++
      }
      return { removed, done: true }
    }
  }
}
