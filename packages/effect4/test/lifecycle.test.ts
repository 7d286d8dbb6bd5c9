/**
 * The session lifecycle as a browser sees it, over real HTTP with a cookie jar and `TestClock`:
 * lifecycle operations win over slower requests (memory store and Redis), regenerate grace,
 * absolute timeout, per-session lifetimes, locking, HEAD, corrupt records, the global middleware.
 */
import { NodeRedis } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option } from "effect"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { makeJar, serveWith } from "./utils/http.js"
import { driveUntil, makeLockWatch } from "./utils/lock.js"
import { describeWith, SERVICES } from "./utils/services.js"

const json = (value: unknown) => HttpServerResponse.jsonUnsafe(value)
const body = (reply: { readonly body: string }): unknown => JSON.parse(reply.body)

/** A slow request: it loads its session, says so, waits for `go`, then writes. */
interface Gates {
  readonly loaded: Deferred.Deferred<void>
  readonly go: Deferred.Deferred<void>
}

const makeGates = Effect.all({ loaded: Deferred.make<void>(), go: Deferred.make<void>() })

const routes = (gates: Gates, options: Session.Options = {}, mode: "route" | "global" = "route") => {
  const all = Layer.mergeAll(
    HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), (views) => json({ views }))),
    HttpRouter.add(
      "GET",
      "/read",
      Effect.map(Session.getOption("views"), (v) => json({ views: Option.getOrNull(v) }))
    ),
    HttpRouter.add("GET", "/all", Effect.map(Session.all, json)),
    HttpRouter.add(
      "POST",
      "/login",
      Effect.gen(function*() {
        yield* Session.regenerate
        yield* Session.put("user", "ada")
        return json({ ok: true })
      })
    ),
    HttpRouter.add("POST", "/logout", Effect.as(Session.destroy, json({ ok: true }))),
    HttpRouter.add("POST", "/invalidate", Effect.as(Session.invalidate, json({ ok: true }))),
    HttpRouter.add(
      "POST",
      "/remember",
      Effect.as(Session.setLifetime({ ttl: "30 days", absoluteTimeout: "90 days" }), json({ ok: true }))
    ),
    HttpRouter.add(
      "GET",
      "/slow",
      Effect.gen(function*() {
        yield* Session.getOption("views")
        yield* Deferred.succeed(gates.loaded, undefined)
        yield* Deferred.await(gates.go)
        yield* Session.put("slow", "written by a request that loaded too early")
        yield* Session.increment("views")
        return json({ ok: true })
      })
    ),
    HttpRouter.add(
      "GET",
      "/slow-read",
      Effect.gen(function*() {
        const user = yield* Session.getString("user")
        yield* Deferred.succeed(gates.loaded, undefined)
        yield* Deferred.await(gates.go)
        return json({ user })
      })
    ),
    HttpRouter.add(
      "GET",
      "/slow-regenerate",
      Effect.gen(function*() {
        yield* Session.getString("user")
        yield* Deferred.succeed(gates.loaded, undefined)
        yield* Deferred.await(gates.go)
        yield* Session.regenerate
        yield* Session.put("elevated", true)
        return json({ ok: true })
      })
    ),
    HttpRouter.add(
      "GET",
      "/slow-destroy",
      Effect.gen(function*() {
        yield* Session.getString("user")
        yield* Deferred.succeed(gates.loaded, undefined)
        yield* Deferred.await(gates.go)
        yield* Session.destroy
        return json({ ok: true })
      })
    ),
    HttpRouter.add(
      "GET",
      "/hold",
      Effect.gen(function*() {
        yield* Session.getOption("views")
        yield* Deferred.succeed(gates.loaded, undefined)
        yield* Deferred.await(gates.go)
        return json({ held: true })
      })
    )
  )
  const middleware = { insecure: true, ...options }
  return mode === "global"
    ? all.pipe(Layer.provide(Session.middleware(middleware, { global: true })))
    : all.pipe(Layer.provide(Session.middleware(middleware).layer))
}

/** The record stored under a session ID, read straight from the store. */
const stored = (id: string | undefined) =>
  id === undefined ? Effect.succeedNone : SessionStore.use((store) => store.read(Session.storageKey(id)))

