/**
 * No lost updates: concurrent requests on one session, through real HTTP, on the memory store and
 * on the shared stores (Redis, PostgreSQL, MariaDB), whose `patch` is a Lua script or a row-locked
 * transaction.
 *
 * Interleaving is forced, not hoped for: every request loads the session and makes its change,
 * then waits at a barrier until all of them have loaded, and only then returns (and saves). Every
 * request therefore saves on top of the same stale snapshot: the worst case for lost updates.
 * Nothing here waits on a clock: `TestClock` never moves.
 *
 * `lifecycle.test.ts` covers a logout racing a slow write on the memory store and Redis, and a
 * request that cannot get the lock within `wait` (423): those are not repeated here.
 */
import { NodeRedis } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Deferred, type Duration, Effect, Fiber, Layer, Redacted, Ref } from "effect"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import * as SqlStore from "effect-session-v4/SqlStore"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as SqlClient from "effect/sql/SqlClient"
import { randomBytes } from "node:crypto"
import { makeJar, serveWith } from "./utils/http.js"
import * as MysqlClient from "./utils/mysqlClient.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"

const N = 200

/** A gate: `arrive` blocks until `n` fibers have arrived. */
const makeBarrier = (n: number) =>
  Effect.gen(function*() {
    const count = yield* Ref.make(0)
    const open = yield* Deferred.make<void>()
    const arrive = Effect.flatMap(
      Ref.updateAndGet(count, (c) => c + 1),
      (c) => c >= n ? Deferred.succeed(open, undefined) : Effect.void
    ).pipe(Effect.andThen(Deferred.await(open)))
    return { arrive }
  })

/** The same store with only the minimal read/write/destroy contract: whole-record saves. */
const withoutPatch = Layer.effect(
  SessionStore,
  Effect.map(Effect.service(SessionStore), (store) => ({
    read: store.read,
    write: store.write,
    destroy: store.destroy
  }))
)

const text = (s: string) => HttpServerResponse.text(s)

/**
 * The workload server. `barrier` gates `/inc/:key`, `/slow` and `/slow-read`: each handler changes
 * (or reads) the session, says so through `slowLoaded`, then waits for the barrier before it returns.
 */
const workload = (
  barrier: Effect.Effect<void>,
  options: Session.Options = {},
  slowLoaded: Effect.Effect<void> = Effect.void
) =>
  Layer.mergeAll(
    HttpRouter.add("POST", "/login", Effect.as(Session.put("user", "ada"), text("ok"))),
    HttpRouter.add(
      "GET",
      "/inc/:key",
      Effect.gen(function*() {
        const { key } = yield* HttpRouter.params
        const n = yield* Session.increment(key!)
        yield* barrier
        return text(String(n))
      })
    ),
    HttpRouter.add(
      "GET",
      "/slow",
      Effect.gen(function*() {
        yield* Session.put("touched-by-slow-request", true)
        yield* slowLoaded
        yield* barrier
        return text("slow done")
      })
    ),
    HttpRouter.add(
      "GET",
      "/slow-read",
      Effect.gen(function*() {
        const user = yield* Session.getString("user")
        yield* slowLoaded
        yield* barrier
        return text(user)
      })
    ),
    HttpRouter.add("POST", "/flash", Effect.as(Session.flash("status", "saved!"), text("flashed"))),
    HttpRouter.add("GET", "/status", Effect.map(Session.getString("status"), text)),
    HttpRouter.add("POST", "/logout", Effect.as(Session.destroy, text("bye"))),
    HttpRouter.add("GET", "/all", Effect.map(Session.all, (all) => HttpServerResponse.jsonUnsafe(all))),
    HttpRouter.add("GET", "/me", Effect.map(Session.getString("user"), text))
  ).pipe(Layer.provide(Session.middleware({ insecure: true, ...options }).layer))

/** Logs in (one session) and returns the jar holding its cookie. */
const login = Effect.gen(function*() {
  const jar = makeJar()
  const reply = yield* jar.post("/login")
  expect(reply.status).toBe(200)
  expect(jar.value).toBeDefined()
  return jar
})

type Jar = ReturnType<typeof makeJar>

/** A jar that holds `value`: another tab of the same browser. */
const tab = (value: string | undefined) => {
  const jar = makeJar()
  jar.set(value)
  return jar
}

/** Fires `n` concurrent requests on one session, each incrementing `key(i)`. */
const concurrentIncrements = (jar: Jar, n: number, key: (i: number) => string) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => tab(jar.value).get(`/inc/${key(i)}`),
    { concurrency: "unbounded" }
  )

const readAll = (jar: Jar) =>
  Effect.map(tab(jar.value).get("/all"), (reply) => JSON.parse(reply.body) as Record<string, unknown>)

