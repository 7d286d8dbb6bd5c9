/**
 * Issue 5: no lost updates. Concurrent requests on one session, through real HTTP, on the memory
 * store (Redis and PostgreSQL run the same workloads in their own store test files).
 */
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Redacted, Ref } from "effect"
import { MemoryStore, type SessionStore } from "effect-session"
import * as RedisStore from "effect-session/RedisStore"
import * as SqlStore from "effect-session/SqlStore"
import { concurrentIncrements, login, makeBarrier, readAll, serveWorkload, withoutPatch } from "./utils/concurrency.js"
import { Jar, request } from "./utils/http.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"

const N = 200

describe("concurrent requests on one session (memory store)", () => {
  it.live("200 requests each incrementing a different key: every key survives", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(N)
      yield* Effect.gen(function*() {
        const jar = yield* login
        const replies = yield* concurrentIncrements(jar, N, (i) => `k${i}`)
        expect(replies.every((r) => r.status === 200)).toBe(true)
        const all = yield* readAll(jar)
        expect(Object.keys(all).filter((k) => k.startsWith("k"))).toHaveLength(N)
        expect(all.user).toBe("ada")
      }).pipe(Effect.provide(serveWorkload(barrier.arrive)), Effect.provide(MemoryStore.layer()))
    }))

  it.live("200 requests each incrementing the same key: every increment counts", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(N)
      yield* Effect.gen(function*() {
        const jar = yield* login
        const replies = yield* concurrentIncrements(jar, N, () => "n")
        // each request saw the same snapshot (n was absent), so each answered 1 …
        expect(new Set(replies.map((r) => r.body))).toEqual(new Set(["1"]))
        // … but the deltas were applied to the latest stored value
        expect((yield* readAll(jar)).n).toBe(N)
      }).pipe(Effect.provide(serveWorkload(barrier.arrive)), Effect.provide(MemoryStore.layer()))
    }))

  it.live("the same workloads with whole-record saves (a store without patch) lose updates", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(N)
      yield* Effect.gen(function*() {
        const jar = yield* login
        yield* concurrentIncrements(jar, N, () => "n")
        const all = yield* readAll(jar)
        // last writer wins: the design above is what prevents this
        expect(all.n).toBe(1)
      }).pipe(
        Effect.provide(serveWorkload(barrier.arrive)),
        Effect.provide(withoutPatch.pipe(Layer.provide(MemoryStore.layer())))
      )
    }))

  it.live("a logout racing a slow write: the session stays destroyed", () =>
    Effect.gen(function*() {
      // the slow request waits at a barrier of 2: itself and the test, after the logout
      const barrier = yield* makeBarrier(2)
      const loaded = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = yield* login
        const cookie = jar.header()!
        const slow = yield* Effect.fork(request("GET", "/slow", { cookie }))
        // the slow request has loaded and changed the session; it now waits at the barrier
        yield* Deferred.await(loaded)
        const logout = yield* request("POST", "/logout", { cookie })
        expect(logout.setCookies[0]?.attributes["max-age"]).toBe("0")
        yield* barrier.arrive
        const slowReply = yield* slow.await.pipe(Effect.flatten)
        expect(slowReply.status).toBe(200)
        // the slow request found its session gone: no cookie at all, neither re-created nor cleared
        // (clearing it would log the browser out of whatever session replaced it)
        expect(slowReply.setCookies).toEqual([])
        const me = yield* request("GET", "/me", { cookie })
        expect(me.body).toBe("")
      }).pipe(
        Effect.provide(serveWorkload(barrier.arrive, {}, Deferred.succeed(loaded, undefined))),
        Effect.provide(MemoryStore.layer())
      )
    }))

  it.live("a flash written while a slower request renews the session survives the renewal", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(2)
      const loaded = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = yield* login
        const cookie = jar.header()!
        // the slow request loads the session first (touchAfter 0: its save will renew it) …
        const slow = yield* Effect.fork(request("GET", "/slow-read", { cookie }))
        yield* Deferred.await(loaded)
        // … a quick one flashes a message and saves …
        expect((yield* request("POST", "/flash", { cookie })).status).toBe(200)
        // … then the slow one saves its renewal, from a snapshot without the flash
        yield* barrier.arrive
        expect((yield* slow.await.pipe(Effect.flatten)).body).toBe("ada")
        expect((yield* request("GET", "/status", { cookie })).body).toBe("saved!")
        expect((yield* request("GET", "/status", { cookie })).body).toBe("")
      }).pipe(
        Effect.provide(serveWorkload(barrier.arrive, { touchAfter: 0 }, Deferred.succeed(loaded, undefined))),
        Effect.provide(MemoryStore.layer())
      )
    }))

  it.live("the same race with whole-record saves resurrects the session (the bug the design prevents)", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(2)
      const loaded = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = yield* login
        const cookie = jar.header()!
        const slow = yield* Effect.fork(request("GET", "/slow", { cookie }))
        yield* Deferred.await(loaded)
        yield* request("POST", "/logout", { cookie })
        yield* barrier.arrive
        yield* slow.await.pipe(Effect.flatten)
        const me = yield* request("GET", "/me", { cookie })
        expect(me.body).toBe("ada") // logged back in by the slow request
      }).pipe(
        Effect.provide(serveWorkload(barrier.arrive, {}, Deferred.succeed(loaded, undefined))),
        Effect.provide(withoutPatch.pipe(Layer.provide(MemoryStore.layer())))
      )
    }))
})

