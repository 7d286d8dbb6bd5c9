/**
 * `Session`: the per-request session service, its accessors, and the middleware that serves it
 * through effect 4's Layer-based `HttpRouter`.
 *
 * @since 0.1.0
 */
import { Id, Options as CoreOptions } from "effect-session-core"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as HttpRouter from "effect/http/HttpRouter"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import type * as Types from "effect/Types"
import * as options_ from "./internal/options.js"
import * as internal from "./internal/state.js"
import type {
  SessionConfigError,
  SessionKeyMissing,
  SessionLockTimeout,
  SessionStoreError,
  SessionValueError
} from "./SessionError.js"
import type { SessionKey } from "./SessionKey.js"
import { SessionStore } from "./SessionStore.js"

type TypedKey<A, I, RD, RE> = SessionKey<A, I, RD, RE>

/**
 * What the failure handler is told: the request, whether the store failed while loading or while
 * saving, and (on save) the response the handler produced.
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session-v4"
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
 * Decides the response when the store fails. The default logs the error (without the session ID)
 * and answers `503 Service Unavailable` with `Cache-Control: no-store`; a `SessionLockTimeout`
 * gets `423 Locked` with `Retry-After: 1`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpServerResponse } from "effect/http"
 * import type { Session } from "effect-session-v4"
 *
 * const handler: Session.FailureHandler = (error) =>
 *   Effect.succeed(HttpServerResponse.text(`try again later (${error._tag})`, { status: 503 }))
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
 * Middleware options, as the effect 3 package's. Omitted options take the safe default
 * (`cookieName` `"lagodev_session"`, `ttl` 2 hours, Secure, `SameSite=Lax`, `Path=/`); `ttl: 0`
 * means a browser-session cookie and records written with the store's default TTL. An option of
 * the wrong type (`cookieName: 42`, `insecure: "true"`, `null` for any option) is a
 * `SessionConfigError` like any invalid value.
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session-v4"
 *
 * const options: Session.Options = { cookieName: "__Host-sid", ttl: "30 minutes", absoluteTimeout: "12 hours" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = never, R = never> {
  /**
   * cookie name; default `"lagodev_session"`. A `__Host-` name forces Secure, `Path=/` and no
   * Domain, a `__Secure-` name Secure; the prefixes match in any letter case (`__HOST-`), as in browsers.
   */
  readonly cookieName?: string | undefined
  /** idle lifetime: the record's TTL and the cookie's `Max-Age`; default 2 hours; `0` = browser session */
  readonly ttl?: Duration.Input | undefined
  /** absolute lifetime from creation, never extended by activity */
  readonly absoluteTimeout?: Duration.Input | undefined
  /**
   * how old a session's last renewal (expiry and cookie) may get before its next request renews it;
   * a save in between extends the record only (default: ttl/10, at most 1 minute)
   */
  readonly touchAfter?: Duration.Input | undefined
  /** drop the `Secure` attribute (local HTTP development only); default false */
  readonly insecure?: boolean | undefined
  /** default `"lax"` */
  readonly sameSite?: "lax" | "strict" | "none" | undefined
  readonly domain?: string | undefined
  /** default `"/"` */
  readonly path?: string | undefined
  readonly partitioned?: boolean | undefined
  readonly priority?: "low" | "medium" | "high" | undefined
  /** the response for a store failure or lock timeout (default 503 / 423) */
  readonly onError?: FailureHandler<E, R> | undefined
  /** lock every request that carries a session cookie (Laravel's session blocking) */
  readonly lock?: boolean | LockOptions | undefined
  /** how long a regenerated-away record stays readable for requests already in flight; default 0 */
  readonly regenerateGrace?: Duration.Input | undefined
}

