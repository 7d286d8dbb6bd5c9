/**
 * Lifetimes: how long a session lives and when its expiry is extended. All times are milliseconds.
 *
 * - idle TTL: each save (or renewal) keeps the session this much longer; it is the cookie's
 *   `Max-Age`. `0` means "no expiry chosen here": a browser-session cookie, and records written
 *   with TTL zero (the store's default).
 * - absolute lifetime: from creation, never extended by activity (`Infinity`: none).
 * - touch-after: an unchanged session is renewed (record expiry and cookie) only once it is this
 *   old, so reads cost no writes.
 *
 * A session may carry its own idle and absolute lifetimes (`setLifetime`, "remember me"), which
 * replace the middleware's.
 */
import type { Meta } from "./meta.js"

/** The middleware's lifetimes, in ms. */
export interface Settings {
  /** idle TTL; `0`: browser-session cookie, store's default TTL */
  readonly ttlMillis: number
  /** absolute lifetime from creation; `Infinity`: none */
  readonly absoluteMillis: number
  /** how old an unchanged session's renewal may get before it is renewed again */
  readonly touchAfterMillis: number
}

/** The idle TTL that applies to the session: its own, or the middleware's. */
export const idle = (meta: Meta, settings: Settings): number => meta.l ?? settings.ttlMillis

/** The absolute lifetime that applies to the session: its own, or the middleware's. */
export const absolute = (meta: Meta, settings: Settings): number => meta.a ?? settings.absoluteMillis

/** Whether the session is past its absolute lifetime at `now`: it is never adopted again. */
export const isExpired = (meta: Meta, settings: Settings, now: number): boolean =>
  now >= meta.c + absolute(meta, settings)

/** Time left before the absolute lifetime ends (`Infinity` without one). */
export const remaining = (meta: Meta, settings: Settings, now: number): number =>
  meta.c + absolute(meta, settings) - now

/**
 * Whether an unchanged session must be renewed at `now`. Renewal is due every `touchAfter` (at most
 * half the idle TTL) even with `ttl: 0`: the record then takes the store's default TTL, which may be
 * finite, and an active reader must not be logged out by it.
 */
export const renewalDue = (meta: Meta, settings: Settings, now: number): boolean => {
  const ttl = idle(meta, settings)
  const touchAfter = ttl > 0 ? Math.min(settings.touchAfterMillis, ttl / 2) : settings.touchAfterMillis
  return now - meta.r >= touchAfter
}

/**
 * The TTL to write the record with at `now`: the idle TTL capped by what is left of the absolute
 * lifetime (at least 1 ms), or `0` (the store's default) when neither applies.
 */
export const recordTtl = (meta: Meta, settings: Settings, now: number): number => {
  const ttl = idle(meta, settings)
  const left = remaining(meta, settings, now)
  const millis = ttl > 0 ? Math.min(ttl, left) : left
  return Number.isFinite(millis) ? Math.max(1, millis) : 0
}

/**
 * The cookie's `Max-Age` in ms for a session saved at `now`, or `undefined` for a browser-session
 * cookie (idle TTL `0`).
 */
export const cookieMaxAge = (meta: Meta, settings: Settings, now: number): number | undefined => {
  const ttl = idle(meta, settings)
  return ttl > 0 ? Math.min(ttl, remaining(meta, settings, now)) : undefined
}

/** The longest default touch-after: an active session's expiry is extended at least once a minute. */
export const MAX_TOUCH_AFTER_MILLIS = 60_000

/**
 * The middleware's touch-after for an idle lifetime `ttlMillis` (`0`: none): the option given, or
 * by default a tenth of the lifetime, at most a minute. A touch-after that is not shorter than the
 * lifetime is refused (active sessions would expire): the answer is then a message for the
 * `touchAfter` option.
 */
export const touchAfter = (
  ttlMillis: number,
  touchAfterMillis: number | undefined
): { readonly millis: number } | { readonly message: string } => {
  if (touchAfterMillis === undefined) {
    return { millis: ttlMillis > 0 ? Math.min(ttlMillis / 10, MAX_TOUCH_AFTER_MILLIS) : MAX_TOUCH_AFTER_MILLIS }
  }
  return ttlMillis > 0 && touchAfterMillis >= ttlMillis
    ? { message: "touchAfter must be shorter than ttl, or active sessions would expire" }
    : { millis: touchAfterMillis }
}

/**
 * The TTL a store gives a write, in whole milliseconds (rounded up): the one asked for, or, when
 * that is zero, the store's default; `0` means the record never expires.
 */
export const storeTtl = (requestedMillis: number, defaultMillis: number): number => {
  const requested = Math.ceil(requestedMillis)
  return requested > 0 ? requested : Math.ceil(defaultMillis)
}

/**
 * When a record written at `now` (ms) to live `ttlMillis` (a `storeTtl`: `0` is never) expires;
 * `undefined` when it never does: no TTL, or one whose expiry is past what a safe integer holds
 * (`Duration.infinity`), which every store treats as no expiry (the SQL stores' `NULL`, Redis's
 * `never`), rather than failing or storing `Infinity`.
 *
 * @example
 * ```ts
 * import { Lifetime } from "effect-session-core"
 *
 * Lifetime.expiresAt(1_000, 60_000) // 61_000
 * Lifetime.expiresAt(1_000, 0) // undefined
 * Lifetime.expiresAt(1_000, Infinity) // undefined
 * ```
 */
export const expiresAt = (now: number, ttlMillis: number): number | undefined =>
  ttlMillis > 0 && Number.isSafeInteger(now + ttlMillis) ? now + ttlMillis : undefined
