/**
 * The testing kit: run handlers that use `Session` without HTTP and read back what they did, and a
 * store that records every call and fails on demand.
 *
 * @since 0.1.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Id, TestKit } from "effect-session-core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as lifecycle from "./internal/lifecycle.js"
import * as options_ from "./internal/options.js"
import type { SessionState } from "./internal/state.js"
import * as MemoryStore from "./MemoryStore.js"
import type { Options as SessionOptions, Session } from "./Session.js"
import * as SessionCodec from "./SessionCodec.js"
import { SessionConfigError, type SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { type SessionPatch, SessionStore, type SessionStoreService } from "./SessionStore.js"

// -----------------------------------------------------------------------------
// Recording store
// -----------------------------------------------------------------------------

/**
 * The store operations a failure plan can target. `"write"` also covers `"patch"` and `"rotate"`:
 * all save a session, and which one the middleware uses depends on the store's capabilities.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session"
 *
 * const saves: ReadonlyArray<SessionTest.Operation> = ["write"]
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export type Operation = "read" | "write" | "destroy" | "patch" | "rotate" | "lock"

/**
 * One call a recording store received, in order, with its arguments. `id` is the storage key (a
 * hash of the session ID: see `SessionTest.storageKey`); `data` of a `write` includes the library's
 * metadata under `"__session"`. `injected` is `true` when the failure plan made the call fail.
 * Releasing a lock is recorded as `"unlock"`.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session"
 *
 * const describe = (call: SessionTest.StoreCall) => call.injected ? `${call._tag} (failed)` : call._tag
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export type StoreCall =
  | { readonly _tag: "read"; readonly id: string; readonly injected: boolean }
  | {
    readonly _tag: "write"
    readonly id: string
    readonly data: SessionCodec.SessionData
    readonly ttl: Duration.Duration
    readonly injected: boolean
  }
  | { readonly _tag: "destroy"; readonly id: string; readonly injected: boolean }
  | {
    readonly _tag: "patch"
    readonly id: string
    readonly patch: SessionPatch
    readonly ttl: Duration.Duration
    readonly injected: boolean
  }
  | {
    readonly _tag: "rotate"
    /** the key the session moves away from */
    readonly id: string
    /** the key it moves to */
    readonly to: string
    readonly data: SessionCodec.SessionData
    readonly ttl: Duration.Duration
    readonly grace: Duration.Duration
    readonly injected: boolean
  }
  | {
    readonly _tag: "lock"
    readonly id: string
    readonly ttl: Duration.Duration
    readonly wait: Duration.Duration
    readonly injected: boolean
  }
  | { readonly _tag: "unlock"; readonly id: string; readonly injected: false }

/**
 * When a recording store fails, and how. Every field is optional: `{}` fails every call from now
 * on with `SessionStoreError` `"Unavailable"`.
 *
 * @example
 * ```ts
 * import { SessionStoreError } from "effect-session"
 * import type { SessionTest } from "effect-session"
 *
 * // the third save fails once, with a timeout; everything else works
 * const plan: SessionTest.FailurePlan = {
 *   on: "write",
 *   after: 2,
 *   times: 1,
 *   error: new SessionStoreError({ reason: "Timeout", message: "redis: timed out" })
 * }
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export interface FailurePlan {
  /** The operations that fail. Default: all of them. */
  readonly on?: Operation | ReadonlyArray<Operation>
  /** How many matching calls succeed first ("fail after N calls"). Default 0. */
  readonly after?: number
  /** How many calls fail before the store works again. Default: every one. */
  readonly times?: number
  /** The error. Default: `SessionStoreError` with reason `"Unavailable"`. */
  readonly error?: SessionStoreError
}

/**
 * A `SessionStore` that records every call and fails as told. Its `underlying` store is never
 * affected by the failure plan, so a test can inspect or seed it directly.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionTest } from "effect-session"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* SessionTest.recordingStore()
 *   yield* store.fail({ on: "write", times: 1 })
 *   // ... run requests ...
 *   const operations = yield* store.operations // e.g. ["read", "write"]
 * })
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export interface RecordingStoreService extends SessionStoreService {
  /** Every call so far, in order. */
  readonly calls: Effect.Effect<ReadonlyArray<StoreCall>>
  /** Just the operation names of `calls`. */
  readonly operations: Effect.Effect<ReadonlyArray<StoreCall["_tag"]>>
  /** Forgets the calls recorded so far (the failure plan's counters are kept). */
  readonly clear: Effect.Effect<void>
  /** Arms a failure plan, replacing any previous one; its counters start from zero. */
  readonly fail: (plan?: FailurePlan) => Effect.Effect<void>
  /** Disarms the failure plan: every call works again. */
  readonly recover: Effect.Effect<void>
  /** The store being recorded (unrecorded, never failing by plan). */
  readonly underlying: SessionStoreService
}