/**
 * What a save did: wrote the session, found nothing to write, or found the session ended by
 * another request (destroyed or regenerated) and dropped this request's changes.
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session-v4"
 *
 * const gone = (result: Session.SaveResult) => result === "SessionGone"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SaveResult = "Written" | "Unchanged" | "SessionGone"

/**
 * Lock times for `Session.blocking` and the `lock` option (Laravel's `block()` defaults: 10 s each).
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session-v4"
 *
 * const lock: Session.LockOptions = { ttl: "5 seconds", wait: "2 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LockOptions {
  readonly ttl?: Duration.Input | undefined
  readonly wait?: Duration.Input | undefined
}

/**
 * The per-request handle (`yield* Session`). Every operation loads the record on first use, so
 * each can fail with `SessionStoreError`. Call its members on the handle (`session.put(...)`):
 * they are methods, not functions bound to it (as on the effect 3 package's handle).
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session-v4"
 *
 * const views = (session: Session.Service) => session.increment("views")
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
    (key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, RD>
    <A, I, RD, RE>(
      key: string,
      schema: Schema.Codec<A, I, RD, RE>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, RD>
  }
  readonly getOption: {
    (key: string): Effect.Effect<Option.Option<unknown>, SessionStoreError>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, RD>
    <A, I, RD, RE>(
      key: string,
      schema: Schema.Codec<A, I, RD, RE>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, RD>
  }
  readonly getString: (key: string) => Effect.Effect<string, SessionStoreError>
  readonly has: (key: string) => Effect.Effect<boolean, SessionStoreError>
  readonly exists: (key: string) => Effect.Effect<boolean, SessionStoreError>
  readonly missing: (key: string) => Effect.Effect<boolean, SessionStoreError>
  readonly only: (keys: ReadonlyArray<string>) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError>
  readonly except: (keys: ReadonlyArray<string>) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError>
  readonly put: {
    (key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>,
      value: A
    ): Effect.Effect<void, SessionValueError | SessionStoreError, RE>
  }
  readonly forget: (keys: string | ReadonlyArray<string>) => Effect.Effect<void, SessionStoreError>
  readonly pull: {
    (key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, RD>
  }
  readonly increment: (key: string, by?: number) => Effect.Effect<number, SessionValueError | SessionStoreError>
  readonly decrement: (key: string, by?: number) => Effect.Effect<number, SessionValueError | SessionStoreError>
  readonly push: (key: string, value: unknown) => Effect.Effect<void, SessionValueError | SessionStoreError>
  readonly remember: {
    <E, R>(
      key: string,
      compute: Effect.Effect<unknown, E, R>
    ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, R>
    <A, I, RD, RE, E, R>(
      key: TypedKey<A, I, RD, RE>,
      compute: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | SessionValueError | SessionStoreError, R | RD | RE>
  }
  readonly flush: Effect.Effect<void, SessionStoreError>
  readonly flash: {
    (key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>,
      value: A
    ): Effect.Effect<void, SessionValueError | SessionStoreError, RE>
  }
  readonly now: {
    (key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>,
      value: A
    ): Effect.Effect<void, SessionValueError | SessionStoreError, RE>
  }
  readonly reflash: Effect.Effect<void, SessionStoreError>
  readonly keep: (keys: string | ReadonlyArray<string>) => Effect.Effect<void, SessionStoreError>
  readonly token: Effect.Effect<string, SessionStoreError>
  readonly regenerateToken: Effect.Effect<string, SessionStoreError>
  readonly regenerate: Effect.Effect<void, SessionStoreError>
  readonly invalidate: Effect.Effect<void, SessionStoreError>
  readonly destroy: Effect.Effect<void, SessionStoreError>
  readonly save: Effect.Effect<SaveResult, SessionStoreError>
  readonly setLifetime: (lifetime: {
    readonly ttl?: Duration.Input | undefined
    readonly absoluteTimeout?: Duration.Input | undefined
  }) => Effect.Effect<void, SessionConfigError | SessionStoreError>
  /**
   * Takes the session's lock for the rest of the request (what `Session.blocking` does first):
   * `options` as `Session.blocking`'s (Laravel's `block()` defaults: held at most 10 s, waited for
   * at most 10 s), or the middleware's `lock` option when omitted.
   */
  readonly lock: (
    options?: LockOptions
  ) => Effect.Effect<void, SessionLockTimeout | SessionConfigError | SessionStoreError>
}

