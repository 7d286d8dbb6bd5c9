/**
 * Lifecycle operations win over slower requests (issue 15, items 1–5), through real HTTP on the
 * memory store, Redis and PostgreSQL. Interleaving is forced: the slow request signals once it
 * has loaded its session, waits at a gate while the test runs the racing request, then saves.
 * Time is `TestClock`'s.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Layer, Redacted, TestClock } from "effect"
import { MemoryStore, Session, SessionStore } from "effect-session"
import { Id } from "effect-session-core"
import * as RedisStore from "effect-session/RedisStore"
import * as SqlStore from "effect-session/SqlStore"
import { Jar, type Reply, request, serve } from "./utils/http.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"

const COOKIE = "lagodev_session"

/** One slow request's choreography: it says when it has loaded, and waits to be let go. */
const makeGate = Effect.gen(function*() {
  const loaded = yield* Deferred.make<void>()
  const proceed = yield* Deferred.make<void>()
  return {
    /** in the slow handler, after its first session read */
    loaded: Deferred.succeed(loaded, undefined),
    /** in the slow handler: wait for the test */
    proceed: Deferred.await(proceed),
    /** in the test: wait until the slow request has loaded */
    awaitLoaded: Deferred.await(loaded),
    /** in the test: let the slow request finish */
    release: Deferred.succeed(proceed, undefined)
  }
})
type Gate = Effect.Effect.Success<typeof makeGate>

const text = (s: string) => HttpServerResponse.text(s)

const routes = (gate: Gate) =>
  HttpRouter.empty.pipe(
    HttpRouter.post("/guest", Effect.as(Session.put("cart", ["A-1"]), text("guest"))),
    HttpRouter.post("/login", Effect.as(Effect.zipRight(Session.regenerate, Session.put("user", "ada")), text("in"))),
    HttpRouter.post(
      "/remember",
      Effect.as(
        Effect.all([
          Session.regenerate,
          Session.setLifetime({ ttl: "30 days", absoluteTimeout: "90 days" }),
          Session.put("user", "ada")
        ]),
        text("remembered")
      )
    ),
    HttpRouter.post("/logout", Effect.as(Session.destroy, text("bye"))),
    HttpRouter.post("/invalidate", Effect.as(Session.invalidate, text("bye"))),
    HttpRouter.post("/flush", Effect.as(Session.flush, text("flushed"))),
    HttpRouter.get("/me", Effect.map(Session.getString("user"), text)),
    HttpRouter.get(
      "/slow-write",
      Effect.gen(function*() {
        yield* Session.put("seen", true)
        yield* gate.loaded
        yield* gate.proceed
        return text("slow")
      })
    ),
    HttpRouter.get(
      "/slow-read",
      Effect.gen(function*() {
        const user = yield* Session.getString("user")
        yield* gate.loaded
        yield* gate.proceed
        return text(user)
      })
    ),
    HttpRouter.get(
      "/slow-regenerate",
      Effect.gen(function*() {
        yield* Session.getString("user")
        yield* gate.loaded
        yield* gate.proceed
        yield* Session.regenerate
        yield* Session.put("elevated", true)
        return text("elevated")
      })
    ),
    HttpRouter.get(
      "/slow-logout",
      Effect.gen(function*() {
        yield* Session.getString("user")
        yield* gate.loaded
        yield* gate.proceed
        yield* Session.destroy
        return text("bye")
      })
    )
  )

const sessionCookies = (reply: Reply) => reply.setCookies.filter((c) => c.name === COOKIE)
const maxAge = (reply: Reply) => Number(sessionCookies(reply)[0]?.attributes["max-age"])

const stores: Array<[ServiceName | undefined, string, () => Layer.Layer<SessionStore, unknown>]> = [
  [undefined, "MemoryStore", () => MemoryStore.layer()],
  [
    "redis",
    "RedisStore",
    () => RedisStore.layer({ url: SERVICES.redis.url, prefix: `test:races:${process.pid}:${Date.now()}:` })
  ],
  [
    "postgres",
    "SqlStore on PostgreSQL",
    () =>
      SqlStore.layer({ table: "effect_sessions_races_test", ensureTable: true }).pipe(
        Layer.provide(PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) }))
      )
  ]
]

