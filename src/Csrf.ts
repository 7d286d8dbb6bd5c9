/**
 * CSRF protection bound to the session: unsafe requests must echo the session's token
 * (`Session.token`) in a form field or a header, or they are refused with `419 Page Expired`.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Multipart from "@effect/platform/Multipart"
import type * as Path from "@effect/platform/Path"
import * as UrlParams from "@effect/platform/UrlParams"
import { Csrf as Rules } from "effect-session-core"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
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
 * `Csrf.middleware` answers it with `419`; the token values are never part of the error.
 *
 * @example
 * ```ts
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Csrf } from "effect-session"
 *
 * const handler = Effect.zipRight(Csrf.verify, HttpServerResponse.text("saved")).pipe(
 *   Effect.catchTag("CsrfTokenMismatch", (e) =>
 *     HttpServerResponse.text(`refused (${e.reason})`, { status: 419 }))
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
 * import { HttpServerResponse } from "@effect/platform"
 * import type { Csrf } from "effect-session"
 *
 * const options: Csrf.Options = {
 *   // webhooks are authenticated by signature, not by session
 *   except: (request) => request.url.startsWith("/webhooks/"),
 *   onMismatch: () => HttpServerResponse.text("Your page expired: reload it and try again", { status: 419 })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = never, R = never> {
  /** The form field that carries the token. Default `"_token"` (Laravel's). */
  readonly field?: string
  /**
   * Headers that carry the token, checked in order. Default `["x-csrf-token", "x-xsrf-token"]`.
   * `X-XSRF-TOKEN` is what Axios and Angular send; here it carries the plain token (there is no
   * encrypted `XSRF-TOKEN` cookie as in Laravel).
   */
  readonly headers?: ReadonlyArray<string>
  /** Requests that skip the check (webhooks, OAuth callbacks…). Default: none. */
  readonly except?: (request: HttpServerRequest.HttpServerRequest) => boolean
  /** The response for a refused request. Default: `419 Page Expired`, `Cache-Control: no-store`. */
  readonly onMismatch?: (
    error: CsrfTokenMismatch,
    request: HttpServerRequest.HttpServerRequest
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
}

/**
 * Whether `given` is `expected`, in time that depends on neither value. Both are hashed with
 * SHA-256 first: `timingSafeEqual` needs equal-length buffers, and hashing gives them that
 * without an early return that would reveal the token's length.
 *
 * @example
 * ```ts
 * import { Csrf } from "effect-session"
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

const resolve = <E, R>(options: Options<E, R>): Config => ({
  field: options.field ?? Rules.DEFAULT_FIELD,
  headers: (options.headers ?? Rules.DEFAULT_HEADERS).map((name) => name.toLowerCase()),
  except: options.except
})

/** How the check read the body, so the app behind the middleware can read it again. */
type BodyRead =
  | { readonly _tag: "None" }
  | { readonly _tag: "Text"; readonly text: Effect.Effect<string, HttpServerError.RequestError> }
  | {
    readonly _tag: "Multipart"
    readonly multipart: HttpServerRequest.HttpServerRequest["multipart"]
  }

const NOT_READ: BodyRead = { _tag: "None" }

/**
 * The token the request carries: a header first (so a request that sends one never has its body
 * read), then the form field of a urlencoded or multipart body. A body that cannot be read fails
 * with the platform's own error, as it would in the handler.
 */
const submitted = (
  request: HttpServerRequest.HttpServerRequest,
  config: Config
): Effect.Effect<
  readonly [token: string | undefined, body: BodyRead],
  HttpServerError.RequestError | Multipart.MultipartError,
  Scope.Scope | FileSystem.FileSystem | Path.Path
> => {
  for (const name of config.headers) {
    const value = Rules.nonEmpty(request.headers[name])
    if (value !== undefined) return Effect.succeed([value, NOT_READ])
  }
  switch (Rules.formKind(request.headers["content-type"])) {
    case "urlencoded": {
      // `text` is cached on the request object: the handler's own reads get the same string.
      const text = request.text
      return Effect.map(text, (body) => {
        const value = Rules.formFields(body).get(config.field)
        return [Rules.nonEmpty(value), { _tag: "Text", text }] as const
      })
    }
    case "multipart": {
      // `multipart` is cached too, and persists files in the request's scope, not the check's.
      const multipart = request.multipart
      return Effect.map(multipart, (form) => {
        return [Rules.fieldToken(form[config.field]), { _tag: "Multipart", multipart }] as const
      })
    }
    default:
      return Effect.succeed([undefined, NOT_READ])
  }
}

