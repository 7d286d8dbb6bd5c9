/**
 * The `SessionApi` middleware's failure responses, as the effect 3 package's and as
 * `Session.middleware`'s on both lines: the declared error's status and JSON body, plus
 * `Cache-Control: no-store` and `Retry-After: 1`, whether the middleware met the failure (a failed
 * save, a lock timeout) or the handler did (`mapStoreErrors`, with or without `Effect.orDie`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Schema } from "effect"
import { Session, SessionApi, SessionTest } from "effect-session-v4"
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "effect/http-api"
import { makeJar, serveWith } from "./utils/http.js"
import { driveUntil, makeLockWatch } from "./utils/lock.js"

class Counter extends HttpApiGroup.make("counter")
  .add(HttpApiEndpoint.get("inc", "/inc", { success: Schema.Number }))
  .add(HttpApiEndpoint.get("hold", "/hold", { success: Schema.Boolean }))
  .middleware(SessionApi.SessionMiddleware)
{}
class Api extends HttpApi.make("api").add(Counter) {}

const app = (loaded: Deferred.Deferred<void>, go: Deferred.Deferred<void>) =>
  HttpApiBuilder.layer(Api).pipe(
    Layer.provide(HttpApiBuilder.group(Api, "counter", (handlers) =>
      handlers
        .handle(
          "inc",
          () => Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.catchTag("SessionValueError", Effect.die))
        )
        .handle(
          "hold",
          () => Effect.andThen(Deferred.succeed(loaded, undefined), Deferred.await(go)).pipe(Effect.as(true))
        ))),
    Layer.provide(SessionApi.layer({ insecure: true, lock: { wait: "1 second", ttl: "30 days" } }))
  )

describe("SessionApi failure responses (as effect 3's: test/SessionApi.test.ts)", () => {
  it.effect("a failed save is a 503 with Cache-Control: no-store and Retry-After: 1", () =>
    Effect.gen(function*() {
      const loaded = yield* Deferred.make<void>()
      const go = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = makeJar()
        yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "write" }))
        const reply = yield* jar.get("/inc")
        expect(reply.status).toBe(503)
        expect(JSON.parse(reply.body)).toEqual({ _tag: "SessionUnavailable" })
        expect(reply.setCookie).toBeUndefined()
        expect(reply.headers["cache-control"]).toBe("no-store")
        expect(reply.headers["retry-after"]).toBe("1")
      }).pipe(Effect.provide(serveWith(app(loaded, go), SessionTest.layerRecording())))
    }))

  it.effect("a load failure the handler meets (mapStoreErrors) is a 503 with Cache-Control: no-store and Retry-After: 1", () =>
    Effect.gen(function*() {
      const loaded = yield* Deferred.make<void>()
      const go = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = makeJar()
        expect((yield* jar.get("/inc")).body).toBe("1")
        yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "read" }))
        const reply = yield* jar.get("/inc")
        expect(reply.status).toBe(503)
        expect(JSON.parse(reply.body)).toEqual({ _tag: "SessionUnavailable" })
        expect(reply.setCookie).toBeUndefined()
        expect(reply.headers["cache-control"]).toBe("no-store")
        expect(reply.headers["retry-after"]).toBe("1")
        // nothing was lost: once the store answers again the count goes on
        yield* SessionTest.RecordingStore.use((s) => s.recover)
        expect((yield* jar.get("/inc")).body).toBe("2")
      }).pipe(Effect.provide(serveWith(app(loaded, go), SessionTest.layerRecording())))
    }))

  it.effect("a lock timeout is a 423 with Cache-Control: no-store and Retry-After: 1", () =>
    Effect.gen(function*() {
      const watch = yield* makeLockWatch
      const loaded = yield* Deferred.make<void>()
      const go = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/inc")
        const holder = yield* Effect.forkChild(jar.get("/hold"))
        yield* Deferred.await(loaded)
        const waiter = yield* Effect.forkChild(jar.get("/inc"))
        yield* Deferred.await(watch.second)
        yield* driveUntil(() => waiter.pollUnsafe() !== undefined)
        const busy = yield* Fiber.join(waiter)
        yield* Deferred.succeed(go, undefined)
        yield* Fiber.join(holder)
        expect(busy.status).toBe(423)
        expect(JSON.parse(busy.body)).toEqual({ _tag: "SessionLocked" })
        expect(busy.headers["cache-control"]).toBe("no-store")
        expect(busy.headers["retry-after"]).toBe("1")
      }).pipe(Effect.provide(serveWith(app(loaded, go), watch.layer)))
    }))
})

class Counter2 extends HttpApiGroup.make("counter")
  .add(HttpApiEndpoint.post("increment", "/increment", { success: Schema.Number }))
  .middleware(SessionApi.SessionMiddleware)
{}
class Api2 extends HttpApi.make("api2").add(Counter2) {}

const OrDieApp = HttpApiBuilder.layer(Api2).pipe(
  // exactly the documented handler
  Layer.provide(
    HttpApiBuilder.group(
      Api2,
      "counter",
      (handlers) =>
        handlers.handle("increment", () => Session.increment("n").pipe(SessionApi.mapStoreErrors, Effect.orDie))
    )
  ),
  Layer.provide(SessionApi.layer({ insecure: true }))
)

describe("SessionApi with the documented mapStoreErrors + orDie handler", () => {
  it.effect("a store failure on load is the declared 503 SessionUnavailable, not a 500", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.post("/increment")).body).toBe("1")
      yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "read" }))
      const reply = yield* jar.post("/increment")
      expect(reply.setCookie).toBeUndefined()
      expect(reply.status).toBe(503)
      expect(JSON.parse(reply.body)).toEqual({ _tag: "SessionUnavailable" })
      expect(reply.headers["cache-control"]).toBe("no-store")
      expect(reply.headers["retry-after"]).toBe("1")
    }).pipe(Effect.provide(serveWith(OrDieApp, SessionTest.layerRecording()))))
})
