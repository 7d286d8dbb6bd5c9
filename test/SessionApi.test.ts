/**
 * The `HttpApi` integration through real HTTP: endpoints behind `SessionMiddleware`, served on a
 * loopback port, with a cookie jar and a store that records every call and can be told to fail.
 */
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpLayerRouter,
  HttpServerResponse,
  OpenApi
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Logger, Schema } from "effect"
import { Session, SessionConfigError } from "effect-session"
import * as SessionApi from "effect-session/SessionApi"
import { ApiLive } from "../examples/http-api.js"
import { Jar, request } from "./utils/http.js"
import * as Recording from "./utils/recording-store.js"

const COOKIE = "lagodev_session"

class Counter extends HttpApiGroup.make("counter")
  .add(HttpApiEndpoint.get("inc", "/inc").addSuccess(Schema.Number))
  .add(HttpApiEndpoint.get("none", "/none").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("destroy", "/destroy").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("reject", "/reject").addSuccess(Schema.Number).addError(HttpApiError.Forbidden))
  .add(HttpApiEndpoint.post("crash", "/crash").addSuccess(Schema.Number))
  .add(HttpApiEndpoint.get("hold", "/hold").addSuccess(Schema.Number))
  .middleware(SessionApi.SessionMiddleware)
{}

class Public extends HttpApiGroup.make("public")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Schema.String))
{}

class Api extends HttpApi.make("api").add(Counter).add(Public) {}

/** Lets a test hold `/hold` open until it says so. */
class Gate extends Context.Tag("test/Gate")<Gate, {
  readonly entered: Deferred.Deferred<void>
  readonly release: Deferred.Deferred<void>
}>() {}

const increment = Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie)

const CounterLive = HttpApiBuilder.group(Api, "counter", (handlers) =>
  handlers
    .handle("inc", () => increment)
    .handle("none", () => Effect.succeed("no session here"))
    .handle("destroy", () => Effect.as(SessionApi.mapStoreErrors(Session.destroy), "destroyed"))
    .handle("reject", () => Effect.zipRight(increment, Effect.fail(new HttpApiError.Forbidden())))
    .handle("crash", () => Effect.zipRight(increment, Effect.die("boom")))
    .handle("hold", () =>
      Effect.gen(function*() {
        const gate = yield* Gate
        const n = yield* increment
        yield* Deferred.succeed(gate.entered, undefined)
        yield* Deferred.await(gate.release)
        return n
      })))

const PublicLive = HttpApiBuilder.group(
  Api,
  "public",
  (handlers) => handlers.handle("health", () => Effect.succeed("ok"))
)

const serveWith = <E, R>(session: Layer.Layer<SessionApi.SessionMiddleware, E, R>) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide([CounterLive, PublicLive]))),
    Layer.provide(session),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(Recording.layer({ sweepInterval: "1 day" })),
    Layer.provideMerge(
      Layer.effect(Gate, Effect.all({ entered: Deferred.make<void>(), release: Deferred.make<void>() }))
    )
  )

const server = (options?: Session.Options) => serveWith(SessionApi.layer(options))

