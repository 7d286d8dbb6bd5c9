/**
 * Change tracking: one request's view of its session data, and what it changed. Values are read
 * from and written to `data`; the keys a request assigned, removed or incremented are remembered,
 * so a save can send a store only those (`toPatch`): concurrent requests changing different keys
 * then all count. Increments are kept as deltas, so concurrent increments of one key all count too.
 */
import * as Flash from "./flash.js"
import * as Meta from "./meta.js"
import type { SessionPatch } from "./patch.js"
import {
  copyJson,
  FLASH_KEY,
  hasOwn,
  isReserved,
  META_KEY,
  type SessionData,
  setOwn,
  TOKEN_KEY
} from "./storedRecord.js"

/** A request's session data and its changes since it was loaded (or last saved). */
export interface Changes {
  /** the session's user data, as the request sees it now */
  readonly data: Map<string, unknown>
  /** the record as loaded or last saved, what "changed" is measured against (`undefined`: new) */
  original: SessionData | undefined
  /** the metadata `original` holds */
  originalMeta: Meta.Meta | undefined
  /** the metadata as the request sees it now */
  meta: Meta.Meta
  /** keys changed since the last save (assigned, removed or incremented) */
  readonly touched: Set<string>
  /** of those, the keys changed only by `add`: saved as deltas (made on the first `add`) */
  deltas: Map<string, number> | undefined
  /** every key was removed (`flush`): the save replaces the record's contents */
  flushed: boolean
}

/**
 * A new session starting at `now`. Its baseline metadata is its own, so only data, a token, flash
 * keys or a lifetime of its own make it worth creating.
 */
export const fresh = (now: number): Changes => {
  const meta = Meta.fresh(now)
  return {
    data: new Map(),
    original: undefined,
    originalMeta: { ...meta },
    meta,
    touched: new Set(),
    deltas: undefined,
    flushed: false
  }
}

/** A session loaded from `record`, whose metadata `Meta.read` gave as `meta`. */
export const fromRecord = (record: SessionData, meta: Meta.Meta): Changes => {
  const data = new Map<string, unknown>()
  for (const key of Object.keys(record)) if (!isReserved(key)) data.set(key, record[key])
  return {
    data,
    original: record,
    originalMeta: meta,
    meta: { ...meta },
    touched: new Set(),
    deltas: undefined,
    flushed: false
  }
}

/**
 * The value under `key` (`undefined` when absent; a reserved key is never data), as a copy of its
 * own: the caller may change it in place, and the session changes only when it is put back (as a
 * PHP array read from Laravel's session). Were the session's own object handed out, a change in
 * place would also change the baseline the save compares with, and the `put` that followed would
 * look like no change at all and be lost.
 */
export const get = (changes: Changes, key: string): unknown =>
  isReserved(key) ? undefined : copyJson(changes.data.get(key))

/**
 * Every key and a copy of its value (see `get`), as a fresh plain record.
 *
 * @example
 * ```ts
 * import { Changes } from "effect-session-core"
 *
 * const changes = Changes.fromRecord({ cart: ["a"] }, meta)
 * const all = Changes.all(changes) // { cart: ["a"] }, the handler's own copy
 * ```
 */
export const all = (changes: Changes): Record<string, unknown> => {
  const all: Record<string, unknown> = {}
  for (const [key, value] of changes.data) setOwn(all, key, copyJson(value))
  return all
}

/** Whether `key` is present, even with a `null` value. */
export const has = (changes: Changes, key: string): boolean => !isReserved(key) && changes.data.has(key)

/**
 * Whether `key` holds a value other than `null` (Laravel's `has`; `remember` computes when it does
 * not). Looks at the value in place: no copy is made just to test it.
 *
 * @example
 * ```ts
 * import { Changes } from "effect-session-core"
 *
 * const changes = Changes.fromRecord({ locale: null }, meta)
 * Changes.has(changes, "locale") // true
 * Changes.hasValue(changes, "locale") // false
 * ```
 */
export const hasValue = (changes: Changes, key: string): boolean => has(changes, key) && changes.data.get(key) !== null

