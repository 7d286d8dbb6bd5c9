/**
 * Sessions for `HttpApi` (`effect/http-api`): an `HttpApiMiddleware` that provides `Session` to
 * endpoint handlers, with the store failures declared as Schema errors (`SessionUnavailable`,
 * `503`, and `SessionLocked`, `423`). It runs the same request flow as `Session.middleware`: the
 * session is loaded on first use, saved after the handler and before the response leaves, and
 * its cookie added to that response.
 *
 * Which responses save the session: every response the API produces with a status below 500,
 * including the declared errors such as a `400` or `401`, the endpoint's own or another
 * middleware's (a failed validation may flash messages, as in Laravel), as in the effect 3 package.
 * A `5xx` — a defect, an undeclared error, a declared error whose status is 500 or more, a `503`
 * the handler returns itself, `SessionUnavailable` — keeps the stored session as it was, like a
 * failed request behind `Session.middleware`.
 *
 * @since 0.1.0
 */
import { Cookie } from "effect-session-core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import * as options_ from "./internal/options.js"
import * as internal from "./internal/state.js"
import { type Options, Session } from "./Session.js"
import type { SessionConfigError, SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { SessionStore } from "./SessionStore.js"

/**
 * The session store failed (it is down, timed out or refused): a `503 Service Unavailable`.
 * The body says nothing about the store (`{"_tag":"SessionUnavailable"}`); the store's own error
 * is logged on the server.
 *
 * @example
 * ```ts
 * import { SessionApi } from "effect-session-v4"
 *
 * const error = new SessionApi.SessionUnavailable()
 * error._tag // "SessionUnavailable"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionUnavailable extends Schema.TaggedError<SessionUnavailable>()(
  "SessionUnavailable",
  {},
  { httpApiStatus: 503, description: "The session store is unavailable; try again later." }
) {
  override get message(): string {
    return "session store unavailable"
  }
}

/**
 * Another request on the same session held its lock for longer than this one could wait (opt-in
 * locking, the `lock` option or `Session.blocking`): a `423 Locked`; retrying later works.
 *
 * @example
 * ```ts
 * import { SessionApi } from "effect-session-v4"
 *
 * const error = new SessionApi.SessionLocked()
 * error._tag // "SessionLocked"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionLocked extends Schema.TaggedError<SessionLocked>()(
  "SessionLocked",
  {},
  { httpApiStatus: 423, description: "The session is busy with another request; retry." }
) {
  override get message(): string {
    return "session locked by another request"
  }
}

/**
 * The errors the session middleware declares: `SessionUnavailable | SessionLocked`.
 *
 * @example
 * ```ts
 * import type { SessionApi } from "effect-session-v4"
 *
 * const status = (e: SessionApi.SessionApiError) => e._tag === "SessionLocked" ? 423 : 503
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type SessionApiError = SessionUnavailable | SessionLocked

/**
 * The `HttpApiMiddleware` service: add it to an `HttpApi`, a group or an endpoint with
 * `.middleware(SessionApi.SessionMiddleware)` and their handlers can use `Session`. It declares
 * `SessionUnavailable` and `SessionLocked`, so those endpoints document the `503`/`423` in their
 * OpenAPI spec. Implement it with `SessionApi.layer(options)`. Add it once per endpoint.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HttpApi, HttpApiEndpoint, HttpApiGroup } from "effect/http-api"
 * import { SessionApi } from "effect-session-v4"
 *
 * class Counter extends HttpApiGroup.make("counter")
 *   .add(HttpApiEndpoint.post("increment", "/increment", { success: Schema.Number }))
 *   .middleware(SessionApi.SessionMiddleware)
 * {}
 *
 * class Api extends HttpApi.make("api").add(Counter) {}
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class SessionMiddleware extends HttpApiMiddleware.Service<SessionMiddleware, { provides: Session }>()(
  "effect-session/SessionApi/SessionMiddleware",
  { error: [SessionUnavailable, SessionLocked] }
) {}

const isSessionFailure = internal.isSessionFailure

const toApiError = (error: SessionStoreError | SessionLockTimeout): SessionApiError =>
  error._tag === "SessionLockTimeout" ? new SessionLocked() : new SessionUnavailable()

const logFailure = (error: SessionStoreError | SessionLockTimeout, phase: "load" | "save" | "handler") =>
  error._tag === "SessionLockTimeout"
    ? Effect.logDebug(`effect-session: ${error.message}`)
    : Effect.logError(
      `effect-session: session store failed ${phase === "handler" ? "in a handler" : `during ${phase}`}`,
      error.message
    ).pipe(Effect.annotateLogs({ "effect-session": phase, reason: error.reason }))

/**
 * Turns the session's own failures into the declared Schema errors, for a handler that uses
 * `Session`: `SessionStoreError` becomes `SessionUnavailable` (logged first, since the client is
 * told nothing about it) and `SessionLockTimeout` becomes `SessionLocked`. Other errors pass
 * through unchanged.
 *
 * @example
 * ```ts
 * import { Session, SessionApi } from "effect-session-v4"
 *
 * // Effect<number, SessionValueError | SessionUnavailable | SessionLocked, Session>
 * const increment = Session.increment("visits").pipe(SessionApi.mapStoreErrors)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const mapStoreErrors = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SessionStoreError | SessionLockTimeout> | SessionApiError, R> =>
  Effect.catchIf(
    self,
    (u: E): u is Extract<E, SessionStoreError | SessionLockTimeout> => isSessionFailure(u),
    (error) => Effect.andThen(logFailure(error, "handler"), Effect.fail(toApiError(error)))
  ) as Effect.Effect<A, Exclude<E, SessionStoreError | SessionLockTimeout> | SessionApiError, R>

/** The status `HttpApi` answers a declared error with: its `httpApiStatus` annotation, else 500. */
const statusOf = (ast: SchemaAST.AST): number =>
  SchemaAST.resolveAt<number>("httpApiStatus")(ast) ??
    (ast.context?.annotations?.httpApiStatus as number | undefined) ?? 500

/**
 * Whether a response the handler produced saves the session: a status below 500. A `5xx` it builds
 * itself (`HttpServerResponse.text("maintenance", { status: 503 })`) or declares as its success keeps
 * the stored session as it was, as a failed request does: effect 3's `SessionApi` decides the same way.
 */
const savesResponse = (response: HttpServerResponse.HttpServerResponse): boolean => response.status < 500

const isSessionApiError = (u: unknown): u is SessionApiError =>
  u instanceof SessionUnavailable || u instanceof SessionLocked

/**
 * Whether a handler's failure still saves the session: `HttpApi` encodes it as one of the errors
 * the endpoint declares, itself or through any of its middlewares (an auth guard's `401` too), with
 * a status below 500. The session's own failures never save: `SessionUnavailable` is a 503, and a
 * `SessionLocked` (423) means the request never had the session to itself. Built once per endpoint.
 */
const savesOn = (() => {
  const cache = new WeakMap<HttpApiEndpoint.Top, (error: unknown) => boolean>()
  return (endpoint: HttpApiEndpoint.Top): (error: unknown) => boolean => {
    let saves = cache.get(endpoint)
    if (saves === undefined) {
      const schemas = new Set(endpoint.error)
      for (const middleware of endpoint.middlewares) {
        // Every middleware key has its declared errors as a public `error` set (`HttpApiMiddleware.AnyService`).
        if (middleware === SessionMiddleware) continue
        for (const schema of (middleware as unknown as HttpApiMiddleware.AnyService).error) schemas.add(schema)
      }
      const declared = [...schemas].map((schema) => ({
        is: Schema.is(schema),
        below500: statusOf(schema.ast) < 500
      }))
      saves = (error) => !isSessionApiError(error) && (declared.find((d) => d.is(error))?.below500 ?? false)
      cache.set(endpoint, saves)
    }
    return saves
  }
})()

/**
 * The response for a session failure, as `HttpApi` encodes the declared error (its JSON body and
 * `httpApiStatus`), plus what `Session.middleware`'s failure responses carry on both lines:
 * `Cache-Control: no-store` (no cache keeps a failure, nor a cookie) and `Retry-After: 1` (both
 * failures are worth retrying).
 */
const apiResponse = (error: SessionApiError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe({ _tag: error._tag }, {
    status: error._tag === "SessionLocked" ? statusOf(SessionLocked.ast) : statusOf(SessionUnavailable.ast),
    headers: Cookie.FAILURE_HEADERS
  })

/**
 * The handler, with its session failures answered by `apiResponse`: a `SessionUnavailable` or
 * `SessionLocked` it failed with (`mapStoreErrors`), or died with (`mapStoreErrors` then
 * `Effect.orDie`, which effect 3's `HttpApi` still answered with the declared error and effect 4's
 * would answer with a 500). Around the session's lifecycle, which has already kept the stored
 * session as it was for them (a failed handler saves nothing unless its error is declared below 500).
 */
const answered = <E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, Exclude<E, SessionApiError>, R> =>
  Effect.catchCause(handler, (cause) => {
    const found = cause.reasons.find((reason) =>
      (Cause.isFailReason(reason) && isSessionApiError(reason.error)) ||
      (Cause.isDieReason(reason) && isSessionApiError(reason.defect))
    )
    if (found === undefined) return Effect.failCause(cause as Cause.Cause<Exclude<E, SessionApiError>>)
    return Effect.succeed(
      apiResponse((Cause.isFailReason(found) ? found.error : (found as Cause.Die).defect) as SessionApiError)
    )
  })

/**
 * Implements `SessionMiddleware`. Options are `Session.middleware`'s (`onError` aside: a store
 * failure is the declared `SessionUnavailable`, a lock timeout `SessionLocked`), validated when the
 * layer is built (invalid options fail it with `SessionConfigError`); the store is taken from the
 * layer's context once. Each request runs the one session lifecycle `Session.middleware` runs: a
 * request that never touches its session costs no store I/O, a save that fails never becomes a
 * `200`, a declared error below 500 (the endpoint's or another middleware's) saves the session too
 * (its response gets the cookie), and a `5xx` — even a response the handler built — saves nothing.
 * A store failure or lock timeout is answered with the declared error's status and JSON body plus
 * `Cache-Control: no-store` and `Retry-After: 1`, whether the middleware met it or the handler
 * did (`mapStoreErrors`, also when followed by `Effect.orDie`).
 *
 * @example
 * ```ts
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Effect, Layer, Schema } from "effect"
 * import { HttpRouter } from "effect/http"
 * import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "effect/http-api"
 * import { MemoryStoreLive, Session, SessionApi } from "effect-session-v4"
 * import { createServer } from "node:http"
 *
 * class Counter extends HttpApiGroup.make("counter")
 *   .add(HttpApiEndpoint.post("increment", "/increment", { success: Schema.Number }))
 *   .middleware(SessionApi.SessionMiddleware)
 * {}
 * class Api extends HttpApi.make("api").add(Counter) {}
 *
 * const CounterLive = HttpApiBuilder.group(Api, "counter", (handlers) =>
 *   handlers.handle("increment", () => Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie)))
 *
 * const Server = HttpRouter.serve(HttpApiBuilder.layer(Api)).pipe(
 *   Layer.provide(CounterLive),
 *   Layer.provide(SessionApi.layer({ ttl: "2 hours" })),
 *   Layer.provide(MemoryStoreLive),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 3000 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Omit<Options, "onError">
): Layer.Layer<SessionMiddleware, SessionConfigError, SessionStore> =>
  Layer.effect(
    SessionMiddleware,
    Effect.gen(function*() {
      const config = yield* Effect.fromResult(options_.resolve(options))
      const store = yield* SessionStore
      const onError = (error: SessionStoreError | SessionLockTimeout, context: Session.FailureContext) =>
        Effect.as(logFailure(error, context.phase), apiResponse(toApiError(error)))
      return SessionMiddleware.of((httpEffect, { endpoint }) =>
        answered(internal.serveProviding(Session, config, store, httpEffect, onError, savesOn(endpoint), savesResponse))
      )
    })
  )