describe("concurrent requests on one session (memory store)", () => {
  it.effect(`${N} requests each incrementing a different key: every key survives`, () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(N)
      yield* Effect.gen(function*() {
        const jar = yield* login
        const replies = yield* concurrentIncrements(jar, N, (i) => `k${i}`)
        expect(replies.filter((r) => r.status !== 200)).toEqual([])
        const all = yield* readAll(jar)
        expect(Object.keys(all).filter((k) => k.startsWith("k"))).toHaveLength(N)
        expect(all.user).toBe("ada")
      }).pipe(Effect.provide(serveWith(workload(barrier.arrive), MemoryStore.layer())))
    }))

  it.effect(`${N} requests each incrementing the same key: every increment counts`, () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(N)
      yield* Effect.gen(function*() {
        const jar = yield* login
        const replies = yield* concurrentIncrements(jar, N, () => "n")
        // each request saw the same snapshot (n was absent), so each answered 1 …
        expect(new Set(replies.map((r) => r.body))).toEqual(new Set(["1"]))
        // … but the deltas were applied to the latest stored value
        expect((yield* readAll(jar)).n).toBe(N)
      }).pipe(Effect.provide(serveWith(workload(barrier.arrive), MemoryStore.layer())))
    }))

  it.effect("the same workload with whole-record saves (a store without patch) loses updates", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(N)
      yield* Effect.gen(function*() {
        const jar = yield* login
        yield* concurrentIncrements(jar, N, () => "n")
        // last writer wins: the patch the stores offer is what prevents this
        expect((yield* readAll(jar)).n).toBe(1)
      }).pipe(
        Effect.provide(serveWith(workload(barrier.arrive), withoutPatch.pipe(Layer.provide(MemoryStore.layer()))))
      )
    }))

  it.effect("a flash written while a slower request renews the session survives the renewal", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(2)
      const loaded = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = yield* login
        // the slow request loads the session first (touchAfter 0: its save will renew it) …
        const slow = yield* Effect.forkChild(tab(jar.value).get("/slow-read"))
        yield* Deferred.await(loaded)
        // … a quick one flashes a message and saves …
        expect((yield* tab(jar.value).post("/flash")).status).toBe(200)
        // … then the slow one saves its renewal, from a snapshot without the flash
        yield* barrier.arrive
        expect((yield* Fiber.join(slow)).body).toBe("ada")
        expect((yield* jar.get("/status")).body).toBe("saved!")
        expect((yield* jar.get("/status")).body).toBe("")
      }).pipe(
        Effect.provide(
          serveWith(
            workload(barrier.arrive, { touchAfter: 0 }, Deferred.succeed(loaded, undefined)),
            MemoryStore.layer()
          )
        )
      )
    }))

  it.effect("a logout racing a slow write with whole-record saves resurrects the session (what the design prevents)", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(2)
      const loaded = yield* Deferred.make<void>()
      yield* Effect.gen(function*() {
        const jar = yield* login
        const cookie = jar.value
        const slow = yield* Effect.forkChild(tab(cookie).get("/slow"))
        yield* Deferred.await(loaded)
        yield* tab(cookie).post("/logout")
        yield* barrier.arrive
        yield* Fiber.join(slow)
        // logged back in by the slow request: a store without patch cannot refuse its write
        expect((yield* tab(cookie).get("/me")).body).toBe("ada")
      }).pipe(
        Effect.provide(
          serveWith(
            workload(barrier.arrive, {}, Deferred.succeed(loaded, undefined)),
            withoutPatch.pipe(Layer.provide(MemoryStore.layer()))
          )
        )
      )
    }))
})

/** The memory store, counting lock calls. */
const countingLocks = () => {
  const calls = { locks: 0 }
  const layer = Layer.effect(
    SessionStore,
    Effect.map(Effect.service(SessionStore), (store) => ({
      ...store,
      lock: (id: string, options: { readonly ttl: Duration.Duration; readonly wait: Duration.Duration }) =>
        Effect.andThen(Effect.sync(() => calls.locks++), store.lock!(id, options))
    }))
  ).pipe(Layer.provide(MemoryStore.layer()))
  return { calls, layer }
}

describe("opt-in locking (memory store)", () => {
  it.effect("with lock: true, requests on one session run one at a time and see each other's writes", () =>
    // no barrier: with the lock held, a barrier of more than 1 would deadlock
    Effect.gen(function*() {
      const jar = yield* login
      const replies = yield* concurrentIncrements(jar, 20, () => "n")
      // serialised: each request saw the previous one's save, so the answers are 1..20
      expect(replies.map((r) => Number(r.body)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1)
      )
    }).pipe(Effect.provide(serveWith(workload(Effect.void, { lock: true }), MemoryStore.layer()))))

  it.effect("without lock, the same requests overlap: they answer from one snapshot", () =>
    Effect.gen(function*() {
      const barrier = yield* makeBarrier(20)
      yield* Effect.gen(function*() {
        const jar = yield* login
        const replies = yield* concurrentIncrements(jar, 20, () => "n")
        expect(new Set(replies.map((r) => r.body))).toEqual(new Set(["1"]))
      }).pipe(Effect.provide(serveWith(workload(barrier.arrive), MemoryStore.layer())))
    }))

  it.effect("requests without a session cookie never wait for a lock", () => {
    const store = countingLocks()
    return Effect.gen(function*() {
      const jar = makeJar()
      const reply = yield* jar.post("/login")
      expect(reply.status).toBe(200)
      expect(store.calls.locks).toBe(0)
      // the same route with the new cookie does take the lock: the count above could have moved
      yield* jar.post("/login")
      expect(store.calls.locks).toBe(1)
    }).pipe(Effect.provide(serveWith(workload(Effect.void, { lock: true }), store.layer)))
  })
})

