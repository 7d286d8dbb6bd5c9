/**
 * A request's session, start to end: begin from the request (`begin`), take the session lock when
 * the options ask for it (`acquire`), run the app with `Session` provided (`provide`), save and set
 * the cookie (`save`), or turn a store failure into the failure handler's response (`failure`).
 *
 * `run` puts the steps together for adapters that wrap an app (`Session.middleware`,
 * `SessionLayerRouter`); `SessionApi` and `SessionTest` call the steps themselves, because their
 * framework runs the handler between them.
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cookie, Options as CoreOptions } from "effect-session-core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import { isTagged } from "effect/Predicate"
import * as RuntimeFlags from "effect/RuntimeFlags"
import type { FailureContext, Session, SessionService } from "../Session.js"
import type { SessionLockTimeout, SessionStoreError } from "../SessionError.js"
import { SessionStore, type SessionStoreService } from "../SessionStore.js"
import type { Resolved } from "./options.js"
import { SessionState } from "./state.js"

/** The `Session` tag (same key as the public class, which is defined on top of this module's users). */
export const SessionTag = Context.GenericTag<Session, SessionService>("effect-session/Session")

/** The session failures the lifecycle turns into a response. */
export type Handled = SessionStoreError | SessionLockTimeout

/** Whether `u` is one of the session failures the lifecycle handles. */
export const isHandled = <E>(u: E): u is Extract<E, Handled> =>
  isTagged(u, "SessionStoreError") || isTagged(u, "SessionLockTimeout")

/** 1. The request's session: nothing is read until a handler uses it. */
export const begin = (
  config: Resolved<unknown, unknown>,
  store: SessionStoreService,
  clock: Clock.Clock,
  request: HttpServerRequest.HttpServerRequest
): SessionState => new SessionState(config, store, clock, request.method, request.headers.cookie)

/** 2. With the `lock` option, a request that names a session waits for it before the handler runs. */
export const acquire = (config: Resolved<unknown, unknown>, state: SessionState): Effect.Effect<void, Handled> =>
  config.lock !== undefined && state.hasCookie ? state.lockWith(config.lock) : Effect.void

/** 3. `effect` with `Session` provided. */
export const provide =
  (state: SessionState) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Session>> =>
    Effect.provideService(effect, SessionTag, state)

/** 4. Saves the session and returns `response` with the session cookie the saves decided on. */
export const save = (
  state: SessionState,
  response: HttpServerResponse.HttpServerResponse
): Effect.Effect<HttpServerResponse.HttpServerResponse, SessionStoreError> =>
  Effect.suspend(() => {
    const saved = saveNow(state, response)
    return HttpServerResponse.isServerResponse(saved) ? Effect.succeed(saved) : saved
  })

/**
 * `save`, from inside a step of the caller's: the response at once when nothing has to be written
 * (a response is an Effect too: tell them apart with `isServerResponse`).
 */
