/**
 * The store contract: where session records live between requests.
 *
 * @since 0.1.0
 */
import { Patch } from "effect-session-core"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
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
   * Optional capability: move a session to a new key in one atomic step (what `regenerate` saves
   * with). If the record under `from` exists (and is not itself retired), write `data` under `to`
   * with `ttl` and retire `from`: delete it when `grace` is zero, otherwise keep it read-only for
   * `grace` (its expiry capped to now + `grace`, and the reserved key `"__session.retired"` set to
   * that time, so that its `patch` is refused) and succeed with `true`. If `from` is gone, write
   * nothing and succeed with `false`: a session destroyed meanwhile (a logout) is never moved to a
   * new ID. Stores without it get a read, a write and a delete (or retiring write) in turn: best
   * effort, a concurrent destroy can fall between them.
   */
  readonly rotate?: (
    from: string,
    to: string,
    data: SessionData,
    ttl: Duration.Duration,
    grace: Duration.Duration
  ) => Effect.Effect<boolean, SessionStoreError>
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
export type SessionPatch = Patch.SessionPatch

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
  /**
   * Applies a patch to a record, returning a new record: the reference semantics every store's
   * `patch` must match (the memory store uses it directly; the conformance suite checks others).
   * A store's `patch` also refuses a record a rotation retired (`"__session.retired"` present):
   * it answers `false` and writes nothing.
   *
   * @example
   * ```ts
   * import { SessionStore } from "effect-session"
   *
   * SessionStore.applyPatch({ n: 1, a: "x" }, { clear: false, remove: ["a"], set: [["b", true]], add: [["n", 2]] })
   * // { n: 3, b: true }
   * ```
   */
  static readonly applyPatch: (record: SessionData, patch: SessionPatch) => SessionData = Patch.apply
}
