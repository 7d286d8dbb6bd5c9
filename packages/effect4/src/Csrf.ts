/**
 * CSRF protection bound to the session: unsafe requests must echo the session's token
 * (`Session.token`) in a form field or a header, or they are refused with `419 Page Expired`.
 * The effect 3 package's `Csrf`, as effect 4 `HttpRouter` middleware (route-level and global).
 *
 * @since 0.1.0
 */
import { Csrf as Rules } from "effect-session-core"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerError from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Multipart from "effect/http/Multipart"
import * as UrlParams from "effect/http/UrlParams"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "effect/Path"
import type * as Schema from "effect/Schema"
import type { Scope } from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Types from "effect/Types"
import { Session } from "./Session.js"
import type { SessionStoreError } from "./SessionError.js"

/**
 * An unsafe request (any method but `GET`, `HEAD`, `OPTIONS` and `TRACE`) did not carry the
 * session's CSRF token. `reason` says why:
 *
 * - `NoSession`: the request has no session (no cookie, or an unknown or expired one), so there
 *   is no token it could match. The check never creates a session.
 * - `TokenMissing`: no `X-CSRF-Token` / `X-XSRF-TOKEN` header and no `_token` form field.
 * - `TokenMismatch`: a token was sent but it is not this session's (a forged request, or a page
 *   rendered before `Session.regenerateToken` / `Session.invalidate`).
 *
 * The middleware answers it with `419`; the token values are never part of the error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpServerResponse } from "effect/http"
 * import { Csrf } from "effect-session-v4"
 *
 * const handler = Effect.as(Csrf.verify, HttpServerResponse.text("saved")).pipe(
 *   Effect.catchTag("CsrfTokenMismatch", (e) => Effect.succeed(HttpServerResponse.text(`refused (${e.reason})`, { status: 419 })))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CsrfTokenMismatch extends Data.TaggedError("CsrfTokenMismatch")<{
  readonly reason: "NoSession" | "TokenMissing" | "TokenMismatch"
  /** the request method, for logs */
  readonly method: string
}> {
  override get message(): string {
    return `CSRF token mismatch (${this.reason})`
  }
}

/**
 * Options for `Csrf.make`. Every field is optional.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpServerResponse } from "effect/http"
 * import type { Csrf } from "effect-session-v4"
 *
 * const options: Csrf.Options = {
 *   // webhooks are authenticated by signature, not by session
 *   except: (request) => request.url.startsWith("/webhooks/"),
 *   onMismatch: () => Effect.succeed(HttpServerResponse.text("Your page expired: reload it", { status: 419 }))
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = never, R = never> {
  /** The form field that carries the token. Default `"_token"` (Laravel's). */
  readonly field?: string | undefined
  /**
   * Headers that carry the token, checked in order. Default `["x-csrf-token", "x-xsrf-token"]`
   * (`X-XSRF-TOKEN` is what Axios and Angular send; here it carries the plain token).
   */
  readonly headers?: ReadonlyArray<string> | undefined
  /** Requests that skip the check (webhooks, OAuth callbacks…). Default: none. */
  readonly except?: ((request: HttpServerRequest.HttpServerRequest) => boolean) | undefined
  /** The response for a refused request. Default: `419 Page Expired`, `Cache-Control: no-store`. */
  readonly onMismatch?:
    | ((
      error: CsrfTokenMismatch,
      request: HttpServerRequest.HttpServerRequest
    ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>)
    | undefined
}

/**
 * Whether `given` is `expected`, in time that depends on neither value (the core's
 * `Csrf.tokensMatch`: both are hashed with SHA-256 first, so no early return reveals the token's
 * length).
 *
 * @example
 * ```ts
 * import { Csrf } from "effect-session-v4"
 *
 * Csrf.tokensMatch("abc", "abc") // true
 * Csrf.tokensMatch("abc", "ab")  // false
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const tokensMatch: (expected: string, given: string) => boolean = Rules.tokensMatch

interface Config {
  readonly field: string
  readonly headers: ReadonlyArray<string>
  readonly except: ((request: HttpServerRequest.HttpServerRequest) => boolean) | undefined
}

const resolve = (options: Options<unknown, unknown>): Config => ({
  field: options.field ?? Rules.DEFAULT_FIELD,
  headers: (options.headers ?? Rules.DEFAULT_HEADERS).map((name) => name.toLowerCase()),
  except: options.except
})

/** How the check read the body, so the app behind the middleware can read it again. */
type BodyRead =
  | { readonly _tag: "None" }
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array }
  | { readonly _tag: "Multipart"; readonly multipart: HttpServerRequest.HttpServerRequest["multipart"] }

const NOT_READ: BodyRead = { _tag: "None" }

