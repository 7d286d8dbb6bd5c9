import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Layer, Option, TestClock } from "effect"
import { Csrf, Session, SessionConfigError, SessionStoreError, SessionTest } from "effect-session"
import { Jar, request, serve } from "./utils/http.js"

const ops = (outcome: SessionTest.Outcome<unknown>) => outcome.calls.map((call) => call._tag)

const configError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (e) => {
    expect(e).toBeInstanceOf(SessionConfigError)
    return (e as SessionConfigError).option
  })

describe("SessionTest.make: a browser without HTTP", () => {
  it.scoped("a first write creates the session: cookie, data, one write and no read", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      expect(yield* client.id).toEqual(Option.none())
      const outcome = yield* client.run(Session.put("user", "ada"))
      expect(outcome.isNew).toBe(true)
      expect(outcome.previousId).toEqual(Option.none())
      expect(Option.isSome(outcome.id)).toBe(true)
      expect(outcome.data).toEqual({ user: "ada" })
      expect(ops(outcome)).toEqual(["write"])
      const cookie = Option.getOrThrow(outcome.cookie)
      expect(cookie.name).toBe("lagodev_session")
      expect(cookie.value).toBe(Option.getOrThrow(outcome.id))
      expect(Duration.toMillis(Duration.decode(cookie.options!.maxAge!))).toBe(Duration.toMillis("2 hours"))
      expect(cookie.options?.httpOnly).toBe(true)
      expect(outcome.response.headers["cache-control"]).toBe("no-store")
      expect(yield* client.id).toEqual(outcome.id)
    }))

  it.scoped("the next request carries the cookie: reads cost one read and no write", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const first = yield* client.run(Session.put("user", "ada"))
      const second = yield* client.run(Session.get("user"))
      expect(second.value).toBe("ada")
      expect(second.isNew).toBe(false)
      expect(second.previousId).toEqual(first.id)
      expect(second.id).toEqual(first.id)
      expect(second.cookie).toEqual(Option.none())
      expect(ops(second)).toEqual(["read"])
    }))

  it.scoped("a request that never touches the session makes no store call and sets no cookie", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" } })
      const outcome = yield* client.run(Effect.succeed("static"))
      expect(outcome.value).toBe("static")
      expect(outcome.calls).toEqual([])
      expect(outcome.cookie).toEqual(Option.none())
      expect(outcome.data).toEqual({ user: "ada" })
    }))

  it.scoped("data, token and isNew: false seed a stored session", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada", cart: [1] }, token: "seeded-token" })
      const outcome = yield* client.run(Effect.all([Session.all, Session.token, Session.isNew]))
      expect(outcome.value).toEqual([{ user: "ada", cart: [1] }, "seeded-token", false])
      expect(outcome.token).toEqual(Option.some("seeded-token"))

      const empty = yield* SessionTest.make({ isNew: false })
      expect((yield* empty.run(Session.isNew)).value).toBe(false)
      const fresh = yield* SessionTest.make()
      expect((yield* fresh.run(Session.isNew)).value).toBe(true)
    }))

  it.scoped("flash seeds data flashed by the previous request: readable once", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" }, flash: { status: "Welcome back" } })
      const first = yield* client.run(Session.get("status"))
      expect(first.value).toBe("Welcome back")
      expect(first.data).toEqual({ user: "ada" })
      expect(first.flashed).toEqual([])
      const second = yield* client.run(Session.getOption("status"))
      expect(second.value).toEqual(Option.none())
    }))

  it.scoped("flashed lists what the next request can read once; now is not saved", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const outcome = yield* client.run(
        Effect.all([Session.flash("status", "Saved"), Session.now("inline", "here only"), Session.put("n", 1)])
      )
      expect(outcome.flashed).toEqual(["status"])
      expect(outcome.data).toEqual({ status: "Saved", n: 1 })
      const next = yield* client.run(Effect.all([Session.getOption("status"), Session.reflash]))
      expect(next.value[0]).toEqual(Option.some("Saved"))
      expect(next.flashed).toEqual(["status"])
    }))

  it.scoped("flashed leaves out a key flashed and then forgotten: the next request cannot read it", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" } })
      const outcome = yield* client.run(
        Effect.all([Session.flash("status", "Saved"), Session.flash("kept", 1), Session.forget("status")])
      )
      expect(outcome.data).toEqual({ user: "ada", kept: 1 })
      expect(outcome.flashed).toEqual(["kept"])
      const next = yield* client.run(Session.getOption("status"))
      expect(next.value).toEqual(Option.none())
    }))

  it.scoped("regenerate: same data, new ID, old record deleted, token rotated", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { cart: ["A-1"] }, token: "before" })
      const outcome = yield* client.run(Effect.zipRight(Session.regenerate, Session.put("user", "ada")))
      expect(outcome.regenerated).toBe(true)
      expect(outcome.destroyed).toBe(false)
      expect(outcome.isNew).toBe(false)
      expect(outcome.id).not.toEqual(outcome.previousId)
      expect(outcome.data).toEqual({ cart: ["A-1"], user: "ada" })
      expect(Option.getOrThrow(outcome.token)).not.toBe("before")
      const oldKey = SessionTest.storageKey(Option.getOrThrow(outcome.previousId))
      // one store step moves the record and retires the old one (deleted: no grace period)
      expect(outcome.calls).toContainEqual(expect.objectContaining({ _tag: "rotate", id: oldKey, injected: false }))
      expect(yield* client.store.underlying.read(oldKey)).toEqual(Option.none())
    }))

  it.scoped("invalidate: new ID, no data", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" } })
      const outcome = yield* client.run(Session.invalidate)
      expect(outcome.regenerated).toBe(true)
      expect(outcome.data).toEqual({})
    }))

  it.scoped("destroy: the cookie is expired, the record is gone, the next request has no session", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" } })
      const outcome = yield* client.run(Session.destroy)
      expect(outcome.destroyed).toBe(true)
      expect(outcome.regenerated).toBe(false)
      expect(outcome.id).toEqual(Option.none())
      expect(outcome.data).toEqual({})
      const cookie = Option.getOrThrow(outcome.cookie)
      expect(Duration.toMillis(Duration.decode(cookie.options!.maxAge!))).toBe(0)
      const next = yield* client.run(Session.isNew)
      expect(next.previousId).toEqual(Option.none())
      expect(next.value).toBe(true)
    }))

  it.scoped("destroy followed by writes starts a new session", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" } })
      const outcome = yield* client.run(Effect.zipRight(Session.destroy, Session.put("guest", true)))
      expect(outcome.destroyed).toBe(false)
      expect(outcome.regenerated).toBe(false)
      expect(outcome.isNew).toBe(true)
      expect(outcome.id).not.toEqual(outcome.previousId)
      expect(outcome.data).toEqual({ guest: true })
    }))

  it.scoped("a failing handler saves nothing, like behind the middleware", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { n: 1 } })
      const exit = yield* Effect.exit(client.run(Effect.zipRight(Session.put("n", 2), Effect.fail("boom" as const))))
      expect(exit).toEqual(Exit.fail("boom"))
      expect((yield* client.run(Session.get("n"))).value).toBe(1)
    }))

  it.scoped("the handler sees the request it asked for (method, URL, headers, body)", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const outcome = yield* client.run(
        Effect.gen(function*() {
          const req = yield* HttpServerRequest.HttpServerRequest
          return `${req.method} ${req.url} ${req.headers["x-test"]} ${yield* req.text}`
        }),
        { method: "post", url: "/profile?tab=1", headers: { "x-test": "yes" }, body: "name=ada" }
      )
      expect(outcome.value).toBe("POST /profile?tab=1 yes name=ada")
    }))

  it.scoped("a handler's response is returned decorated with the session cookie", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const outcome = yield* client.run(Effect.as(Session.put("a", 1), HttpServerResponse.text("ok", { status: 201 })))
      expect(outcome.response.status).toBe(201)
      const web = HttpServerResponse.toWeb(outcome.response)
      expect(web.headers.get("set-cookie")).toBe(
        `lagodev_session=${Option.getOrThrow(outcome.id)}; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax`
      )
      expect(yield* Effect.promise(() => web.text())).toBe("ok")
    }))

  it.effect("TestClock drives expiry: after the idle TTL the session is gone", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { user: "ada" }, middleware: { ttl: "30 minutes" } })
      yield* TestClock.adjust("29 minutes")
      expect((yield* client.run(Session.getOption("user"))).value).toEqual(Option.some("ada"))
      yield* TestClock.adjust("30 minutes")
      const outcome = yield* client.run(Session.getOption("user"))
      expect(outcome.value).toEqual(Option.none())
      expect(outcome.data).toEqual({})
    }).pipe(Effect.scoped))

  it.scoped("the middleware's cookie name applies both ways", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ middleware: { cookieName: "sid" } })
      const first = yield* client.run(Session.put("n", 1))
      expect(Option.getOrThrow(first.cookie).name).toBe("sid")
      const second = yield* client.run(Effect.map(HttpServerRequest.HttpServerRequest, (r) => r.cookies))
      expect(second.value).toEqual({ sid: Option.getOrThrow(first.id) })
    }))

  it.scoped("the middleware's lock option applies: lock before the load, unlock after the save", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: { n: 1 }, middleware: { lock: true } })
      const outcome = yield* client.run(Session.increment("n"))
      expect(ops(outcome)).toEqual(["lock", "read", "patch", "unlock"])
      expect(outcome.data).toEqual({ n: 2 })
    }))

  it.scoped("Csrf.verify runs without HTTP too", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ token: "t0k3n" })
      const post = (headers: Record<string, string>) => ({ method: "POST", headers })
      yield* client.run(Csrf.verify, post({ "x-csrf-token": "t0k3n" }))
      const refused = yield* Effect.flip(client.run(Csrf.verify, post({ "x-csrf-token": "nope" })))
      expect(refused).toBeInstanceOf(Csrf.CsrfTokenMismatch)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("Csrf.middleware over an app, without HTTP: a form body is read by the check and again by the handler", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ token: "t0k3n" })
      const app = Csrf.middleware(
        Effect.map(
          Effect.flatMap(HttpServerRequest.HttpServerRequest, (r) => r.urlParamsBody),
          (params) => HttpServerResponse.text(params.map(([k, v]) => `${k}=${v}`).join("&"))
        )
      )
      const form = (body: string) => ({
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body
      })
      const ok = yield* client.run(app, form("_token=t0k3n&name=ada"))
      expect(ok.value.status).toBe(200)
      expect(yield* Effect.promise(() => HttpServerResponse.toWeb(ok.value).text())).toBe("_token=t0k3n&name=ada")
      const refused = yield* client.run(app, form("_token=nope&name=ada"))
      expect(refused.value.status).toBe(419)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("invalid seeds and options are a SessionConfigError", () =>
    Effect.gen(function*() {
      expect(yield* configError(SessionTest.make({ isNew: true, data: { a: 1 } }))).toBe("isNew")
      expect(yield* configError(SessionTest.make({ data: { __session: 1 } }))).toBe("data")
      expect(yield* configError(SessionTest.make({ data: { at: new Date() } }))).toBe("data")
      expect(yield* configError(SessionTest.make({ data: { a: 1 }, flash: { a: 2 } }))).toBe("flash")
      expect(yield* configError(SessionTest.make({ token: "" }))).toBe("token")
      expect(yield* configError(SessionTest.make({ middleware: { ttl: -1 } }))).toBe("ttl")
    }))
})

