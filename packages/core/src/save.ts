/**
 * The save decision: at the end of a request (or at `Session.save`), what to write to the store, with
 * which TTL, and what the response must say about the cookie. The caller runs the store operation
 * the plan names and then applies `outcome`.
 */
import type { CookieDecision } from "./cookie.js"
import * as Lifetime from "./lifetime.js"
import type { Meta } from "./meta.js"
import * as StoredRecord from "./storedRecord.js"

/** What the session is, as far as saving goes. */
export interface Input {
  /** the store holds this session's record under its current ID */
  readonly persisted: boolean
  /** `regenerate` asked for a new ID: the record moves to it, and the old one is retired */
  readonly rotating: boolean
  /** the session was read from a record a rotation retired: read-only */
  readonly retired: boolean
  /** data or metadata differ from what the store holds (or a write is required, as after `regenerate`) */
  readonly changed: boolean
  /** a new session may be created by this request (not for `HEAD`) */
  readonly mayCreate: boolean
  /** the expiry must be renewed whether or not it is due (`setLifetime`, `flush`) */
  readonly renew: boolean
  readonly meta: Meta
}

/** What to do. `ttlMillis` is the record's TTL (`0`: the store's default). */
export type Plan =
  /** nothing to write */
  | { readonly _tag: "Skip" }
  /**
   * the session was retired by another request's rotation and this request changed it: the change
   * is refused (no store I/O, no cookie), as a store's `patch` would refuse it
   */
  | { readonly _tag: "Refused" }
  /** write a new record; set its cookie */
  | { readonly _tag: "Create"; readonly ttlMillis: number; readonly cookie: CookieDecision }
  /** move the record to the new ID if, and only if, the old record still exists; set the new cookie */
  | { readonly _tag: "Rotate"; readonly ttlMillis: number; readonly cookie: CookieDecision }
  /**
   * apply the changes to the record the store holds (a patch, or a whole write); `renews`: the
   * renewal was due (or asked for), so the save renews the session (see `renews`)
   */
  | { readonly _tag: "Update"; readonly ttlMillis: number; readonly cookie: CookieDecision; readonly renews: boolean }

const set = (meta: Meta, settings: Lifetime.Settings, now: number): CookieDecision => ({
  _tag: "Set",
  maxAgeMillis: Lifetime.cookieMaxAge(meta, settings, now)
})

/**
 * The plan for a save at `now`. When the plan `renews` the session, the caller sets the metadata's
 * renewal time to `now` before it builds the record or patch.
 */
export const plan = (input: Input, settings: Lifetime.Settings, now: number): Plan => {
  const { meta } = input
  if (input.retired) return input.changed || input.rotating ? { _tag: "Refused" } : { _tag: "Skip" }
  if (input.rotating) {
    return { _tag: "Rotate", ttlMillis: Lifetime.recordTtl(meta, settings, now), cookie: set(meta, settings, now) }
  }
  if (!input.persisted) {
    if (!input.changed || !input.mayCreate) return { _tag: "Skip" }
    return { _tag: "Create", ttlMillis: Lifetime.recordTtl(meta, settings, now), cookie: set(meta, settings, now) }
  }
  const due = input.renew || Lifetime.renewalDue(meta, settings, now)
  if (!input.changed && !due) return { _tag: "Skip" }
  // A browser-session cookie (idle TTL 0) has nothing to renew: it is left alone, unless the
  // request asked for the renewal (`setLifetime`, `flush`): the lifetime may have changed, and a
  // cookie that still carries the old `Max-Age` must become a browser-session cookie now, or the
  // browser drops it when that runs out although the session lives on.
  const cookie: CookieDecision = input.renew || (due && Lifetime.idle(meta, settings) > 0)
    ? set(meta, settings, now)
    : { _tag: "Leave" }
  return { _tag: "Update", ttlMillis: Lifetime.recordTtl(meta, settings, now), cookie, renews: due }
}

/**
 * Whether a plan renews the session: the metadata's renewal time (`r`) becomes the save's `now`.
 * The renewal time is when the cookie's `Max-Age` and the record's expiry were last extended
 * together, so only a save that also sets the cookie (a new or rotated session, a renewal that
 * was due) may move it. A change saved between renewals extends the record's expiry but leaves the
 * cookie alone, and so leaves the renewal time too: were it moved, a session saved more often than
 * `touchAfter` would never be due again, its cookie never re-issued, and the browser would drop the
 * cookie `ttl` after the last renewal however active the user was.
 *
 * @example
 * ```ts
 * import { Save } from "effect-session-core"
 *
 * const plan = Save.plan(input, settings, now)
 * if (Save.renews(plan)) meta.r = now // then build the record or patch
 * ```
 */
export const renews = (plan: Plan): boolean =>
  plan._tag === "Create" || plan._tag === "Rotate" || (plan._tag === "Update" && plan.renews)

/**
 * The cookie a response carries after a save whose store operation said whether the session
 * still existed (`applied`; always `true` for `Create`). A session that turned out gone (destroyed,
 * regenerated away or expired by another request) gets no cookie at all: clearing it would log the
 * browser out of the session that replaced it, and setting it would bring back an old ID.
 */
export const cookieAfter = (plan: Plan, applied: boolean, current: CookieDecision): CookieDecision => {
  switch (plan._tag) {
    case "Skip":
      return current
    case "Refused":
      return { _tag: "Leave" }
    default:
      if (!applied) return { _tag: "Leave" }
      return plan.cookie._tag === "Leave" ? current : plan.cookie
  }
}

/**
 * The cookie a response carries after `destroy`, given whether the session's record was still
 * ours when the request destroyed it: in the store, a record, and not retired by a rotation. Only
 * then is the cookie cleared (`Max-Age=0`). A session that another request had already destroyed
 * or regenerated away (or that never was stored) gets no cookie at all: the browser may by now hold
 * the cookie of the session that replaced it, and clearing would log it out of that one.
 */
export const cookieAfterDestroy = (stored: unknown): CookieDecision =>
  StoredRecord.isRecord(stored) && !StoredRecord.isRetired(stored) ? { _tag: "Clear" } : { _tag: "Leave" }
