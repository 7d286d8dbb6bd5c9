/**
 * effect-session-v4: cookie-backed HTTP sessions for effect 4 (`effect/http`), modelled on
 * Laravel's Session. The effect 4 line of effect-session: the same names and behaviour.
 *
 * @since 0.1.0
 */

/**
 * The per-request session service, its accessors and the `HttpRouter` middleware.
 *
 * @since 0.1.0
 */
export { Session } from "./Session.js"

/**
 * Tagged errors: `SessionStoreError`, `SessionKeyMissing`, `SessionValueError`,
 * `SessionConfigError`, `SessionLockTimeout`.
 *
 * @since 0.1.0
 */
export {
  SessionConfigError,
  SessionKeyMissing,
  SessionLockTimeout,
  SessionStoreError,
  SessionValueError
} from "./SessionError.js"

/**
 * The store service any backend implements.
 *
 * @since 0.1.0
 */
export { SessionStore } from "./SessionStore.js"

/**
 * The store contract's types: what a store holds and what its optional capabilities receive.
 *
 * @since 0.1.0
 */
export type { SessionData, SessionPatch, SessionRotation, SessionStoreService } from "./SessionStore.js"

/**
 * Schema-typed session keys.
 *
 * @since 0.1.0
 */
export * as SessionKey from "./SessionKey.js"

/**
 * Testing kit: a `Session` with no HTTP, and a store that records calls and injects failures.
 *
 * @since 0.1.0
 */
export * as SessionTest from "./SessionTest.js"

/**
 * The in-memory store (`MemoryStore.layer(options)`).
 *
 * @since 0.1.0
 */
export * as MemoryStore from "./MemoryStore.js"

/**
 * The default store: in memory, 2 h TTL.
 *
 * @since 0.1.0
 */
export { MemoryStoreLive } from "./MemoryStore.js"

/**
 * The Redis store, on effect's `Redis` service (`NodeRedis` or any provider).
 *
 * @since 0.1.0
 */
export * as RedisStore from "./RedisStore.js"

/**
 * The SQL store, on `effect/sql`'s `SqlClient` (PostgreSQL, MySQL/MariaDB, SQLite).
 *
 * @since 0.1.0
 */
export * as SqlStore from "./SqlStore.js"

/**
 * The minimal store over effect's `KeyValueStore`, so any of its backends serves sessions.
 *
 * @since 0.1.0
 */
export * as KeyValueSessionStore from "./KeyValueSessionStore.js"

/**
 * CSRF protection bound to the session (`419` when the token is missing or wrong).
 *
 * @since 0.1.0
 */
export * as Csrf from "./Csrf.js"

/**
 * The error `Csrf` refuses a request with.
 *
 * @since 0.1.0
 */
export { CsrfTokenMismatch } from "./Csrf.js"

/**
 * Sessions for `HttpApi` (`effect/http-api`): an `HttpApiMiddleware` that provides `Session`.
 *
 * @since 0.1.0
 */
export * as SessionApi from "./SessionApi.js"

/**
 * The store conformance suite's types. Its functions (`SessionStoreSuite.run`, …) register
 * `@effect/vitest` tests, so they load `vitest`: import them from test files through
 * `effect-session-v4/SessionStoreSuite`. Exported here as types only, so that importing the
 * package root never needs vitest at run time.
 *
 * @since 0.1.0
 */
export type * as SessionStoreSuite from "./SessionStoreSuite.js"
