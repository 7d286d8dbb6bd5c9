/**
 * `SessionPatch`: the changes one request made to a session, as a store's atomic `patch` applies
 * them to the record as it is *now* (so concurrent requests changing different keys, or
 * incrementing the same one, all count).
 */
import { isRetired, type SessionData, setOwn } from "./storedRecord.js"

/**
 * The changes one request made to a session. Applied in this order: `clear` (remove every key),
 * then `remove`, then `set`, then `add`.
 */
export interface SessionPatch {
  /** remove every key of the current record first (a `flush`) */
  readonly clear: boolean
  /** keys to remove */
  readonly remove: ReadonlyArray<string>
  /** keys to set, to plain JSON values */
  readonly set: ReadonlyArray<readonly [key: string, value: unknown]>
  /** numeric deltas: the key becomes (its current number, or 0 if absent or not a number) + delta */
  readonly add: ReadonlyArray<readonly [key: string, delta: number]>
}

/** A patch that changes nothing (a save that only renews the expiry). */
export const empty: SessionPatch = { clear: false, remove: [], set: [], add: [] }

/**
 * Applies a patch to a record, returning a new record: the reference semantics every store's
 * `patch` must match.
 */
export const apply = (record: SessionData, patch: SessionPatch): SessionData => {
  // Spread and `defineProperty` create own properties: a key named "__proto__" stays data.
  const next: Record<string, unknown> = patch.clear ? {} : { ...record }
  for (const key of patch.remove) delete next[key]
  for (const [key, value] of patch.set) setOwn(next, key, value)
  for (const [key, delta] of patch.add) {
    const current = Object.prototype.hasOwnProperty.call(next, key) ? next[key] : undefined
    setOwn(next, key, (typeof current === "number" ? current : 0) + delta)
  }
  return next
}

/**
 * Whether a store must refuse to patch `record` (and answer `false`, "gone"): a record retired by
 * a rotation is read-only, so a request that loaded it before the rotation cannot write its
 * pre-rotation state (or a full TTL) over it.
 */
export const refuses = (record: SessionData): boolean => isRetired(record)