/** The races of the core's rules, for a store layer. */
const races = (name: string, store: () => Layer.Layer<SessionStore, unknown>) =>
  describe(`${name}: lifecycle operations win over slower requests`, () => {
    it.effect("destroy while a slow request is in flight: the slow one neither sets nor clears the cookie, nor resurrects the record", () =>
      Effect.gen(function*() {
        const gates = yield* makeGates
        yield* Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.get("/count")
          const old = jar.value
          const slowJar = makeJar()
          slowJar.set(old)
          const slow = yield* Effect.forkChild(slowJar.get("/slow"))
          yield* Deferred.await(gates.loaded)
          const logout = yield* jar.post("/logout")
          expect(logout.setCookie).toMatch(/Max-Age=0/)
          yield* Deferred.succeed(gates.go, undefined)
          const late = yield* Fiber.join(slow)
          expect(late.status).toBe(200)
          expect(late.setCookie).toBeUndefined()
          expect(Option.isNone(yield* stored(old))).toBe(true)
          const again = makeJar()
          again.set(old)
          expect(body(yield* again.get("/read"))).toEqual({ views: null })
        }).pipe(Effect.provide(serveWith(routes(gates), store())))
      }))

    it.effect("regenerate while a slow request is in flight: the old data never lands under the new ID, the old ID stays dead", () =>
      Effect.gen(function*() {
        const gates = yield* makeGates
        yield* Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.get("/count")
          const old = jar.value
          const slowJar = makeJar()
          slowJar.set(old)
          const slow = yield* Effect.forkChild(slowJar.get("/slow"))
          yield* Deferred.await(gates.loaded)
          yield* jar.post("/login")
          const fresh = jar.value
          expect(fresh).not.toBe(old)
          yield* Deferred.succeed(gates.go, undefined)
          const late = yield* Fiber.join(slow)
          expect(late.status).toBe(200)
          expect(late.setCookie).toBeUndefined()
          expect(body(yield* jar.get("/all"))).toEqual({ views: 1, user: "ada" })
          expect(Option.isNone(yield* stored(old))).toBe(true)
          const again = makeJar()
          again.set(old)
          expect(body(yield* again.get("/read"))).toEqual({ views: null })
        }).pipe(Effect.provide(serveWith(routes(gates), store())))
      }))

    it.effect("a read-only slow request whose renewal is due sends no cookie after a login replaced its session", () =>
      Effect.gen(function*() {
        const gates = yield* makeGates
        yield* Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.get("/count")
          const slowJar = makeJar()
          slowJar.set(jar.value)
          const slow = yield* Effect.forkChild(slowJar.get("/slow-read"))
          yield* Deferred.await(gates.loaded)
          yield* jar.post("/login")
          yield* TestClock.adjust("1 second")
          yield* Deferred.succeed(gates.go, undefined)
          const late = yield* Fiber.join(slow)
          expect(late.status).toBe(200)
          expect(late.setCookie).toBeUndefined()
          expect(body(yield* jar.get("/all"))).toEqual({ views: 1, user: "ada" })
        }).pipe(Effect.provide(serveWith(routes(gates, { touchAfter: 0 }), store())))
      }))

    it.effect("a slow destroy after another request regenerated the session never deletes the newer cookie", () =>
      Effect.gen(function*() {
        const gates = yield* makeGates
        yield* Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.get("/count")
          const slowJar = makeJar()
          slowJar.set(jar.value)
          const slow = yield* Effect.forkChild(slowJar.get("/slow-destroy"))
          yield* Deferred.await(gates.loaded)
          yield* jar.post("/login")
          yield* Deferred.succeed(gates.go, undefined)
          const late = yield* Fiber.join(slow)
          expect(late.status).toBe(200)
          expect(late.setCookie).toBeUndefined()
          expect(body(yield* jar.get("/all"))).toEqual({ views: 1, user: "ada" })
        }).pipe(Effect.provide(serveWith(routes(gates), store())))
      }))

    for (const grace of [undefined, "1 minute"] as const) {
      it.effect(`logout wins over a regenerate in flight${grace ? ` (regenerateGrace ${grace})` : ""}: no new ID, the old one stays dead`, () =>
        Effect.gen(function*() {
          const gates = yield* makeGates
          yield* Effect.gen(function*() {
            const jar = makeJar()
            yield* jar.post("/login")
            const old = jar.value
            // a stolen copy of the cookie, and a slow request about to regenerate
            const slowJar = makeJar()
            slowJar.set(old)
            const slow = yield* Effect.forkChild(slowJar.get("/slow-regenerate"))
            yield* Deferred.await(gates.loaded)
            const logout = yield* jar.post("/logout")
            expect(logout.setCookie).toMatch(/Max-Age=0/)
            yield* Deferred.succeed(gates.go, undefined)
            const late = yield* Fiber.join(slow)
            expect(late.status).toBe(200)
            expect(late.setCookie).toBeUndefined()
            const again = makeJar()
            again.set(old)
            expect(body(yield* again.get("/all"))).toEqual({})
            expect(Option.isNone(yield* stored(old))).toBe(true)
          }).pipe(Effect.provide(serveWith(routes(gates, grace ? { regenerateGrace: grace } : {}), store())))
        }))
    }

    it.effect("regenerateGrace: the old ID reads during the grace, is dead after it, and no request extends it", () =>
      Effect.gen(function*() {
        const gates = yield* makeGates
        yield* Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.get("/count")
          const old = jar.value
          const slowJar = makeJar()
          slowJar.set(old)
          const slow = yield* Effect.forkChild(slowJar.get("/slow"))
          yield* Deferred.await(gates.loaded)
          yield* jar.post("/login")
          const oldJar = makeJar()
          oldJar.set(old)
          // in-flight requests with the old cookie still see the session, read-only
          expect(body(yield* oldJar.get("/read"))).toEqual({ views: 1 })
          yield* TestClock.adjust("3 seconds")
          // a write with the old ID changes nothing and sets no cookie
          const write = yield* oldJar.get("/count")
          expect(write.setCookie).toBeUndefined()
          yield* Deferred.succeed(gates.go, undefined)
          const late = yield* Fiber.join(slow)
          expect(late.setCookie).toBeUndefined()
          expect(body(yield* oldJar.get("/read"))).toEqual({ views: 1 })
          expect(body(yield* jar.get("/all"))).toEqual({ views: 1, user: "ada" })
          // the grace ends when it was set to, whatever happened during it
          yield* TestClock.adjust("2 seconds")
          expect(body(yield* oldJar.get("/read"))).toEqual({ views: null })
          expect(Option.isNone(yield* stored(old))).toBe(true)
          expect(body(yield* jar.get("/all"))).toEqual({ views: 1, user: "ada" })
        }).pipe(Effect.provide(serveWith(routes(gates, { regenerateGrace: "5 seconds" }), store())))
      }))
  })

