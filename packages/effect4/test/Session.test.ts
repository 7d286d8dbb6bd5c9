import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import { Session, SessionKey, SessionTest } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { makeJar, serve } from "./utils/http.js"

const json = (value: unknown) => HttpServerResponse.jsonUnsafe(value)

const Count = SessionKey.make("count", Schema.Number)

const Routes = Layer.mergeAll(
  HttpRouter.add("GET", "/none", HttpServerResponse.text("ok")),
  HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), (views) => json({ views }))),
  HttpRouter.add("GET", "/read", Effect.map(Session.getOption("views"), (v) => json({ views: Option.getOrNull(v) }))),
  HttpRouter.add(
    "GET",
    "/typed",
    Effect.gen(function*() {
      const n = yield* Session.getOption(Count)
      yield* Session.put(Count, Option.getOrElse(n, () => 0) + 1)
      return json({ count: yield* Session.get(Count) })
    })
  ),
  HttpRouter.add(
    "POST",
    "/login",
    Effect.gen(function*() {
      yield* Session.regenerate
      yield* Session.put("user", "ada")
      return json({ ok: true })
    })
  ),
  HttpRouter.add("GET", "/me", Effect.map(Session.getString("user"), (user) => json({ user }))),
  HttpRouter.add("POST", "/logout", Effect.as(Session.destroy, json({ ok: true }))),
  HttpRouter.add("POST", "/flash", Effect.as(Session.flash("status", "saved"), json({ ok: true }))),
  HttpRouter.add(
    "GET",
    "/flash",
    Effect.map(Session.getOption("status"), (s) => json({ status: Option.getOrNull(s) }))
  ),
  HttpRouter.add(
    "GET",
    "/missing",
    Effect.map(Effect.result(Session.get("nope")), (r) => json({ tag: r._tag === "Failure" ? r.failure._tag : "ok" }))
  ),
  HttpRouter.add("GET", "/boom", Effect.andThen(Session.put("x", 1), Effect.fail("boom" as const)))
).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

const withServer = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(serve(Routes)))

const recorded = SessionTest.RecordingStore.use((store) => store.operations)