/** Records the log lines of every fiber, the server's included. */
const captureLogs = () => {
  const lines: Array<{ level: string; message: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    lines.push({ level: logLevel.label, message: parts.map(String).join(" ") })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

describe("SessionApi", () => {
  it.effect("a counter persists across requests, per client", () =>
    Effect.gen(function*() {
      const alice = new Jar()
      const bob = new Jar()
      expect((yield* request("GET", "/inc", { jar: alice })).body).toBe("1")
      expect((yield* request("GET", "/inc", { jar: alice })).body).toBe("2")
      expect((yield* request("GET", "/inc", { jar: bob })).body).toBe("1")
      expect((yield* request("GET", "/inc", { jar: alice })).body).toBe("3")
    }).pipe(Effect.provide(server())))

  it.effect("sets a HttpOnly, Secure, SameSite=Lax cookie on Path=/ with Max-Age = ttl", () =>
    Effect.gen(function*() {
      const reply = yield* request("GET", "/inc")
      expect(reply.status).toBe(200)
      const cookies = reply.setCookies.filter((c) => c.name === COOKIE)
      expect(cookies).toHaveLength(1)
      expect(cookies[0].value).toMatch(/^[A-Za-z0-9_-]{43,}$/)
      expect(cookies[0].attributes).toEqual({
        httponly: "",
        secure: "",
        samesite: "Lax",
        path: "/",
        "max-age": "7200"
      })
      expect(reply.headers["cache-control"]).toBe("no-store")
    }).pipe(Effect.provide(server())))

  it.effect("honours the options: cookie name, ttl, insecure", () =>
    Effect.gen(function*() {
      const reply = yield* request("GET", "/inc")
      const cookie = reply.setCookies.find((c) => c.name === "sid")!
      expect(cookie.attributes).toEqual({ httponly: "", samesite: "Lax", path: "/", "max-age": "600" })
    }).pipe(Effect.provide(server({ cookieName: "sid", ttl: "10 minutes", insecure: true }))))

  it.effect("endpoints that never touch the session cost no store I/O and set no cookie", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      recorder.reset()
      for (const path of ["/none", "/health"]) {
        const reply = yield* request("GET", path, { jar })
        expect(reply.status).toBe(200)
        expect(reply.setCookies).toEqual([])
      }
      expect(recorder.calls).toEqual([])
    }).pipe(Effect.provide(server())))

  it.effect("destroy expires the cookie and deletes the record; the old ID is not accepted", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      yield* request("GET", "/inc", { jar })
      const old = jar.cookies.get(COOKIE)!
      const reply = yield* request("POST", "/destroy", { jar })
      expect(reply.body).toBe("\"destroyed\"")
      const cookie = reply.setCookies.find((c) => c.name === COOKIE)!
      expect(cookie.value).toBe("")
      expect(cookie.attributes["max-age"]).toBe("0")
      expect(jar.cookies.has(COOKIE)).toBe(false)
      expect(yield* recorder.inner.size).toBe(0)
      expect((yield* request("GET", "/inc", { cookie: `${COOKIE}=${old}` })).body).toBe("1")
    }).pipe(Effect.provide(server())))

  it.effect("a store failure on save is a 503 SessionUnavailable with no cookie, never a 200", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      recorder.failing.add("write")
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(JSON.parse(failed.body)).toEqual({ _tag: "SessionUnavailable" })
      expect(failed.headers["cache-control"]).toBe("no-store")
      expect(failed.setCookies).toEqual([])
      const id = jar.cookies.get(COOKIE)!
      expect(logs.lines).toContainEqual({
        level: "ERROR",
        message: "effect-session: session store failed during save injected patch failure"
      })
      expect(logs.lines.some((line) => line.message.includes(id))).toBe(false)
      recorder.failing.delete("write")
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
    }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
  })

  it.effect("a store failure on load is the declared 503 SessionUnavailable, and nothing is written", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      recorder.failing.add("read")
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(JSON.parse(failed.body)).toEqual({ _tag: "SessionUnavailable" })
      expect(failed.setCookies).toEqual([])
      // as every session failure response, on both lines: no cache keeps it, and it is worth a retry
      expect(failed.headers["cache-control"]).toBe("no-store")
      expect(failed.headers["retry-after"]).toBe("1")
      expect(recorder.writes()).toHaveLength(1)
      expect(logs.lines).toContainEqual({
        level: "ERROR",
        message: "effect-session: session store failed in a handler injected read failure"
      })
      expect(logs.lines.some((line) => line.message.includes(jar.cookies.get(COOKIE)!))).toBe(false)
    }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
  })

  it.effect("a declared 4xx error response saves the session; a 500 (a defect) does not", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      expect((yield* request("POST", "/reject", { jar })).status).toBe(403)
      expect((yield* request("GET", "/inc", { jar })).body).toBe("3")
      const crashed = yield* request("POST", "/crash", { jar })
      expect(crashed.status).toBe(500)
      // not a session failure: no failure headers
      expect(crashed.headers["retry-after"]).toBeUndefined()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("4")
    }).pipe(Effect.provide(server())))

  it.live("with lock on, a request that cannot get the session's lock in time is a 423 SessionLocked", () =>
    Effect.gen(function*() {
      const gate = yield* Gate
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const holder = yield* Effect.fork(request("GET", "/hold", { jar }))
      yield* Deferred.await(gate.entered)
      const blocked = yield* request("GET", "/inc", { jar })
      expect(blocked.status).toBe(423)
      expect(JSON.parse(blocked.body)).toEqual({ _tag: "SessionLocked" })
      expect(blocked.headers["cache-control"]).toBe("no-store")
      expect(blocked.headers["retry-after"]).toBe("1")
      yield* Deferred.succeed(gate.release, undefined)
      expect((yield* Fiber.join(holder)).body).toBe("2")
      // the lock was released with the response
      expect((yield* request("GET", "/inc", { jar })).body).toBe("3")
    }).pipe(Effect.provide(server({ lock: { wait: "50 millis" } }))))

  it.effect("onError decides the save failure's response, with services from where the layer is built", () => {
    class Brand extends Context.Tag("test/Brand")<Brand, string>() {}
    const session = SessionApi.layer({
      onError: (error, context) =>
        Effect.map(Brand, (brand) => {
          void error
          return HttpServerResponse.text(`${brand}: ${context.phase}`, { status: 502 })
        })
    }).pipe(Layer.provide(Layer.succeed(Brand, "acme")))
    return Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      recorder.failing.add("write")
      const reply = yield* request("GET", "/inc")
      expect(reply.status).toBe(502)
      expect(reply.body).toBe("acme: save")
    }).pipe(Effect.provide(serveWith(session)))
  })

  it.effect("invalid options fail the layer build with SessionConfigError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(server({ ttl: -1 }))))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(
        Effect.scoped(Layer.build(SessionApi.layer({ cookieName: "__Host-sid", path: "/app" }))).pipe(
          Effect.provide(Recording.layer())
        )
      )
      expect(error).toBeInstanceOf(SessionConfigError)
      expect(error.option).toBe("path")
    }))

  it("the OpenAPI document declares 503 and 423 on the endpoints behind the middleware only", () => {
    const spec = OpenApi.fromApi(Api)
    expect(Object.keys(spec.paths["/inc"].get!.responses)).toEqual(expect.arrayContaining(["200", "503", "423"]))
    expect(Object.keys(spec.paths["/health"].get!.responses)).not.toContain("503")
    expect(HttpApiSchema.getStatusError(SessionApi.SessionUnavailable)).toBe(503)
  })

  it.effect("examples/http-api.ts serves: 401, login (new ID), visits, logout", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("GET", "/me", { jar })).status).toBe(401)
      const login = yield* request("POST", "/login", { jar, body: "name=%20Ada%20" })
      expect(JSON.parse(login.body)).toEqual({ name: "Ada", visits: 0 })
      expect(jar.cookies.has(COOKIE)).toBe(true)
      expect(JSON.parse((yield* request("GET", "/me", { jar })).body)).toEqual({ name: "Ada", visits: 1 })
      expect((yield* request("POST", "/logout", { jar })).status).toBe(204)
      expect(jar.cookies.has(COOKIE)).toBe(false)
      expect((yield* request("GET", "/me", { jar })).status).toBe(401)
    }).pipe(
      Effect.provide(HttpApiBuilder.serve().pipe(Layer.provide(ApiLive), Layer.provideMerge(NodeHttpServer.layerTest)))
    ))

  it.effect("works the same when the API is mounted on HttpLayerRouter (addHttpApi)", () => {
    const routes = HttpLayerRouter.addHttpApi(Api).pipe(
      Layer.provide([CounterLive, PublicLive]),
      Layer.provide(SessionApi.layer())
    )
    return Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
      recorder.failing.add("write")
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toEqual([])
    }).pipe(
      Effect.provide(
        HttpLayerRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
          Layer.provideMerge(NodeHttpServer.layerTest),
          Layer.provideMerge(Recording.layer({ sweepInterval: "1 day" })),
          Layer.provideMerge(
            Layer.effect(Gate, Effect.all({ entered: Deferred.make<void>(), release: Deferred.make<void>() }))
          )
        )
      )
    )
  })
})

