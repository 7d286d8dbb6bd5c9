/**
 * effect 3 `SessionApi`: the session's own failure responses (423, 503) save nothing and carry
 * `Cache-Control: no-store` and `Retry-After: 1`; a user's own 423 or 503 with another body is the
 * user's: a 423 saves (below 500), neither gets the failure headers.
 */
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiSchema,
  HttpClient,
  HttpClientRequest
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { MemoryStore, Session } from "effect-session"
import * as SessionApi from "effect-session/SessionApi"

const COOKIE = "lagodev_session"

class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {}, HttpApiSchema.annotations({ status: 409 })) {}

class DocLocked extends Schema.TaggedError<DocLocked>()("DocLocked", {}, HttpApiSchema.annotations({ status: 423 })) {}
class Down extends Schema.TaggedError<Down>()("Down", {}, HttpApiSchema.annotations({ status: 503 })) {}

class G extends HttpApiGroup.make("g")
  .add(HttpApiEndpoint.post("doc", "/doc").addSuccess(Schema.String).addError(DocLocked))
  .add(HttpApiEndpoint.post("down", "/down").addSuccess(Schema.String).addError(Down))
  .add(HttpApiEndpoint.get("read", "/read").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("locked", "/locked").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("blocking", "/blocking").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("notFound", "/not-found").addSuccess(Schema.String).addError(HttpApiError.NotFound))
  .add(HttpApiEndpoint.post("conflict", "/conflict").addSuccess(Schema.String).addError(Conflict))
  .add(HttpApiEndpoint.post("created", "/created").addSuccess(Schema.String, { status: 201 }))
  .add(HttpApiEndpoint.post("unavailable", "/unavailable").addSuccess(Schema.String))
  .middleware(SessionApi.SessionMiddleware)
{}

class Api extends HttpApi.make("api").add(G) {}

const put = (key: string) => Session.put(key, true).pipe(SessionApi.mapStoreErrors, Effect.orDie)

const GLive = HttpApiBuilder.group(Api, "g", (handlers) =>
  handlers
    .handle("doc", () => Effect.zipRight(put("doc"), Effect.fail(new DocLocked())))
    .handle("down", () => Effect.zipRight(put("down"), Effect.fail(new Down())))
    .handle("read", () =>
      Session.all.pipe(
        Effect.map((all) => Object.keys(all).sort().join(",")),
        SessionApi.mapStoreErrors,
        Effect.orDie
      ))
    // the handler itself answers the declared 423
    .handle("locked", () => Effect.zipRight(put("locked"), Effect.fail(new SessionApi.SessionLocked())))
    // a handler's Session.blocking that times out (the lock is held elsewhere, wait 0)
    .handle("blocking", () =>
      Effect.zipRight(
        put("blocking"),
        Session.blocking(Effect.succeed("got it"), { wait: 0 }).pipe(SessionApi.mapStoreErrors, Effect.orDie)
      ))
    .handle("notFound", () => Effect.zipRight(put("notFound"), Effect.fail(new HttpApiError.NotFound())))
    .handle("conflict", () => Effect.zipRight(put("conflict"), Effect.fail(new Conflict())))
    .handle("created", () => Effect.as(put("created"), "made"))
    .handle("unavailable", () => Effect.zipRight(put("unavailable"), Effect.fail(new SessionApi.SessionUnavailable()))))

const withServer = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provide(
      HttpApiBuilder.serve().pipe(
        Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(GLive))),
        Layer.provide(SessionApi.layer({ insecure: true })),
        Layer.provideMerge(NodeHttpServer.layerTest),
        Layer.provideMerge(MemoryStore.layer())
      )
    )
  )

const send = (method: "GET" | "POST", path: string, cookie: string | undefined) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let req = HttpClientRequest.make(method)(path)
    if (cookie !== undefined) req = HttpClientRequest.setHeader(req, "cookie", `${COOKIE}=${cookie}`)
    const response = yield* client.execute(req)
    const body = yield* response.text
    const raw = response.headers["set-cookie"] as unknown
    const lines = raw === undefined
      ? []
      : Array.isArray(raw)
      ? raw as Array<string>
      : String(raw).split(/,(?=\s*[^;,=\s]+=)/)
    const setCookie = lines.find((line) => line.trim().startsWith(`${COOKIE}=`))
    return {
      status: response.status,
      body,
      setCookie: setCookie !== undefined,
      cacheControl: response.headers["cache-control"],
      retryAfter: response.headers["retry-after"]
    }
  }).pipe(Effect.scoped, Effect.orDie)

/** A stored session (created by /created), its ID. */
const session = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.execute(HttpClientRequest.post("/created"))
  const raw = response.headers["set-cookie"] as unknown
  const line = (Array.isArray(raw) ? raw as Array<string> : [String(raw)]).find((l) => l.startsWith(`${COOKIE}=`))!
  return /=([^;]*)/.exec(line)![1]!
}).pipe(Effect.scoped, Effect.orDie)

const keys = (id: string) => Effect.map(send("GET", "/read", id), (r) => JSON.parse(r.body) as string)

describe("SessionApi, a user's own 423/503", () => {
  it.effect("a user's own 423 (another body) is saved and gets no Retry-After; a user's 503 gets no Retry-After", () =>
    withServer(Effect.gen(function*() {
      const id = yield* session
      const doc = yield* send("POST", "/doc", id)
      const down = yield* send("POST", "/down", id)
      expect({ doc: [doc.status, doc.retryAfter], down: [down.status, down.retryAfter], saved: yield* keys(id) })
        .toStrictEqual({ doc: [423, undefined], down: [503, undefined], saved: "created,doc" })
    })))
})