describe("SessionTest.layer: one request, then finish", () => {
  it.effect("provides Session; finish saves and reports", () =>
    Effect.gen(function*() {
      const n = yield* Session.increment("visits")
      expect(n).toBe(3)
      const outcome = yield* SessionTest.finish()
      expect(outcome.data).toEqual({ visits: 3 })
      expect(ops(outcome)).toEqual(["read", "patch"])
    }).pipe(Effect.provide(SessionTest.layer({ data: { visits: 2 } }))))

  it.effect("provides the request too, and decorates the response given to finish", () =>
    Effect.gen(function*() {
      const req = yield* HttpServerRequest.HttpServerRequest
      expect(`${req.method} ${req.url}`).toBe("DELETE /cart")
      yield* Session.put("a", 1)
      const outcome = yield* SessionTest.finish(HttpServerResponse.text("done"))
      expect(outcome.value).toBeDefined()
      expect(outcome.response.cookies.cookies["lagodev_session"]).toBeDefined()
      expect(outcome.isNew).toBe(true)
    }).pipe(Effect.provide(SessionTest.layer({ request: { method: "DELETE", url: "/cart" } }))))

  it.effect("the client continues the conversation after the layer's request", () =>
    Effect.gen(function*() {
      yield* Session.flash("status", "Saved")
      yield* SessionTest.finish()
      const { client } = yield* SessionTest.TestRequest
      expect((yield* client.run(Session.get("status"))).value).toBe("Saved")
    }).pipe(Effect.provide(SessionTest.layer())))
})

