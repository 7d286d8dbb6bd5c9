/**
 * Parity of the two lines (effect 3 / effect 4): HttpApi middleware (effect 3 `SessionApi` on
 * `@effect/platform`'s HttpApi, effect 4 `SessionApi` on `effect/http-api`). Each endpoint puts a
 * key, then answers in some way; the test checks the status, the session cookie and whether the
 * key was saved. Twin: test/parity.api.test.ts (same test names).
 */
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Schema } from "effect"
import { Id } from "effect-session-core"
import { MemoryStore, Session, SessionApi, SessionStore } from "effect-session-v4"
import { HttpClient, HttpClientRequest, HttpRouter } from "effect/http"
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiError, HttpApiGroup, HttpApiSchema } from "effect/http-api"

const COOKIE = "lagodev_session"

class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {}, { httpApiStatus: 409 }) {}

class G extends HttpApiGroup.make("g")
  .add(HttpApiEndpoint.get("read", "/read", { success: Schema.String }))
  .add(HttpApiEndpoint.post("locked", "/locked", { success: Schema.String }))
  .add(HttpApiEndpoint.post("blocking", "/blocking", { success: Schema.String }))
  .add(HttpApiEndpoint.post("notFound", "/not-found", { success: Schema.String, error: HttpApiError.NotFound }))
  .add(HttpApiEndpoint.post("conflict", "/conflict", { success: Schema.String, error: Conflict }))
  .add(HttpApiEndpoint.post("created", "/created", { success: Schema.String.pipe(HttpApiSchema.status(201)) }))
  .add(HttpApiEndpoint.post("unavailable", "/unavailable", { success: Schema.String }))
  .middleware(SessionApi.SessionMiddleware)
{}

class Api extends HttpApi.make("api").add(G) {}

const put = (key: string) => Session.put(key, true).pipe(SessionApi.mapStoreErrors, Effect.orDie)

const GLive = HttpApiBuilder.group(Api, "g", (handlers) =>
  handlers
    .handle("read", () =>
      Session.all.pipe(
        Effect.map((all) => Object.keys(all).sort().join(",")),
        SessionApi.mapStoreErrors,
        Effect.orDie
      ))
    // the handler itself answers the declared 423
    .handle("locked", () => Effect.andThen(put("locked"), Effect.fail(new SessionApi.SessionLocked())))
    // a handler's Session.blocking that times out (the lock is held elsewhere, wait 0)
    .handle("blocking", () =>
      Effect.andThen(
        put("blocking"),
        Session.blocking(Effect.succeed("got it"), { wait: 0 }).pipe(SessionApi.mapStoreErrors, Effect.orDie)
      ))
    .handle("notFound", () => Effect.andThen(put("notFound"), Effect.fail(new HttpApiError.NotFound())))
    .handle("conflict", () => Effect.andThen(put("conflict"), Effect.fail(new Conflict())))
    .handle("created", () => Effect.as(put("created"), "made"))
    .handle("unavailable", () => Effect.andThen(put("unavailable"), Effect.fail(new SessionApi.SessionUnavailable()))))

const withServer = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provide(
      HttpRouter.serve(
        HttpApiBuilder.layer(Api).pipe(Layer.provide(GLive), Layer.provide(SessionApi.layer({ insecure: true }))),
        { disableListenLog: true, disableLogger: true }
      ).pipe(
        Layer.provideMerge(MemoryStore.layer()),
        Layer.provideMerge(NodeHttpServer.layerTest)
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
  }).pipe(Effect.orDie)

/** A stored session (created by /created), its ID. */
const session = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.execute(HttpClientRequest.post("/created"))
  const raw = response.headers["set-cookie"] as unknown
  const lines = Array.isArray(raw) ? raw as Array<string> : String(raw).split(/,(?=\s*[^;,=\s]+=)/)
  const line = lines.map((l) => l.trim()).find((l) => l.startsWith(`${COOKIE}=`))!
  return /=([^;]*)/.exec(line)![1]!
}).pipe(Effect.orDie)

const keys = (id: string) => Effect.map(send("GET", "/read", id), (r) => JSON.parse(r.body) as string)
describe("parity: SessionApi, which responses save", () => {
  it.effect("a declared 4xx (HttpApiError.NotFound, a 409, a 201 success) saves; SessionUnavailable does not", () =>
    withServer(Effect.gen(function*() {
      const id = yield* session
      const notFound = yield* send("POST", "/not-found", id)
      const conflict = yield* send("POST", "/conflict", id)
      const unavailable = yield* send("POST", "/unavailable", id)
      expect({
        notFound: notFound.status,
        conflict: conflict.status,
        unavailable: unavailable.status,
        saved: yield* keys(id)
      }).toStrictEqual({
        notFound: 404,
        conflict: 409,
        unavailable: 503,
        saved: "conflict,created,notFound"
      })
    })))

  it.effect("a handler that fails with SessionUnavailable itself: the 503 gets the session failure headers", () =>
    withServer(Effect.gen(function*() {
      const id = yield* session
      const unavailable = yield* send("POST", "/unavailable", id)
      expect([
        unavailable.status,
        unavailable.body,
        unavailable.cacheControl,
        unavailable.retryAfter,
        unavailable.setCookie
      ])
        .toStrictEqual([503, "{\"_tag\":\"SessionUnavailable\"}", "no-store", "1", false])
    })))

  it.effect("a handler that fails with the declared SessionLocked (423): the session's own failure, so nothing it changed is saved", () =>
    withServer(Effect.gen(function*() {
      const id = yield* session
      const locked = yield* send("POST", "/locked", id)
      expect({
        locked: [locked.status, locked.body, locked.setCookie],
        saved: yield* keys(id)
      }).toStrictEqual({
        locked: [423, "{\"_tag\":\"SessionLocked\"}", false],
        saved: "created"
      })
    })))

  it.effect("a handler's Session.blocking times out (423 via mapStoreErrors): the failure headers, and its put is not saved", () =>
    withServer(Effect.gen(function*() {
      const id = yield* session
      const store = yield* Effect.service(SessionStore)
      const release = yield* store.lock!(Id.storageKey(id), { ttl: Duration.seconds(30), wait: Duration.zero })
      const blocked = yield* send("POST", "/blocking", id)
      yield* release
      expect({
        blocked: [blocked.status, blocked.body, blocked.cacheControl, blocked.retryAfter, blocked.setCookie],
        saved: yield* keys(id)
      }).toStrictEqual({
        blocked: [423, "{\"_tag\":\"SessionLocked\"}", "no-store", "1", false],
        saved: "created"
      })
    })))

  it.effect("no session: a 4xx creates one and sets its cookie", () =>
    withServer(Effect.gen(function*() {
      const reply = yield* send("POST", "/conflict", undefined)
      expect([reply.status, reply.setCookie, reply.cacheControl]).toStrictEqual([409, true, "no-store"])
    })))

  it.effect("sanity: Option import used", () => Effect.sync(() => expect(Option.none()._tag).toBe("None")))
})
