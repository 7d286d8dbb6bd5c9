/**
 * Sessions for `HttpApi`: an `HttpApiMiddleware` that provides `Session` to endpoint handlers,
 * with the store failures declared as Schema errors (`SessionUnavailable`, `503`, and
 * `SessionLocked`, `423`), and a save that runs as a pre-response handler, before the response
 * leaves. It runs the same request flow as `Session.middleware`.
 *
 * Which responses save the session: every response the API produces with a status below 500,
 * including declared errors such as a `400` or `401` (a failed validation may flash messages, as
 * in Laravel). A `5xx` response — a defect, an undeclared error, `SessionUnavailable` — keeps the
 * stored session as it was, like a failed request behind `Session.middleware`.
 *
 * @since 0.1.0
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cookie } from "effect-session-core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as lifecycle from "./internal/lifecycle.js"
import * as options_ from "./internal/options.js"
import type { SessionState } from "./internal/state.js"
import { type FailureHandler, type Options, Session } from "./Session.js"
import type { SessionConfigError, SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { SessionStore } from "./SessionStore.js"

/**
 * The session store failed (it is down, timed out or refused): a `503 Service Unavailable`.
 * The body says nothing about the store (`{"_tag":"SessionUnavailable"}`); the store's own error
 * is logged on the server.
 *
 * @example
 * ```ts
 * import { HttpApiEndpoint, HttpApiSchema } from "@effect/platform"
 * import { Schema } from "effect"
 * import { SessionUnavailable } from "effect-session/SessionApi"
 *
 * // an endpoint that declares it (the session middleware declares it for you)
 * const visits = HttpApiEndpoint.get("visits", "/visits").addSuccess(Schema.Number).addError(SessionUnavailable)
 * HttpApiSchema.getStatusError(SessionUnavailable) // 503
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionUnavailable extends Schema.TaggedError<SessionUnavailable>("effect-session/SessionUnavailable")(
  "SessionUnavailable",
  {},
  HttpApiSchema.annotations({ status: 503, description: "The session store is unavailable; try again later." })
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
 * import { HttpApiSchema } from "@effect/platform"
 * import { SessionLocked } from "effect-session/SessionApi"
 *
 * HttpApiSchema.getStatusError(SessionLocked) // 423
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionLocked extends Schema.TaggedError<SessionLocked>("effect-session/SessionLocked")(
  "SessionLocked",
  {},
  HttpApiSchema.annotations({ status: 423, description: "The session is busy with another request; retry." })
) {
  override get message(): string {
    return "session locked by another request"
  }
}

/**
 * The Schema errors the session middleware declares: `SessionUnavailable | SessionLocked`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SessionApiError, SessionUnavailable } from "effect-session/SessionApi"
 *
 * Schema.is(SessionApiError)(new SessionUnavailable()) // true
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const SessionApiError: Schema.Union<[typeof SessionUnavailable, typeof SessionLocked]> = Schema.Union(
  SessionUnavailable,
  SessionLocked
)

/**
 * The type of `SessionApiError`.
 *
 * @example
 * ```ts
 * import type { SessionApiError } from "effect-session/SessionApi"
 *
 * const status = (e: SessionApiError) => e._tag === "SessionLocked" ? 423 : 503
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type SessionApiError = SessionUnavailable | SessionLocked

/**
 * The `HttpApiMiddleware` tag: add it to an `HttpApi`, a group or an endpoint with
 * `.middleware(SessionMiddleware)` and their handlers can use `Session`. It declares
 * `SessionApiError`, so those endpoints document the `503`/`423` in their OpenAPI spec.
 * Implement it with `layer(options)`. Add it once per endpoint (on the API, a group or the
 * endpoint, not on several of them).
 *
 * @example
 * ```ts
 * import { HttpApi, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
 * import { Schema } from "effect"
 * import { SessionMiddleware } from "effect-session/SessionApi"
 *
 * class Counter extends HttpApiGroup.make("counter")
 *   .add(HttpApiEndpoint.post("increment", "/increment").addSuccess(Schema.Number))
 *   .middleware(SessionMiddleware)
 * {}
 *
 * class Api extends HttpApi.make("api").add(Counter) {}
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class SessionMiddleware extends HttpApiMiddleware.Tag<SessionMiddleware>()(
  "effect-session/SessionApi/SessionMiddleware",
  { provides: Session, failure: SessionApiError }
) {}

const toApiError = (error: SessionStoreError | SessionLockTimeout): SessionApiError =>
  error._tag === "SessionLockTimeout" ? new SessionLocked() : new SessionUnavailable()

/** `phase`: "load" or "save" (as the failure handler is told), or "handler" for `mapStoreErrors`. */
const logFailure = (error: SessionStoreError | SessionLockTimeout, phase: "load" | "save" | "handler") =>
  error._tag === "SessionLockTimeout"
    ? Effect.logDebug(`effect-session: ${error.message}`)
    : Effect.logError(
      `effect-session: session store failed ${phase === "handler" ? "in a handler" : `during ${phase}`}`,
      error.message
    ).pipe(
      Effect.annotateLogs({ "effect-session": phase, reason: error.reason })
    )