describe("SessionTest.recordingStore", () => {
  it.scoped("records every call with its arguments, in order", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.recordingStore()
      yield* store.write("k", { a: 1 }, Duration.minutes(5))
      yield* store.read("k")
      yield* store.patch!("k", { clear: false, remove: [], set: [["b", 2]], add: [] }, Duration.minutes(5))
      const release = yield* store.lock!("k", { ttl: Duration.seconds(10), wait: Duration.seconds(1) })
      yield* release
      yield* store.destroy("k")
      expect(yield* store.calls).toEqual([
        { _tag: "write", id: "k", data: { a: 1 }, ttl: Duration.minutes(5), injected: false },
        { _tag: "read", id: "k", injected: false },
        {
          _tag: "patch",
          id: "k",
          patch: { clear: false, remove: [], set: [["b", 2]], add: [] },
          ttl: Duration.minutes(5),
          injected: false
        },
        { _tag: "lock", id: "k", ttl: Duration.seconds(10), wait: Duration.seconds(1), injected: false },
        { _tag: "unlock", id: "k", injected: false },
        { _tag: "destroy", id: "k", injected: false }
      ])
      yield* store.clear
      expect(yield* store.calls).toEqual([])
    }))

  it.scoped("offers patch and lock only when the recorded store has them", () =>
    Effect.gen(function*() {
      const minimal = yield* SessionTest.recordingStore({
        store: { read: () => Effect.succeedNone, write: () => Effect.void, destroy: () => Effect.void }
      })
      expect(minimal.patch).toBeUndefined()
      expect(minimal.lock).toBeUndefined()
    }))

  it.scoped("fails the chosen operation with the chosen error; the rest works", () =>
    Effect.gen(function*() {
      const timeout = new SessionStoreError({ reason: "Timeout", message: "redis: timed out" })
      const store = yield* SessionTest.recordingStore({ fail: { on: "read", error: timeout } })
      yield* store.write("k", { a: 1 }, Duration.zero)
      expect(yield* Effect.flip(store.read("k"))).toBe(timeout)
      yield* store.destroy("k")
      expect((yield* store.calls).map((c) => [c._tag, c.injected])).toEqual([
        ["write", false],
        ["read", true],
        ["destroy", false]
      ])
    }))

  it.scoped("fails after N matching calls, for a number of times, then recovers by itself", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.recordingStore({ fail: { after: 2, times: 2 } })
      const results: Array<boolean> = []
      for (let i = 0; i < 6; i++) results.push(Either.isRight(yield* Effect.either(store.read("k"))))
      expect(results).toEqual([true, true, false, false, true, true])
    }))

  it.scoped("\"write\" also fails patch (both save a session); fail() re-arms, recover disarms", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.recordingStore()
      yield* store.write("k", { a: 1 }, Duration.zero)
      yield* store.fail({ on: "write" })
      const patch = { clear: false, remove: [], set: [], add: [] }
      expect((yield* Effect.flip(store.patch!("k", patch, Duration.zero))).reason).toBe("Unavailable")
      expect((yield* Effect.flip(store.write("k", {}, Duration.zero)))._tag).toBe("SessionStoreError")
      yield* store.read("k")
      yield* store.recover
      yield* store.write("k", { b: 2 }, Duration.zero)
      // the underlying store never fails by plan, and holds the last successful write
      yield* store.fail()
      expect(yield* store.underlying.read("k")).toEqual(Option.some({ b: 2 }))
      expect(Either.isLeft(yield* Effect.either(store.read("k")))).toBe(true)
    }))

  it.scoped("a client over a failing store: seeding bypasses the plan, requests fail with SessionStoreError", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.recordingStore({ fail: { on: "write" } })
      const client = yield* SessionTest.make({ store, data: { n: 1 } })
      expect((yield* client.run(Session.get("n"))).value).toBe(1)
      const error = yield* Effect.flip(client.run(Session.put("n", 2)))
      expect(error).toBeInstanceOf(SessionStoreError)
      yield* store.recover
      expect((yield* client.run(Session.put("n", 3))).data).toEqual({ n: 3 })
    }))
})

describe("SessionTest.layerRecording with the real middleware", () => {
  const routes = HttpRouter.empty.pipe(
    HttpRouter.get("/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n))))
  )

  it.effect("a failing save is a 503 with no cookie; after recovery the request works", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.RecordingStore
      const jar = new Jar()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      yield* store.fail({ on: "write" })
      yield* store.clear
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toEqual([])
      expect((yield* store.calls).map((c) => [c._tag, c.injected])).toEqual([["read", false], ["patch", true]])
      yield* store.recover
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
    }).pipe(Effect.provide(serve(routes).pipe(Layer.provideMerge(SessionTest.layerRecording())))))
})