const saveNow = (
  state: SessionState,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse | Effect.Effect<HttpServerResponse.HttpServerResponse, SessionStoreError> => {
  const saving = state.commitNow(true)
  return typeof saving === "string"
    ? state.decorate(response)
    : Effect.map(saving, () => state.decorate(response))
}

const unavailable = (error: Handled, context: FailureContext) =>
  error._tag === "SessionLockTimeout"
    // 423 Locked: the session exists and is busy with another request; retrying later will work.
    ? Effect.succeed(HttpServerResponse.text("Locked", {
      status: 423,
      headers: Cookie.FAILURE_HEADERS
    }))
    : Effect.as(
      Effect.logError(`effect-session: session store failed during ${context.phase}`, error.message).pipe(
        Effect.annotateLogs({ "effect-session": context.phase, reason: error.reason })
      ),
      HttpServerResponse.text("Service Unavailable", {
        status: 503,
        headers: Cookie.FAILURE_HEADERS
      })
    )

/**
 * 5. The failure handler's response for a store failure: during "load" (the handler never produced
 * a response) or "save" (`response` is the handler's, without the session cookie).
 */
export const failure = <EH, RH>(
  config: Resolved<EH, RH>,
  request: HttpServerRequest.HttpServerRequest,
  error: Handled,
  response: Option.Option<HttpServerResponse.HttpServerResponse>
): Effect.Effect<HttpServerResponse.HttpServerResponse, EH, RH> =>
  (config.onError ?? unavailable)(error, {
    request,
    phase: Option.isNone(response) ? "load" : "save",
    response
  })

const missingStore = Effect.logError(
  CoreOptions.MISSING_STORE
).pipe(
  Effect.zipRight(Effect.dieMessage("effect-session: no SessionStore provided (provide a SessionStore layer)"))
)

/**
 * The whole request for an app: `Session` is in its context while it runs, and only then; the
 * session is saved before the response leaves (uninterruptibly, like the lock's release); the
 * app's own failures and defects pass through. Changes are saved only when the app succeeds.
 *
 * The store, the request and the clock are read from the running fiber in one step
 * (`Effect.withFiberRuntime`, public API), and `Session` is added to the fiber's context for the
 * app and taken out again right after it (what `Effect.provideService` does, without the extra
 * steps of a nested acquire/release: this one already runs uninterruptibly).
 *
 * The store is the `SessionStore` in the request's context.
 */
export const run = <E, R, EH, RH>(
  config: Resolved<EH, RH>,
  app: HttpApp.Default<E, R>
): HttpApp.Default<Exclude<E, Handled> | EH, Exclude<R, Session> | SessionStore | RH> => start(config, app, undefined)

/**
 * Misplaced: `HttpServer.serve(Session.middleware())` type-checks (the middleware is
 * HttpMiddleware-shaped), but there the platform runs it around the code that has already sent
 * the response, so its save and cookie come too late: every request would start a new session,
 * silently. The first requests find out which it is (a pre-response handler registered before the
 * app runs has fired by the time the app returns only when the response was sent inside it); a
 * misplaced middleware says so in an error log, once, and a well-placed one stops checking.
 */
export const MISPLACED =
  "effect-session: Session.middleware() is applied with HttpServer.serve(...), around the code " +
  "that sends the response, so no session is ever saved or sent: apply it to the router or app instead " +
  "(router.pipe(Session.middleware(), HttpServer.serve())); see docs/integrations.md"

/** `app` (the middleware around it), checking on its first requests that it is not misplaced (`MISPLACED`). */
export const placementChecked = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> => {
  let verified = false
  let reported = false
  return Effect.suspend(() => {
    if (verified) return app
    let sent = false
    const mark = HttpApp.appendPreResponseHandler((_, response) =>
      Effect.sync(() => {
        sent = true
        return response
      })
    )
    return Effect.zipRight(
      mark,
      Effect.tap(app, () => {
        if (!sent) {
          verified = true
          return Effect.void
        }
        if (reported) return Effect.void
        reported = true
        return Effect.logError(MISPLACED)
      })
    )
  })
}

/** `run` with the store an adapter already holds (`SessionLayerRouter` gets it when its layer is built). */
export const runWith = <E, R, EH, RH>(
  config: Resolved<EH, RH>,
  store: SessionStoreService,
  app: HttpApp.Default<E, R>
): HttpApp.Default<Exclude<E, Handled> | EH, Exclude<R, Session> | RH> => start(config, app, store)

const start = <E, R, EH, RH>(
  config: Resolved<EH, RH>,
  app: HttpApp.Default<E, R>,
  store: SessionStoreService | undefined
): HttpApp.Default<Exclude<E, Handled> | EH, Exclude<R, Session> | RH> =>
  Effect.withFiberRuntime((fiber, status) => {
    const context = fiber.currentContext
    // Looked up rather than required, so that an app run without a store layer (no type-check, as
    // under tsx) says what is missing instead of answering a bare 500.
    const found = store ?? Option.getOrUndefined(Context.getOption(context, SessionStore))
    if (found === undefined) return missingStore
    const request = Context.unsafeGet(context, HttpServerRequest.HttpServerRequest)
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const state = begin(config, found, clock, request)
    const leave = FiberRef.set(FiberRef.currentContext, context)
    // After the app: `Session` leaves the context, and the lock, if the request took one, is
    // released whatever `effect` does.
    const finish = <A, E1, R1>(effect: Effect.Effect<A, E1, R1>): Effect.Effect<A, E1, R1> =>
      Effect.zipRight(leave, state.holdsLock ? Effect.ensuring(effect, state.unlock) : effect)
    const locking = config.lock !== undefined && state.hasCookie
    const handle = (restore: <A, E1, R1>(effect: Effect.Effect<A, E1, R1>) => Effect.Effect<A, E1, R1>) =>
      FiberRef.set(FiberRef.currentContext, Context.add(context, SessionTag, state)).pipe(
        Effect.zipRight(restore(locking ? Effect.zipRight(acquire(config, state), app) : app)),
        Effect.matchCauseEffect({
          onFailure: (cause): Effect.Effect<HttpServerResponse.HttpServerResponse, E | Handled | EH, RH> => {
            const error = Cause.failureOption(cause)
            return finish<HttpServerResponse.HttpServerResponse, E | Handled | EH, RH>(
              Option.isSome(error) && isHandled(error.value)
                ? failure(config, request, error.value, Option.none())
                : Effect.failCause(cause)
            )
          },
          onSuccess: (response) => {
            if (state.untouched) return finish(Effect.succeed(response))
            const saved = saveNow(state, response)
            return finish(
              HttpServerResponse.isServerResponse(saved)
                ? Effect.succeed(saved)
                : Effect.catchAll(saved, (error) => failure(config, request, error, Option.some(response)))
            )
          }
        })
      )
    // On a fiber that is uninterruptible already the mask would change nothing: it is skipped.
    const handled = RuntimeFlags.interruptible(status.runtimeFlags)
      ? Effect.uninterruptibleMask(handle)
      : handle(identity)
    // The session failures were turned into responses above; TypeScript cannot subtract them from
    // the app's generic error type by itself.
    return handled as Effect.Effect<HttpServerResponse.HttpServerResponse, Exclude<E, Handled> | EH, RH>
  })
