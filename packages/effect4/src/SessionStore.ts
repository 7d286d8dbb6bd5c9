/**
 * The store contract: where session records live between requests. The same contract as the
 * effect 3 package's `SessionStore`, as an effect 4 `Context.Service`.
 *
 * @since 0.1.0
 */
import type * as Core from "effect-session-core"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import { applyPatch as applyPatchInternal } from "./internal/storeRecord.js"
import type { SessionLockTimeout, SessionStoreError } from "./SessionError.js"

/**
 * A session record as stores hold it: string keys to plain JSON values (the core's `SessionData`;
 * keys starting with `__session` hold the library's metadata).
 *
 * @example
 * ```ts
 * import type { SessionData } from "effect-session-v4/SessionStore"
 *
 * const record: SessionData = { user: "ada", cart: [1, 2] }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SessionData = Core.SessionData

/**
 * The changes one request made to a session, for `SessionStoreService.patch` (the core's
 * `SessionPatch`): `clear` (remove every key of the current record first), `remove` (keys),
 * `set` (keys to plain JSON values), `add` (numeric deltas: the key becomes its current number,
 * or 0, plus the delta). Applied in that order.
 *
 * @example
 * ```ts
 * import type { SessionPatch } from "effect-session-v4/SessionStore"
 *
 * const patch: SessionPatch = {
 *   clear: false,
 *   remove: ["coupon"],
 *   set: [["cart", ["A-1"]]],
 *   add: [["views", 1]]
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SessionPatch = Core.SessionPatch

/**
 * What `SessionStoreService.rotate` writes: the session's record under its new ID, and how long
 * the old ID keeps answering.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import type { SessionRotation } from "effect-session-v4/SessionStore"
 *
 * // log in: the new ID gets the data; the old one stays readable (never writable) for 5 seconds
 * const rotation: SessionRotation = {
 *   data: { user: "ada" },
 *   ttl: Duration.hours(2),
 *   grace: Duration.seconds(5)
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionRotation {
  /** The record to write under the new ID. */
  readonly data: SessionData
  /** Its TTL (zero: the store's default). */
  readonly ttl: Duration.Duration
  /**
   * How long the old record stays readable, for requests already in flight with the old cookie.
   * Zero: it is deleted at once. Otherwise it is kept as it is in the store, marked retired (the
   * core's `StoredRecord.RETIRED_KEY`, holding when the grace ends), and expires when the grace
   * ends or when it would have expired anyway, whichever comes first: a rotation never extends
   * the old ID's life, and a retired record refuses every later `patch`.
   */
  readonly grace: Duration.Duration
}

/**
 * What a store must do. It is the Go package's `Store`, as Effects:
 *
 * - `read(id)`: the record, `Option.none()` when there is none or it has expired (a miss is not an
 *   error). Expiry is read from Effect's `Clock`, and a record is expired exactly at its TTL.
 * - `write(id, data, ttl)`: replace the record, to expire `ttl` after now. `Duration.zero` means
 *   "the store's own default" (which may be "never").
 * - `destroy(id)`: remove the record; removing a missing record succeeds.
 *
 * `id` is never the session ID the client holds: the middleware passes a SHA-256 hash of it, so a
 * dump of the store holds no live session ID. All operations must be safe for concurrent use and
 * fail only with `SessionStoreError` (`lock` also with `SessionLockTimeout`). A record read is the
 * caller's own: changing it, or what was given to `write`, changes nothing stored.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { SessionStore } from "effect-session-v4"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* SessionStore
 *   yield* store.write("key", { n: 1 }, Duration.minutes(5))
 *   const record = yield* store.read("key") // Option.some({ n: 1 })
 *   yield* store.destroy("key")
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionStoreService {
  readonly read: (id: string) => Effect.Effect<Option.Option<SessionData>, SessionStoreError>
  readonly write: (id: string, data: SessionData, ttl: Duration.Duration) => Effect.Effect<void, SessionStoreError>
  readonly destroy: (id: string) => Effect.Effect<void, SessionStoreError>
  /**
   * Optional capability: apply `patch` atomically to the record as it is *now* in the store, and
   * reset its TTL to `ttl` (zero = the store's default), in one step that no concurrent `patch`,
   * `write`, `rotate` or `destroy` can interleave with. When the record does not exist (it was
   * destroyed, regenerated away or expired) or was retired by a rotation, nothing is written and
   * the result is `false`: a destroyed session is never resurrected, and a retired one never
   * renewed. Stores without it get whole-record `write`s (last writer wins).
   */
  readonly patch?: (
    id: string,
    patch: SessionPatch,
    ttl: Duration.Duration
  ) => Effect.Effect<boolean, SessionStoreError>
  /**
   * Optional capability: acquire an exclusive lock named after `id` (Laravel's session blocking),
   * waiting at most `options.wait`; the lock expires by itself after `options.ttl` so that a
   * crashed holder cannot block forever. Succeeds with the effect that releases it (a release
   * only deletes the lock if it is still the holder's: compare-and-delete).
   */
  readonly lock?: (
    id: string,
    options: { readonly ttl: Duration.Duration; readonly wait: Duration.Duration }
  ) => Effect.Effect<Effect.Effect<void>, SessionLockTimeout | SessionStoreError>
  /**
   * Optional capability: `regenerate` as one atomic step that depends on the old record still
   * existing. When the record under `from` is live and not retired, writes `rotation.data` under
   * `to`, deletes or retires the record under `from` (see `SessionRotation.grace`), and succeeds
   * with `true`. When it is missing, expired or already retired (a concurrent logout destroyed it,
   * another request rotated it), writes nothing and succeeds with `false`: a destroyed session
   * never comes back under a new ID.
   */
  readonly rotate?: (
    from: string,
    to: string,
    rotation: SessionRotation
  ) => Effect.Effect<boolean, SessionStoreError>
}

/**
 * The store service. Provide one with a layer: `MemoryStoreLive`, `MemoryStore.layer(...)`,
 * `RedisStore.layer(...)`, `SqlStore.layer(...)`, `KeyValueSessionStore.layer(...)`, or your own
 * with `Layer.succeed`.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Option } from "effect"
 * import { SessionStore } from "effect-session-v4"
 *
 * // a store that keeps nothing: every request starts a fresh session
 * const NullStore = Layer.succeed(
 *   SessionStore,
 *   SessionStore.of({
 *     read: () => Effect.succeed(Option.none()),
 *     write: () => Effect.void,
 *     destroy: () => Effect.void
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class SessionStore extends Context.Service<SessionStore, SessionStoreService>()("effect-session/SessionStore") {
  /**
   * Applies a patch to a record, returning a new record: the reference semantics every store's
   * `patch` must match (the memory store uses it; the conformance suite checks the others). Keys
   * such as `__proto__` are plain data.
   *
   * @example
   * ```ts
   * import { SessionStore } from "effect-session-v4"
   *
   * SessionStore.applyPatch({ n: 1, a: "x" }, { clear: false, remove: ["a"], set: [["b", true]], add: [["n", 2]] })
   * // { n: 3, b: true }
   * ```
   *
   * @since 0.1.0
   * @category utils
   */
  static readonly applyPatch: (record: SessionData, patch: SessionPatch) => SessionData = applyPatchInternal
}