races("memory store", () => MemoryStore.layer())

const redisPrefix = `e4life:${randomBytes(6).toString("base64url")}:`
await describeWith("redis", "Redis store races", () => {
  races(
    "Redis store",
    () => RedisStore.layerWith(NodeRedis.layer({ url: SERVICES.redis.url }), { prefix: redisPrefix })
  )
})

const memory = () => MemoryStore.layer()

/** Serves the standard routes with `options` over a fresh memory store. */
const withApp = <A, E, R>(
  options: Session.Options,
  f: (gates: Gates) => Effect.Effect<A, E, R>,
  mode: "route" | "global" = "route"
) =>
  Effect.flatMap(makeGates, (gates) => f(gates).pipe(Effect.provide(serveWith(routes(gates, options, mode), memory()))))

describe("lifetimes (TestClock, no sleeps)", () => {
  it.effect("absolute timeout: the session ends that long after creation, however active", () =>
    withApp({ ttl: "2 hours", absoluteTimeout: "1 hour" }, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/count")
        const first = jar.value
        yield* TestClock.adjust("40 minutes")
        expect(body(yield* jar.get("/count"))).toEqual({ views: 2 })
        yield* TestClock.adjust("20 minutes")
        const after = yield* jar.get("/count")
        expect(body(after)).toEqual({ views: 1 })
        expect(jar.value).not.toBe(first)
      })))

  it.effect("setLifetime (remember me): the cookie gets the session's own Max-Age and the session outlives the default TTL", () =>
    withApp({ ttl: "2 hours" }, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/count")
        const remember = yield* jar.post("/remember")
        expect(remember.setCookie).toMatch(/Max-Age=2592000/)
        yield* TestClock.adjust("5 hours")
        expect(body(yield* jar.get("/count"))).toEqual({ views: 2 })
        yield* TestClock.adjust("20 days")
        expect(body(yield* jar.get("/count"))).toEqual({ views: 3 })
      })))

  it.effect("invalidate resets the per-session lifetimes: back to the middleware's TTL", () =>
    withApp({ ttl: "2 hours" }, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/count")
        yield* jar.post("/remember")
        const remembered = jar.value
        const logout = yield* jar.post("/invalidate")
        expect(jar.value).not.toBe(remembered)
        expect(logout.setCookie).toMatch(/Max-Age=7200/)
        expect(body(yield* jar.get("/count"))).toEqual({ views: 1 })
        yield* TestClock.adjust("3 hours")
        expect(body(yield* jar.get("/read"))).toEqual({ views: null })
      })))
})

describe("requests that must not create or break a session", () => {
  it.effect("HEAD never creates a session", () =>
    withApp({}, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        const head = yield* jar.send("HEAD", "/count")
        expect(head.status).toBe(200)
        expect(head.setCookie).toBeUndefined()
        expect(jar.value).toBeUndefined()
      })))

  it.effect("the lock: a request on a busy session gets 423 once its wait is over, and the session works after", () =>
    Effect.gen(function*() {
      const gates = yield* makeGates
      const watch = yield* makeLockWatch
      yield* Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/count")
        const holder = yield* Effect.forkChild(jar.get("/hold"))
        yield* Deferred.await(gates.loaded)
        const waiter = yield* Effect.forkChild(jar.get("/count"))
        // once it waits (on TestClock), move the clock until it gives up: no real sleeps
        yield* Deferred.await(watch.second)
        yield* driveUntil(() => waiter.pollUnsafe() !== undefined)
        const busy = yield* Fiber.join(waiter)
        expect(busy.status).toBe(423)
        expect(busy.headers["retry-after"]).toBe("1")
        yield* Deferred.succeed(gates.go, undefined)
        expect((yield* Fiber.join(holder)).status).toBe(200)
        expect(body(yield* jar.get("/count"))).toEqual({ views: 2 })
      }).pipe(
        Effect.provide(
          serveWith(routes(gates, { ttl: "30 days", lock: { wait: "2 seconds", ttl: "30 days" } }), watch.layer)
        )
      )
    }))
})
