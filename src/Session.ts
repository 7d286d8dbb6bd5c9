/**
 * The per-request session: a `Context.Tag` whose static members are the accessors handlers use
 * (`yield* Session.get("k")`), and the middleware that provides it.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Id } from "effect-session-core"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as lifecycle from "./internal/lifecycle.js"
import * as options_ from "./internal/options.js"
import type {
  SessionConfigError,
  SessionKeyMissing,
  SessionLockTimeout,
  SessionStoreError,
  SessionValueError
} from "./SessionError.js"
import type { SessionKey } from "./SessionKey.js"
import { SessionStore as SessionStoreTag } from "./SessionStore.js"
import type { SessionStore } from "./SessionStore.js"

/**
 * What the failure handler is told: the request, whether the store failed while loading the
 * session (the handler never produced a response) or while saving it (`response` is the handler's
 * response, without the session cookie: return it to continue anyway).
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session"
 *
 * const describe = (context: Session.FailureContext) => `${context.request.method} failed in ${context.phase}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FailureContext {
  readonly request: HttpServerRequest.HttpServerRequest
  readonly phase: "load" | "save"
  readonly response: Option.Option<HttpServerResponse.HttpServerResponse>
}

/**
 * Decides the response when the store fails: the Go package's `FailureHandler`. The default logs
 * the error (without the session ID) and answers `503 Service Unavailable` with
 * `Cache-Control: no-store` and no session cookie; a `SessionLockTimeout` (opt-in locking) gets
 * `423 Locked` with `Retry-After: 1`.
 *
 * @example
 * ```ts
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect, Option } from "effect"
 * import type { Session } from "effect-session"
 *
 * // log, then serve the handler's response anyway when only the save failed
 * const continueOnSave: Session.FailureHandler = (error, context) =>
 *   Effect.zipRight(
 *     Effect.logWarning("session not saved", error.message),
 *     Option.match(context.response, {
 *       onNone: () => HttpServerResponse.text("try again later", { status: 503 }),
 *       onSome: Effect.succeed
 *     })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type FailureHandler<E = never, R = never> = (
  error: SessionStoreError | SessionLockTimeout,
  context: FailureContext
) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>

/**
 * Middleware options: the Go package's `Options` plus what Laravel users expect. Omitted options
 * take the safe default; `ttl: 0` means a browser-session cookie (no `Max-Age`) and records
 * written with the store's own default TTL. An option of the wrong type (`cookieName: 42`,
 * `insecure: "true"`, `null` for any option) is a `SessionConfigError` like any invalid value.
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session"
 *
 * const options: Session.Options = {
 *   cookieName: "__Host-sid",
 *   ttl: "30 minutes",
 *   absoluteTimeout: "12 hours",
 *   sameSite: "strict"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = never, R = never> {
  /**
   * Cookie name. Default `"lagodev_session"`. A `__Host-` name forces Secure, `Path=/` and no
   * Domain, a `__Secure-` name Secure; the prefixes match in any letter case (`__HOST-`), as in browsers.
   */
  readonly cookieName?: string
  /**
   * Idle lifetime: each save keeps the record `ttl` longer; the cookie's `Max-Age`, re-issued at
   * each renewal (`touchAfter`).
   * Default 2 hours. `0`: no `Max-Age` (browser-session cookie), records use the store's default.
   */
  readonly ttl?: Duration.DurationInput
  /** Absolute lifetime from creation, never extended by activity. Default: none. */
  readonly absoluteTimeout?: Duration.DurationInput
  /**
   * A session's expiry and cookie are renewed by its first request once the last renewal is this
   * old (a save in between extends the record only), so reads cost no writes and a session saved on
   * every request gets one `Set-Cookie` per `touchAfter`. Default: a tenth of `ttl`, at most one minute.
   */
  readonly touchAfter?: Duration.DurationInput
  /** Drop the `Secure` attribute, for local HTTP development only. Default `false`. */
  readonly insecure?: boolean
  /** Default `"lax"`. `"none"` requires a Secure cookie. */
  readonly sameSite?: "lax" | "strict" | "none"
  /** Cookie `Domain`. Default: none (host-only). */
  readonly domain?: string
  /** Cookie `Path`. Default `"/"`. */
  readonly path?: string
  /** Cookie `Partitioned` (CHIPS). Requires a Secure cookie. */
  readonly partitioned?: boolean
  /** Cookie `Priority`. */
  readonly priority?: "low" | "medium" | "high"
  /** The response when the store fails. Default: log and `503` (`423` for a lock timeout). */
  readonly onError?: FailureHandler<E, R>
  /**
   * Run requests on the same session one at a time, across replicas (Laravel's session
   * blocking): `true` for a 10 s lock that waits up to 10 s, or explicit times. Needs a store with
   * the `lock` capability. For single routes use `Session.blocking` instead. Default: off.
   */
  readonly lock?: boolean | { readonly ttl?: Duration.DurationInput; readonly wait?: Duration.DurationInput }
  /**
   * After `regenerate`, keep the old record readable this long for requests already in flight
   * with the old cookie (its lifetime is cut to the grace period). Default `0`: deleted at once.
   * `invalidate` and `destroy` (logout) never keep the old record.
   */
  readonly regenerateGrace?: Duration.DurationInput
}

