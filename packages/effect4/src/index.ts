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
 * The session module's types and helpers (`Options`, `FailureHandler`, `validateOptions`, …).
 *
 * @since 0.1.0
 */
export * as SessionModule from "./Session.js"

/**
 * Tagged errors: `SessionStoreError`, `SessionKeyMissing`, `SessionValueError`,
 * `SessionConfigError`, `SessionLockTimeout`.
 *
 * @since 0.1.0
 */
export * from "./SessionError.js"

/**
 * Schema-typed session keys.
 *
 * @since 0.1.0
 */
export * as SessionKey from "./SessionKey.js"

/**
 * The store service any backend implements.
 *
 * @since 0.1.0
 */
export { SessionStore } from "./SessionStore.js"

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
 * The Redis store, on effect's `Redis` service.
 *
 * @since 0.1.0
 */
export * as RedisStore from "./RedisStore.js"

/**
 * The store conformance suite.
 *
 * @since 0.1.0
 */
export * as SessionStoreSuite from "./SessionStoreSuite.js"
