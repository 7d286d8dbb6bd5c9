/**
 * The memory stores' table (both Effect lines): many small `Map`s instead of one big one.
 *
 * Why: when a `Map` loses most of its entries V8 shrinks it, rehashing the survivors in one
 * synchronous step. On a single map of a million sessions that step alone stalls the event loop
 * for 15-20 ms in the middle of a sweep, however finely the sweep is sliced. Split over 256 maps,
 * the same rehash is ~256 times smaller.
 */

import { apply, refuses, type SessionPatch } from "./patch.js"
import { copyJson, fromText, graceEnd, isRetired, retire, type SessionData, setOwn, toText } from "./storedRecord.js"
import { unstorable } from "./value.js"

/**
 * A stored record, its expiry (`Infinity`: never) and its write sequence number. The record is
 * either its JSON text or, once parsed, the store's own copy of it (see `MemoryStore`); `V` is
 * the type of that copy.
 */
export interface Entry<V> {
  value: string | V
  expiresAt: number
  seq: number
}

/**
 * The `maxEntries` of a table without a bound: the memory stores' default. Such a table evicts
 * nothing, so it keeps no order of writes and updates a rewritten entry where it is.
 *
 * @example
 * ```ts
 * import { MemoryTable } from "effect-session-core"
 *
 * const records = new MemoryTable.Records(MemoryTable.UNBOUNDED)
 * ```
 */
export const UNBOUNDED = Number.MAX_SAFE_INTEGER

const SHARD_BITS = 8
const SHARDS = 1 << SHARD_BITS

/**
 * The characters at the end of a key that pick its shard. A storage key is a SHA-256 hash, so any
 * 16 of its characters are as random as all 43; a hand-made key ("user-1", "user-2") differs at
 * its end. Every read and write pays for this, so it hashes no more than it needs.
 */
const SHARD_CHARS = 16

/** FNV-1a over the key's last `SHARD_CHARS` characters: cheap, and spreads both hashed storage keys and hand-made ones. */
const shardOf = (key: string): number => {
  let hash = 0x811c9dc5
  for (let i = Math.max(0, key.length - SHARD_CHARS); i < key.length; i++) {
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
    if (maxEntries === UNBOUNDED) {
      // Unbounded: nothing is ever evicted, so the order of writes does not matter and an
      // existing entry is updated where it is. A delete and re-insert would leave a hole in the
      // Map on every write of a returning session, and V8 rehashes the Map to reclaim them.
      const entry = shard.get(key)
      if (entry !== undefined) {
        entry.value = value
        entry.expiresAt = expiresAt
        entry.seq = ++this.seq
        return
      }
    } else if (shard.delete(key)) {
      // Re-insert: within a shard, Map order is then least-recently-written first.
      this.count--
    } else if (this.count >= maxEntries) {
      this.evictOldest()
    }
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

/** What a record operation of `Records` gives: its value, or why the record could not be used. */
export type Outcome<A> =
  | { readonly _tag: "Done"; readonly value: A }
  /** a stored record that is not a JSON object (only text written by hand can be) */
  | { readonly _tag: "Corrupt"; readonly message: string; readonly cause?: unknown }
  /** a value that is not plain JSON data (the message names its key) */
  | { readonly _tag: "Unencodable"; readonly message: string }

const done = <A>(value: A): Outcome<A> => ({ _tag: "Done", value })
const doneFalse = done(false)
const doneTrue = done(true)
const doneNothing = done(undefined)

/**
 * The memory stores' records (both Effect lines): every operation is one synchronous call, so none
 * can interleave with another (JavaScript runs one at a time): that is what makes `patch` and
 * `rotate` atomic. The caller reads its clock and passes the time in.
 *
 * A record is kept as the JSON text its write encoded until it is first read; from then on the
 * entry holds the parsed record instead. That object is the table's own: it is never handed out
 * (a read gets a deep copy, so no caller can change a stored session without saving it) and never
 * changed (a patch makes a new one, copying the values it puts in). A returning user's request
 * then costs a copy, not a parse and an encode.
 */
export class Records {
  readonly table = new Entries<SessionData>()

  constructor(private readonly maxEntries: number) {}

  /** The live entry under `id` at `now`; an expired one is removed on the way. */
  private live(id: string, now: number): Entry<SessionData> | undefined {
    const entry = this.table.get(id)
    if (entry === undefined) return undefined
    if (now >= entry.expiresAt) {
      this.table.delete(id)
      return undefined
    }
    return entry
  }

  /** The entry's record, parsed once: a record that is not a JSON object stays text and fails every read. */
  private parsed(entry: Entry<SessionData>): Outcome<SessionData> {
    const value = entry.value
    if (typeof value !== "string") return done(value)
    const parsed = fromText(value)
    if (parsed._tag !== "Record") return parsed
    entry.value = parsed.record
    return done(parsed.record)
  }

  /** A copy of the live record under `id` at `now`; `undefined` when there is none. */
  read(id: string, now: number): Outcome<SessionData | undefined> {
    const entry = this.live(id, now)
    if (entry === undefined) return doneNothing
    const record = this.parsed(entry)
    return record._tag === "Done" ? done(copyJson(record.value) as SessionData) : record
  }

  /** Stores `data` (checked and encoded) under `id` until `expiresAt` (`Infinity`: never). */
  write(id: string, data: SessionData, expiresAt: number): Outcome<void> {
    const encoded = toText(data)
    if (encoded._tag !== "Text") return encoded
    this.table.set(id, encoded.text, expiresAt, this.maxEntries)
    return doneNothing
  }

  /**
   * Applies `changes` to the live record under `id` and keeps it until `expiresAt`; `false` when
   * there is none or it is retired. The stored record was checked when it was written, so only
   * what the patch puts in is checked here.
   */
  patch(id: string, changes: SessionPatch, now: number, expiresAt: number): Outcome<boolean> {
    const entry = this.live(id, now)
    if (entry === undefined) return doneFalse
    const record = this.parsed(entry)
    if (record._tag !== "Done") return record
    if (refuses(record.value)) return doneFalse
    const next = apply(record.value, changes) as Record<string, unknown>
    for (const changed of [changes.set, changes.add]) {
      for (const [key] of changed) {
        const problem = unstorable(key, next[key])
        if (problem !== undefined) return { _tag: "Unencodable", message: problem }
        // Copied as JSON would: the stored record shares no object with the caller.
        setOwn(next, key, copyJson(next[key]))
      }
    }
    this.table.set(id, next, expiresAt, this.maxEntries)
    return doneTrue
  }

  /**
   * Writes `data` under `to` (until `expiresAt`) and retires `from`, if and only if `from` is live
   * and not retired at `now`: the old record is kept read-only for `graceMillis` (never beyond its
   * own expiry) or deleted. `false` (nothing written) when `from` is gone.
   */
  rotate(
    from: string,
    to: string,
    data: SessionData,
    now: number,
    expiresAt: number,
    graceMillis: number
  ): Outcome<boolean> {
    const encoded = toText(data)
    if (encoded._tag !== "Text") return encoded
    const entry = this.live(from, now)
    if (entry === undefined) return doneFalse
    const old = this.parsed(entry)
    if (old._tag !== "Done") return old
    if (isRetired(old.value)) return doneFalse
    const until = graceEnd(now, graceMillis, entry.expiresAt)
    this.table.set(to, encoded.text, expiresAt, this.maxEntries)
    if (until !== undefined) this.table.set(from, retire(old.value, until), until, this.maxEntries)
    else this.table.delete(from)
    return doneTrue
  }

  destroy(id: string): void {
    this.table.delete(id)
  }
}