// -----------------------------------------------------------------------------
// Errors declared by another middleware of the endpoint, and a handler's own 5xx
// -----------------------------------------------------------------------------

class NotSignedIn
  extends Schema.TaggedError<NotSignedIn>()("NotSignedIn", {}, HttpApiSchema.annotations({ status: 401 }))
{}
class UpstreamDown extends Schema.TaggedError<UpstreamDown>()(
  "UpstreamDown",
  {},
  HttpApiSchema.annotations({ status: 502 })
) {}

// `HttpApi` encodes a handler's failure with the endpoint's errors and every middleware's together,
// so a handler may fail with the guard's errors too.
class Guard
  extends HttpApiMiddleware.Tag<Guard>()("test/Guard", { failure: Schema.Union(NotSignedIn, UpstreamDown) })
{}

class Guarded extends HttpApiGroup.make("guarded")
  .add(HttpApiEndpoint.post("intended", "/intended").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("upstream", "/upstream").addSuccess(Schema.String))
  .add(HttpApiEndpoint.post("maintenance", "/maintenance").addSuccess(Schema.String, { status: 503 }))
  .add(HttpApiEndpoint.get("read", "/read").addSuccess(Schema.String))
  .middleware(Guard)
  .middleware(SessionApi.SessionMiddleware)
{}

