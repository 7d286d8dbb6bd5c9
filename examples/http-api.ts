/**
 * effect-session with `HttpApi`: a declared API whose session endpoints sit behind
 * `SessionApi.SessionMiddleware`, which provides `Session` to their handlers and declares the
 * store failures (`503 SessionUnavailable`, `423 SessionLocked`) in the API — and its OpenAPI.
 *
 *   npx tsx --tsconfig tsconfig.test.json examples/http-api.ts      # http://127.0.0.1:3000
 *
 * It runs over plain HTTP on loopback, hence `insecure: true` — never in production.
 */
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiSchema,
  HttpMiddleware,
  HttpServer
} from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option, Schema } from "effect"
import { MemoryStoreLive, Session, SessionApi, SessionKey } from "effect-session"
import { createServer } from "node:http"

// --- the API: a contract, shared with clients ----------------------------------

class Me extends Schema.Class<Me>("Me")({ name: Schema.String, visits: Schema.Number }) {}

class Account extends HttpApiGroup.make("account")
  .add(HttpApiEndpoint.get("me", "/me").addSuccess(Me).addError(HttpApiError.Unauthorized))
  .add(
    HttpApiEndpoint.post("login", "/login")
      .setPayload(Schema.Struct({ name: Schema.Trim.pipe(Schema.nonEmptyString(), Schema.maxLength(64)) }))
      .addSuccess(Me)
  )
  .add(HttpApiEndpoint.post("logout", "/logout").addSuccess(HttpApiSchema.NoContent))
  // every endpoint of the group gets a Session, and declares SessionUnavailable / SessionLocked
  .middleware(SessionApi.SessionMiddleware)
{}

class Api extends HttpApi.make("demo").add(Account) {}

// --- the handlers ----------------------------------------------------------------

// A Schema-typed session key: `Session.get(User)` decodes, `Session.put(User, …)` encodes.
const User = SessionKey.make("user", Schema.String)

const AccountLive = HttpApiBuilder.group(Api, "account", (handlers) =>
  handlers
    .handle("me", () =>
      Effect.gen(function*() {
        const name = yield* Session.getOption(User)
        if (Option.isNone(name)) return yield* new HttpApiError.Unauthorized()
        const visits = yield* Session.increment("visits")
        return new Me({ name: name.value, visits })
      }).pipe(SessionApi.mapStoreErrors, Effect.catchTag("SessionValueError", Effect.die)))
    .handle("login", ({ payload }) =>
      Effect.gen(function*() {
        yield* Session.regenerate // a new ID at the moment privileges change
        yield* Session.put(User, payload.name)
        return new Me({ name: payload.name, visits: 0 })
      }).pipe(SessionApi.mapStoreErrors, Effect.catchTag("SessionValueError", Effect.die)))
    .handle("logout", () => SessionApi.mapStoreErrors(Session.destroy)))

// --- the server --------------------------------------------------------------------

/** The API, needing a `SessionStore`. */
export const ApiRoutesLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide(AccountLive),
  // Options are validated here: invalid ones fail the layer with SessionConfigError.
  Layer.provide(SessionApi.layer({ ttl: "2 hours", insecure: true }))
)

/** The API on the memory store (what the tests serve). */
export const ApiLive = ApiRoutesLive.pipe(Layer.provide(MemoryStoreLive))

export { Api }

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000)
  HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
    Layer.provide(ApiRoutesLive),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
    // The store outermost: built first, released last, after the server has answered the
    // requests in flight on shutdown (provided inside, it would close under them).
    Layer.provide(MemoryStoreLive),
    Layer.launch,
    NodeRuntime.runMain
  )
}