/**
 * The tag `SessionTest.layerRecording` provides beside `SessionStore`, to reach the recording.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionTest } from "effect-session"
 *
 * const lastCall = Effect.flatMap(SessionTest.RecordingStore, (store) => store.calls)
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export class RecordingStore extends Context.Tag("effect-session/SessionTest/RecordingStore")<
  RecordingStore,
  RecordingStoreService
>() {}

/**
 * Options for `SessionTest.recordingStore` and `SessionTest.layerRecording`.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session"
 *
 * const options: SessionTest.RecordingOptions = { memory: { ttl: "10 minutes" }, fail: { on: "read" } }
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export interface RecordingOptions {
  /** The store to record. Default: a fresh `MemoryStore` built with `memory`. */
  readonly store?: SessionStoreService
  /** Options for the default `MemoryStore`. */
  readonly memory?: MemoryStore.Options
  /** A failure plan armed from the start. Default: none. */
  readonly fail?: FailurePlan
}

const RecordingTypeId: unique symbol = Symbol.for("effect-session/SessionTest/RecordingStore")

/** The store underneath any number of recording wrappers: where the kit seeds and inspects. */
const unrecorded = (store: SessionStoreService): SessionStoreService => {
  let current = store as SessionStoreService & { readonly [RecordingTypeId]?: true; readonly underlying?: unknown }
  while (current[RecordingTypeId] === true) current = current.underlying as typeof current
  return current
}

interface ArmedPlan {
  readonly on: ReadonlySet<Operation> | undefined
  readonly after: number
  readonly times: number
  readonly error: SessionStoreError
  matched: number
  failed: number
}

const arm = (plan: FailurePlan): ArmedPlan => ({
  on: plan.on === undefined ? undefined : new Set(typeof plan.on === "string" ? [plan.on] : plan.on),
  after: plan.after ?? 0,
  times: plan.times ?? Infinity,
  error: plan.error ?? new SessionStoreError({ reason: "Unavailable", message: "injected failure (SessionTest)" }),
  matched: 0,
  failed: 0
})

interface Recorder {
  readonly store: RecordingStoreService
  readonly log: Array<StoreCall>
}

const record = (underlying: SessionStoreService, initial: FailurePlan | undefined): Recorder => {
  const log: Array<StoreCall> = []
  let plan: ArmedPlan | undefined = initial === undefined ? undefined : arm(initial)

  /** The error this call must fail with, if the plan says so; counts the call either way. */
  const decide = (operation: Operation): SessionStoreError | undefined => {
    if (plan === undefined) return undefined
    const applies = plan.on === undefined || plan.on.has(operation) ||
      ((operation === "patch" || operation === "rotate") && plan.on.has("write"))
    if (!applies) return undefined
    plan.matched++
    if (plan.matched <= plan.after || plan.failed >= plan.times) return undefined
    plan.failed++
    return plan.error
  }

  const store: RecordingStoreService & { readonly [RecordingTypeId]: true } = {
    [RecordingTypeId]: true,
    underlying,
    read: (id) =>
      Effect.suspend(() => {
        const error = decide("read")
        log.push({ _tag: "read", id, injected: error !== undefined })
        return error === undefined ? underlying.read(id) : Effect.fail(error)
      }),
    write: (id, data, ttl) =>
      Effect.suspend(() => {
        const error = decide("write")
        log.push({ _tag: "write", id, data, ttl, injected: error !== undefined })
        return error === undefined ? underlying.write(id, data, ttl) : Effect.fail(error)
      }),
    destroy: (id) =>
      Effect.suspend(() => {
        const error = decide("destroy")
        log.push({ _tag: "destroy", id, injected: error !== undefined })
        return error === undefined ? underlying.destroy(id) : Effect.fail(error)
      }),
    // Optional capabilities are offered only when the recorded store has them: their presence
    // changes how the middleware saves.
    ...(underlying.patch === undefined ? {} : {
      patch: (id: string, patch: SessionPatch, ttl: Duration.Duration) =>
        Effect.suspend(() => {
          const error = decide("patch")
          log.push({ _tag: "patch", id, patch, ttl, injected: error !== undefined })
          return error === undefined ? underlying.patch!(id, patch, ttl) : Effect.fail(error)
        })
    }),
    ...(underlying.rotate === undefined ? {} : {
      rotate: (
        from: string,
        to: string,
        data: SessionCodec.SessionData,
        ttl: Duration.Duration,
        grace: Duration.Duration
      ) =>
        Effect.suspend(() => {
          const error = decide("rotate")
          log.push({ _tag: "rotate", id: from, to, data, ttl, grace, injected: error !== undefined })
          return error === undefined ? underlying.rotate!(from, to, data, ttl, grace) : Effect.fail(error)
        })
    }),
    ...(underlying.lock === undefined ? {} : {
      lock: (id: string, options: { readonly ttl: Duration.Duration; readonly wait: Duration.Duration }) =>
        Effect.suspend(() => {
          const error = decide("lock")
          log.push({ _tag: "lock", id, ttl: options.ttl, wait: options.wait, injected: error !== undefined })
          if (error !== undefined) return Effect.fail(error)
          return Effect.map(underlying.lock!(id, options), (release) =>
            Effect.suspend(() => {
              log.push({ _tag: "unlock", id, injected: false })
              return release
            }))
        })
    }),
    calls: Effect.sync(() => [...log]),
    operations: Effect.sync(() => log.map((call) => call._tag)),
    clear: Effect.sync(() => {
      log.length = 0
    }),
    fail: (next = {}) =>
      Effect.sync(() => {
        plan = arm(next)
      }),
    recover: Effect.sync(() => {
      plan = undefined
    })
  }
  return { store, log }
}

