/**
 * The stored record: a flat `Record<string, unknown>` whose top-level keys are the session's data,
 * plus a few reserved keys that hold the library's metadata. Keeping it flat means any store, even
 * a hand-written one, sees the session's data as the plain record it is.
 *
 * - `"__session"`: `{ c, r, l?, a? }`: creation and renewal times, per-session lifetimes (see `Meta`)
 * - `"__session.token"`: the CSRF token
 * - `"__session.flash"`: `{ new?: [...keys], old?: [...keys] }`
 * - `"__session.retired"`: set on a record that a rotation retired (`regenerate` with a grace
 *   period): the time (ms) its grace ends. It is read-only from then on: a patch is refused, and a
 *   request that loads it never renews it nor sets a cookie for it.
 *
 * The metadata is split over several keys so that an atomic patch touches only the part a request
 * changed: a request that merely renews the session never overwrites the flash bookkeeping or the
 * CSRF token that a concurrent request just wrote.
 */

import { unstorable } from "./value.js"

/** A session record as stores hold it: plain JSON data under string keys. */
export type SessionData = Readonly<Record<string, unknown>>

export const META_KEY = "__session"
export const TOKEN_KEY = "__session.token"
export const FLASH_KEY = "__session.flash"
export const RETIRED_KEY = "__session.retired"

/** Whether `key` is one of the metadata keys (never user data). */
export const isReserved = (key: string): boolean =>
  key === META_KEY || key === TOKEN_KEY || key === FLASH_KEY || key === RETIRED_KEY

/**
 * Whether a store's read returned something that can be a record: a plain object (not `null`, not
 * an array, not a number or string). Anything else is a corrupt record.
 */
export const isRecord = (u: unknown): u is SessionData => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** Whether `record` has `key` as an own property (a key named like an `Object.prototype` member is data). */
export const hasOwn = (record: SessionData, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key)

/**
 * Sets `key` on a plain record as an own, enumerable data property. A key named "__proto__" goes
 * through `defineProperty`, since plain assignment would call the prototype setter instead of
 * storing it.
 */
export const setOwn = (target: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    target[key] = value
  }
}

/**
 * A deep copy of plain JSON data: what `JSON.parse(JSON.stringify(value))` gives for data that
 * `Value.check` accepts (no holes, no class instances), without the text in between. A property
 * whose value is `undefined` is left out, as JSON leaves it out, so the copy is what a store will
 * hold.
 */
export const copyJson = (value: unknown): unknown => {
  // JSON has no -0: its text is "0".
  if (typeof value !== "object" || value === null) return value === 0 ? 0 : value
  if (Array.isArray(value)) return value.map(copyJson)
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key]
    if (inner !== undefined) setOwn(copy, key, copyJson(inner))
  }
  return copy
}

/**
 * When the grace of a retired record ends (ms), or `undefined` for a record that is not retired.
 * A marker that is not a finite number still marks the record retired (it ends at once): whatever
 * wrote it, the record must not be brought back.
 */
export const retiredUntil = (record: SessionData): number | undefined => {
  if (!hasOwn(record, RETIRED_KEY)) return undefined
  const until = record[RETIRED_KEY]
  return typeof until === "number" && Number.isFinite(until) ? until : -Infinity
}

/** Whether `record` was retired by a rotation: it may be read during its grace, never changed. */
export const isRetired = (record: SessionData): boolean => hasOwn(record, RETIRED_KEY)

/** `record` as a rotation leaves it for its grace period: the same data, marked retired until `until`. */
export const retire = (record: SessionData, until: number): SessionData => {
  const next: Record<string, unknown> = { ...record }
  next[RETIRED_KEY] = until
  return next
}

/**
 * When a rotation's grace ends for the record it moves away from (every store, both lines):
 * `min(now + grace, expiresAt)`, so a grace never extends the old record's life; `undefined` when
 * there is no grace left (the old record is deleted). `graceMillis` is rounded up to whole
 * milliseconds, and capped at what a safe integer holds (`Duration.infinity`); `expiresAt` is `Infinity` for a record that never expires. The retired marker
 * (`retire`) and the old record's new expiry are both this time.
 */