/**
 * Turns the session's own failures into the declared Schema errors, for a handler that uses
 * `Session`: `SessionStoreError` becomes `SessionUnavailable` (logged first, since the client
 * is told nothing about it) and `SessionLockTimeout` becomes `SessionLocked`. Other errors pass
 * through unchanged.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session } from "effect-session"
 * import { mapStoreErrors } from "effect-session/SessionApi"
 *
 * // Effect<number, SessionValueError | SessionUnavailable | SessionLocked, Session>
 * const increment = Session.increment("visits").pipe(mapStoreErrors)
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
    lifecycle.isHandled,
    (error) =>
      Effect.flatMap(Effect.serviceOption(Session), (handle) => answer(error, "handler", Option.getOrUndefined(handle)))
  ) as Effect.Effect<A, Exclude<E, SessionStoreError | SessionLockTimeout> | SessionApiError, R>

const statusOf = (error: SessionApiError): number =>
  HttpApiSchema.getStatusError(error._tag === "SessionLocked" ? SessionLocked : SessionUnavailable)

/**
 * The status each request's session failure was answered with, by the request's session handle:
 * `HttpApi` encodes the declared error into the response, and the middleware's pre-response
 * handler adds to that response what every session failure response carries on both lines
 * (`Cookie.FAILURE_HEADERS`).
 */
const answered = new WeakMap<object, number>()

/** The JSON body `HttpApi` encodes each declared session failure into, by its status. */
const failureBodies: ReadonlyMap<number, string> = new Map([
  [HttpApiSchema.getStatusError(SessionUnavailable), JSON.stringify({ _tag: "SessionUnavailable" })],
  [HttpApiSchema.getStatusError(SessionLocked), JSON.stringify({ _tag: "SessionLocked" })]
])
const utf8 = new TextDecoder()

/**
 * Whether `response` answers one of the session's own failures: one this middleware noted
 * (`mapStoreErrors`, a lock timeout), or a declared `SessionUnavailable` or `SessionLocked` the
 * handler failed with itself, which reaches the pre-response handler only as its encoded response.
 */
const answersSessionFailure = (handle: object, response: HttpServerResponse.HttpServerResponse): boolean => {
  if (answered.get(handle) === response.status) return true
  const expected = failureBodies.get(response.status)
  const body = response.body
  return expected !== undefined && body._tag === "Uint8Array" && body.body.length === expected.length &&
    utf8.decode(body.body) === expected
}

/** Logs a session failure and fails with its declared error, noting it for the request's response. */
const answer = (
  error: SessionStoreError | SessionLockTimeout,
  phase: "load" | "handler",
  handle: object | undefined
): Effect.Effect<never, SessionApiError> => {
  const apiError = toApiError(error)
  if (handle !== undefined) answered.set(handle, statusOf(apiError))
  return Effect.zipRight(logFailure(error, phase), Effect.fail(apiError))
}