/**
 * A recording store (see `RecordingStoreService`) over `options.store`, or over a fresh
 * `MemoryStore` that lives as long as the current scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionStoreError, SessionTest } from "effect-session"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* SessionTest.recordingStore({
 *     fail: { on: "read", error: new SessionStoreError({ reason: "Timeout" }) }
 *   })
 *   const result = yield* Effect.either(store.read("any")) // Left(SessionStoreError "Timeout")
 * }))
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export const recordingStore = (
  options: RecordingOptions = {}
): Effect.Effect<RecordingStoreService, SessionConfigError, Scope.Scope> =>
  Effect.map(
    options.store === undefined ? MemoryStore.make(options.memory) : Effect.succeed(options.store),
    (underlying) => record(underlying, options.fail).store
  )

/**
 * Provides a recording store as the `SessionStore` (so the real middleware uses it, over real
 * HTTP) and as `RecordingStore` (so the test can read the calls and arm failures).
 *
 * @example
 * ```ts
 * import { SessionTest } from "effect-session"
 *
 * // every save fails: the middleware answers 503 and the test can check what was attempted
 * const StoreTest = SessionTest.layerRecording({ fail: { on: "write" } })
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export const layerRecording = (
  options?: RecordingOptions
): Layer.Layer<SessionStore | RecordingStore, SessionConfigError> =>
  Layer.scopedContext(
    Effect.map(recordingStore(options), (store) =>
      Context.make(SessionStore, store).pipe(Context.add(RecordingStore, store)))
  )

/**
 * The key a store sees for a session ID (the middleware never gives stores the ID itself), for
 * matching `StoreCall.id` against `Outcome.id`.
 *
 * @example
 * ```ts
 * import { SessionTest } from "effect-session"
 *
 * const key = SessionTest.storageKey("some-session-id") // SHA-256, base64url
 * ```
 *
 * @since 0.1.0
 * @category recording store
 */
export const storageKey = (id: string): string => Id.storageKey(id)

// -----------------------------------------------------------------------------
// Handler runs without HTTP
// -----------------------------------------------------------------------------

/**
 * The session a test starts from. With none of `data`, `flash`, `token` the client has no session
 * yet (its first request starts one); with any of them, it holds the cookie of a stored session.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session"
 *
 * const options: SessionTest.Options = {
 *   data: { user: { id: 1, name: "Ada" } },
 *   flash: { status: "Welcome back" }, // flashed by "the previous request": readable now, then gone
 *   middleware: { ttl: "30 minutes" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export interface Options {
  /** Session data already stored. */
  readonly data?: Readonly<Record<string, unknown>>
  /** Data flashed by the previous request: readable in the next request only. */
  readonly flash?: Readonly<Record<string, unknown>>
  /** The CSRF token the session already has (`Session.token`). */
  readonly token?: string
  /**
   * `false`: the client holds a stored session even without `data`, `flash` or `token` (an empty
   * one). `true` with any of them is a `SessionConfigError`. Default: new unless one is given.
   */
  readonly isNew?: boolean
  /** The middleware options the app uses (cookie name, `ttl`, `absoluteTimeout`, `lock`…). */
  readonly middleware?: SessionOptions<unknown, unknown>
  /** The store. Default: a fresh `MemoryStore`. It is recorded either way (`Outcome.calls`). */
  readonly store?: SessionStoreService
}