const suite = (makeStore: () => Layer.Layer<SessionStore, unknown>) => {
  /** Runs `body` against a server with these options, on a fresh store; `SessionStore` is reachable. */
  const withServer = <A, E>(
    options: Session.Options,
    body: (gate: Gate) => Effect.Effect<A, E, SessionStore | import("@effect/platform").HttpClient.HttpClient>
  ) =>
    Effect.gen(function*() {
      const gate = yield* makeGate
      return yield* body(gate).pipe(
        Effect.provide(
          serve(routes(gate), { insecure: true, ...options }).pipe(
            Layer.provideMerge(Layer.orDie(makeStore()))
          )
        )
      )
    })

  return () => {
    it.effect("15.1 a request started before login and saving after it sends no cookie (write)", () =>
      withServer({}, (gate) =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/guest", { jar })
          const guest = jar.header()!
          const slow = yield* Effect.fork(request("GET", "/slow-write", { cookie: guest }))
          yield* gate.awaitLoaded
          const login = yield* request("POST", "/login", { jar })
          expect(sessionCookies(login)).toHaveLength(1)
          yield* gate.release
          const late = yield* slow.await.pipe(Effect.flatten)
          expect(late.status).toBe(200)
          // no Max-Age=0 arriving after the login response: the browser stays logged in
          expect(sessionCookies(late)).toEqual([])
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
        })))

    it.effect("15.1 … and a read-only one whose renewal is due sends none either", () =>
      withServer({ touchAfter: 0 }, (gate) =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/guest", { jar })
          const guest = jar.header()!
          const slow = yield* Effect.fork(request("GET", "/slow-read", { cookie: guest }))
          yield* gate.awaitLoaded
          yield* request("POST", "/login", { jar })
          yield* TestClock.adjust(Duration.seconds(1))
          yield* gate.release
          expect(sessionCookies(yield* slow.await.pipe(Effect.flatten))).toEqual([])
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
        })))

    for (const grace of [undefined, "1 minute"] as const) {
      it.effect(
        `15.2 logout wins over a regenerate in flight${grace ? ` (regenerateGrace ${grace})` : ""}: nothing comes back`,
        () =>
          withServer(grace ? { regenerateGrace: grace } : {}, (gate) =>
            Effect.gen(function*() {
              const jar = new Jar()
              yield* request("POST", "/login", { jar })
              const old = jar.header()!
              // a stolen copy of the cookie, and a slow request about to regenerate
              const slow = yield* Effect.fork(request("GET", "/slow-regenerate", { cookie: old }))
              yield* gate.awaitLoaded
              const logout = yield* request("POST", "/logout", { jar })
              expect(sessionCookies(logout)[0]?.attributes["max-age"]).toBe("0")
              yield* gate.release
              const late = yield* slow.await.pipe(Effect.flatten)
              expect(late.status).toBe(200)
              // no new ID for the logged-out session …
              expect(sessionCookies(late)).toEqual([])
              // … and the old ID stays dead
              expect((yield* request("GET", "/me", { cookie: old })).body).toBe("")
            }))
      )
    }

    for (const grace of [undefined, "1 minute"] as const) {
      it.effect(
        `15.2 a slow logout after another request logged in${
          grace ? ` (regenerateGrace ${grace})` : ""
        } never deletes the newer cookie`,
        () =>
          withServer(grace ? { regenerateGrace: grace } : {}, (gate) =>
            Effect.gen(function*() {
              const jar = new Jar()
              yield* request("POST", "/guest", { jar })
              const guest = jar.header()!
              const guestId = jar.cookies.get(COOKIE)!
              // loaded before the login, logs out after it
              const slow = yield* Effect.fork(request("GET", "/slow-logout", { cookie: guest }))
              yield* gate.awaitLoaded
              const login = yield* request("POST", "/login", { jar })
              expect(sessionCookies(login)).toHaveLength(1)
              yield* gate.release
              const late = yield* slow.await.pipe(Effect.flatten)
              expect(late.status).toBe(200)
              // no Max-Age=0 arriving after the login response: the browser stays logged in …
              expect(sessionCookies(late)).toEqual([])
              expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
              // … and the retired old ID is left to its grace (read-only, never the new session)
              const store = yield* SessionStore
              const oldRecord = yield* store.read(Id.storageKey(guestId))
              expect(oldRecord._tag).toBe(grace ? "Some" : "None")
            }))
      )
    }

    it.effect("15.2 a slow logout after another request's logout sends no cookie and leaves the session gone", () =>
      withServer({}, (gate) =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/login", { jar })
          const old = jar.header()!
          const slow = yield* Effect.fork(request("GET", "/slow-logout", { cookie: old }))
          yield* gate.awaitLoaded
          const logout = yield* request("POST", "/logout", { jar })
          expect(sessionCookies(logout)[0]?.attributes["max-age"]).toBe("0")
          yield* gate.release
          const late = yield* slow.await.pipe(Effect.flatten)
          expect(late.status).toBe(200)
          // the session was no longer this request's to end: the browser may hold a newer cookie by now
          expect(sessionCookies(late)).toEqual([])
          expect((yield* request("GET", "/me", { cookie: old })).body).toBe("")
        })))

    it.effect("15.3 a logout with an old ID within regenerateGrace sends no cookie and leaves the new session", () =>
      withServer({ regenerateGrace: "1 minute" }, () =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/guest", { jar })
          const old = jar.header()!
          yield* request("POST", "/login", { jar })
          // a request still carrying the old cookie logs out after the login rotated it
          const late = yield* request("POST", "/logout", { cookie: old })
          expect(late.status).toBe(200)
          expect(sessionCookies(late)).toEqual([])
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
        })))

    it.effect("15.2 a regenerate that wins the race moves the session (the new ID works, the old one is gone)", () =>
      withServer({}, (gate) =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/login", { jar })
          const old = jar.header()!
          const slow = yield* Effect.fork(request("GET", "/slow-regenerate", { jar }))
          yield* gate.awaitLoaded
          yield* gate.release
          const moved = yield* slow.await.pipe(Effect.flatten)
          expect(sessionCookies(moved)).toHaveLength(1)
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
          expect((yield* request("GET", "/me", { cookie: old })).body).toBe("")
        })))

    it.effect("15.3 an old ID serves reads within regenerateGrace, never renews, never comes back, and ends with it", () =>
      withServer({ regenerateGrace: "3 seconds", touchAfter: 0 }, (gate) =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/login", { jar })
          const old = jar.header()!
          // loaded before the rotation, saves (a due renewal) after it
          const slow = yield* Effect.fork(request("GET", "/slow-read", { cookie: old }))
          yield* gate.awaitLoaded
          const rotated = yield* request("POST", "/login", { jar })
          expect(sessionCookies(rotated)).toHaveLength(1)
          yield* TestClock.adjust(Duration.seconds(1))
          yield* gate.release
          const late = yield* slow.await.pipe(Effect.flatten)
          expect(late.body).toBe("ada")
          expect(sessionCookies(late)).toEqual([]) // the old cookie is not re-issued
          // within the grace: the old ID still reads, and still sets no cookie
          const within = yield* request("GET", "/me", { cookie: old })
          expect(within.body).toBe("ada")
          expect(sessionCookies(within)).toEqual([])
          // past it (3 s after the rotation), whatever the slow request did: gone
          yield* TestClock.adjust(Duration.millis(2000))
          expect((yield* request("GET", "/me", { cookie: old })).body).toBe("")
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
        })))

    it.effect("15.4 invalidate after \"remember me\": the next session has the middleware's lifetimes", () =>
      withServer({ ttl: "2 hours", absoluteTimeout: "12 hours" }, () =>
        Effect.gen(function*() {
          const jar = new Jar()
          expect(maxAge(yield* request("POST", "/remember", { jar }))).toBe(30 * 24 * 3600)
          yield* TestClock.adjust(Duration.hours(11))
          expect(maxAge(yield* request("POST", "/invalidate", { jar }))).toBe(2 * 3600)
          // the next user logs in without "remember me" …
          expect(maxAge(yield* request("POST", "/login", { jar }))).toBe(2 * 3600)
          // … and the absolute timeout counts from the new session's start, not the old login
          yield* TestClock.adjust(Duration.minutes(90))
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
        })))

    it.effect("15.4 flush resets per-session lifetimes and the creation time too", () =>
      withServer({ ttl: "2 hours", absoluteTimeout: "12 hours" }, () =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("POST", "/remember", { jar })
          yield* TestClock.adjust(Duration.hours(11))
          expect(maxAge(yield* request("POST", "/flush", { jar }))).toBe(2 * 3600)
          expect(maxAge(yield* request("POST", "/login", { jar }))).toBe(2 * 3600)
          yield* TestClock.adjust(Duration.minutes(90))
          expect((yield* request("GET", "/me", { jar })).body).toBe("ada")
        })))

    const absurd: Array<[string, Record<string, unknown>]> = [
      ["an idle lifetime of 1e300", { c: 0, r: 0, l: 1e300 }],
      ["an absolute lifetime of 1e300", { c: 0, r: 0, a: 1e300 }],
      ["a negative lifetime", { c: 0, r: 0, l: -5000 }],
      ["a creation time a day in the future", { c: 86_400_000, r: 86_400_000 }]
    ]
    for (const [title, meta] of absurd) {
      it.effect(`15.5 a record with ${title} is corrupt: discarded, never a 5xx`, () =>
        withServer({}, () =>
          Effect.gen(function*() {
            const store = yield* SessionStore
            const id = Id.generate()
            yield* store.write(Id.storageKey(id), { user: "mallory", __session: meta }, Duration.minutes(5))
            for (let i = 0; i < 2; i++) {
              const reply = yield* request("GET", "/me", { cookie: `${COOKIE}=${id}` })
              expect(reply.status).toBe(200)
              expect(reply.body).toBe("")
            }
          })))
    }
  }
}

for (const [service, name, makeStore] of stores) {
  if (service === undefined) describe(`lifecycle races (${name})`, suite(makeStore))
  else await describeWith(service, `lifecycle races (${name})`, suite(makeStore))
}