const textDecoder = new TextDecoder()
// As effect's own `urlParamsBody` decodes a form: a BOM stays, and a leading "?" is data
// (`Csrf.formFields` in the core).
const formDecoder = new TextDecoder("utf-8", { ignoreBOM: true })
const formParams = (bytes: Uint8Array): URLSearchParams => Rules.formFields(formDecoder.decode(bytes))

/**
 * A multipart body's token. Parsing one persists its files, which needs the platform's
 * `FileSystem` and `Path` (the Node server provides them); without them a multipart form carries
 * no token the check can read (send the header).
 */
const multipartToken = (
  request: HttpServerRequest.HttpServerRequest,
  field: string
): Effect.Effect<readonly [token: string | undefined, body: BodyRead], Multipart.MultipartError, Scope> =>
  Effect.gen(function*() {
    const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
    const path = yield* Effect.serviceOption(Path.Path)
    if (Option.isNone(fs) || Option.isNone(path)) return [undefined, NOT_READ] as const
    // `multipart` is cached on the request, and persists files in the request's scope: the
    // handler's own `request.multipart` gets the same parts.
    const multipart = request.multipart
    const form = yield* multipart.pipe(
      Effect.provideService(FileSystem.FileSystem, fs.value),
      Effect.provideService(Path.Path, path.value)
    )
    return [Rules.fieldToken(form[field]), { _tag: "Multipart", multipart }] as const
  })

/**
 * The token the request carries: a header first (so a request that sends one never has its body
 * read), then the form field of a urlencoded or multipart body, with what was read of the body.
 * A body that cannot be read fails with the platform's own error, as it would in the handler.
 */
const submitted = (
  request: HttpServerRequest.HttpServerRequest,
  config: Config
): Effect.Effect<
  readonly [token: string | undefined, body: BodyRead],
  HttpServerError.HttpServerError | Multipart.MultipartError,
  Scope
> => {
  for (const name of config.headers) {
    const value = Rules.nonEmpty(request.headers[name])
    if (value !== undefined) return Effect.succeed([value, NOT_READ])
  }
  switch (Rules.formKind(request.headers["content-type"])) {
    case "urlencoded":
      // The bytes themselves (within the platform's body size limit): the app behind the
      // middleware gets them again however it reads the body, its stream included.
      return Effect.map(request.arrayBuffer, (buffer) => {
        const bytes = new Uint8Array(buffer)
        return [Rules.nonEmpty(formParams(bytes).get(config.field)), { _tag: "Bytes", bytes }] as const
      })
    case "multipart":
      return multipartToken(request, config.field)
    default:
      return Effect.succeed([undefined, NOT_READ])
  }
}

const check = (
  request: HttpServerRequest.HttpServerRequest,
  config: Config
): Effect.Effect<
  BodyRead,
  CsrfTokenMismatch | SessionStoreError | HttpServerError.HttpServerError | Multipart.MultipartError,
  Session | Scope
> =>
  Effect.gen(function*() {
    const method = request.method
    // A new session has no token, and asking for one would mint it and create the session.
    if (yield* Session.isNew) return yield* new CsrfTokenMismatch({ reason: "NoSession", method })
    const expected = yield* Session.token
    const [given, body] = yield* submitted(request, config)
    if (given === undefined) return yield* new CsrfTokenMismatch({ reason: "TokenMissing", method })
    if (!tokensMatch(expected, given)) return yield* new CsrfTokenMismatch({ reason: "TokenMismatch", method })
    return body
  })

const mustCheck = (request: HttpServerRequest.HttpServerRequest, config: Config): boolean =>
  !Rules.isSafeMethod(request.method) && (config.except === undefined || !config.except(request))

const parseError = (request: HttpServerRequest.HttpServerRequest, description: string, cause?: unknown) =>
  new HttpServerError.HttpServerError({
    reason: new HttpServerError.RequestParseError({ request, description, ...(cause === undefined ? {} : { cause }) })
  })

/**
 * The request the app behind the middleware sees once the check has read the body (public
 * members only, on a view that inherits the rest from `request`): a urlencoded body is read again
 * from the bytes the check read, in every way (`stream`, `text`, `urlParamsBody`, `json`,
 * `arrayBuffer`); a multipart body was parsed, so `multipart` returns the same parts and the other
 * readers fail saying so, where they would otherwise find the body consumed (an empty stream, a
 * bare parse error). Requests derived with `modify` (a router slicing a prefix off the URL) get the
 * same readers: theirs would read the consumed body again.
 */
