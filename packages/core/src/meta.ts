/**
 * Session metadata: creation and renewal times, per-session lifetimes, the CSRF token and the flash
 * bookkeeping. In memory it is one `Meta` object; in the record it is spread over the reserved keys
 * (see `record.ts`). Reading it validates it: a record whose metadata is missing, of the wrong
 * shape or out of range is corrupt, and is never adopted.
 */
import { FLASH_KEY, hasOwn, META_KEY, type SessionData, TOKEN_KEY } from "./storedRecord.js"

/** Session metadata, as one object in memory. */
export interface Meta {
  /** created at (ms since epoch): the absolute lifetime counts from here */
  c: number
  /**
   * renewed at (ms): when the record's expiry and the cookie's Max-Age were last extended together
   * (a save between renewals extends the record's only: `Save.renews`)
   */
  r: number
  /** CSRF token, created on first use */
  t?: string | undefined
  /** flash keys for the next request */
  fn?: Array<string> | undefined
  /** flash keys that expire at the end of this request */
  fo?: Array<string> | undefined
  /** this session's own idle TTL in ms (`setLifetime`), overriding the middleware's */
  l?: number | undefined
  /** this session's own absolute lifetime in ms, overriding the middleware's */
  a?: number | undefined
}

/**
 * The longest lifetime a session may have: 100 years, in ms. Longer ones are not a choice anyone
 * makes, and they overflow what stores can hold (`now + ttl` in a BIGINT, a Redis `PX`).
 */
export const MAX_LIFETIME_MILLIS = 100 * 365.25 * 24 * 60 * 60 * 1000

/**
 * How far in the future a record's times may be: replicas' clocks differ a little, never by this
 * much. A creation or renewal time beyond it is corrupt (it would keep the session alive, or
 * block it, for that long).
 */
export const CLOCK_SKEW_MILLIS = 5 * 60 * 1000

/** Metadata for a session that starts at `now`. */
export const fresh = (now: number): Meta => ({ c: now, r: now })

/** Whether `millis` is a lifetime a session may have: finite, not negative, at most `MAX_LIFETIME_MILLIS`. */
export const isLifetime = (millis: number): boolean =>
  Number.isFinite(millis) && millis >= 0 && millis <= MAX_LIFETIME_MILLIS

const isTime = (u: unknown, now: number): u is number =>
  typeof u === "number" && Number.isFinite(u) && u >= 0 && u <= now + CLOCK_SKEW_MILLIS

/** An array of strings, holes refused (`every` would skip them: only a hand-written record has them). */
const isStringArray = (u: unknown): u is Array<string> => {
  if (!Array.isArray(u)) return false
  for (let i = 0; i < u.length; i++) if (typeof u[i] !== "string") return false
  return true
}

/** What reading a record's metadata gave: the metadata, or why the record is corrupt. */
export type ReadResult = { readonly _tag: "Meta"; readonly meta: Meta } | {
  readonly _tag: "Corrupt"
  readonly reason: string
}

const corrupt = (reason: string): ReadResult => ({ _tag: "Corrupt", reason })

/** The metadata a stored record carries, checked for shape and range against `now` (ms). */
export const read = (record: SessionData, now: number): ReadResult => {
  const core = record[META_KEY]
  if (typeof core !== "object" || core === null || Array.isArray(core)) return corrupt("missing or malformed metadata")
  const m = core as Record<string, unknown>
  if (!isTime(m.c, now)) return corrupt("creation time missing or out of range")
  if (!isTime(m.r, now) || m.r < m.c) return corrupt("renewal time missing or out of range")
  if (m.l !== undefined && (typeof m.l !== "number" || !isLifetime(m.l))) return corrupt("idle lifetime out of range")
  if (m.a !== undefined && (typeof m.a !== "number" || !isLifetime(m.a) || m.a === 0)) {
    return corrupt("absolute lifetime out of range")
  }
  const meta: Meta = { c: m.c, r: m.r }
  if (m.l !== undefined) meta.l = m.l
  if (m.a !== undefined) meta.a = m.a
  const token = hasOwn(record, TOKEN_KEY) ? record[TOKEN_KEY] : undefined
  if (token !== undefined) {
    if (typeof token !== "string") return corrupt("CSRF token is not a string")
    meta.t = token
  }
  const flash = hasOwn(record, FLASH_KEY) ? record[FLASH_KEY] : undefined
  if (flash !== undefined) {
    if (typeof flash !== "object" || flash === null) return corrupt("malformed flash metadata")
    const f = flash as Record<string, unknown>
    if (f.new !== undefined && !isStringArray(f.new)) return corrupt("malformed flash metadata")
    if (f.old !== undefined && !isStringArray(f.old)) return corrupt("malformed flash metadata")
    if (f.new !== undefined && f.new.length > 0) meta.fn = [...f.new]
    if (f.old !== undefined && f.old.length > 0) meta.fo = [...f.old]
  }
  return { _tag: "Meta", meta }
}

/** The stored form of the core metadata (`"__session"`). */
export const coreOf = (meta: Meta): Record<string, number> => {
  const core: Record<string, number> = { c: meta.c, r: meta.r }
  if (meta.l !== undefined) core.l = meta.l
  if (meta.a !== undefined) core.a = meta.a
  return core
}

/** Whether `meta` has flash bookkeeping to store. */
export const hasFlash = (meta: Meta): boolean => meta.fn !== undefined || meta.fo !== undefined

/** The stored form of the flash bookkeeping (`"__session.flash"`). */
export const flashOf = (meta: Meta): Record<string, Array<string>> => ({
  ...(meta.fn ? { new: meta.fn } : {}),
  ...(meta.fo ? { old: meta.fo } : {})
})

/** The record entries that store `meta`: the core always, the token and flash lists when present. */
export const entries = (meta: Meta): Array<[string, unknown]> => {
  const list: Array<[string, unknown]> = [[META_KEY, coreOf(meta)]]
  if (meta.t !== undefined) list.push([TOKEN_KEY, meta.t])
  if (hasFlash(meta)) list.push([FLASH_KEY, flashOf(meta)])
  return list
}

/** Whether two lists of keys are equal (missing = empty). */
export const sameList = (a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined): boolean => {
  const la = a?.length ?? 0
  if (la !== (b?.length ?? 0)) return false
  for (let i = 0; i < la; i++) if (a![i] !== b![i]) return false
  return true
}

/** Whether the core metadata (`"__session"`: times and lifetimes) differs. */
export const sameCore = (a: Meta, b: Meta): boolean => a.c === b.c && a.r === b.r && a.l === b.l && a.a === b.a

/** Whether two metadata objects store the same. */
export const same = (a: Meta, b: Meta | undefined): boolean =>
  b !== undefined && sameCore(a, b) && a.t === b.t && sameList(a.fn, b.fn) && sameList(a.fo, b.fo)