/**
 * The router middleware's type: route-level (`.layer`, `.combine`) as `HttpRouter.middleware`
 * makes it. Routes behind it get `Session`; the session's store failures and lock timeouts are
 * handled (they become the failure handler's response).
 *
 * @example
 * ```ts
 * import { Session } from "effect-session-v4"
 *
 * const middleware: Session.Middleware = Session.middleware({ ttl: "1 hour" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Middleware<EH = never, RH = never> = HttpRouter.Middleware<{
  provides: Session
  handles: SessionStoreError | SessionLockTimeout
  error: EH
  requires: never
  layerError: never
  layerRequires: SessionStore | RH
}>

/**
 * The global form of the middleware: a layer that serves `Session` to every route of the router.
 *
 * @example
 * ```ts
 * import { Session } from "effect-session-v4"
 *
 * const global: Session.GlobalMiddleware = Session.middleware({ ttl: "1 hour" }, { global: true })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type GlobalMiddleware<EH = never, RH = never> = Layer.Layer<
  | HttpRouter.Request<"Requires", Session>
  | HttpRouter.Request<"Error", SessionStoreError | SessionLockTimeout>
  | HttpRouter.Request<"GlobalRequires", Session>
  | HttpRouter.Request<"GlobalError", SessionStoreError | SessionLockTimeout>,
  never,
  HttpRouter.HttpRouter | SessionStore | RH | HttpRouter.Request<"GlobalError", EH>
>

/**
 * Validates middleware options without building anything: `Result.fail(SessionConfigError)` for
 * what `Session.middleware` would throw.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { Session } from "effect-session-v4"
 *
 * Result.isSuccess(Session.validateOptions({ ttl: "30 minutes" })) // true
 * Result.isFailure(Session.validateOptions({ sameSite: "none", insecure: true })) // true
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const validateOptions = (options?: Options<unknown, unknown>): Result.Result<void, SessionConfigError> =>
  Result.map(options_.resolve(options), () => undefined)

const resolveOrThrow = (options: Options<unknown, unknown> | undefined): options_.Resolved => {
  const resolved = options_.resolve(options)
  if (Result.isFailure(resolved)) throw resolved.failure
  return resolved.success
}

/**
 * The per-request function the router runs: the session lifecycle around the route's handler.
 * Built once per middleware layer (the store and the failure handler's services are read then).
 */
const build = <EH, RH>(config: options_.Resolved) =>
  Effect.gen(function*() {
    const found = yield* Effect.serviceOption(SessionStore)
    // Only an app that was not type-checked gets here without a store: say what to provide.
    if (Option.isNone(found)) return yield* Effect.die(new Error(CoreOptions.MISSING_STORE))
    const store = found.value
    const services = yield* Effect.context<RH>()
    const onError = config.onError === undefined
      ? internal.defaultFailure
      : (error: SessionStoreError | SessionLockTimeout, context: FailureContext) =>
        Effect.provideContext((config.onError as FailureHandler<EH, RH>)(error, context), services)
    return <E>(
      app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, Session>
    ): Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      Exclude<E, SessionStoreError | SessionLockTimeout> | EH,
      HttpServerRequest.HttpServerRequest
    > => internal.serveProviding(SessionBase, config, store, app, onError)
  })

type MakeMiddleware = {
  <EH = never, RH = never>(options?: Options<EH, RH>): Middleware<EH, RH>
  <EH = never, RH = never>(
    options: Options<EH, RH> | undefined,
    mode: { readonly global: true }
  ): GlobalMiddleware<EH, RH>
}

const middleware: MakeMiddleware = (<EH, RH>(options?: Options<EH, RH>, mode?: { readonly global: true }) => {
  const config = resolveOrThrow(options)
  const make = HttpRouter.middleware<{ provides: Session; handles: SessionStoreError | SessionLockTimeout }>()
  const fn = Effect.map(build<EH, RH>(config), (serve) =>
  (
    app: Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      SessionStoreError | SessionLockTimeout | Types.unhandled,
      Session
    >
  ) => serve(app))
  return mode?.global === true ? make(fn, { global: true }) : make(fn)
}) as MakeMiddleware

// The service's base class exists before `Session` does, so static initialisers can use it (it has
// the same key, so it finds the same service).
const SessionBase = Context.Service<Session, SessionService>()("effect-session/Session")

// Each accessor looks the handle up and calls the method of the same name on it. `any`: the
// statics declare their (overloaded) types; one generic forwarder cannot express them all.
const accessor = <K extends keyof SessionService>(key: K): any => (...args: Array<any>) =>
  SessionBase.use((service) => (service[key] as any)(...args))