describe("opt-in locking (memory store)", () => {
  it.live("with lock: true, requests on one session run one at a time and see each other's writes", () =>
    Effect.gen(function*() {
      // no barrier: with the lock held, a barrier of more than 1 would deadlock
      yield* Effect.gen(function*() {
        const jar = yield* login
        const replies = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          () => request("GET", "/inc/n", { cookie: jar.header()! }),
          { concurrency: "unbounded" }
        )
        // serialised: each request saw the previous one's save, so the answers are 1..20
        expect(replies.map((r) => Number(r.body)).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 1)
        )
      }).pipe(Effect.provide(serveWorkload(Effect.void, { lock: true })), Effect.provide(MemoryStore.layer()))
    }))

  it.live("a request that cannot get the lock within `wait` gets 423 Locked", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(2)
      const loaded = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = yield* login
        const cookie = jar.header()!
        const holder = yield* Effect.fork(request("GET", "/slow", { cookie }))
        yield* Deferred.await(loaded) // the holder has the lock and is inside its handler
        const blocked = yield* request("GET", "/me", { cookie })
        expect(blocked.status).toBe(423)
        expect(blocked.headers["retry-after"]).toBe("1")
        expect(blocked.setCookies).toEqual([])
        yield* barrier.arrive
        expect((yield* holder.await.pipe(Effect.flatten)).status).toBe(200)
        // released: the next request gets through
        expect((yield* request("GET", "/me", { cookie })).body).toBe("ada")
      }).pipe(
        Effect.provide(
          serveWorkload(
            barrier.arrive,
            { lock: { wait: "200 millis", ttl: "10 seconds" } },
            Deferred.succeed(loaded, undefined)
          )
        ),
        Effect.provide(MemoryStore.layer())
      )
    }))

  it.live("requests without a session cookie never wait for a lock", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const jar = new Jar()
        const reply = yield* request("POST", "/login", { jar })
        expect(reply.status).toBe(200)
      }).pipe(Effect.provide(serveWorkload(Effect.void, { lock: true })), Effect.provide(MemoryStore.layer()))
    }))
})

// The same workloads on the shared stores: their `patch` is a Lua script (Redis) and a row-locked
// transaction (PostgreSQL), so the guarantees must hold there too, across real round trips.
const sharedStores: Array<[ServiceName, string, () => Layer.Layer<SessionStore, unknown>]> = [
  [
    "redis",
    "RedisStore",
    () => RedisStore.layer({ url: SERVICES.redis.url, prefix: `test:concurrency:${process.pid}:${Date.now()}:` })
  ],
  [
    "postgres",
    "SqlStore on PostgreSQL",
    () =>
      SqlStore.layer({ table: "effect_sessions_concurrency_test", ensureTable: true }).pipe(
        Layer.provide(PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) }))
      )
  ]
]

for (const [service, name, makeLayer] of sharedStores) {
  await describeWith(service, `concurrent requests on one session (${name})`, () => {
    it.live(
      "200 requests incrementing different keys and then the same key: nothing lost",
      () =>
        Effect.gen(function*() {
          const different = yield* makeBarrier(N)
          const same = yield* makeBarrier(N)
          const barrier = Effect.flatMap(
            Ref.getAndUpdate(phase, (p) => p),
            (p) => p === 0 ? different.arrive : same.arrive
          )
          yield* Effect.gen(function*() {
            const jar = yield* login
            yield* concurrentIncrements(jar, N, (i) => `k${i}`)
            expect(Object.keys(yield* readAll(jar)).filter((k) => k.startsWith("k"))).toHaveLength(N)
            yield* Ref.set(phase, 1)
            yield* concurrentIncrements(jar, N, () => "n")
            expect((yield* readAll(jar)).n).toBe(N)
          }).pipe(Effect.provide(serveWorkload(barrier)), Effect.provide(Layer.orDie(makeLayer())))
        }),
      60_000
    )

    it.live("a logout racing a slow write: the session stays destroyed", () =>
      Effect.gen(function*() {
        const barrier = yield* makeBarrier(2)
        const loaded = yield* Deferred.make<void>()
        yield* Effect.gen(function*() {
          const jar = yield* login
          const cookie = jar.header()!
          const slow = yield* Effect.fork(request("GET", "/slow", { cookie }))
          yield* Deferred.await(loaded)
          yield* request("POST", "/logout", { cookie })
          yield* barrier.arrive
          expect((yield* slow.await.pipe(Effect.flatten)).setCookies).toEqual([])
          expect((yield* request("GET", "/me", { cookie })).body).toBe("")
        }).pipe(
          Effect.provide(serveWorkload(barrier.arrive, {}, Deferred.succeed(loaded, undefined))),
          Effect.provide(Layer.orDie(makeLayer()))
        )
      }), 60_000)
  })
}

const phase = Ref.unsafeMake(0)