// The same workloads on the shared stores, across real round trips.
const run = randomBytes(6).toString("hex")

interface Shared {
  readonly title: string
  readonly service: ServiceName
  readonly layer: () => Layer.Layer<SessionStore, unknown>
  /** `lifecycle.test.ts` already races a logout against a slow write on this store */
  readonly logoutRaceCovered: boolean
  readonly cleanup?: Effect.Effect<void, unknown>
}

const sqlShared = (title: string, service: ServiceName, client: () => Layer.Layer<SqlClient.SqlClient, unknown>) => {
  const table = `e4_concurrency_${service}_${run}`
  return {
    title,
    service,
    layer: () => SqlStore.layer({ table, ensureTable: true, timeout: "20 seconds" }).pipe(Layer.provide(client())),
    logoutRaceCovered: false,
    cleanup: Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE IF EXISTS ${sql(table)}`
      yield* sql`DROP TABLE IF EXISTS ${sql(`${table}_locks`)}`
    }).pipe(Effect.provide(client()))
  } satisfies Shared
}

const shared: ReadonlyArray<Shared> = [
  {
    title: "RedisStore",
    service: "redis",
    layer: () =>
      RedisStore.layerWith(NodeRedis.layer({ url: SERVICES.redis.url }), {
        prefix: `e4concurrency:${run}:`,
        commandTimeout: "20 seconds"
      }),
    logoutRaceCovered: true
  },
  sqlShared("SqlStore on PostgreSQL", "postgres", () => PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) })),
  sqlShared("SqlStore on MariaDB", "mysql", () => MysqlClient.layer({ url: Redacted.make(SERVICES.mysql.url) }))
]

for (const store of shared) {
  await describeWith(store.service, `concurrent requests on one session (${store.title})`, () => {
    if (store.cleanup !== undefined) {
      const cleanup = store.cleanup
      afterAll(() => Effect.runPromise(Effect.ignore(cleanup)), 30_000)
    }

    it.effect(
      `${N} requests incrementing different keys and then ${N} the same key: nothing lost`,
      () =>
        Effect.gen(function*() {
          const different = yield* makeBarrier(N)
          const same = yield* makeBarrier(N)
          const phase = yield* Ref.make<"different" | "same">("different")
          const barrier = Effect.flatMap(Ref.get(phase), (p) => p === "different" ? different.arrive : same.arrive)
          yield* Effect.gen(function*() {
            const jar = yield* login
            const first = yield* concurrentIncrements(jar, N, (i) => `k${i}`)
            expect(first.filter((r) => r.status !== 200)).toEqual([])
            const all = yield* readAll(jar)
            expect(Object.keys(all).filter((k) => k.startsWith("k"))).toHaveLength(N)
            expect(Array.from({ length: N }, (_, i) => all[`k${i}`]).filter((v) => v !== 1)).toEqual([])
            yield* Ref.set(phase, "same")
            const second = yield* concurrentIncrements(jar, N, () => "n")
            expect(second.filter((r) => r.status !== 200)).toEqual([])
            expect(new Set(second.map((r) => r.body))).toEqual(new Set(["1"]))
            expect((yield* readAll(jar)).n).toBe(N)
          }).pipe(Effect.provide(serveWith(workload(barrier), Layer.orDie(store.layer()))))
        }),
      // 400 saves on one row queue behind its row lock: seconds on two busy cores
      120_000
    )

    if (!store.logoutRaceCovered) {
      it.effect(
        "a logout racing a slow write: the session stays destroyed, the slow request sends no cookie",
        () =>
          Effect.gen(function*() {
            const barrier = yield* makeBarrier(2)
            const loaded = yield* Deferred.make<void>()
            yield* Effect.gen(function*() {
              const jar = yield* login
              const cookie = jar.value
              const slow = yield* Effect.forkChild(tab(cookie).get("/slow"))
              yield* Deferred.await(loaded)
              const logout = yield* tab(cookie).post("/logout")
              expect(logout.setCookie).toMatch(/Max-Age=0/i)
              yield* barrier.arrive
              const late = yield* Fiber.join(slow)
              expect(late.status).toBe(200)
              // neither re-created nor cleared (clearing would log the browser out of a newer session)
              expect(late.setCookie).toBeUndefined()
              expect((yield* tab(cookie).get("/me")).body).toBe("")
            }).pipe(
              Effect.provide(
                serveWith(workload(barrier.arrive, {}, Deferred.succeed(loaded, undefined)), Layer.orDie(store.layer()))
              )
            )
          }),
        60_000
      )
    }
  })
}
