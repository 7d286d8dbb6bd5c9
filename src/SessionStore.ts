/**
 * The store contract: where session records live between requests.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { SessionData } from "./SessionCodec.js"
import type { SessionStoreError } from "./SessionError.js"

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
 * only with `SessionStoreError`.
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
export class SessionStore extends Context.Tag("effect-session/SessionStore")<SessionStore, SessionStoreService>() {}
