/**
 * The store contract: where session records live between requests.
 *
 * @since 0.1.0
 */
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Option from "effect/Option"
import { setOwn } from "./internal/record.js"
import type { SessionData } from "./SessionCodec.js"
import type { SessionLockTimeout, SessionStoreError } from "./SessionError.js"

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
 * dump of the store holds no live session ID. All three must be safe for concurrent use and fail
 * only with `SessionStoreError`. A record read is the caller's own: changing it, or what was given
 * to `write`, changes nothing stored (a store that keeps the codec's text gets this for free).
 *
 * @example
 * ```ts
 * import { Duration, Effect, Option } from "effect"
 * import { SessionStore } from "effect-session"
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
   * `write` or `destroy` can interleave with. When the record does not exist (it was destroyed,
   * regenerated away or expired), nothing is written and the result is `false`: a destroyed
   * session is never resurrected. Stores without it get whole-record `write`s (last writer wins).
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
   * Optional capability, for stores that live in the process (the memory store): `read`, `write`
   * and `patch` as plain synchronous functions. When a store has it (and no tracer is installed),
   * the middleware loads and saves a session without a single Effect step. See
   * `SessionStoreUnsafe`.
   */
  readonly unsafe?: SessionStoreUnsafe
}

/**
 * The synchronous twin of a store's `read`, `write` and `patch`, for stores whose data is in the
 * process and never needs to wait: each runs at once and returns its `Exit`. `clock` is the
 * calling fiber's `Clock` (expiry follows it, so `TestClock` drives these too). Each must do
 * exactly what its Effect counterpart does when run on a fiber with that clock; a store that has
 * this capability must also have `patch`.
 *
 * Following Effect's naming (`Clock.unsafeCurrentTimeMillis`, `Deferred.unsafeDone`), "unsafe"
 * marks a side effect performed outside of an Effect, not a lack of checks.
 *
 * @example
 * ```ts
 * import { Duration, Effect, Exit } from "effect"
 * import { MemoryStore } from "effect-session"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* MemoryStore.make()
 *   const clock = yield* Effect.clock
 *   const written = store.unsafe.write("key", { n: 1 }, Duration.minutes(5), clock)
 *   const read = store.unsafe.read("key", clock) // Exit.succeed(Option.some({ n: 1 }))
 *   return Exit.isSuccess(written) && Exit.isSuccess(read)
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionStoreUnsafe {
  readonly read: (id: string, clock: Clock.Clock) => Exit.Exit<Option.Option<SessionData>, SessionStoreError>
  readonly write: (
    id: string,
    data: SessionData,
    ttl: Duration.Duration,
    clock: Clock.Clock
  ) => Exit.Exit<void, SessionStoreError>
  readonly patch: (
    id: string,
    patch: SessionPatch,
    ttl: Duration.Duration,
    clock: Clock.Clock
  ) => Exit.Exit<boolean, SessionStoreError>
}

/**
 * The changes one request made to a session, for `SessionStoreService.patch`. Applied in this
 * order: `clear` (remove every key), then `remove`, then `set`, then `add`.
 *
 * @example
 * ```ts
 * import type { SessionPatch } from "effect-session"
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

/**
 * Applies a patch to a record, returning a new record: the reference semantics every store's
 * `patch` must match (the memory store uses it directly; the conformance suite checks others).
 *
 * @example
 * ```ts
 * import { SessionStore } from "effect-session"
 *
 * SessionStore.applyPatch({ n: 1, a: "x" }, { clear: false, remove: ["a"], set: [["b", true]], add: [["n", 2]] })
 * // { n: 3, b: true }
 * ```
 *
 * @since 0.1.0
 * @category patches
 */
export const applyPatch = (record: SessionData, patch: SessionPatch): SessionData => {
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
 * The store service. Provide one with a layer: `MemoryStoreLive`, `MemoryStore.layer(...)`,
 * `RedisStore.layer(...)`, `SqlStore.layer(...)`, or your own with `Layer.succeed`.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Option } from "effect"
 * import { SessionStore } from "effect-session"
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
 * @category tags
 */
export class SessionStore extends Context.Tag("effect-session/SessionStore")<SessionStore, SessionStoreService>() {
  /** @see applyPatch */
  static readonly applyPatch = applyPatch
}