const withBodyRead = (
  request: HttpServerRequest.HttpServerRequest,
  body: Exclude<BodyRead, { readonly _tag: "None" }>
): HttpServerRequest.HttpServerRequest => {
  const self = Object.create(request) as HttpServerRequest.HttpServerRequest
  const modify = (options: Parameters<HttpServerRequest.HttpServerRequest["modify"]>[0]) =>
    withBodyRead(request.modify(options), body)
  if (body._tag === "Bytes") {
    const bytes = body.bytes
    const text = Effect.sync(() => textDecoder.decode(bytes))
    const notMultipart = Multipart.MultipartError.fromReason(
      "Parse",
      "the body was already read as a urlencoded form for the CSRF check"
    )
    Object.defineProperties(self, {
      modify: { value: modify },
      text: { get: () => text },
      json: {
        get: () =>
          Effect.flatMap(text, (s) =>
            Effect.try({
              try: (): Schema.Json => s === "" ? null : JSON.parse(s),
              catch: (cause) => parseError(self, "the body is not JSON", cause)
            }))
      },
      urlParamsBody: { get: () => Effect.sync(() => UrlParams.fromInput(formParams(bytes))) },
      // a copy each time: a reader may keep or change what it is given
      arrayBuffer: { get: () => Effect.sync(() => bytes.slice().buffer) },
      stream: { get: () => Stream.suspend(() => Stream.make(bytes.slice())) },
      multipart: { get: () => Effect.fail(notMultipart) },
      multipartStream: { get: () => Stream.fail(notMultipart) }
    })
  } else {
    const multipart = body.multipart
    const failed = parseError(
      self,
      "the body was already parsed as a multipart form for the CSRF check: use request.multipart"
    )
    Object.defineProperties(self, {
      modify: { value: modify },
      multipart: { get: () => multipart },
      multipartStream: {
        get: () =>
          Stream.fail(
            Multipart.MultipartError.fromReason(
              "InternalError",
              Rules.MULTIPART_ALREADY_PARSED
            )
          )
      },
      text: { get: () => Effect.fail(failed) },
      json: { get: () => Effect.fail(failed) },
      urlParamsBody: { get: () => Effect.fail(failed) },
      arrayBuffer: { get: () => Effect.fail(failed) },
      stream: { get: () => Stream.fail(failed) }
    })
  }
  return self
}

/**
 * Checks the current request's CSRF token, for use inside a handler (the middleware does the same
 * for every route). Safe methods pass; so does nothing else without the session's token.
 *
 * A form body it reads stays readable through the request's cached readers (`request.text`,
 * `urlParamsBody`, `schemaBodyUrlParams`, `request.multipart`), but not as `request.stream` or
 * `request.multipartStream`, which read the raw body again: a handler that streams its body runs
 * behind `Csrf.middleware` (urlencoded bodies are replayed) or has the token sent in a header.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { HttpServerRequest, HttpServerResponse } from "effect/http"
 * import { Csrf } from "effect-session-v4"
 *
 * const update = Effect.gen(function*() {
 *   yield* Csrf.verify
 *   // the body is still readable after the check
 *   const form = yield* HttpServerRequest.schemaBodyUrlParams(Schema.Struct({ name: Schema.String }))
 *   return HttpServerResponse.text(`hello ${form.name}`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category verification
 */
export const verify: Effect.Effect<
  void,
  CsrfTokenMismatch | SessionStoreError | HttpServerError.HttpServerError | Multipart.MultipartError,
  Session | HttpServerRequest.HttpServerRequest | Scope
> = HttpServerRequest.HttpServerRequest.use((request) => {
  const config = resolve({})
  return mustCheck(request, config) ? Effect.asVoid(check(request, config)) : Effect.void
})

const pageExpired = (error: CsrfTokenMismatch): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.as(
    Effect.logDebug("effect-session: CSRF token mismatch").pipe(
      Effect.annotateLogs({ "effect-session": "csrf", reason: error.reason, method: error.method })
    ),
    HttpServerResponse.text("Page Expired: CSRF token mismatch", {
      status: 419,
      headers: { "cache-control": "no-store" }
    })
  )

/** The errors the check passes on: the session middleware outside it handles the store's. */
type Passed = SessionStoreError | HttpServerError.HttpServerError | Multipart.MultipartError

