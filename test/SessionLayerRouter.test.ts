/**
 * The `HttpLayerRouter` integration through real HTTP: a loopback server, a cookie jar, and a
 * store that records every call and can be told to fail. Time is `TestClock`.
 */
import { HttpLayerRouter, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, TestClock } from "effect"
import { Session, SessionConfigError } from "effect-session"
import * as SessionLayerRouter from "effect-session/SessionLayerRouter"
import { AppLive } from "../examples/layer-router.js"
import { Jar, request } from "./utils/http.js"
import * as Recording from "./utils/recording-store.js"

const COOKIE = "lagodev_session"

const Routes = Layer.mergeAll(
  HttpLayerRouter.add("GET", "/none", HttpServerResponse.text("no session here")),
  HttpLayerRouter.add("GET", "/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n)))),
  HttpLayerRouter.add("POST", "/destroy", Effect.as(Session.destroy, HttpServerResponse.text("destroyed"))),
  HttpLayerRouter.add("POST", "/regenerate", Effect.as(Session.regenerate, HttpServerResponse.text("regenerated")))
)

const serveWith = <E, R>(session: Layer.Layer<HttpLayerRouter.Request<"Requires", Session>, E, R>) =>
  HttpLayerRouter.serve(Routes.pipe(Layer.provide(session)), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(Recording.layer({ sweepInterval: "1 day" }))
  )

const server = (options?: Session.Options) => serveWith(SessionLayerRouter.layer(options))

const sessionCookie = (jar: Jar, name = COOKIE) => jar.last.find((c) => c.name === name)

describe("SessionLayerRouter", () => {
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
      const jar = new Jar()
      const reply = yield* request("GET", "/inc", { jar })
      expect(reply.status).toBe(200)
      const cookie = sessionCookie(jar)!
      expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43,}$/)
      expect(cookie.attributes).toEqual({
        httponly: "",
        secure: "",
        samesite: "Lax",
        path: "/",
        "max-age": "7200"
      })
      expect(reply.headers["cache-control"]).toBe("no-store")
      // unchanged on the next request: not re-issued
      yield* request("GET", "/none", { jar })
      expect(jar.last).toEqual([])
    }).pipe(Effect.provide(server())))

  it.effect("honours the options: cookie name, ttl, insecure, strict", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const cookie = sessionCookie(jar, "sid")!
      expect(cookie.attributes).toEqual({ httponly: "", samesite: "Strict", path: "/", "max-age": "1800" })
    }).pipe(Effect.provide(server({ cookieName: "sid", ttl: "30 minutes", insecure: true, sameSite: "strict" }))))

  it.effect("a route that never touches its session costs no store I/O and sets no cookie", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      recorder.reset()
      const reply = yield* request("GET", "/none", { jar })
      expect(reply.body).toBe("no session here")
      expect(reply.setCookies).toEqual([])
      expect(recorder.calls).toEqual([])
    }).pipe(Effect.provide(server())))

  it.effect("the session expires with the clock: the old cookie starts a fresh session", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      yield* request("GET", "/inc", { jar })
      const before = jar.cookies.get(COOKIE)
      yield* TestClock.adjust(Duration.hours(2))
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      expect(jar.cookies.get(COOKIE)).not.toBe(before)
    }).pipe(Effect.provide(server())))

  it.effect("destroy expires the cookie and deletes the record; the old ID is not accepted", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      yield* request("GET", "/inc", { jar })
      const old = `${COOKIE}=${jar.cookies.get(COOKIE)}`
      const reply = yield* request("POST", "/destroy", { jar })
      expect(reply.status).toBe(200)
      const cookie = reply.setCookies.find((c) => c.name === COOKIE)!
      expect(cookie.value).toBe("")
      expect(cookie.attributes["max-age"]).toBe("0")
      expect(cookie.attributes.path).toBe("/")
      expect(jar.cookies.has(COOKIE)).toBe(false)
      expect(recorder.ops("destroy")).toHaveLength(1)
      expect(yield* recorder.inner.size).toBe(0)
      // replaying the old cookie gets a brand-new session
      const replay = yield* request("GET", "/inc", { cookie: old })
      expect(replay.body).toBe("1")
      expect(replay.setCookies.find((c) => c.name === COOKIE)!.value).not.toBe(old.split("=")[1])
    }).pipe(Effect.provide(server())))

  it.effect("regenerate issues a new ID, keeps the data, deletes the old record", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const old = jar.cookies.get(COOKIE)!
      yield* request("POST", "/regenerate", { jar })
      const fresh = jar.cookies.get(COOKIE)!
      expect(fresh).not.toBe(old)
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
      expect((yield* request("GET", "/inc", { cookie: `${COOKIE}=${old}` })).body).toBe("1")
    }).pipe(Effect.provide(server())))

  it.effect("a store failure on save is a 503 with no cookie, never a 200 that lost the data", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      recorder.failing.add("write")
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(failed.headers["cache-control"]).toBe("no-store")
      expect(failed.setCookies).toEqual([])
      recorder.failing.delete("write")
      // the failed increment was not kept, and the client was told so
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
    }).pipe(Effect.provide(server())))

  it.effect("a store failure on load is a 503 before the handler's response", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      recorder.failing.add("read")
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toEqual([])
      expect(recorder.writes()).toHaveLength(1)
    }).pipe(Effect.provide(server())))

  it.effect("onError decides the response, with services from where the layer is built", () => {
    class Brand extends Context.Tag("test/Brand")<Brand, string>() {}
    const session = SessionLayerRouter.layer({
      onError: (error, context) =>
        Effect.map(
          Brand,
          (brand) => HttpServerResponse.text(`${brand}: ${context.phase} ${error._tag}`, { status: 500 })
        )
    }).pipe(Layer.provide(Layer.succeed(Brand, "acme")))
    return Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      recorder.failing.add("write")
      const reply = yield* request("GET", "/inc")
      expect(reply.status).toBe(500)
      expect(reply.body).toBe("acme: save SessionStoreError")
    }).pipe(Effect.provide(serveWith(session)))
  })

  it.effect("invalid options fail the layer build with SessionConfigError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(server({ ttl: -1 }))))
      expect(exit).toEqual(Exit.fail(new SessionConfigError({ option: "ttl", message: expect.any(String) as any })))
      const direct = yield* Effect.flip(
        Effect.scoped(Layer.build(SessionLayerRouter.layer({ sameSite: "none", insecure: true }))).pipe(
          Effect.provide(Recording.layer())
        )
      )
      expect(direct).toBeInstanceOf(SessionConfigError)
      expect(direct.option).toBe("sameSite")
    }))

  it.effect("examples/layer-router.ts serves: visits, login (new ID), logout", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("GET", "/", { jar })).body).toBe("Hello guest, visit number 1\n")
      const before = jar.cookies.get(COOKIE)
      yield* request("POST", "/login", { jar })
      expect(jar.cookies.get(COOKIE)).not.toBe(before)
      expect((yield* request("GET", "/", { jar })).body).toBe("Hello ada, visit number 2\n")
      yield* request("POST", "/logout", { jar })
      expect((yield* request("GET", "/", { jar })).body).toBe("Hello guest, visit number 1\n")
      expect((yield* request("GET", "/health", { jar })).setCookies).toEqual([])
    }).pipe(Effect.provide(AppLive.pipe(Layer.provideMerge(NodeHttpServer.layerTest)))))
})