/**
 * The listed keys that are present, each with a copy of its value (see `get`), as a fresh plain record.
 *
 * @example
 * ```ts
 * import { Changes } from "effect-session-core"
 *
 * Changes.only(Changes.fromRecord({ a: 1, b: 2 }, meta), ["a", "z"]) // { a: 1 }
 * ```
 */
export const only = (changes: Changes, keys: ReadonlyArray<string>): Record<string, unknown> => {
  const picked: Record<string, unknown> = {}
  for (const key of keys) if (has(changes, key)) setOwn(picked, key, copyJson(changes.data.get(key)))
  return picked
}

/**
 * Every key but the listed ones, each with a copy of its value (see `get`), as a fresh plain record.
 *
 * @example
 * ```ts
 * import { Changes } from "effect-session-core"
 *
 * Changes.except(Changes.fromRecord({ a: 1, b: 2 }, meta), ["a"]) // { b: 2 }
 * ```
 */
export const except = (changes: Changes, keys: ReadonlyArray<string>): Record<string, unknown> => {
  const rest: Record<string, unknown> = {}
  for (const [key, value] of changes.data) if (!keys.includes(key)) setOwn(rest, key, copyJson(value))
  return rest
}

/**
 * Assigns a copy of `value` to `key` (already checked to be storable and not reserved): what the
 * caller does to its object afterwards does not change the session, which holds what was put.
 */
export const set = (changes: Changes, key: string, value: unknown): void => setCopy(changes, key, copyJson(value))

/**
 * Assigns `copy` to `key` as it is: a copy the session now owns, nobody else holds (the one
 * `Value.copyChecked` made when it checked the value, so the value is read once).
 *
 * @example
 * ```ts
 * import { Changes, Value } from "effect-session-core"
 *
 * const changes = Changes.fresh(Date.now())
 * const copy = Value.copyChecked({ items: [1] })
 * if (!(copy instanceof Value.Refusal)) Changes.setCopy(changes, "cart", copy)
 * ```
 */
export const setCopy = (changes: Changes, key: string, copy: unknown): void => {
  changes.data.set(key, copy)
  changes.touched.add(key)
  changes.deltas?.delete(key)
}

/** Removes `key`; whether it was there. */
export const remove = (changes: Changes, key: string): boolean => {
  if (isReserved(key) || !changes.data.delete(key)) return false
  changes.touched.add(key)
  changes.deltas?.delete(key)
  return true
}

/**
 * Adds `by` to the number under `key` (the caller has checked that it holds a number, or nothing)
 * and answers its new value; `undefined`, changing nothing, when that would not be a finite number.
 * Saved as a delta unless this request already assigned the key (or flushed): then it stays an
 * assignment. A delta's value is the baseline's plus the request's total delta, exactly what a
 * store's patch makes of the same baseline (the sum of fractional steps one by one could differ
 * in the last bit), and a total that overflows is refused even when every step was finite.
 */
export const add = (changes: Changes, key: string, by: number): number | undefined => {
  const deltas = changes.deltas
  const assigned = changes.flushed || (changes.touched.has(key) && deltas?.has(key) !== true)
  let next: number
  let total = 0
  if (assigned) {
    next = (changes.data.get(key) as number | undefined ?? 0) + by
  } else {
    total = (deltas?.get(key) ?? 0) + by
    const base = changes.original !== undefined && hasOwn(changes.original, key) ? changes.original[key] : 0
    next = (typeof base === "number" ? base : 0) + total
  }
  if (!Number.isFinite(next) || !Number.isFinite(total)) return undefined
  changes.data.set(key, next)
  changes.touched.add(key)
  if (!assigned) (changes.deltas ??= new Map()).set(key, total)
  return next
}

/**
 * Removes every key, the CSRF token and flash data, and starts the session's clock again at `now`:
 * its own lifetimes go (the middleware's apply again) and its absolute lifetime counts from now.
 * What a session held before a logout must not decide how long the next one lives.
 */
export const flush = (changes: Changes, now: number): void => {
  changes.data.clear()
  changes.touched.clear()
  changes.deltas = undefined
  changes.flushed = true
  changes.meta = Meta.fresh(now)
}