class GuardedApi extends HttpApi.make("guarded").add(Guarded) {}

const putting = (key: string) => Session.put(key, "/dashboard").pipe(SessionApi.mapStoreErrors, Effect.orDie)

const GuardedLive = HttpApiBuilder.group(GuardedApi, "guarded", (handlers) =>
  handlers
    .handle("intended", () => Effect.zipRight(putting("intended"), Effect.fail(new NotSignedIn())))
    .handle("upstream", () => Effect.zipRight(putting("upstream"), Effect.fail(new UpstreamDown())))
    .handle("maintenance", () => Effect.as(putting("maintenance"), "down for maintenance"))
    .handle("read", () =>
      Session.all.pipe(Effect.map((all) => JSON.stringify(all)), SessionApi.mapStoreErrors, Effect.orDie)))

const guardedServer = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.api(GuardedApi).pipe(Layer.provide(GuardedLive))),
  Layer.provide(Layer.succeed(Guard, Effect.void)),
  Layer.provide(SessionApi.layer()),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provideMerge(Recording.layer({ sweepInterval: "1 day" }))
)

describe("SessionApi: other middlewares' errors and a handler's 5xx", () => {
  it.effect("a 4xx error of another middleware saves the session; its 5xx and a 5xx success do not", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      const unauthorized = yield* request("POST", "/intended", { jar })
      expect(unauthorized.status).toBe(401)
      expect(unauthorized.setCookies.map((c) => c.name)).toEqual([COOKIE])
      const read = JSON.stringify({ intended: "/dashboard" })
      expect(JSON.parse((yield* request("GET", "/read", { jar })).body)).toBe(read)
      const upstream = yield* request("POST", "/upstream", { jar })
      expect(upstream.status).toBe(502)
      expect(upstream.setCookies).toEqual([])
      const maintenance = yield* request("POST", "/maintenance", { jar })
      expect(maintenance.status).toBe(503)
      expect(maintenance.setCookies).toEqual([])
      expect(JSON.parse((yield* request("GET", "/read", { jar })).body)).toBe(read)
      // a new session's 5xx writes nothing at all
      const recorder = yield* Recording.Recording
      const before = recorder.calls.length
      expect((yield* request("POST", "/maintenance")).setCookies).toEqual([])
      expect(recorder.calls.slice(before).filter((c) => c.op !== "read")).toEqual([])
    }).pipe(Effect.provide(guardedServer)))
})
