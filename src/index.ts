/**
 * effect-session: typed, secure, cookie-backed HTTP sessions for `@effect/platform`.
 *
 * @since 0.1.0
 */

/**
 * The per-request session tag, its accessors and its middleware; its types are reachable from it
 * (`Session.Options`, `Session.FailureHandler`, …).
 *
 * @since 0.1.0
 */
export { Session } from "./Session.js"

/**
 * The store service tag.
 *
 * @since 0.1.0
 */
export { SessionStore } from "./SessionStore.js"

/**
 * Types that go with `SessionStore`: `SessionStoreService`, `SessionPatch`.
 *
 * @since 0.1.0
 */
export type { SessionPatch, SessionStoreService } from "./SessionStore.js"

/**
 * The library's tagged errors.
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
 * The in-memory store: `MemoryStore.layer(options)`, `MemoryStore.make`.
 *
 * @since 0.1.0
 */
export * as MemoryStore from "./MemoryStore.js"

/**
 * The default memory store layer (TTL 2 hours).
 *
 * @since 0.1.0
 */
export { MemoryStoreLive } from "./MemoryStore.js"

/**
 * Schema-typed session keys.
 *
 * @since 0.1.0
 */
export * as SessionKey from "./SessionKey.js"

/**
 * The JSON codec every store uses.
 *
 * @since 0.1.0
 */
export * as SessionCodec from "./SessionCodec.js"

/**
 * CSRF protection on the session's token: a middleware and a `verify` helper.
 *
 * @since 0.1.0
 */
export * as Csrf from "./Csrf.js"

/**
 * The tagged error of a refused CSRF check (419 by default).
 *
 * @since 0.1.0
 */
export { CsrfTokenMismatch } from "./Csrf.js"

/**
 * The testing kit: run a handler with a `Session` and no HTTP; a recording, failing store.
 *
 * @since 0.1.0
 */
export * as SessionTest from "./SessionTest.js"

/**
 * The `HttpLayerRouter` integration: a middleware layer providing `Session`.
 *
 * @since 0.1.0
 */
export * as SessionLayerRouter from "./SessionLayerRouter.js"

/**
 * The `HttpApi` integration: an `HttpApiMiddleware` providing `Session` to endpoint handlers.
 *
 * @since 0.1.0
 */
export * as SessionApi from "./SessionApi.js"