/**
 * Ages flash data at the end of a request: the values flashed by the previous request are
 * removed, this request's become "old".
 */
export const ageFlash = (changes: Changes): void => {
  for (const key of Flash.age(changes.meta)) remove(changes, key)
}

const sameValue = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b))

/** Whether the user data differs from the baseline. */
export const dataChanged = (changes: Changes): boolean => {
  const { data, original } = changes
  if (original === undefined) return data.size > 0
  if (changes.flushed) {
    let count = 0
    for (const key of Object.keys(original)) {
      if (isReserved(key)) continue
      count++
      if (!data.has(key) || !sameValue(original[key], data.get(key))) return true
    }
    return count !== data.size
  }
  for (const key of changes.touched) {
    const had = hasOwn(original, key)
    if (had !== data.has(key)) return true
    if (had && !sameValue(original[key], data.get(key))) return true
  }
  return false
}

/** Whether anything a save would store differs from the baseline: data or metadata. */
export const changed = (changes: Changes): boolean =>
  dataChanged(changes) || !Meta.same(changes.meta, changes.originalMeta)

/** The whole record: user data and metadata. */
export const toRecord = (changes: Changes): SessionData => {
  const record: Record<string, unknown> = {}
  for (const [key, value] of changes.data) setOwn(record, key, value)
  for (const [key, value] of Meta.entries(changes.meta)) record[key] = value
  return record
}

/** The changes since the baseline, for a store's atomic `patch`: only the parts this request changed. */
export const toPatch = (changes: Changes): SessionPatch => {
  const meta = changes.meta
  if (changes.flushed || changes.original === undefined) {
    return { clear: true, remove: [], set: [...changes.data, ...Meta.entries(meta)], add: [] }
  }
  const original = changes.original
  const remove: Array<string> = []
  const set: Array<[string, unknown]> = []
  const add: Array<[string, number]> = []
  for (const key of changes.touched) {
    const delta = changes.deltas?.get(key)
    if (delta !== undefined) {
      // A zero total still sets a key the record lacks or holds as `null` (`increment("n", 0)`
      // gives n = 0 there, as a whole-record write would); on a number, adding zero is not sent.
      if (delta !== 0 || !hasOwn(original, key) || typeof original[key] !== "number") add.push([key, delta])
    } else if (changes.data.has(key)) {
      const value = changes.data.get(key)
      if (!hasOwn(original, key) || !sameValue(original[key], value)) set.push([key, value])
    } else if (hasOwn(original, key)) {
      remove.push(key)
    }
  }
  // Only the metadata parts this request changed, so concurrent requests do not undo each other's.
  const was = changes.originalMeta
  if (was === undefined || !hasOwn(original, META_KEY) || !Meta.sameCore(meta, was)) {
    set.push([META_KEY, Meta.coreOf(meta)])
  }
  if (meta.t !== undefined) {
    if (!hasOwn(original, TOKEN_KEY) || original[TOKEN_KEY] !== meta.t) set.push([TOKEN_KEY, meta.t])
  } else if (hasOwn(original, TOKEN_KEY)) {
    remove.push(TOKEN_KEY)
  }
  if (Meta.hasFlash(meta)) {
    if (!hasOwn(original, FLASH_KEY) || !Meta.sameList(meta.fn, was?.fn) || !Meta.sameList(meta.fo, was?.fo)) {
      set.push([FLASH_KEY, Meta.flashOf(meta)])
    }
  } else if (hasOwn(original, FLASH_KEY)) {
    remove.push(FLASH_KEY) // an empty flash list left behind: cleaned up
  }
  return { clear: false, remove, set, add }
}

/**
 * The save succeeded: what was saved becomes the baseline. `record` is the whole record when the
 * save built one (a write); after a patch the caller passes `undefined` and no later save in the
 * request needs more than the data and metadata kept here.
 */
export const saved = (changes: Changes, record: SessionData | undefined): void => {
  changes.original = record ?? toRecord(changes)
  changes.originalMeta = { ...changes.meta }
  changes.touched.clear()
  changes.deltas = undefined
  changes.flushed = false
}