const check = (
  request: HttpServerRequest.HttpServerRequest,
  config: Config
): Effect.Effect<
  BodyRead,
  CsrfTokenMismatch | SessionStoreError | HttpServerError.RequestError | Multipart.MultipartError,
  Session | Scope.Scope | FileSystem.FileSystem | Path.Path
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

const encoder = new TextEncoder()

const alreadyRead = (request: HttpServerRequest.HttpServerRequest, as: string) =>
  new HttpServerError.RequestError({
    request,
    reason: "Decode",
    description: `the body was already read as ${as} for the CSRF check`
  })

/**
 * The request the app behind the middleware sees once the check has read the body: body reads
 * return what the check read, also on requests derived with `modify` (a mounted router slices the
 * URL that way, and a fresh request object would wait forever on the consumed stream).
 */
const withBodyRead = (
  request: HttpServerRequest.HttpServerRequest,
  body: Exclude<BodyRead, { readonly _tag: "None" }>
): HttpServerRequest.HttpServerRequest => {
  const self = Object.create(request) as HttpServerRequest.HttpServerRequest
  const decodeError = (cause: unknown) => new HttpServerError.RequestError({ request: self, reason: "Decode", cause })
  const modify = (options: Parameters<HttpServerRequest.HttpServerRequest["modify"]>[0]) =>
    withBodyRead(request.modify(options), body)
  if (body._tag === "Text") {
    const text = body.text
    const bytes = Effect.map(text, (s) => encoder.encode(s))
    const notMultipart = new Multipart.MultipartError({
      reason: "Parse",
      cause: "the body was already read as a urlencoded form for the CSRF check"
    })
    Object.defineProperties(self, {
      modify: { value: modify },
      text: { get: () => text },
      json: {
        get: () => Effect.tryMap(text, { try: (s): unknown => s === "" ? null : JSON.parse(s), catch: decodeError })
      },
      urlParamsBody: {
        get: () =>
          Effect.flatMap(
            text,
            (s) => Effect.try({ try: () => UrlParams.fromInput(new URLSearchParams(s)), catch: decodeError })
          )
      },
      arrayBuffer: {
        get: () => Effect.map(bytes, (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)
      },
      stream: { get: () => Stream.fromEffect(bytes) },
      multipart: { get: () => Effect.fail(notMultipart) },
      multipartStream: { get: () => Stream.fail(notMultipart) }
    })
  } else {
    const multipart = body.multipart
    const failed = alreadyRead(self, "a multipart form (use request.multipart)")
    Object.defineProperties(self, {
      modify: { value: modify },
      multipart: { get: () => multipart },
      multipartStream: {
        get: () =>
          Stream.fail(
            new Multipart.MultipartError({
              reason: "InternalError",
              cause: Rules.MULTIPART_ALREADY_PARSED
            })
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
 * import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 * import { Csrf } from "effect-session"
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
  CsrfTokenMismatch | SessionStoreError | HttpServerError.RequestError | Multipart.MultipartError,
  Session | HttpServerRequest.HttpServerRequest | Scope.Scope | FileSystem.FileSystem | Path.Path
> = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const config = resolve({})
  return mustCheck(request, config) ? Effect.asVoid(check(request, config)) : Effect.void
})

const pageExpired = (error: CsrfTokenMismatch) =>
  Effect.as(
    Effect.logDebug("effect-session: CSRF token mismatch").pipe(
      Effect.annotateLogs({ "effect-session": "csrf", reason: error.reason, method: error.method })
    ),
    HttpServerResponse.text("Page Expired: CSRF token mismatch", {
      status: 419,
      headers: { "cache-control": "no-store" }
    })
  )

/**
 * The middleware type: an app that needs `Session` (so it goes inside `Session.middleware`), the
 * request scope and the platform file system (for multipart bodies, which `NodeHttpServer.layer`
 * provides).
 *
 * @example
 * ```ts
 * import { Csrf } from "effect-session"
 *
 * const mw: Csrf.Middleware = Csrf.middleware
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Middleware<EM = never, RM = never> {
  <E, R>(
    app: HttpApp.Default<E, R>
  ): HttpApp.Default<
    E | EM | SessionStoreError | HttpServerError.RequestError | Multipart.MultipartError,
    R | RM | Session | Scope.Scope | FileSystem.FileSystem | Path.Path
  >
}

/**
 * Builds a CSRF middleware with options; see `Csrf.middleware` for the defaults.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Csrf, Session } from "effect-session"
 *
 * const app = HttpRouter.empty.pipe(
 *   HttpRouter.post("/webhooks/stripe", HttpServerResponse.text("ok")),
 *   HttpRouter.post("/profile", HttpServerResponse.text("saved")),
 *   Csrf.make({ except: (request) => request.url.startsWith("/webhooks/") }),
 *   Session.middleware()
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <EM = never, RM = never>(options: Options<EM, RM> = {}): Middleware<EM, RM> => {
  const config = resolve(options)
  const onMismatch = options.onMismatch ?? pageExpired
  type Failure = SessionStoreError | HttpServerError.RequestError | Multipart.MultipartError
  const refuse = (
    error: CsrfTokenMismatch | Failure,
    request: HttpServerRequest.HttpServerRequest
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, EM | Failure, RM> =>
    error._tag === "CsrfTokenMismatch" ? onMismatch(error, request) : Effect.fail(error)
  return <E, R>(app: HttpApp.Default<E, R>) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      mustCheck(request, config)
        ? Effect.matchEffect(check(request, config), {
          onFailure: (error) => refuse(error, request),
          onSuccess: (body) =>
            body._tag === "None"
              ? app
              : Effect.provideService(app, HttpServerRequest.HttpServerRequest, withBodyRead(request, body))
        })
        : app)
}

/**
 * Rejects every unsafe request (`POST`, `PUT`, `PATCH`, `DELETE`, anything but `GET`, `HEAD`,
 * `OPTIONS` and `TRACE`) that does not carry the session's token (`Session.token`) in an
 * `X-CSRF-Token` or `X-XSRF-TOKEN` header or a `_token` field of a urlencoded or multipart form,
 * compared in constant time. A request without a session is refused too, and the check never
 * creates one.
 *
 * The answer is `419` ("Page Expired", Laravel's status), not `403`: the usual cause is a
 * session that expired under an open form, not an attacker, and a status of its own lets
 * front-ends tell "reload the page for a fresh token" apart from "you may not do this" (front-ends
 * written for Laravel already recognise 419). Use `Csrf.make({ onMismatch })` for another
 * response.
 *
 * Place it inside `Session.middleware` (it needs `Session`). It reads a form body only when no
 * header carries the token; handlers behind it can read the body again (`schemaBodyUrlParams`,
 * `schemaBodyForm`, `request.multipart`, a urlencoded body's `request.stream` too), mounted routers
 * included. A multipart body was parsed, so `request.multipartStream` fails saying so: a handler
 * that streams a multipart upload has the token sent in a header. Body-size limits that should
 * apply to that read (`HttpServerRequest.withMaxBodySize`, `Multipart.withMaxFileSize`) must be
 * set outside it. JSON clients send the header.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { Csrf, MemoryStoreLive, Session } from "effect-session"
 *
 * const form = Effect.map(Session.token, (token) =>
 *   HttpServerResponse.html(`<form method="post"><input type="hidden" name="_token" value="${token}"></form>`))
 *
 * const ServerLive = HttpRouter.empty.pipe(
 *   HttpRouter.get("/form", form),
 *   HttpRouter.post("/form", HttpServerResponse.text("saved")),
 *   Csrf.middleware,
 *   Session.middleware(),
 *   HttpServer.serve(),
 *   Layer.provide(MemoryStoreLive)
 * )
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const middleware: Middleware = make()