export const graceEnd = (now: number, graceMillis: number, expiresAt: number): number | undefined => {
  // A grace past what a safe integer holds (`Duration.infinity`) ends at the latest time one does:
  // a finite marker every store can write, not one that reads as "ended at once".
  const grace = Math.min(Math.ceil(graceMillis), Number.MAX_SAFE_INTEGER - now)
  if (!(grace > 0)) return undefined
  const until = Math.min(now + grace, expiresAt)
  return until > now ? until : undefined
}

/** The user data of a record (its reserved keys left out), as a fresh object. */
export const userData = (record: SessionData): Record<string, unknown> => {
  const data: Record<string, unknown> = {}
  for (const key of Object.keys(record)) if (!isReserved(key)) setOwn(data, key, record[key])
  return data
}

/**
 * What a store's write answers for data that is not a record (`null`, an array, a string).
 *
 * @example
 * ```ts
 * import { StoredRecord } from "effect-session-core"
 *
 * StoredRecord.toText(null as never) // { _tag: "Unencodable", message: StoredRecord.NOT_A_RECORD }
 * ```
 */
export const NOT_A_RECORD = "session data must be a record (a plain object of keys and values)"

/**
 * A record as the text the text-keeping stores hold (SQL's `data`, the memory stores), the same in
 * both lines: `JSON.stringify` of the record, once every value is checked to be plain JSON data
 * (`Value.unstorable`: the message names the key).
 */
export const toText = (
  data: SessionData
): { readonly _tag: "Text"; readonly text: string } | { readonly _tag: "Unencodable"; readonly message: string } => {
  // a store is any code's to call: a write of something that is not a record is refused, never a TypeError
  if (!isRecord(data)) return { _tag: "Unencodable", message: NOT_A_RECORD }
  for (const key of Object.keys(data)) {
    const problem = unstorable(key, data[key])
    if (problem !== undefined) return { _tag: "Unencodable", message: problem }
  }
  return { _tag: "Text", text: JSON.stringify(data) }
}

/**
 * A parsed JSON value (what `JSON.parse` gave for a stored record) as a record: not a plain object
 * is corrupt, and so is a value that no save could write back. Each top-level value is checked as
 * a write checks it (`Value.unstorable`, depth counted from the value, not from the record), so
 * whatever a write accepted reads back, and whatever reads back can be written again.
 *
 * @example
 * ```ts
 * import { StoredRecord } from "effect-session-core"
 *
 * StoredRecord.fromParsed(JSON.parse("{\"n\":1}")) // { _tag: "Record", record: { n: 1 } }
 * StoredRecord.fromParsed(JSON.parse("{\"n\":1e999}"))._tag // "Corrupt": Infinity
 * ```
 */
export const fromParsed = (
  parsed: unknown
):
  | { readonly _tag: "Record"; readonly record: SessionData }
  | { readonly _tag: "Corrupt"; readonly message: string } =>
{
  if (!isRecord(parsed)) return { _tag: "Corrupt", message: "session record is not a JSON object" }
  // JSON text can hold what no write would have stored and no save could write back (a number
  // beyond a double, `1e999`, parses to Infinity; nesting deeper than a value may be): such a
  // record is corrupt, not a session that fails every save.
  for (const key of Object.keys(parsed)) {
    const problem = unstorable(key, parsed[key])
    if (problem !== undefined) {
      return { _tag: "Corrupt", message: `session record holds a value no save could write back: ${problem}` }
    }
  }
  return { _tag: "Record", record: parsed }
}

/**
 * `toText`'s text back into a record; text that is not JSON, or JSON that `fromParsed` refuses (not
 * an object, a value no save could write back), is corrupt.
 */
export const fromText = (
  text: string
):
  | { readonly _tag: "Record"; readonly record: SessionData }
  | { readonly _tag: "Corrupt"; readonly message: string; readonly cause?: unknown } =>
{
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    return { _tag: "Corrupt", message: "session record is not JSON", cause }
  }
  return fromParsed(parsed)
}