/**
 * The request a handler runs in. Default: `GET http://localhost/` with the client's cookie.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session"
 *
 * const post: SessionTest.RequestOptions = {
 *   method: "POST",
 *   url: "/profile",
 *   headers: { "content-type": "application/x-www-form-urlencoded" },
 *   body: "name=Ada"
 * }
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export interface RequestOptions {
  readonly method?: string
  /** Path (and query) or absolute URL. Default `"/"`. */
  readonly url?: string
  /** Headers; a `cookie` header here replaces the client's session cookie. */
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | URLSearchParams | FormData | Uint8Array
}

/**
 * What one request did to its session, as the next request and the browser will see it.
 *
 * - `data`, `flashed`, `token`: the session as saved (what the next request loads); `{}`, `[]`
 *   and `None` when the client holds no session.
 * - `id`: the session ID the client holds afterwards (its cookie jar); `previousId`: the one it
 *   sent.
 * - `isNew`: this request created the session (the response sets its cookie).
 * - `regenerated`: the session continues, with its data, under a new ID (`regenerate`,
 *   `invalidate`).
 * - `destroyed`: the response expires the session cookie (`destroy`). A `destroy` followed by
 *   writes starts a new session instead: `isNew` is `true` and `id` differs from `previousId`.
 * - `cookie`: the session cookie the response sets or expires; `response`: the whole response.
 * - `calls`: the store calls this request made.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import type { SessionTest } from "effect-session"
 *
 * const loggedIn = (outcome: SessionTest.Outcome<unknown>) =>
 *   outcome.regenerated && outcome.data.user !== undefined && Option.isSome(outcome.cookie)
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export interface Outcome<A> {
  /** What the handler returned. */
  readonly value: A
  /** The response as it would leave: the handler's (or an empty 200), with the session cookie. */
  readonly response: HttpServerResponse.HttpServerResponse
  readonly previousId: Option.Option<string>
  readonly id: Option.Option<string>
  readonly isNew: boolean
  readonly regenerated: boolean
  readonly destroyed: boolean
  readonly data: Readonly<Record<string, unknown>>
  /** Keys the next request can read once (flashed, reflashed or kept by this request). */
  readonly flashed: ReadonlyArray<string>
  readonly token: Option.Option<string>
  readonly cookie: Option.Option<Cookies.Cookie>
  readonly calls: ReadonlyArray<StoreCall>
}

/**
 * A browser without HTTP: it runs handlers one request at a time, keeps the session cookie
 * between them like a cookie jar, and reports each request's `Outcome`. Time comes from Effect's
 * `Clock`, so `TestClock.adjust` between runs ages the session.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session, SessionTest } from "effect-session"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* SessionTest.make()
 *   yield* client.run(Session.flash("status", "Saved"))
 *   const next = yield* client.run(Session.get("status")) // "Saved"
 *   const after = yield* client.run(Session.getOption("status")) // None
 * })
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export interface Client {
  /** The (recorded) store the client's requests use. */
  readonly store: RecordingStoreService
  /** The session ID the client currently holds. */
  readonly id: Effect.Effect<Option.Option<string>>
  /**
   * Runs `handler` as one request: provides `Session`, the request (`HttpServerRequest`) and a
   * request scope, then saves as the middleware would. A handler failure is returned as is and
   * saves nothing (as behind the middleware); a store failure is a `SessionStoreError` (the
   * middleware's `onError` is not involved).
   */
  readonly run: <A, E, R>(
    handler: Effect.Effect<A, E, R>,
    request?: RequestOptions
  ) => Effect.Effect<
    Outcome<A>,
    E | SessionStoreError | SessionLockTimeout,
    Exclude<R, Session | HttpServerRequest.HttpServerRequest | Scope.Scope>
  >
}

