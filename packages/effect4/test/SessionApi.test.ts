/**
 * SessionApi over real HTTP with a cookie jar: an `HttpApi` whose group uses
 * `SessionApi.SessionMiddleware`, served by `HttpRouter.serve`, over a recording store.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option, Schema } from "effect"
import { Session, SessionApi, SessionTest } from "effect-session-v4"
import { HttpServerResponse } from "effect/http"
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { makeJar, serveWith } from "./utils/http.js"
import { driveUntil, makeLockWatch } from "./utils/lock.js"

class Refused extends Schema.TaggedError<Refused>()("Refused", {}, { httpApiStatus: 400 }) {}
class Broken extends Schema.TaggedError<Broken>()("Broken", {}, { httpApiStatus: 500 }) {}

class Counter extends HttpApiGroup.make("counter")
  .add(HttpApiEndpoint.post("increment", "/increment", { success: Schema.Number }))
  .add(HttpApiEndpoint.get("read", "/read", { success: Schema.NullOr(Schema.Number) }))
  .add(HttpApiEndpoint.get("none", "/none", { success: Schema.String }))
  .add(HttpApiEndpoint.post("refuse", "/refuse", { success: Schema.Number, error: Refused }))
  .add(HttpApiEndpoint.post("broken", "/broken", { success: Schema.Number, error: Broken }))
  .add(HttpApiEndpoint.post("defect", "/defect", { success: Schema.Number }))
  .add(HttpApiEndpoint.post("logout", "/logout", { success: Schema.Boolean }))
  .add(HttpApiEndpoint.post("maintenance", "/maintenance", { success: Schema.String }))
  .add(HttpApiEndpoint.post("unavailable", "/unavailable", { success: Schema.Number.pipe(HttpApiSchema.status(503)) }))
  .middleware(SessionApi.SessionMiddleware)
{}

class Api extends HttpApi.make("api").add(Counter) {}

const CounterLive = HttpApiBuilder.group(Api, "counter", (handlers) =>
  handlers
    .handle("increment", () => Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie))
    .handle("read", () =>
      Session.getOption("n").pipe(
        Effect.map((n) => Option.getOrNull(n) as number | null),
        SessionApi.mapStoreErrors
      ))
    .handle("none", () => Effect.succeed("no session needed"))
    .handle("refuse", () =>
      Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie, Effect.andThen(Effect.fail(new Refused()))))
    .handle("broken", () =>
      Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie, Effect.andThen(Effect.fail(new Broken()))))
    .handle("defect", () =>
      Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie, Effect.andThen(Effect.die("boom"))))
    .handle("logout", () =>
      Session.destroy.pipe(Effect.as(true), SessionApi.mapStoreErrors))
    // a handler's own 5xx: a response it builds, and a success declared with a 503
    .handle("maintenance", () =>
      Session.increment("n").pipe(
        SessionApi.mapStoreErrors,
        Effect.orDie,
        Effect.as(HttpServerResponse.text("down for maintenance", { status: 503 }))
      ))
    .handle("unavailable", () =>
      Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie)))

const app = (options: Parameters<typeof SessionApi.layer>[0]) =>
  HttpApiBuilder.layer(Api).pipe(
    Layer.provide(CounterLive),
    Layer.provide(SessionApi.layer(options))
  )

const App = app({ insecure: true })

const withServer = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(serveWith(App, SessionTest.layerRecording())))

const recorded = SessionTest.RecordingStore.use((store) => store.operations)

describe("SessionApi (HttpApi middleware, real HTTP)", () => {
  it.effect("handlers get a Session: created, then read back through the cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const first = yield* jar.post("/increment")
      expect([first.status, first.body]).toEqual([200, "1"])
      expect(first.setCookie).toMatch(/HttpOnly/i)
      expect(first.setCookie).toMatch(/Max-Age=7200/)
      expect(first.headers["cache-control"]).toBe("no-store")
      expect((yield* jar.post("/increment")).body).toBe("2")
      expect((yield* jar.get("/read")).body).toBe("2")
    })))

  it.effect("an endpoint that never touches its session costs no store I/O and sets no cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const reply = yield* jar.get("/none")
      expect(reply.status).toBe(200)
      expect(reply.setCookie).toBeUndefined()
      expect(yield* recorded).toEqual([])
    })))

  it.effect("a store failure on load is the declared 503 SessionUnavailable, never a 200", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/increment")
      yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "read" }))
      const reply = yield* jar.get("/read")
      expect(reply.status).toBe(503)
      expect(JSON.parse(reply.body)).toEqual({ _tag: "SessionUnavailable" })
    })))

  it.effect("a store failure on save is a 503 and no cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "write" }))
      const reply = yield* jar.post("/increment")
      expect(reply.status).toBe(503)
      expect(JSON.parse(reply.body)).toEqual({ _tag: "SessionUnavailable" })
      expect(reply.setCookie).toBeUndefined()
      // also when the save is for a declared 4xx error: never the 400 with its changes lost
      const refused = yield* jar.post("/refuse")
      expect(refused.status).toBe(503)
      expect(refused.setCookie).toBeUndefined()
    })))

  it.effect("a declared error below 500 still saves the session, and its response carries the cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const refused = yield* jar.post("/refuse")
      expect(refused.status).toBe(400)
      expect(JSON.parse(refused.body)).toEqual({ _tag: "Refused" })
      expect(refused.setCookie).toMatch(/^lagodev_session=[A-Za-z0-9_-]{43};/)
      expect((yield* jar.get("/read")).body).toBe("1")
      expect((yield* jar.post("/refuse")).status).toBe(400)
      expect((yield* jar.get("/read")).body).toBe("2")
    })))

  it.effect("a 5xx (a declared 500 error, a defect) keeps the stored session as it was", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/increment")
      const broken = yield* jar.post("/broken")
      expect(broken.status).toBe(500)
      expect(broken.setCookie).toBeUndefined()
      const defect = yield* jar.post("/defect")
      expect(defect.status).toBe(500)
      expect(defect.setCookie).toBeUndefined()
      expect((yield* jar.get("/read")).body).toBe("1")
    })))

  it.live("a handler's 5xx response (built or declared) keeps the stored session as it was, and releases the lock", () =>
    Effect.gen(function*() {
      const operations = SessionTest.RecordingStore.use((store) => store.operations)
      const count = (...tags: ReadonlyArray<string>) =>
        Effect.map(operations, (ops) => ops.filter((op) => tags.includes(op)).length)
      const writes = count("write", "patch", "rotate", "destroy")
      // a new session: nothing written, no cookie
      for (const path of ["/maintenance", "/unavailable"]) {
        const fresh = yield* makeJar().post(path)
        expect(fresh.status).toBe(503)
        expect(fresh.setCookie).toBeUndefined()
      }
      expect(yield* writes).toBe(0)
      // a stored session: left as it was
      const jar = makeJar()
      yield* jar.post("/increment")
      const before = yield* writes
      for (const path of ["/maintenance", "/unavailable"]) {
        const reply = yield* jar.post(path)
        expect(reply.status).toBe(503)
        expect(reply.setCookie).toBeUndefined()
        expect(reply.headers["cache-control"]).toBeUndefined()
      }
      expect(yield* writes).toBe(before)
      // each 503 released the lock it took: the next request gets it at once
      expect(yield* count("lock")).toBe(2)
      expect(yield* count("unlock")).toBe(2)
      expect((yield* jar.post("/increment")).body).toBe("2")
    }).pipe(
      Effect.provide(serveWith(app({ insecure: true, lock: { wait: "100 millis" } }), SessionTest.layerRecording()))
    ))

  it.effect("destroy expires the cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/increment")
      const reply = yield* jar.post("/logout")
      expect(reply.setCookie).toMatch(/Max-Age=0/)
      expect((yield* jar.get("/read")).body).toBe("null")
    })))

  it.effect("with the lock option, a request on a busy session is the declared 423 SessionLocked", () =>
    Effect.gen(function*() {
      const watch = yield* makeLockWatch
      const loaded = yield* Deferred.make<void>()
      const go = yield* Deferred.make<void>()
      class Busy extends HttpApiGroup.make("busy")
        .add(HttpApiEndpoint.post("increment", "/increment", { success: Schema.Number }))
        .add(HttpApiEndpoint.get("hold", "/hold", { success: Schema.Boolean }))
        .middleware(SessionApi.SessionMiddleware)
      {}
      class BusyApi extends HttpApi.make("busy").add(Busy) {}
      const BusyLive = HttpApiBuilder.group(BusyApi, "busy", (handlers) =>
        handlers
          .handle("increment", () => Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie))
          .handle("hold", () =>
            Effect.andThen(Deferred.succeed(loaded, undefined), Deferred.await(go)).pipe(Effect.as(true))))
      const BusyApp = HttpApiBuilder.layer(BusyApi).pipe(
        Layer.provide(BusyLive),
        Layer.provide(SessionApi.layer({ insecure: true, ttl: "30 days", lock: { wait: "1 second", ttl: "30 days" } }))
      )
      yield* Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.post("/increment")
        const holder = yield* Effect.forkChild(jar.get("/hold"))
        yield* Deferred.await(loaded)
        const waiter = yield* Effect.forkChild(jar.post("/increment"))
        // once it waits (on TestClock), move the clock until it gives up: no real sleeps
        yield* Deferred.await(watch.second)
        yield* driveUntil(() => waiter.pollUnsafe() !== undefined)
        const busy = yield* Fiber.join(waiter)
        expect(busy.status).toBe(423)
        expect(JSON.parse(busy.body)).toEqual({ _tag: "SessionLocked" })
        yield* Deferred.succeed(go, undefined)
        expect((yield* Fiber.join(holder)).status).toBe(200)
        expect((yield* jar.post("/increment")).body).toBe("2")
      }).pipe(Effect.provide(serveWith(BusyApp, watch.layer)))
    }))

  it.effect("invalid options fail the layer with SessionConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(SessionApi.layer({ ttl: -1 }).pipe(Layer.provide(SessionTest.layerRecording())))
      )
      expect(error._tag).toBe("SessionConfigError")
    }).pipe(Effect.scoped))
})