/**
 * The route-level middleware's type. It needs `Session`, so its `.layer` compiles only once it is
 * combined with the session middleware: `Csrf.middleware.combine(Session.middleware())`.
 *
 * @example
 * ```ts
 * import { Csrf, Session } from "effect-session-v4"
 *
 * const mw = Csrf.middleware.combine(Session.middleware({ ttl: "2 hours" }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Middleware<EM = never, RM = never> = HttpRouter.Middleware<{
  provides: never
  handles: never
  error: Passed | EM
  requires: Session | RM
  layerError: never
  layerRequires: never
}>

/**
 * The global middleware's type: a layer that checks every route of the router. It needs the
 * session's global middleware too (`Session.middleware(options, { global: true })`).
 *
 * @example
 * ```ts
 * import { Csrf } from "effect-session-v4"
 *
 * const global: Csrf.GlobalMiddleware = Csrf.make({}, { global: true })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type GlobalMiddleware<EM = never, RM = never> = Layer.Layer<
  never,
  never,
  | HttpRouter.HttpRouter
  | HttpRouter.Request<"GlobalRequires", Session | RM>
  | HttpRouter.Request<"GlobalError", Passed | EM>
>

type MakeCsrf = {
  <EM = never, RM = never>(options?: Options<EM, RM>): Middleware<EM, RM>
  <EM = never, RM = never>(options: Options<EM, RM> | undefined, mode: { readonly global: true }): GlobalMiddleware<
    EM,
    RM
  >
}

/**
 * Builds a CSRF middleware with options; see `Csrf.middleware` for the defaults. Route-level by
 * default (combine it with `Session.middleware`, which must run outside it); with
 * `{ global: true }` a layer that checks every route (next to the session's global middleware).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { HttpRouter, HttpServerResponse } from "effect/http"
 * import { Csrf, MemoryStoreLive, Session } from "effect-session-v4"
 *
 * const Routes = Layer.mergeAll(
 *   HttpRouter.add("POST", "/webhooks/stripe", HttpServerResponse.text("ok")),
 *   HttpRouter.add("POST", "/profile", HttpServerResponse.text("saved"))
 * ).pipe(
 *   Layer.provide(
 *     Csrf.make({ except: (request) => request.url.startsWith("/webhooks/") })
 *       .combine(Session.middleware())
 *       .layer
 *   ),
 *   Layer.provide(MemoryStoreLive)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: MakeCsrf = (<EM, RM>(options: Options<EM, RM> = {}, mode?: { readonly global: true }) => {
  const config = resolve(options)
  const onMismatch = options.onMismatch ?? pageExpired
  const fn = (
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, Types.unhandled>
  ): Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    Types.unhandled | Passed | EM,
    Session | RM | HttpServerRequest.HttpServerRequest | Scope
  > =>
    HttpServerRequest.HttpServerRequest.use((request) =>
      mustCheck(request, config)
        ? Effect.matchEffect(check(request, config), {
          onFailure: (error): Effect.Effect<HttpServerResponse.HttpServerResponse, Passed | EM, RM> =>
            error._tag === "CsrfTokenMismatch" ? onMismatch(error, request) : Effect.fail(error),
          // The app reads the body again from what the check read of it.
          onSuccess: (body) =>
            body._tag === "None"
              ? app
              : Effect.provideService(app, HttpServerRequest.HttpServerRequest, withBodyRead(request, body))
        })
        : app
    )
  // `HttpRouter.middleware` infers its config from a concrete function; `EM`/`RM` are generic here,
  // so the result is given the types `Middleware` / `GlobalMiddleware` declare (checked in tests).
  const make = HttpRouter.middleware as unknown as (f: typeof fn, mode?: { readonly global: true }) => unknown
  return mode?.global === true ? make(fn, { global: true }) : make(fn)
}) as MakeCsrf

/**
 * Rejects every unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`, anything but `GET`, `HEAD`,
 * `OPTIONS` and `TRACE`) that does not carry the session's token (`Session.token`) in an
 * `X-CSRF-Token` or `X-XSRF-TOKEN` header or a `_token` field of a urlencoded or multipart form,
 * compared in constant time. A request without a session is refused too, and the check never
 * creates one.
 *
 * The answer is `419` ("Page Expired", Laravel's status), not `403`: the usual cause is a
 * session that expired under an open form, not an attacker. Use `Csrf.make({ onMismatch })` for
 * another response.
 *
 * It needs `Session`: combine it with the session middleware, which runs outside it
 * (`Csrf.middleware.combine(Session.middleware())`). For every route of a router, use
 * `Csrf.make({}, { global: true })` next to `Session.middleware(options, { global: true })`.
 *
 * It reads a form body only when no header carries the token. Handlers behind it read a urlencoded
 * body again in any way, `request.stream` included, mounted routers too; a multipart body was
 * parsed, so they read it with `request.multipart` (the same parts and files), and
 * `request.multipartStream` fails saying so: a handler that streams a multipart upload has the
 * token sent in a header. JSON clients send the header.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { HttpRouter, HttpServerResponse } from "effect/http"
 * import { Csrf, MemoryStoreLive, Session } from "effect-session-v4"
 *
 * const form = Effect.map(Session.token, (token) =>
 *   HttpServerResponse.html(`<form method="post"><input type="hidden" name="_token" value="${token}"></form>`))
 *
 * const Routes = Layer.mergeAll(
 *   HttpRouter.add("GET", "/form", form),
 *   HttpRouter.add("POST", "/form", HttpServerResponse.text("saved"))
 * ).pipe(
 *   Layer.provide(Csrf.middleware.combine(Session.middleware()).layer),
 *   Layer.provide(MemoryStoreLive)
 * )
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const middleware: Middleware = make()