interface Begun {
  readonly state: SessionState
  readonly request: HttpServerRequest.HttpServerRequest
  /** Takes the session lock first when the middleware options ask for it. */
  readonly lock: Effect.Effect<void, SessionStoreError | SessionLockTimeout>
  readonly complete: <A>(value: A) => Effect.Effect<Outcome<A>, SessionStoreError>
}

interface Internal extends Client {
  readonly begin: (request?: RequestOptions) => Effect.Effect<Begun>
}

const configError = (option: string, message: string) => new SessionConfigError({ option, message })

/** The seed's problem (the core's `TestKit.check`), as the kit's typed error. */
const checkSeed = (options: Options): SessionConfigError | undefined => {
  const problem = TestKit.check(options)
  return problem === undefined ? undefined : configError(problem.option, problem.message)
}

const isExpiry = (cookie: Cookies.Cookie): boolean =>
  cookie.options?.maxAge !== undefined && Duration.toMillis(Duration.decode(cookie.options.maxAge)) === 0

const makeInternal = (options: Options): Effect.Effect<Internal, SessionConfigError | SessionStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* options_.resolve(options.middleware)
    const invalid = checkSeed(options)
    if (invalid !== undefined) return yield* Effect.fail(invalid)
    const given = options.store ?? (yield* MemoryStore.make())
    const recorder = record(given, undefined)
    // Seeding and the outcome's read-back bypass every recording and failure plan.
    const direct = unrecorded(given)
    const clock = yield* Effect.clock

    let jar = Option.none<string>()
    if (TestKit.startsStored(options)) {
      const id = Id.generate()
      const seed = TestKit.record(options, clock.unsafeCurrentTimeMillis())
      const ttl = config.ttlMillis > 0 ? Duration.millis(config.ttlMillis) : Duration.zero
      yield* direct.write(Id.storageKey(id), seed, ttl)
      jar = Option.some(id)
    }

    const report = <A>(
      value: A,
      response: HttpServerResponse.HttpServerResponse,
      state: SessionState,
      previousId: Option.Option<string>,
      firstCall: number
    ): Effect.Effect<Outcome<A>, SessionStoreError> =>
      Effect.gen(function*() {
        const snapshot = state.snapshot()
        const cookie = Cookies.get(response.cookies, config.cookieName)
        const destroyed = Option.isSome(cookie) && isExpiry(cookie.value)
        const id = Option.isNone(cookie)
          ? previousId
          : destroyed
          ? Option.none<string>()
          : Option.some(cookie.value.value)
        jar = id
        const found = Option.isSome(id) ? yield* direct.read(Id.storageKey(id.value)) : Option.none()
        const stored = TestKit.stored(Option.getOrUndefined(found), clock.unsafeCurrentTimeMillis())
        const isNew = snapshot.loaded && snapshot.isNew && Option.isSome(cookie) && !destroyed
        return {
          value,
          response,
          previousId,
          id,
          isNew,
          regenerated: Option.isSome(previousId) && Option.isSome(id) && previousId.value !== id.value &&
            snapshot.loaded && !snapshot.isNew,
          destroyed,
          data: stored.data,
          flashed: stored.flashed,
          token: Option.fromNullable(stored.token),
          cookie,
          calls: recorder.log.slice(firstCall)
        }
      })

    const begin = (requestOptions: RequestOptions = {}): Effect.Effect<Begun> =>
      Effect.sync(() => {
        const headers = new Headers(requestOptions.headers)
        if (Option.isSome(jar) && !headers.has("cookie")) headers.set("cookie", `${config.cookieName}=${jar.value}`)
        const request = HttpServerRequest.fromWeb(
          new Request(new URL(requestOptions.url ?? "/", "http://localhost"), {
            method: (requestOptions.method ?? "GET").toUpperCase(),
            headers,
            ...(requestOptions.body === undefined ? {} : { body: requestOptions.body })
          })
        )
        const state = lifecycle.begin(config, recorder.store, clock, request)
        const previousId = jar
        const firstCall = recorder.log.length
        return {
          state,
          request,
          lock: lifecycle.acquire(config, state),
          complete: <A>(value: A) =>
            lifecycle.save(state, HttpServerResponse.isServerResponse(value) ? value : HttpServerResponse.empty())
              .pipe(
                Effect.ensuring(state.unlock),
                Effect.flatMap((response) => report(value, response, state, previousId, firstCall))
              )
        }
      })

    const run = <A, E, R>(handler: Effect.Effect<A, E, R>, requestOptions?: RequestOptions) =>
      Effect.flatMap(begin(requestOptions), (begun) =>
        Effect.zipRight(begun.lock, handler).pipe(
          lifecycle.provide(begun.state),
          Effect.provideService(HttpServerRequest.HttpServerRequest, begun.request),
          Effect.onError(() => begun.state.unlock),
          Effect.flatMap((value) => begun.complete(value)),
          Effect.scoped
        )) as Effect.Effect<
          Outcome<A>,
          E | SessionStoreError | SessionLockTimeout,
          Exclude<R, Session | HttpServerRequest.HttpServerRequest | Scope.Scope>
        >

    return {
      store: recorder.store,
      id: Effect.sync(() => jar),
      run,
      begin
    } satisfies Internal
  })