/** The response for a failure while saving, encoded as `HttpApi` encodes a declared error. */
const apiFailure: FailureHandler = (error, context) => {
  const apiError = toApiError(error)
  return Effect.zipRight(
    logFailure(error, context.phase),
    Effect.orDie(Effect.flatMap(
      Schema.encode(SessionApiError)(apiError),
      (body) => HttpServerResponse.json(body, { status: statusOf(apiError), headers: Cookie.FAILURE_HEADERS })
    ))
  )
}

/**
 * Implements `SessionMiddleware`. Options are `Session.middleware`'s and are validated when the
 * layer is built (invalid options fail it with `SessionConfigError`); the store is taken from
 * the layer's context once. For each request the middleware provides a lazily loaded `Session`
 * (a request that never touches it costs no store I/O), takes the session lock first when the
 * `lock` option is on, and registers a pre-response handler that saves the session and sets its
 * cookie before the response leaves. A save that fails never becomes a `200`: the response is
 * replaced by the `onError` handler's, by default `SessionUnavailable` (`503`, JSON, as `HttpApi`
 * encodes it).
 *
 * @example
 * ```ts
 * import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Effect, Layer, Schema } from "effect"
 * import { MemoryStoreLive, Session, SessionApi } from "effect-session"
 * import { createServer } from "node:http"
 *
 * class Counter extends HttpApiGroup.make("counter")
 *   .add(HttpApiEndpoint.post("increment", "/increment").addSuccess(Schema.Number))
 *   .middleware(SessionApi.SessionMiddleware)
 * {}
 * class Api extends HttpApi.make("api").add(Counter) {}
 *
 * const CounterLive = HttpApiBuilder.group(Api, "counter", (handlers) =>
 *   handlers.handle("increment", () => Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie)))
 *
 * const ServerLive = HttpApiBuilder.serve().pipe(
 *   Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(CounterLive))),
 *   Layer.provide(SessionApi.layer({ ttl: "2 hours" })),
 *   Layer.provide(MemoryStoreLive),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 3000 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <RH = never>(
  options?: Options<never, RH>
): Layer.Layer<SessionMiddleware, SessionConfigError, SessionStore | RH> =>
  Layer.effect(
    SessionMiddleware,
    Effect.gen(function*() {
      const resolved = yield* options_.resolve(options)
      const store = yield* SessionStore
      // What `onError` needs comes from where the layer is built; the request's own context wins.
      const context = yield* Effect.context<RH>()
      const onError = resolved.onError
      const config: options_.Resolved = {
        ...resolved,
        onError: onError === undefined ?
          apiFailure :
          (error, failure) => Effect.mapInputContext(onError(error, failure), (input) => Context.merge(context, input))
      }

      /**
       * The pre-response handler: save, then the response with the session cookie. A response that
       * answers the session's own failure (`mapStoreErrors`, here or in the handler) gets the
       * failure headers first.
       */
      const save = (
        state: SessionState,
        request: HttpServerRequest.HttpServerRequest,
        sent: HttpServerResponse.HttpServerResponse
      ): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
        const failed = answersSessionFailure(state, sent)
        const response = failed ? HttpServerResponse.setHeaders(sent, Cookie.FAILURE_HEADERS) : sent
        return (failed || response.status >= 500
          // A server failure (or a load that failed), or the session's own failure (a lock timeout's
          // 423: the request never held the lock): keep the stored session as it was.
          ? Effect.succeed(response)
          : Effect.catchAll(
            lifecycle.save(state, response),
            (error) => lifecycle.failure(config, request, error, Option.some(response))
          )).pipe(Effect.ensuring(state.unlock))
      }

      return SessionMiddleware.of(Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const state = lifecycle.begin(config, store, yield* Effect.clock, request)
        // Released after the save, or with the request's scope if the response never comes.
        yield* Effect.addFinalizer(() => state.unlock)
        // Before the lock: a lock timeout's 423 gets the failure headers too.
        yield* HttpApp.appendPreResponseHandler((request, response) => save(state, request, response))
        yield* Effect.catchIf(
          lifecycle.acquire(config, state),
          lifecycle.isHandled,
          (error) => answer(error, "load", state)
        )
        return state
      }))
    })
  )
