/**
 * Lifecycle operations win over slower requests, through real HTTP, on the memory store, Redis,
 * PostgreSQL and MariaDB. Interleaving is forced: the slow request says once it has loaded its
 * session, waits at a gate while the test runs the racing request, then saves. Time is `TestClock`'s.
 *
 * `lifecycle.test.ts` runs the first races (a slow write or renewal after a login, logout against a
 * regenerate in flight, a slow logout after a login) on the memory store and Redis: here they run on
 * the SQL stores only, and what it does not cover runs on every store.
 */
import { NodeRedis } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { Id } from "effect-session-core"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import * as SqlStore from "effect-session-v4/SqlStore"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as SqlClient from "effect/sql/SqlClient"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { makeJar, type Reply, serveWith } from "./utils/http.js"
import * as MysqlClient from "./utils/mysqlClient.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"

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
type Gate = Effect.Success<typeof makeGate>

const text = (s: string) => HttpServerResponse.text(s)

const routes = (gate: Gate, options: Session.Options) =>
  Layer.mergeAll(
    HttpRouter.add("POST", "/guest", Effect.as(Session.put("cart", ["A-1"]), text("guest"))),
    HttpRouter.add(
      "POST",
      "/login",
      Effect.as(Effect.andThen(Session.regenerate, Session.put("user", "ada")), text("in"))
    ),
    HttpRouter.add(
      "POST",
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
    HttpRouter.add("POST", "/logout", Effect.as(Session.destroy, text("bye"))),
    HttpRouter.add("POST", "/invalidate", Effect.as(Session.invalidate, text("bye"))),
    HttpRouter.add("POST", "/flush", Effect.as(Session.flush, text("flushed"))),
    HttpRouter.add("GET", "/me", Effect.map(Session.getString("user"), text)),
    HttpRouter.add(
      "GET",
      "/slow-write",
      Effect.gen(function*() {
        yield* Session.put("seen", true)
        yield* gate.loaded
        yield* gate.proceed
        return text("slow")
      })
    ),
    HttpRouter.add(
      "GET",
      "/slow-read",
      Effect.gen(function*() {
        const user = yield* Session.getString("user")
        yield* gate.loaded
        yield* gate.proceed
        return text(user)
      })
    ),
    HttpRouter.add(
      "GET",
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
    HttpRouter.add(
      "GET",
      "/slow-logout",
      Effect.gen(function*() {
        yield* Session.getString("user")
        yield* gate.loaded
        yield* gate.proceed
        yield* Session.destroy
        return text("bye")
      })
    )
  ).pipe(Layer.provide(Session.middleware({ insecure: true, ...options }).layer))

const maxAge = (reply: Reply) => Number(/max-age=(\d+)/i.exec(reply.setCookie ?? "")?.[1])

/** A jar that holds `value`: another tab, a stolen copy, a request still carrying an old cookie. */
const jarWith = (value: string | undefined) => {
  const jar = makeJar()
  jar.set(value)
  return jar
}

const run = randomBytes(6).toString("hex")

interface Store {
  readonly title: string
  /** the server it needs; `undefined`: none */
  readonly service: ServiceName | undefined
  readonly layer: () => Layer.Layer<SessionStore, unknown>
  /** `lifecycle.test.ts` already runs the first races on this store */
  readonly racedInLifecycle: boolean
  /** drops what the store left on its server */
  readonly cleanup?: Effect.Effect<void, unknown>
}

const sqlStore = (title: string, service: ServiceName, client: () => Layer.Layer<SqlClient.SqlClient, unknown>) => {
  const table = `e4_races_${service}_${run}`
  return {
    title,
    service,
    layer: () => SqlStore.layer({ table, ensureTable: true }).pipe(Layer.provide(client())),
    racedInLifecycle: false,
    cleanup: Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE IF EXISTS ${sql(table)}`
      yield* sql`DROP TABLE IF EXISTS ${sql(`${table}_locks`)}`
    }).pipe(Effect.provide(client()))
  } satisfies Store
}

const stores: ReadonlyArray<Store> = [
  { title: "MemoryStore", service: undefined, layer: () => MemoryStore.layer(), racedInLifecycle: true },
  {
    title: "RedisStore",
    service: "redis",
    layer: () => RedisStore.layerWith(NodeRedis.layer({ url: SERVICES.redis.url }), { prefix: `e4races:${run}:` }),
    racedInLifecycle: true
  },
  sqlStore("SqlStore on PostgreSQL", "postgres", () => PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) })),
  sqlStore("SqlStore on MariaDB", "mysql", () => MysqlClient.layer({ url: Redacted.make(SERVICES.mysql.url) }))
]

const suite = (store: Store) => () => {
  if (store.cleanup !== undefined) {
    const cleanup = store.cleanup
    afterAll(() => Effect.runPromise(Effect.ignore(cleanup)), 30_000)
  }

  /** Runs `body` against a server with these options, on a fresh store; `SessionStore` is reachable. */
  const withServer = <A, E, R>(options: Session.Options, body: (gate: Gate) => Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const gate = yield* makeGate
      return yield* body(gate).pipe(Effect.provide(serveWith(routes(gate, options), Layer.orDie(store.layer()))))
    })

  if (!store.racedInLifecycle) {
    it.effect("a request started before login and saving after it sends no cookie (write)", () =>
      withServer({}, (gate) =>
        Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.post("/guest")
          const slow = yield* Effect.forkChild(jarWith(jar.value).get("/slow-write"))
          yield* gate.awaitLoaded
          const login = yield* jar.post("/login")
          expect(login.setCookie).toBeDefined()
          yield* gate.release
          const late = yield* Fiber.join(slow)
          expect(late.status).toBe(200)
          // no Max-Age=0 arriving after the login response: the browser stays logged in
          expect(late.setCookie).toBeUndefined()
          expect((yield* jar.get("/me")).body).toBe("ada")
        })))

    it.effect("… and a read-only one whose renewal is due sends none either", () =>
      withServer({ touchAfter: 0 }, (gate) =>
        Effect.gen(function*() {
          const jar = makeJar()
          yield* jar.post("/guest")
          const slow = yield* Effect.forkChild(jarWith(jar.value).get("/slow-read"))
          yield* gate.awaitLoaded
          yield* jar.post("/login")
          yield* TestClock.adjust(Duration.seconds(1))
          yield* gate.release
          expect((yield* Fiber.join(slow)).setCookie).toBeUndefined()
          expect((yield* jar.get("/me")).body).toBe("ada")
        })))

    for (const grace of [undefined, "1 minute"] as const) {
      it.effect(
        `logout wins over a regenerate in flight${grace ? ` (regenerateGrace ${grace})` : ""}: nothing comes back`,
        () =>
          withServer(grace ? { regenerateGrace: grace } : {}, (gate) =>
            Effect.gen(function*() {
              const jar = makeJar()
              yield* jar.post("/login")
              const old = jar.value
              // a stolen copy of the cookie, and a slow request about to regenerate
              const slow = yield* Effect.forkChild(jarWith(old).get("/slow-regenerate"))
              yield* gate.awaitLoaded
              const logout = yield* jar.post("/logout")
              expect(logout.setCookie).toMatch(/Max-Age=0/i)
              yield* gate.release
              const late = yield* Fiber.join(slow)
              expect(late.status).toBe(200)
              // no new ID for the logged-out session …
              expect(late.setCookie).toBeUndefined()
              // … and the old ID stays dead
              expect((yield* jarWith(old).get("/me")).body).toBe("")
            }))
      )
    }
  }

  // lifecycle.test.ts runs the no-grace case on the memory store and Redis, without looking at the store
  for (const grace of store.racedInLifecycle ? ["1 minute"] as const : [undefined, "1 minute"] as const) {
    it.effect(
      `a slow logout after another request logged in${
        grace ? ` (regenerateGrace ${grace})` : ""
      } never deletes the newer cookie, and leaves the old ID ${grace ? "to its grace" : "gone"}`,
      () =>
        withServer(grace ? { regenerateGrace: grace } : {}, (gate) =>
          Effect.gen(function*() {
            const jar = makeJar()
            yield* jar.post("/guest")
            const guestId = jar.value!
            // loaded before the login, logs out after it
            const slow = yield* Effect.forkChild(jarWith(guestId).get("/slow-logout"))
            yield* gate.awaitLoaded
            const login = yield* jar.post("/login")
            expect(login.setCookie).toBeDefined()
            yield* gate.release
            const late = yield* Fiber.join(slow)
            expect(late.status).toBe(200)
            // no Max-Age=0 arriving after the login response: the browser stays logged in …
            expect(late.setCookie).toBeUndefined()
            expect((yield* jar.get("/me")).body).toBe("ada")
            // … and the retired old ID is left to its grace (read-only, never the new session)
            const oldRecord = yield* SessionStore.use((s) => s.read(Session.storageKey(guestId)))
            expect(Option.isSome(oldRecord)).toBe(grace !== undefined)
          }))
    )
  }

  it.effect("a slow logout after another request's logout sends no cookie and leaves the session gone", () =>
    withServer({}, (gate) =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.post("/login")
        const old = jar.value
        const slow = yield* Effect.forkChild(jarWith(old).get("/slow-logout"))
        yield* gate.awaitLoaded
        const logout = yield* jar.post("/logout")
        expect(logout.setCookie).toMatch(/Max-Age=0/i)
        yield* gate.release
        const late = yield* Fiber.join(slow)
        expect(late.status).toBe(200)
        // the session was no longer this request's to end: the browser may hold a newer cookie by now
        expect(late.setCookie).toBeUndefined()
        expect((yield* jarWith(old).get("/me")).body).toBe("")
        expect(Option.isNone(yield* SessionStore.use((s) => s.read(Session.storageKey(old!))))).toBe(true)
      })))

  it.effect("a logout with an old ID within regenerateGrace sends no cookie and leaves the new session", () =>
    withServer({ regenerateGrace: "1 minute" }, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.post("/guest")
        const old = jar.value
        yield* jar.post("/login")
        expect(jar.value).not.toBe(old)
        // a request still carrying the old cookie logs out after the login rotated it
        const late = yield* jarWith(old).post("/logout")
        expect(late.status).toBe(200)
        expect(late.setCookie).toBeUndefined()
        expect((yield* jar.get("/me")).body).toBe("ada")
      })))

  it.effect("an old ID serves reads within regenerateGrace, never renews, never comes back, and ends with it", () =>
    withServer({ regenerateGrace: "3 seconds", touchAfter: 0 }, (gate) =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.post("/login")
        const old = jar.value
        // loaded before the rotation, saves (a due renewal) after it
        const slow = yield* Effect.forkChild(jarWith(old).get("/slow-read"))
        yield* gate.awaitLoaded
        const rotated = yield* jar.post("/login")
        expect(rotated.setCookie).toBeDefined()
        expect(jar.value).not.toBe(old)
        yield* TestClock.adjust(Duration.seconds(1))
        yield* gate.release
        const late = yield* Fiber.join(slow)
        expect(late.body).toBe("ada")
        expect(late.setCookie).toBeUndefined() // the old cookie is not re-issued
        // within the grace: the old ID still reads, and still sets no cookie
        const within = yield* jarWith(old).get("/me")
        expect(within.body).toBe("ada")
        expect(within.setCookie).toBeUndefined()
        // past it (3 s after the rotation), whatever the slow request did: gone
        yield* TestClock.adjust(Duration.millis(2000))
        expect((yield* jarWith(old).get("/me")).body).toBe("")
        expect((yield* jar.get("/me")).body).toBe("ada")
      })))

  it.effect("invalidate after \"remember me\": the next session has the middleware's lifetimes", () =>
    withServer({ ttl: "2 hours", absoluteTimeout: "12 hours" }, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        expect(maxAge(yield* jar.post("/remember"))).toBe(30 * 24 * 3600)
        yield* TestClock.adjust(Duration.hours(11))
        expect(maxAge(yield* jar.post("/invalidate"))).toBe(2 * 3600)
        // the next user logs in without "remember me" …
        expect(maxAge(yield* jar.post("/login"))).toBe(2 * 3600)
        // … and the absolute timeout counts from the new session's start, not the old login
        yield* TestClock.adjust(Duration.minutes(90))
        expect((yield* jar.get("/me")).body).toBe("ada")
      })))

  it.effect("flush resets per-session lifetimes and the creation time too", () =>
    withServer({ ttl: "2 hours", absoluteTimeout: "12 hours" }, () =>
      Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.post("/remember")
        yield* TestClock.adjust(Duration.hours(11))
        expect(maxAge(yield* jar.post("/flush"))).toBe(2 * 3600)
        expect(maxAge(yield* jar.post("/login"))).toBe(2 * 3600)
        yield* TestClock.adjust(Duration.minutes(90))
        expect((yield* jar.get("/me")).body).toBe("ada")
      })))

  // decorator.test.ts hands the middleware a far-future creation time and a negative lifetime
  // through a decorator; these are records as the stores themselves keep them
  const absurd: ReadonlyArray<readonly [string, (now: number) => Record<string, unknown>]> = [
    ["an idle lifetime of 1e300", (now) => ({ c: now, r: now, l: 1e300 })],
    ["an absolute lifetime of 1e300", (now) => ({ c: now, r: now, a: 1e300 })],
    ["a negative lifetime", (now) => ({ c: now, r: now, l: -5000 })],
    ["a creation time a day in the future", (now) => ({ c: now + 86_400_000, r: now + 86_400_000 })]
  ]
  for (const [title, meta] of absurd) {
    it.effect(`a stored record with ${title} is corrupt: discarded, never a 5xx`, () =>
      withServer({}, () =>
        Effect.gen(function*() {
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const id = Id.generate()
          yield* SessionStore.use((s) =>
            s.write(Session.storageKey(id), { user: "mallory", __session: meta(now) }, Duration.minutes(5))
          )
          for (let i = 0; i < 2; i++) {
            const reply = yield* jarWith(id).get("/me")
            expect(reply.status).toBe(200)
            expect(reply.body).toBe("")
          }
        })))
  }
}

for (const store of stores) {
  const title = `lifecycle races (${store.title})`
  if (store.service === undefined) describe(title, suite(store))
  else await describeWith(store.service, title, suite(store))
}