/**
 * Builds a test client (see `Client`) in the current scope: a store (a fresh `MemoryStore`
 * unless `options.store`), seeded with `options`, and a cookie jar holding its session. Fails
 * with `SessionConfigError` on invalid options or seed data that is not plain JSON.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session, SessionTest } from "effect-session"
 *
 * const login = Effect.zipRight(Session.regenerate, Session.put("user", "ada"))
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const client = yield* SessionTest.make({ data: { cart: ["A-1"] } })
 *   const outcome = yield* client.run(login)
 *   // outcome.regenerated === true, outcome.data = { cart: ["A-1"], user: "ada" }
 * }))
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export const make = (
  options: Options = {}
): Effect.Effect<Client, SessionConfigError | SessionStoreError, Scope.Scope> => makeInternal(options)

/**
 * The one request `SessionTest.layer` provides a `Session` for; `SessionTest.finish` ends it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionTest } from "effect-session"
 *
 * const calls = Effect.flatMap(SessionTest.TestRequest, (request) => request.client.store.calls)
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export class TestRequest extends Context.Tag("effect-session/SessionTest/TestRequest")<TestRequest, {
  /** The client the request belongs to: run further requests with it. */
  readonly client: Client
  /** Saves as the middleware would after the handler returned `response` (default: empty 200). */
  readonly finish: (
    response?: HttpServerResponse.HttpServerResponse
  ) => Effect.Effect<Outcome<HttpServerResponse.HttpServerResponse | undefined>, SessionStoreError>
}>() {}

/**
 * Provides `Session` (and `HttpServerRequest`) for one request, with no HTTP at all: the test
 * runs the handler, then `SessionTest.finish()` saves and reports what it did. `options.request`
 * describes the request (default `GET /`).
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Effect } from "effect"
 * import { Session, SessionTest } from "effect-session"
 *
 * it.effect("counts visits", () =>
 *   Effect.gen(function*() {
 *     yield* Session.increment("visits")
 *     const outcome = yield* SessionTest.finish()
 *     // outcome.data: { visits: 3 }
 *   }).pipe(Effect.provide(SessionTest.layer({ data: { visits: 2 } }))))
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export const layer = (
  options: Options & { readonly request?: RequestOptions } = {}
): Layer.Layer<
  Session | HttpServerRequest.HttpServerRequest | TestRequest,
  SessionConfigError | SessionStoreError | SessionLockTimeout
> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const client = yield* makeInternal(options)
      const begun = yield* client.begin(options.request)
      yield* begun.lock
      yield* Effect.addFinalizer(() => begun.state.unlock)
      const service = TestRequest.of({ client, finish: (response) => begun.complete(response) })
      return Context.make(lifecycle.SessionTag, begun.state).pipe(
        Context.add(HttpServerRequest.HttpServerRequest, begun.request),
        Context.add(TestRequest, service)
      )
    })
  )

/**
 * Ends the request `SessionTest.layer` provided: saves the session as the middleware would after
 * the handler returned `response`, and reports the `Outcome`.
 *
 * @example
 * ```ts
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Session, SessionTest } from "effect-session"
 *
 * const program = Effect.gen(function*() {
 *   yield* Session.put("theme", "dark")
 *   const outcome = yield* SessionTest.finish(HttpServerResponse.text("ok"))
 *   // outcome.data.theme === "dark"; outcome.response carries the Set-Cookie
 * }).pipe(Effect.provide(SessionTest.layer()))
 * ```
 *
 * @since 0.1.0
 * @category handler tests
 */
export const finish = (
  response?: HttpServerResponse.HttpServerResponse
): Effect.Effect<Outcome<HttpServerResponse.HttpServerResponse | undefined>, SessionStoreError, TestRequest> =>
  Effect.flatMap(TestRequest, (request) => request.finish(response))