/**
 * What a save did: `"Written"`, `"Unchanged"` (nothing to write), or `"SessionGone"` — another
 * request destroyed or regenerated the session since this one loaded it, so this request's changes
 * were dropped rather than resurrecting it (stores with the atomic `patch` capability only).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session } from "effect-session"
 *
 * const program = Effect.gen(function*() {
 *   yield* Session.put("step", 2)
 *   const result = yield* Session.save
 *   if (result === "SessionGone") yield* Effect.log("logged out meanwhile")
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SaveResult = "Written" | "Unchanged" | "SessionGone"

/**
 * Lock times for `Session.blocking` and the `lock` option.
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session"
 *
 * const options: Session.LockOptions = { ttl: "5 seconds", wait: "2 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LockOptions {
  /** How long the lock may be held before it expires by itself. Default 10 s. */
  readonly ttl?: Duration.DurationInput
  /** How long to wait for it before failing with `SessionLockTimeout`. Default 10 s. */
  readonly wait?: Duration.DurationInput
}

type KeyName = string
type TypedKey<A, I, R> = SessionKey<A, I, R>

/**
 * The per-request session handle that the middleware provides. Handlers normally use the static
 * accessors on `Session`; this is the shape of `yield* Session`. Call its members on the handle
 * (`session.put(...)`): they are methods, not functions bound to it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session } from "effect-session"
 *
 * const handler = Effect.gen(function*() {
 *   const session = yield* Session
 *   yield* session.put("seen", true)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionService {
  readonly id: Effect.Effect<string, SessionStoreError>
  readonly isNew: Effect.Effect<boolean, SessionStoreError>
  readonly all: Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError>
  readonly get: {
    (key: KeyName): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
    <A, I, R>(key: TypedKey<A, I, R>): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, R>
    <A, I, R>(
      key: KeyName,
      schema: Schema.Schema<A, I, R>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, R>
  }
  readonly getOption: {
    (key: KeyName): Effect.Effect<Option.Option<unknown>, SessionStoreError>
    <A, I, R>(key: TypedKey<A, I, R>): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, R>
    <A, I, R>(
      key: KeyName,
      schema: Schema.Schema<A, I, R>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, R>
  }
  readonly getString: (key: KeyName) => Effect.Effect<string, SessionStoreError>
  readonly has: (key: KeyName) => Effect.Effect<boolean, SessionStoreError>
  readonly exists: (key: KeyName) => Effect.Effect<boolean, SessionStoreError>
  readonly missing: (key: KeyName) => Effect.Effect<boolean, SessionStoreError>
  readonly only: (keys: ReadonlyArray<KeyName>) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError>
  readonly except: (keys: ReadonlyArray<KeyName>) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError>
  readonly put: {
    (key: KeyName, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
    <A, I, R>(key: TypedKey<A, I, R>, value: A): Effect.Effect<void, SessionValueError | SessionStoreError, R>
  }
  readonly forget: (keys: KeyName | ReadonlyArray<KeyName>) => Effect.Effect<void, SessionStoreError>
  readonly pull: {
    (key: KeyName): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
    <A, I, R>(key: TypedKey<A, I, R>): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, R>
  }
  readonly increment: (key: KeyName, by?: number) => Effect.Effect<number, SessionValueError | SessionStoreError>
  readonly decrement: (key: KeyName, by?: number) => Effect.Effect<number, SessionValueError | SessionStoreError>
  readonly push: (key: KeyName, value: unknown) => Effect.Effect<void, SessionValueError | SessionStoreError>
  readonly remember: {
    <E, R>(
      key: KeyName,
      compute: Effect.Effect<unknown, E, R>
    ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, R>
    <A, I, R1, E, R>(
      key: TypedKey<A, I, R1>,
      compute: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | SessionValueError | SessionStoreError, R | R1>
  }
  readonly flush: Effect.Effect<void, SessionStoreError>
  readonly flash: {
    (key: KeyName, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
    <A, I, R>(key: TypedKey<A, I, R>, value: A): Effect.Effect<void, SessionValueError | SessionStoreError, R>
  }
  readonly now: {
    (key: KeyName, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
    <A, I, R>(key: TypedKey<A, I, R>, value: A): Effect.Effect<void, SessionValueError | SessionStoreError, R>
  }
  readonly reflash: Effect.Effect<void, SessionStoreError>
  readonly keep: (keys: KeyName | ReadonlyArray<KeyName>) => Effect.Effect<void, SessionStoreError>
  readonly token: Effect.Effect<string, SessionStoreError>
  readonly regenerateToken: Effect.Effect<string, SessionStoreError>
  readonly regenerate: Effect.Effect<void, SessionStoreError>
  readonly invalidate: Effect.Effect<void, SessionStoreError>
  readonly destroy: Effect.Effect<void, SessionStoreError>
  readonly save: Effect.Effect<SaveResult, SessionStoreError>
  readonly setLifetime: (lifetime: {
    readonly ttl?: Duration.DurationInput
    readonly absoluteTimeout?: Duration.DurationInput
  }) => Effect.Effect<void, SessionConfigError | SessionStoreError>
  readonly lock: (
    options?: LockOptions
  ) => Effect.Effect<void, SessionLockTimeout | SessionConfigError | SessionStoreError>
}

/**
 * The middleware type: it removes `Session` from an app's requirements and adds `SessionStore`.
 *
 * @example
 * ```ts
 * import { Session } from "effect-session"
 *
 * const mw: Session.Middleware = Session.middleware({ ttl: "1 hour" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Middleware<EH = never, RH = never> {
  <E, R>(
    app: HttpApp.Default<E, R>
  ): HttpApp.Default<Exclude<E, SessionStoreError | SessionLockTimeout> | EH, Exclude<R, Session> | SessionStore | RH>
}

const middleware = <EH = never, RH = never>(options?: Options<EH, RH>): Middleware<EH, RH> => {
  const resolved = options_.resolve(options)
  if (Either.isLeft(resolved)) throw resolved.left
  const config = resolved.right
  return (app) => lifecycle.placementChecked(lifecycle.run(config, app))
}

// The tag's base class exists before `Session` does, so static initialisers can use it (it has
// the same key, so it finds the same service).
const SessionBase = Context.Tag("effect-session/Session")<Session, SessionService>()

// Each accessor looks the handle up and calls the method of the same name on it. `any`: one
// forwarder serves every method, overloads included; each static below states its exact type,
// which is the method's type with `Session` added to its requirements.

// The handle is read from the running fiber's context in the same step that calls the method
// (`Context.unsafeGet` fails as the tag would, with a defect naming the missing service): the
// accessors run several times per request, and the tag as an Effect takes three steps.

const accessor = (method: (service: SessionService) => (...args: Array<any>) => any): any => (...args: Array<any>) =>
  Effect.withFiberRuntime((fiber) => {
    const service = Context.unsafeGet(fiber.currentContext, SessionBase)
    return method(service).apply(service, args)
  })

const property = <K extends keyof SessionService>(key: K): any =>
  Effect.withFiberRuntime<unknown, unknown, unknown>((fiber) =>
    Context.unsafeGet(fiber.currentContext, SessionBase)[key] as Effect.Effect<unknown, unknown, unknown>
  )

/**
 * The per-request session. It is both the `Context.Tag` that the middleware provides and the
 * home of the accessors handlers call: every accessor is an Effect that requires `Session`, so a
 * handler that uses one does not type-check as an app until it is served behind
 * `Session.middleware` (or given a test session).
 *
 * The record is loaded on first use: a request that never touches its session costs no store I/O
 * and sets no cookie, which is why accessors can fail with `SessionStoreError`.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { MemoryStoreLive, Session } from "effect-session"
 * import { createServer } from "node:http"
 *
 * const count = Effect.gen(function*() {
 *   const n = yield* Session.increment("views")
 *   return yield* HttpServerResponse.json({ views: n })
 * })
 *
 * const ServerLive = HttpRouter.empty.pipe(
 *   HttpRouter.get("/", count),
 *   Session.middleware({ ttl: "2 hours" }),
 *   HttpServer.serve(),
 *   Layer.provide(MemoryStoreLive),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 3000 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Session extends SessionBase {
  /**
   * Wraps an app so that its handlers get a `Session`; saves before the response leaves. Throws
   * `SessionConfigError` at once on invalid options (use `Session.makeMiddleware` for an Effect).
   * Apply it to the router or app (`router.pipe(Session.middleware(), HttpServer.serve())`), not
   * as `HttpServer.serve(Session.middleware())`: there the response has left before the session
   * is saved, and the middleware logs an error saying so.
   *
   * @example
   * ```ts
   * import { HttpRouter, HttpServerResponse } from "@effect/platform"
   * import { Session } from "effect-session"
   *
   * const app = HttpRouter.empty.pipe(
   *   HttpRouter.get("/", HttpServerResponse.text("hi")),
   *   Session.middleware({ cookieName: "sid", ttl: "30 minutes", insecure: true })
   * )
   * ```
   */
  static readonly middleware: <EH = never, RH = never>(options?: Options<EH, RH>) => Middleware<EH, RH> = middleware

  /**
   * Builds the middleware as an Effect that fails with `SessionConfigError` on invalid options,
   * for construction inside a layer (`Layer.unwrapEffect`), where it fails the layer build.
   *
   * @example
   * ```ts
   * import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
   * import { Effect, Layer } from "effect"
   * import { MemoryStoreLive, Session } from "effect-session"
   *
   * const ServerLive = Layer.unwrapEffect(
   *   Effect.map(Session.makeMiddleware({ ttl: "1 hour" }), (session) =>
   *     HttpRouter.empty.pipe(
   *       HttpRouter.get("/", HttpServerResponse.text("ok")),
   *       session,
   *       HttpServer.serve()
   *     ))
   * ).pipe(Layer.provide(MemoryStoreLive))
   * ```
   */
  static readonly makeMiddleware = <EH = never, RH = never>(
    options?: Options<EH, RH>
  ): Effect.Effect<Middleware<EH, RH>, SessionConfigError> =>
    Effect.map(
      options_.resolve(options),
      (config): Middleware<EH, RH> => (app) => lifecycle.placementChecked(lifecycle.run(config, app))
    )

  /**
   * Validates middleware options without building anything: the typed error `Session.middleware`
   * would throw.
   *
   * @example
   * ```ts
   * import { Either } from "effect"
   * import { Session } from "effect-session"
   *
   * Either.isRight(Session.validateOptions({ ttl: "30 minutes" })) // true
   * Either.isLeft(Session.validateOptions({ sameSite: "none", insecure: true })) // true
   * ```
   */
  static readonly validateOptions = <EH = never, RH = never>(
    options?: Options<EH, RH>
  ): Either.Either<void, SessionConfigError> => Either.map(options_.resolve(options), () => undefined)

  /**
   * Every key and value (a fresh plain object; metadata is not included).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const data = Session.all // Effect<Record<string, unknown>, SessionStoreError, Session>
   * ```
   */
  static readonly all: Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError, Session> = property("all")

  /**
   * The value under `key`; fails with `SessionKeyMissing` when it is not set. With a
   * `SessionKey` (or a schema) the value is decoded, failing `SessionValueError` if it no longer fits.
   *
   * @example
   * ```ts
   * import { Effect, Schema } from "effect"
   * import { Session } from "effect-session"
   *
   * const user = Session.get("user")
   * const cartSize = Session.get("cartSize", Schema.Number)
   * const orGuest = Session.get("user").pipe(Effect.orElseSucceed(() => "guest"))
   * ```
   */
  static readonly get: {
    (key: KeyName): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError, Session>
    <A, I, R>(
      key: TypedKey<A, I, R>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, Session | R>
    <A, I, R>(
      key: KeyName,
      schema: Schema.Schema<A, I, R>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, Session | R>
  } = accessor((s) => s.get)

  /**
   * The value under `key` as an `Option` (`None` when not set).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const maybeUser = Session.getOption("user") // Effect<Option<unknown>, ...>
   * ```
   */
  static readonly getOption: {
    (key: KeyName): Effect.Effect<Option.Option<unknown>, SessionStoreError, Session>
    <A, I, R>(
      key: TypedKey<A, I, R>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, Session | R>
    <A, I, R>(
      key: KeyName,
      schema: Schema.Schema<A, I, R>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, Session | R>
  } = accessor((s) => s.getOption)

  /**
   * The string under `key`, or `""` when it is missing or not a string.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const name = Session.getString("name")
   * ```
   */
  static readonly getString: (key: KeyName) => Effect.Effect<string, SessionStoreError, Session> = accessor((s) =>
    s.getString
  )

  /**
   * Whether `key` is present and not `null` (Laravel's `has`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const loggedIn = Session.has("user")
   * ```
   */
  static readonly has: (key: KeyName) => Effect.Effect<boolean, SessionStoreError, Session> = accessor((s) => s.has)

  /**
   * Whether `key` is present, even if its value is `null` (Laravel's `exists`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const seen = Session.exists("consent")
   * ```
   */
  static readonly exists: (key: KeyName) => Effect.Effect<boolean, SessionStoreError, Session> = accessor((s) =>
    s.exists
  )

  /**
   * Whether `key` is absent (Laravel's `missing`): the opposite of `exists`.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const firstVisit = Session.missing("visited")
   * ```
   */
  static readonly missing: (key: KeyName) => Effect.Effect<boolean, SessionStoreError, Session> = accessor((s) =>
    s.missing
  )

  /**
   * The given keys that are present, with their values.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const profile = Session.only(["name", "email"])
   * ```
   */
  static readonly only: (
    keys: ReadonlyArray<KeyName>
  ) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError, Session> = accessor((s) => s.only)

  /**
   * Every key and value except the given keys.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const rest = Session.except(["password_confirmed_at"])
   * ```
   */
  static readonly except: (
    keys: ReadonlyArray<KeyName>
  ) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError, Session> = accessor((s) => s.except)

  /**
   * Stores `value` under `key`. The value must be plain JSON data (see `SessionCodec`) or, with a
   * `SessionKey`, anything its schema encodes; otherwise `SessionValueError` `"Unencodable"`.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const login = Session.put("user", { id: 1, name: "Ada" })
   * ```
   */
  static readonly put: {
    (key: KeyName, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, Session>
    <A, I, R>(key: TypedKey<A, I, R>, value: A): Effect.Effect<void, SessionValueError | SessionStoreError, Session | R>
  } = accessor((s) => s.put)

  /**
   * Removes one key or several.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const clear = Session.forget(["cart", "coupon"])
   * ```
   */
  static readonly forget: (keys: KeyName | ReadonlyArray<KeyName>) => Effect.Effect<void, SessionStoreError, Session> =
    accessor((s) => s.forget)

  /**
   * Gets the value under `key` and removes it (fails `SessionKeyMissing` when not set).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const intended = Session.pull("url.intended")
   * ```
   */
  static readonly pull: {
    (key: KeyName): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError, Session>
    <A, I, R>(
      key: TypedKey<A, I, R>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, Session | R>
  } = accessor((s) => s.pull)

  /**
   * Adds `by` (default 1) to the number under `key` (0 when missing or `null`, as in Laravel) and
   * returns the result; any other value that is not a number is `SessionValueError`
   * `"NotANumber"`, never `NaN`. Saved as a delta, so concurrent increments all count.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const views = Session.increment("views")
   * ```
   */
  static readonly increment: (
    key: KeyName,
    by?: number
  ) => Effect.Effect<number, SessionValueError | SessionStoreError, Session> = accessor((s) => s.increment)

  /**
   * Subtracts `by` (default 1) from the number under `key`; see `increment`.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const credits = Session.decrement("credits", 5)
   * ```
   */
  static readonly decrement: (
    key: KeyName,
    by?: number
  ) => Effect.Effect<number, SessionValueError | SessionStoreError, Session> = accessor((s) => s.decrement)

  /**
   * Appends `value` to the array under `key` (a new array when missing); a value that is not an
   * array is `SessionValueError` `"NotAnArray"`.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const addToCart = Session.push("cart", { sku: "A-1", qty: 1 })
   * ```
   */
  static readonly push: (
    key: KeyName,
    value: unknown
  ) => Effect.Effect<void, SessionValueError | SessionStoreError, Session> = accessor((s) => s.push)

  /**
   * The value under `key` if present and not `null`; otherwise runs `compute`, stores its result
   * and returns it (Laravel's `remember`).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   * const theme = Session.remember("theme", Effect.succeed("dark"))
   * ```
   */
  static readonly remember: {
    <E, R>(
      key: KeyName,
      compute: Effect.Effect<unknown, E, R>
    ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, Session | R>
    <A, I, R1, E, R>(
      key: TypedKey<A, I, R1>,
      compute: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | SessionValueError | SessionStoreError, Session | R | R1>
  } = accessor((s) => s.remember)

  /**
   * Removes every key (and flash data and the CSRF token); the ID is kept.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const reset = Session.flush
   * ```
   */
  static readonly flush: Effect.Effect<void, SessionStoreError, Session> = property("flush")

  /**
   * Stores `value` for the next request only (Laravel's flash data).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const notice = Session.flash("status", "Profile updated!")
   * ```
   */
  static readonly flash: {
    (key: KeyName, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, Session>
    <A, I, R>(key: TypedKey<A, I, R>, value: A): Effect.Effect<void, SessionValueError | SessionStoreError, Session | R>
  } = accessor((s) => s.flash)

  /**
   * Stores `value` for this request only (Laravel's `flash.now`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const inline = Session.now("status", "Saved")
   * ```
   */
  static readonly now: {
    (key: KeyName, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, Session>
    <A, I, R>(key: TypedKey<A, I, R>, value: A): Effect.Effect<void, SessionValueError | SessionStoreError, Session | R>
  } = accessor((s) => s.now)

  /**
   * Keeps all flash data for one more request.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const again = Session.reflash
   * ```
   */
  static readonly reflash: Effect.Effect<void, SessionStoreError, Session> = property("reflash")

  /**
   * Keeps the given flash keys for one more request.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const keepStatus = Session.keep(["status"])
   * ```
   */
  static readonly keep: (keys: KeyName | ReadonlyArray<KeyName>) => Effect.Effect<void, SessionStoreError, Session> =
    accessor((s) => s.keep)

  /**
   * The session's CSRF token (256 random bits, base64url), created on first use.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const csrf = Session.token
   * ```
   */
  static readonly token: Effect.Effect<string, SessionStoreError, Session> = property("token")

  /**
   * Replaces the CSRF token and returns the new one.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const fresh = Session.regenerateToken
   * ```
   */
  static readonly regenerateToken: Effect.Effect<string, SessionStoreError, Session> = property("regenerateToken")

  /**
   * The session ID (generated on first use for a new session). Treat it as a secret: the library
   * itself never logs it.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const sid = Session.id
   * ```
   */
  static readonly id: Effect.Effect<string, SessionStoreError, Session> = property("id")

  /**
   * Whether the session was created during this request (no cookie, or an unknown, expired or
   * destroyed one).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const first = Session.isNew
   * ```
   */
  static readonly isNew: Effect.Effect<boolean, SessionStoreError, Session> = property("isNew")

  /**
   * Issues a new ID for the same data and deletes the old record at once: call it after login and
   * privilege changes, against session fixation.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   * const login = Effect.zipRight(Session.regenerate, Session.put("user", "ada"))
   * ```
   */
  static readonly regenerate: Effect.Effect<void, SessionStoreError, Session> = property("regenerate")

  /**
   * Logout that keeps a session (Laravel's `invalidate`: `flush` then `regenerate`): every key
   * goes and the session continues, empty, under a new ID. The old record is deleted at once,
   * whatever `regenerateGrace` says and even if the handler then fails, but only if it is still
   * this session's (as `destroy` checks); the save then writes the empty session and sets its
   * cookie.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const logout = Session.invalidate
   * ```
   */
  static readonly invalidate: Effect.Effect<void, SessionStoreError, Session> = property("invalidate")

  /**
   * Deletes the record now and expires the cookie (`Max-Age=0`). The handle then behaves as a new,
   * empty session: writing to it after `destroy` starts a fresh session with a new ID.
   *
   * The record is read again first: if another request destroyed or regenerated the session since
   * this one loaded it, `destroy` leaves the store and the cookie alone (no `Max-Age=0`), because
   * the browser may by now hold the cookie of the session that replaced it.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session"
   * const logout = Session.destroy
   * ```
   */
  static readonly destroy: Effect.Effect<void, SessionStoreError, Session> = property("destroy")

  /**
   * Saves now, ahead of the middleware's automatic save (which then writes only what changed since).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   * const durable = Effect.zipRight(Session.put("step", 2), Session.save)
   * ```
   */
  static readonly save: Effect.Effect<SaveResult, SessionStoreError, Session> = property("save")

  /**
   * Ends a session from outside its own requests — "log out my other devices", an administrator's
   * revocation, a password change: deletes the record of session ID `sessionId` (a value that is
   * not a well-formed ID is ignored). The application keeps the IDs (or, better, their
   * `Session.storageKey`s) it may want to revoke, e.g. per user at login.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   *
   * const logoutEverywhere = (sessionIds: ReadonlyArray<string>) =>
   *   Effect.forEach(sessionIds, Session.revoke, { discard: true })
   * ```
   */
  static readonly revoke = (sessionId: string): Effect.Effect<void, SessionStoreError, SessionStore> =>
    Id.isWellFormed(sessionId)
      ? Effect.flatMap(SessionStoreTag, (store) => store.destroy(Id.storageKey(sessionId)))
      : Effect.void

  /**
   * The key a session ID is stored under (SHA-256, base64url): what `SessionStore` methods take.
   * Keep this rather than the ID when you record sessions to revoke later; `SessionStore.destroy`
   * with it ends the session.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   *
   * const recordLogin = Effect.map(Session.id, Session.storageKey) // persist it with the user
   * ```
   */
  static readonly storageKey = (sessionId: string): string => Id.storageKey(sessionId)

  /**
   * Gives this session its own lifetimes ("remember me"): an idle `ttl` and/or an
   * `absoluteTimeout` that replace the middleware's for this session from now on (they are stored
   * with it). The cookie is re-issued with the new `Max-Age` at the end of the request.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   *
   * const rememberMe = Effect.zipRight(
   *   Session.regenerate,
   *   Session.setLifetime({ ttl: "30 days", absoluteTimeout: "90 days" })
   * )
   * ```
   */
  static readonly setLifetime: (lifetime: {
    readonly ttl?: Duration.DurationInput
    readonly absoluteTimeout?: Duration.DurationInput
  }) => Effect.Effect<void, SessionConfigError | SessionStoreError, Session> = accessor((s) => s.setLifetime)

  /**
   * Runs `self` holding the session's lock (Laravel's `->block()`): other requests on the same
   * session wait, across replicas, until this request's response is ready and its session saved.
   * Call it before anything reads the session. Needs a store with the `lock` capability (memory,
   * Redis, SQL); waiting longer than `wait` fails with `SessionLockTimeout` (`423` by default).
   *
   * @example
   * ```ts
   * import { HttpRouter, HttpServerResponse } from "@effect/platform"
   * import { Effect } from "effect"
   * import { Session } from "effect-session"
   *
   * const checkout = Effect.gen(function*() {
   *   const cart = yield* Session.get("cart")
   *   yield* Session.forget("cart")
   *   return yield* HttpServerResponse.json({ ordered: cart })
   * })
   *
   * const routes = HttpRouter.empty.pipe(
   *   HttpRouter.post("/checkout", Session.blocking(checkout, { wait: "5 seconds" }))
   * )
   * ```
   */
  static readonly blocking: {
    (options?: LockOptions): <A, E, R>(
      self: Effect.Effect<A, E, R>
    ) => Effect.Effect<A, E | SessionLockTimeout | SessionConfigError | SessionStoreError, R | Session>
    <A, E, R>(
      self: Effect.Effect<A, E, R>,
      options?: LockOptions
    ): Effect.Effect<A, E | SessionLockTimeout | SessionConfigError | SessionStoreError, R | Session>
  } = dual(
    (args) => Effect.isEffect(args[0]),
    <A, E, R>(self: Effect.Effect<A, E, R>, options?: LockOptions) =>
      Effect.zipRight(
        Effect.flatMap(SessionBase, (service) => service.lock(options)),
        self
      )
  )
}

type FailureContext_ = FailureContext
type FailureHandler_<E, R> = FailureHandler<E, R>
type Options_<E, R> = Options<E, R>
type SaveResult_ = SaveResult
type LockOptions_ = LockOptions
type SessionService_ = SessionService
type Middleware_<EH, RH> = Middleware<EH, RH>

/**
 * The types that go with `Session`, reachable from the class as `Session.Options`,
 * `Session.FailureHandler`, … (one import serves both the tag and its types).
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session"
 *
 * const options: Session.Options = { ttl: "1 hour" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace Session {
  /**
   * What the failure handler is told (see `FailureContext`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session"
   *
   * const phase = (context: Session.FailureContext) => context.phase
   * ```
   *
   * @since 0.1.0
   */
  export type FailureContext = FailureContext_
  /**
   * Decides the response when the store fails (see `FailureHandler`).
   *
   * @example
   * ```ts
   * import { HttpServerResponse } from "@effect/platform"
   * import type { Session } from "effect-session"
   *
   * const handler: Session.FailureHandler = () => HttpServerResponse.text("later", { status: 503 })
   * ```
   *
   * @since 0.1.0
   */
  export type FailureHandler<E = never, R = never> = FailureHandler_<E, R>
  /**
   * Middleware options (see `Options`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session"
   *
   * const options: Session.Options = { ttl: "1 hour" }
   * ```
   *
   * @since 0.1.0
   */
  export type Options<E = never, R = never> = Options_<E, R>
  /**
   * What a save did (see `SaveResult`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session"
   *
   * const gone = (result: Session.SaveResult) => result === "SessionGone"
   * ```
   *
   * @since 0.1.0
   */
  export type SaveResult = SaveResult_
  /**
   * Lock times for `Session.blocking` (see `LockOptions`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session"
   *
   * const lock: Session.LockOptions = { wait: "2 seconds" }
   * ```
   *
   * @since 0.1.0
   */
  export type LockOptions = LockOptions_
  /**
   * The per-request handle, the shape of `yield* Session` (see `SessionService`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session"
   *
   * const views = (session: Session.Service) => session.increment("views")
   * ```
   *
   * @since 0.1.0
   */
  export type Service = SessionService_
  /**
   * The middleware type (see `Middleware`).
   *
   * @example
   * ```ts
   * import { Session as SessionTag } from "effect-session"
   * import type { Session } from "effect-session"
   *
   * const middleware: Session.Middleware = SessionTag.middleware()
   * ```
   *
   * @since 0.1.0
   */
  export type Middleware<EH = never, RH = never> = Middleware_<EH, RH>
}