describe("Session middleware (HttpRouter, real HTTP)", () => {
  it.effect("a request that never touches its session costs no store I/O and sets no cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const reply = yield* jar.get("/none")
      expect(reply.status).toBe(200)
      expect(reply.setCookie).toBeUndefined()
      expect(yield* recorded).toEqual([])
    })))

  it.effect("a session is created, then read back through the cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const first = yield* jar.get("/count")
      expect(JSON.parse(first.body)).toEqual({ views: 1 })
      expect(first.setCookie).toMatch(/HttpOnly/i)
      expect(first.setCookie).toMatch(/SameSite=Lax/i)
      expect(first.setCookie).toMatch(/Path=\//)
      expect(first.setCookie).toMatch(/Max-Age=7200/)
      expect(first.headers["cache-control"]).toBe("no-store")
      const second = yield* jar.get("/count")
      expect(JSON.parse(second.body)).toEqual({ views: 2 })
      // unchanged expiry, a patch: no new cookie
      expect(second.setCookie).toBeUndefined()
      expect(yield* recorded).toEqual(["write", "read", "patch"])
    })))

  it.effect("a read-only request on an existing session writes nothing", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/count")
      const store = yield* SessionTest.RecordingStore
      yield* store.clear
      const reply = yield* jar.get("/read")
      expect(JSON.parse(reply.body)).toEqual({ views: 1 })
      expect(yield* recorded).toEqual(["read"])
    })))

  it.effect("Schema-typed keys and SessionKeyMissing", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      expect(JSON.parse((yield* jar.get("/typed")).body)).toEqual({ count: 1 })
      expect(JSON.parse((yield* jar.get("/typed")).body)).toEqual({ count: 2 })
      expect(JSON.parse((yield* jar.get("/missing")).body)).toEqual({ tag: "SessionKeyMissing" })
    })))

  it.effect("an unknown or malformed ID is never adopted", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      jar.set("A".repeat(43))
      const reply = yield* jar.get("/count")
      expect(JSON.parse(reply.body)).toEqual({ views: 1 })
      expect(jar.value).not.toBe("A".repeat(43))
      jar.set("not-an-id")
      yield* SessionTest.RecordingStore.use((s) => s.clear)
      yield* jar.get("/count")
      expect(yield* recorded).toEqual(["write"]) // the malformed value never reached the store
    })))

  it.effect("regenerate: a new ID, the old record gone, data kept", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/count")
      const before = jar.value
      const login = yield* jar.post("/login")
      expect(login.status).toBe(200)
      expect(jar.value).toBeDefined()
      expect(jar.value).not.toBe(before)
      expect(JSON.parse((yield* jar.get("/me")).body)).toEqual({ user: "ada" })
      expect(JSON.parse((yield* jar.get("/read")).body)).toEqual({ views: 1 })
      const old = makeJar()
      old.set(before)
      expect(JSON.parse((yield* old.get("/me")).body)).toEqual({ user: "" })
    })))

  it.effect("destroy deletes the record and expires the cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/login")
      const id = jar.value
      const reply = yield* jar.post("/logout")
      expect(reply.setCookie).toMatch(/Max-Age=0/)
      expect(reply.setCookie).toMatch(/^lagodev_session=;/)
      const store = yield* SessionTest.RecordingStore
      expect(yield* store.underlying.read(SessionTest.storageKey(id!))).toEqual(Option.none())
      const old = makeJar()
      old.set(id)
      expect(JSON.parse((yield* old.get("/me")).body)).toEqual({ user: "" })
    })))

  it.effect("flash data lives for exactly one more request", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/flash")
      expect(JSON.parse((yield* jar.get("/flash")).body)).toEqual({ status: "saved" })
      expect(JSON.parse((yield* jar.get("/flash")).body)).toEqual({ status: null })
    })))

  it.effect("a store failure on load is a 503, never a 200", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/count")
      yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "read" }))
      const reply = yield* jar.get("/count")
      expect(reply.status).toBe(503)
      expect(reply.headers["retry-after"]).toBe("1")
    })))

  it.effect("a store failure on save is a 503 and no cookie", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* SessionTest.RecordingStore.use((s) => s.fail({ on: "write" }))
      const reply = yield* jar.get("/count")
      expect(reply.status).toBe(503)
      expect(reply.setCookie).toBeUndefined()
    })))

  it.effect("a handler that fails saves nothing", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const reply = yield* jar.get("/boom")
      expect(reply.status).toBe(500)
      expect(reply.setCookie).toBeUndefined()
      expect(yield* recorded).toEqual([])
    })))

  it.effect("expiry follows the Clock: idle TTL (TestClock, no sleeps)", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/count")
      yield* TestClock.adjust("1 hour")
      expect(JSON.parse((yield* jar.get("/count")).body)).toEqual({ views: 2 })
      yield* TestClock.adjust("2 hours")
      expect(JSON.parse((yield* jar.get("/count")).body)).toEqual({ views: 1 })
    })))

  it.effect("concurrent increments on one session all count", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/count")
      yield* Effect.forEach(Array.from({ length: 10 }), () => jar.get("/count"), { concurrency: 10, discard: true })
      expect(JSON.parse((yield* jar.get("/read")).body)).toEqual({ views: 11 })
    })))
})

describe("Session middleware options", () => {
  it("invalid options fail fast with SessionConfigError", () => {
    expect(() => Session.middleware({ ttl: -1 })).toThrow(/ttl/)
    expect(() => Session.middleware({ sameSite: "none", insecure: true })).toThrow(/Secure/)
    expect(() => Session.middleware({ cookieName: "bad name" })).toThrow(/cookieName/)
  })
})