// The most used accessors: when the handle is the middleware's own state, they call its `…Now`
// method, which is the same method without the suspension it needs when its Effect is built
// ahead and run later (the accessor's Effect is already running when it calls). A handle of any
// other kind (a test double, a wrapper) is called as above.
const accessorNow = <K extends keyof SessionService>(
  key: K,
  now: (state: internal.SessionState, ...args: Array<any>) => Effect.Effect<any, any, any>
): any =>
(...args: Array<any>) =>
  // `SessionBase.use`, without its closure around this one: one closure per call instead of two.
  Effect.withFiber((fiber) => {
    const service = Context.get(fiber.context as Context.Context<Session>, SessionBase)
    return service instanceof internal.SessionState ? now(service, ...args) : (service[key] as any)(...args)
  })

const property = <K extends keyof SessionService>(key: K): any => SessionBase.use((service) => service[key] as any)

/**
 * The per-request session: the `Context.Service` the middleware provides, and the home of the
 * accessors handlers call (`yield* Session.get("k")`). Every accessor requires `Session`, so a
 * route that uses one does not compile until `Session.middleware` is provided to it (or a test
 * session is given).
 *
 * The record is loaded on first use: a request that never touches its session costs no store I/O
 * and sets no cookie.
 *
 * @example
 * ```ts
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { HttpRouter, HttpServerResponse } from "effect/http"
 * import { MemoryStoreLive, Session } from "effect-session-v4"
 * import { createServer } from "node:http"
 *
 * const Count = HttpRouter.add("GET", "/", Effect.gen(function*() {
 *   const views = yield* Session.increment("views")
 *   return HttpServerResponse.jsonUnsafe({ views })
 * }))
 *
 * const Server = HttpRouter.serve(Count).pipe(
 *   Layer.provide(Session.middleware({ ttl: "2 hours" }).layer),
 *   Layer.provide(MemoryStoreLive),
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 3000 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class Session extends SessionBase {
  /**
   * The session middleware for `HttpRouter`. `Session.middleware(options)` is route-level: provide
   * its `.layer` to the routes that use sessions (or `.combine` it with other middleware).
   * `Session.middleware(options, { global: true })` is a layer that serves every route. Throws
   * `SessionConfigError` at once on invalid options (`Session.makeMiddleware` gives an Effect).
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { HttpRouter, HttpServerResponse } from "effect/http"
   * import { MemoryStoreLive, Session } from "effect-session-v4"
   *
   * const Routes = HttpRouter.add("GET", "/", HttpServerResponse.text("hi")).pipe(
   *   Layer.provide(Session.middleware({ insecure: true }).layer),
   *   Layer.provide(MemoryStoreLive)
   * )
   * ```
   *
   * @since 0.1.0
   * @category middleware
   */
  static readonly middleware: MakeMiddleware = middleware

  /**
   * `Session.middleware` as an Effect that fails with `SessionConfigError` on invalid options.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const built = Session.makeMiddleware({ ttl: "1 hour" }) // Effect<Session.Middleware, SessionConfigError>
   * ```
   *
   * @since 0.1.0
   * @category middleware
   */
  static readonly makeMiddleware = <EH = never, RH = never>(
    options?: Options<EH, RH>
  ): Effect.Effect<Middleware<EH, RH>, SessionConfigError> =>
    Effect.flatMap(Effect.fromResult(options_.resolve(options)), () => Effect.sync(() => middleware(options)))

  /**
   * `validateOptions`, reachable from the class.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const checked = Session.validateOptions({ ttl: -1 }) // Result.fail(SessionConfigError)
   * ```
   *
   * @since 0.1.0
   * @category constructors
   */
  static readonly validateOptions: typeof validateOptions = validateOptions

  /**
   * Every key and value (a fresh plain object; metadata is not included).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const data = Session.all // Effect<Record<string, unknown>, SessionStoreError, Session>
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly all: Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError, Session> = property("all")

  /**
   * The value under `key`; fails with `SessionKeyMissing` when it is not set. With a `SessionKey`
   * (or a schema) the value is decoded, failing `SessionValueError` if it no longer fits.
   *
   * @example
   * ```ts
   * import { Schema } from "effect"
   * import { Session } from "effect-session-v4"
   *
   * const name = Session.get("name")
   * const age = Session.get("age", Schema.Number)
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly get: {
    (key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError, Session>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, Session | RD>
    <A, I, RD, RE>(
      key: string,
      schema: Schema.Codec<A, I, RD, RE>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, Session | RD>
  } = accessorNow("get", (state, key, schema) => state.getNow(key, schema))

  /**
   * The value under `key` as an `Option` (no failure when missing).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const maybeUser = Session.getOption("userId")
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly getOption: {
    (key: string): Effect.Effect<Option.Option<unknown>, SessionStoreError, Session>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, Session | RD>
    <A, I, RD, RE>(
      key: string,
      schema: Schema.Codec<A, I, RD, RE>
    ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, Session | RD>
  } = accessorNow("getOption", (state, key, schema) => state.getOptionNow(key, schema))

  /**
   * The string under `key`, or `""` when it is missing or not a string (the Go package's `GetString`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const name = Session.getString("name")
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly getString: (key: string) => Effect.Effect<string, SessionStoreError, Session> = accessor(
    "getString"
  )

  /**
   * Whether `key` is present and not `null` (Laravel's `has`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const loggedIn = Session.has("userId")
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly has: (key: string) => Effect.Effect<boolean, SessionStoreError, Session> = accessor("has")

  /**
   * Whether `key` is present, even as `null` (Laravel's `exists`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const seen = Session.exists("consent")
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly exists: (key: string) => Effect.Effect<boolean, SessionStoreError, Session> = accessor("exists")

  /**
   * Whether `key` is absent (Laravel's `missing`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const anonymous = Session.missing("userId")
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly missing: (key: string) => Effect.Effect<boolean, SessionStoreError, Session> = accessor("missing")

  /**
   * The given keys that are present, as a plain object.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const profile = Session.only(["name", "email"])
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly only: (
    keys: ReadonlyArray<string>
  ) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError, Session> = accessor("only")

  /**
   * Every key except the given ones, as a plain object.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const rest = Session.except(["password_confirmed_at"])
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly except: (
    keys: ReadonlyArray<string>
  ) => Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError, Session> = accessor("except")

  /**
   * Stores `value` (plain JSON, or encoded by a `SessionKey`'s schema) under `key`. A value that
   * cannot round-trip (a function, a cycle, a bigint, `undefined`) fails with `SessionValueError`.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const remember = Session.put("theme", "dark")
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly put: {
    (key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, Session>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>,
      value: A
    ): Effect.Effect<void, SessionValueError | SessionStoreError, Session | RE>
  } = accessorNow("put", (state, key, value) => state.putNow(key, value))

  /**
   * Removes one key or several.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const clear = Session.forget(["cart", "coupon"])
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly forget: (keys: string | ReadonlyArray<string>) => Effect.Effect<void, SessionStoreError, Session> =
    accessor("forget")

  /**
   * The value under `key`, removed in the same step (Laravel's `pull`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const once = Session.pull("notice")
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly pull: {
    (key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError, Session>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>
    ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, Session | RD>
  } = accessor("pull")

  /**
   * Adds `by` (default 1) to the number under `key` (missing = 0) and returns the result. Saved as
   * a delta, so concurrent increments on one session all count.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const views = Session.increment("views")
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly increment: (
    key: string,
    by?: number
  ) => Effect.Effect<number, SessionValueError | SessionStoreError, Session> = accessorNow(
    "increment",
    (state, key, by) => state.adjustNow(key, by === undefined ? 1 : by)
  )

  /**
   * Subtracts `by` (default 1) from the number under `key`.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const left = Session.decrement("attempts")
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly decrement: (
    key: string,
    by?: number
  ) => Effect.Effect<number, SessionValueError | SessionStoreError, Session> = accessorNow(
    "decrement",
    (state, key, by) => state.adjustNow(key, -(by === undefined ? 1 : by))
  )

  /**
   * Appends `value` to the array under `key` (missing = empty).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const addToCart = Session.push("cart", { sku: "A-1", qty: 1 })
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly push: (
    key: string,
    value: unknown
  ) => Effect.Effect<void, SessionValueError | SessionStoreError, Session> = accessor("push")

  /**
   * The value under `key`, or `compute`'s result stored there (Laravel's `remember`).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session-v4"
   * const locale = Session.remember("locale", Effect.succeed("en"))
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly remember: {
    <E, R>(
      key: string,
      compute: Effect.Effect<unknown, E, R>
    ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, Session | R>
    <A, I, RD, RE, E, R>(
      key: TypedKey<A, I, RD, RE>,
      compute: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | SessionValueError | SessionStoreError, Session | R | RD | RE>
  } = accessor("remember")

  /**
   * Removes every key, the CSRF token and flash data (the ID stays; see `invalidate`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const reset = Session.flush
   * ```
   *
   * @since 0.1.0
   * @category writing
   */
  static readonly flush: Effect.Effect<void, SessionStoreError, Session> = property("flush")

  /**
   * Stores `value` for the next request only (Laravel's `flash`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const notice = Session.flash("status", "Profile saved")
   * ```
   *
   * @since 0.1.0
   * @category flash
   */
  static readonly flash: {
    (key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, Session>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>,
      value: A
    ): Effect.Effect<void, SessionValueError | SessionStoreError, Session | RE>
  } = accessor("flash")

  /**
   * Stores `value` for this request only (Laravel's `now`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const inline = Session.now("status", "Shown once, right now")
   * ```
   *
   * @since 0.1.0
   * @category flash
   */
  static readonly now: {
    (key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, Session>
    <A, I, RD, RE>(
      key: TypedKey<A, I, RD, RE>,
      value: A
    ): Effect.Effect<void, SessionValueError | SessionStoreError, Session | RE>
  } = accessor("now")

  /**
   * Keeps every flashed value for one more request.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const again = Session.reflash
   * ```
   *
   * @since 0.1.0
   * @category flash
   */
  static readonly reflash: Effect.Effect<void, SessionStoreError, Session> = property("reflash")

  /**
   * Keeps the given flashed values for one more request.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const keepStatus = Session.keep("status")
   * ```
   *
   * @since 0.1.0
   * @category flash
   */
  static readonly keep: (keys: string | ReadonlyArray<string>) => Effect.Effect<void, SessionStoreError, Session> =
    accessor("keep")

  /**
   * The session's CSRF token, created on first use (see `Csrf`).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const csrf = Session.token
   * ```
   *
   * @since 0.1.0
   * @category csrf
   */
  static readonly token: Effect.Effect<string, SessionStoreError, Session> = property("token")

  /**
   * A new CSRF token, replacing the old one.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const fresh = Session.regenerateToken
   * ```
   *
   * @since 0.1.0
   * @category csrf
   */
  static readonly regenerateToken: Effect.Effect<string, SessionStoreError, Session> = property("regenerateToken")

  /**
   * The session ID (created for a new session: the cookie still appears only if it is saved).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const id = Session.id
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly id: Effect.Effect<string, SessionStoreError, Session> = property("id")

  /**
   * Whether the session was created by this request.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const first = Session.isNew
   * ```
   *
   * @since 0.1.0
   * @category reading
   */
  static readonly isNew: Effect.Effect<boolean, SessionStoreError, Session> = property("isNew")

  /**
   * A new ID for the same data (after login: no session fixation). The old record is deleted (or,
   * with `regenerateGrace`, kept read-only that long); the CSRF token is renewed.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session-v4"
   * const login = (userId: string) => Effect.andThen(Session.regenerate, Session.put("userId", userId))
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
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
   * import { Session } from "effect-session-v4"
   * const logout = Session.invalidate
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
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
   * import { Session } from "effect-session-v4"
   * const forgetMe = Session.destroy
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
   */
  static readonly destroy: Effect.Effect<void, SessionStoreError, Session> = property("destroy")

  /**
   * Saves now, before the handler returns (the middleware saves after it anyway).
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const checkpoint = Session.save // Effect<"Written" | "Unchanged" | "SessionGone", …>
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
   */
  static readonly save: Effect.Effect<SaveResult, SessionStoreError, Session> = property("save")

  /**
   * Ends a session from outside its own requests ("log out my other devices"): deletes the record
   * of session ID `sessionId` (a value that is not a well-formed ID is ignored).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session-v4"
   * const logoutEverywhere = (ids: ReadonlyArray<string>) => Effect.forEach(ids, Session.revoke, { discard: true })
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
   */
  static readonly revoke = (sessionId: string): Effect.Effect<void, SessionStoreError, SessionStore> =>
    Id.isWellFormed(sessionId) ? SessionStore.use((store) => store.destroy(Id.storageKey(sessionId))) : Effect.void

  /**
   * The key a session ID is stored under (SHA-256, base64url).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session-v4"
   * const recordLogin = Effect.map(Session.id, Session.storageKey)
   * ```
   *
   * @since 0.1.0
   * @category utils
   */
  static readonly storageKey = (sessionId: string): string => Id.storageKey(sessionId)

  /**
   * Gives this session its own lifetimes ("remember me"), stored with it; the cookie is re-issued.
   *
   * @example
   * ```ts
   * import { Session } from "effect-session-v4"
   * const rememberMe = Session.setLifetime({ ttl: "30 days", absoluteTimeout: "90 days" })
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
   */
  static readonly setLifetime: (lifetime: {
    readonly ttl?: Duration.Input | undefined
    readonly absoluteTimeout?: Duration.Input | undefined
  }) => Effect.Effect<void, SessionConfigError | SessionStoreError, Session> = accessor("setLifetime")

  /**
   * Runs `self` holding the session's lock (Laravel's `->block()`): other requests on the same
   * session wait until this one's response is ready and its session saved. Needs a store with
   * `lock`; waiting longer than `wait` fails with `SessionLockTimeout` (423 by default).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Session } from "effect-session-v4"
   *
   * const checkout = Session.blocking(Session.forget("cart"), { wait: "5 seconds" })
   * ```
   *
   * @since 0.1.0
   * @category lifecycle
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
      Effect.andThen(SessionBase.use((service) => service.lock(options)), self)
  )
}

/**
 * The types that go with `Session`, reachable from the class (`Session.Options`, …).
 *
 * @example
 * ```ts
 * import type { Session } from "effect-session-v4"
 *
 * const options: Session.Options = { ttl: "1 hour" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace Session {
  /**
   * Middleware options (see `Options`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session-v4"
   *
   * const options: Session.Options = { ttl: "1 hour" }
   * ```
   *
   * @since 0.1.0
   */
  export type Options<E = never, R = never> = import("./Session.js").Options<E, R>
  /**
   * Decides the response when the store fails (see `FailureHandler`).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { HttpServerResponse } from "effect/http"
   * import type { Session } from "effect-session-v4"
   *
   * const handler: Session.FailureHandler = () => Effect.succeed(HttpServerResponse.text("later", { status: 503 }))
   * ```
   *
   * @since 0.1.0
   */
  export type FailureHandler<E = never, R = never> = import("./Session.js").FailureHandler<E, R>
  /**
   * What the failure handler is told (see `FailureContext`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session-v4"
   *
   * const phase = (context: Session.FailureContext) => context.phase
   * ```
   *
   * @since 0.1.0
   */
  export type FailureContext = import("./Session.js").FailureContext
  /**
   * What a save did (see `SaveResult`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session-v4"
   *
   * const gone = (result: Session.SaveResult) => result === "SessionGone"
   * ```
   *
   * @since 0.1.0
   */
  export type SaveResult = import("./Session.js").SaveResult
  /**
   * Lock times for `Session.blocking` (see `LockOptions`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session-v4"
   *
   * const lock: Session.LockOptions = { wait: "2 seconds" }
   * ```
   *
   * @since 0.1.0
   */
  export type LockOptions = import("./Session.js").LockOptions
  /**
   * The per-request handle, the shape of `yield* Session` (see `SessionService`).
   *
   * @example
   * ```ts
   * import type { Session } from "effect-session-v4"
   *
   * const views = (session: Session.Service) => session.increment("views")
   * ```
   *
   * @since 0.1.0
   */
  export type Service = SessionService
  /**
   * The route-level middleware type (see `Middleware`).
   *
   * @example
   * ```ts
   * import { Session as SessionTag } from "effect-session-v4"
   * import type { Session } from "effect-session-v4"
   *
   * const middleware: Session.Middleware = SessionTag.middleware()
   * ```
   *
   * @since 0.1.0
   */
  export type Middleware<EH = never, RH = never> = import("./Session.js").Middleware<EH, RH>
  /**
   * The global middleware type (see `GlobalMiddleware`).
   *
   * @example
   * ```ts
   * import { Session as SessionTag } from "effect-session-v4"
   * import type { Session } from "effect-session-v4"
   *
   * const global: Session.GlobalMiddleware = SessionTag.middleware({}, { global: true })
   * ```
   *
   * @since 0.1.0
   */
  export type GlobalMiddleware<EH = never, RH = never> = import("./Session.js").GlobalMiddleware<EH, RH>
}
