/**
 * Parity of the two lines (effect 3 / effect 4): the same scenarios on the memory, Redis and PostgreSQL stores. Each test records what a user
 * sees (status, session Set-Cookie with IDs normalised, Cache-Control, stored record layout,
 * accessor results and errors) and compares it with the same inline snapshot on both lines.
 * Twin: test/parity.stores.test.ts (identical body below the harness).
 */
import { NodeRedis } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Option, Redacted } from "effect"
import { Id } from "effect-session-core"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import * as SqlStore from "effect-session-v4/SqlStore"
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerResponse } from "effect/http"
import * as SqlClient from "effect/sql/SqlClient"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { serveWith } from "./utils/http.js"
import { browserWith, type Normaliser, normaliser } from "./utils/parity.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"

const COOKIE = "lagodev_session"

let step: Effect.Effect<unknown, unknown, Session | SessionStore> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const routes = (options: Session.Options) =>
  Layer.mergeAll(
    HttpRouter.add(
      "*",
      "/",
      Effect.suspend(() => step).pipe(
        Effect.exit,
        Effect.map((exit) => {
          outcome = exit
          return HttpServerResponse.text("ok")
        })
      )
    ),
    HttpRouter.add("POST", "/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
  ).pipe(Layer.provide(Session.middleware(options).layer))

const withServer =
  (options: Session.Options = {}, store: Layer.Layer<SessionStore, unknown> = MemoryStore.layer()) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(serveWith(routes(options), store)))

const adjust = (d: string) => TestClock.adjust(d as Duration.Input)
const readStore = (id: string) =>
  SessionStore.use((store) => Effect.result(store.read(Id.storageKey(id))))
    .pipe(Effect.map((r) => r._tag === "Success" ? Option.getOrUndefined(r.success) : { storeError: r.failure._tag }))

const sendRaw = (method: "GET" | "POST" | "HEAD", path: string, cookie: string | undefined) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let req = HttpClientRequest.make(method)(path)
    if (cookie !== undefined) req = HttpClientRequest.setHeader(req, "cookie", `${COOKIE}=${cookie}`)
    const response = yield* client.execute(req)
    const body = method === "HEAD" ? "" : yield* response.text
    const raw = response.headers["set-cookie"] as unknown
    const lines = raw === undefined
      ? []
      : Array.isArray(raw)
      ? raw as Array<string>
      : String(raw).split(/,(?=\s*[^;,=\s]+=)/)
    return {
      status: response.status,
      body,
      setCookie: lines.map((l) => l.trim()).filter((l) => l.startsWith(`${COOKIE}=`)),
      headers: response.headers as Record<string, string | undefined>
    }
  }).pipe(Effect.orDie)

const run = randomBytes(4).toString("hex")
const POSTGRES_URL = SERVICES.postgres.url
/** Tables this file creates, dropped (with their lock tables) when it ends; Redis keys expire by themselves. */
const tables: Array<string> = []
const newTable = () => {
  const table = `parity_${run}_${randomBytes(4).toString("hex")}`
  tables.push(table)
  return table
}
afterAll(() =>
  tables.length === 0 ? Promise.resolve() : Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.forEach(tables, (table) =>
        Effect.andThen(
          sql.unsafe(`DROP TABLE IF EXISTS "${table}"`),
          sql.unsafe(`DROP TABLE IF EXISTS "${table}_locks"`)
        ), { discard: true })).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(POSTGRES_URL) })),
        Effect.scoped
      )
  )
)
/** The stores under test (a fresh prefix / table per test; Redis and PostgreSQL on loopback). */
const STORES: ReadonlyArray<readonly [string, () => Layer.Layer<SessionStore, unknown>, ServiceName?]> = [
  ["memory", () => MemoryStore.layer()],
  ["redis", () =>
    RedisStore.layerWith(NodeRedis.layer({ url: "redis://127.0.0.1:6379" }), {
      prefix: `parity:${run}:${randomBytes(4).toString("hex")}:`
    }), "redis"],
  ["postgres", () =>
    SqlStore.layer({ table: newTable(), ensureTable: true }).pipe(
      Layer.provide(PgClient.layer({ url: Redacted.make(POSTGRES_URL) }))
    ), "postgres"]
]
// ---------------------------------------------------------------------------------------------
// Everything below is identical on both lines.
// ---------------------------------------------------------------------------------------------

/** A browser with one session cookie (utils/parity.ts), whose requests run `step`. */
const browser = (n: Normaliser) =>
  browserWith(
    n,
    (effect: Effect.Effect<unknown, unknown, Session | SessionStore>, method, path, cookie) =>
      Effect.suspend(() => {
        step = effect
        outcome = undefined
        return Effect.map(sendRaw(method, path, cookie), (reply) => ({ reply, exit: outcome }))
      })
  )

const stored = (n: Normaliser, id: string | undefined) =>
  id === undefined ? Effect.succeed("no cookie") : Effect.map(readStore(id), n.plain)

const get = (k: string) => Session.getOption(k)

for (const [storeName, storeLayer, service] of STORES) {
  const title = `parity stores (${storeName}): expiry, renewal, rotation`
  await (service === undefined ? Promise.resolve(describe(title, body)) : describeWith(service, title, body))
  function body() {
    it.effect("idle ttl, touchAfter renewal, writes between renewals, expiry exactly at ttl", () =>
      withServer({ ttl: "10 minutes" }, storeLayer())(Effect.gen(function*() {
        const n = normaliser()
        const b = browser(n)
        const log: Array<unknown> = []
        log.push(["t=0 put", yield* b.run(Session.put("user", "ada")), yield* stored(n, b.cookie)])
        yield* adjust("61 seconds")
        log.push(["t=61s read (renewal due)", yield* b.run(get("user")), yield* stored(n, b.cookie)])
        yield* adjust("10 seconds")
        log.push(["t=71s write", yield* b.run(Session.put("x", 1)), yield* stored(n, b.cookie)])
        yield* adjust("599999 millis")
        const id = b.cookie
        log.push(["t=670.999s store", yield* stored(n, id)])
        yield* adjust("1 millis")
        log.push(["t=671s store", yield* stored(n, id)])
        log.push(["t=671s read", yield* b.run(get("user"))])
        expect(log).toMatchInlineSnapshot(`
          [
            [
              "t=0 put",
              {
                "cacheControl": "no-store",
                "result": {
                  "ok": undefined,
                },
                "retryAfter": undefined,
                "setCookie": [
                  "lagodev_session=<ID1>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
                ],
                "status": 200,
              },
              {
                "__session": {
                  "c": 0,
                  "r": 0,
                },
                "user": "ada",
              },
            ],
            [
              "t=61s read (renewal due)",
              {
                "cacheControl": "no-store",
                "result": {
                  "ok": {
                    "some": "ada",
                  },
                },
                "retryAfter": undefined,
                "setCookie": [
                  "lagodev_session=<ID1>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
                ],
                "status": 200,
              },
              {
                "__session": {
                  "c": 0,
                  "r": 61000,
                },
                "user": "ada",
              },
            ],
            [
              "t=71s write",
              {
                "cacheControl": undefined,
                "result": {
                  "ok": undefined,
                },
                "retryAfter": undefined,
                "setCookie": [],
                "status": 200,
              },
              {
                "__session": {
                  "c": 0,
                  "r": 61000,
                },
                "user": "ada",
                "x": 1,
              },
            ],
            [
              "t=670.999s store",
              {
                "__session": {
                  "c": 0,
                  "r": 61000,
                },
                "user": "ada",
                "x": 1,
              },
            ],
            [
              "t=671s store",
              undefined,
            ],
            [
              "t=671s read",
              {
                "cacheControl": undefined,
                "result": {
                  "ok": "none",
                },
                "retryAfter": undefined,
                "setCookie": [],
                "status": 200,
              },
            ],
          ]
        `)
      })))

    it.effect("regenerate with grace, flash, increment, destroy", () =>
      withServer({ regenerateGrace: "30 seconds", ttl: "10 minutes" }, storeLayer())(Effect.gen(function*() {
        const n = normaliser()
        const b = browser(n)
        const log: Array<unknown> = []
        log.push([
          "put+flash+token",
          yield* b.run(
            Effect.all([Session.put("user", "ada"), Session.flash("f", 1), Session.token, Session.increment("n", 2)])
          ),
          yield* stored(n, b.cookie)
        ])
        const oldId = b.cookie
        log.push(["regenerate", yield* b.run(Effect.andThen(Session.regenerate, Session.all))])
        log.push(["old record", yield* stored(n, oldId)])
        log.push(["new record", yield* stored(n, b.cookie)])
        const old = browser(n)
        old.cookie = oldId
        log.push(["old ID read", yield* old.run(Effect.all([get("user"), Session.isNew]))])
        log.push(["old ID write", yield* old.run(Session.put("x", 1))])
        yield* adjust("30 seconds")
        log.push(["old ID after grace", yield* old.run(get("user")), yield* stored(n, oldId)])
        log.push([
          "increment+forget",
          yield* b.run(Effect.all([Session.increment("n"), Session.forget("user")])),
          yield* stored(n, b.cookie)
        ])
        const id = b.cookie
        log.push(["destroy", yield* b.run(Session.destroy), yield* stored(n, id)])
        expect(log).toMatchInlineSnapshot(`
          [
            [
              "put+flash+token",
              {
                "cacheControl": "no-store",
                "result": {
                  "ok": [
                    undefined,
                    undefined,
                    "<ID1>",
                    2,
                  ],
                },
                "retryAfter": undefined,
                "setCookie": [
                  "lagodev_session=<ID2>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
                ],
                "status": 200,
              },
              {
                "__session": {
                  "c": 0,
                  "r": 0,
                },
                "__session.flash": {
                  "old": [
                    "f",
                  ],
                },
                "__session.token": "<ID1>",
                "f": 1,
                "n": 2,
                "user": "ada",
              },
            ],
            [
              "regenerate",
              {
                "cacheControl": "no-store",
                "result": {
                  "ok": {
                    "f": 1,
                    "n": 2,
                    "user": "ada",
                  },
                },
                "retryAfter": undefined,
                "setCookie": [
                  "lagodev_session=<ID3>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
                ],
                "status": 200,
              },
            ],
            [
              "old record",
              {
                "__session": {
                  "c": 0,
                  "r": 0,
                },
                "__session.flash": {
                  "old": [
                    "f",
                  ],
                },
                "__session.retired": 30000,
                "__session.token": "<ID1>",
                "f": 1,
                "n": 2,
                "user": "ada",
              },
            ],
            [
              "new record",
              {
                "__session": {
                  "c": 0,
                  "r": 0,
                },
                "__session.token": "<ID4>",
                "n": 2,
                "user": "ada",
              },
            ],
            [
              "old ID read",
              {
                "cacheControl": undefined,
                "result": {
                  "ok": [
                    {
                      "some": "ada",
                    },
                    false,
                  ],
                },
                "retryAfter": undefined,
                "setCookie": [],
                "status": 200,
              },
            ],
            [
              "old ID write",
              {
                "cacheControl": undefined,
                "result": {
                  "ok": undefined,
                },
                "retryAfter": undefined,
                "setCookie": [],
                "status": 200,
              },
            ],
            [
              "old ID after grace",
              {
                "cacheControl": undefined,
                "result": {
                  "ok": "none",
                },
                "retryAfter": undefined,
                "setCookie": [],
                "status": 200,
              },
              undefined,
            ],
            [
              "increment+forget",
              {
                "cacheControl": undefined,
                "result": {
                  "ok": [
                    3,
                    undefined,
                  ],
                },
                "retryAfter": undefined,
                "setCookie": [],
                "status": 200,
              },
              {
                "__session": {
                  "c": 0,
                  "r": 0,
                },
                "__session.token": "<ID4>",
                "n": 3,
              },
            ],
            [
              "destroy",
              {
                "cacheControl": "no-store",
                "result": {
                  "ok": undefined,
                },
                "retryAfter": undefined,
                "setCookie": [
                  "lagodev_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
                ],
                "status": 200,
              },
              undefined,
            ],
          ]
        `)
      })))

    it.effect("ttl 0 middleware: records take the store's default TTL (2 hours)", () =>
      withServer({ ttl: 0 }, storeLayer())(Effect.gen(function*() {
        const n = normaliser()
        const b = browser(n)
        const log: Array<unknown> = []
        log.push(["put", yield* b.run(Session.put("user", "ada"))])
        const id = b.cookie
        yield* adjust("7199999 millis")
        log.push(["just before 2h", yield* stored(n, id)])
        yield* adjust("1 millis")
        log.push(["at 2h", yield* stored(n, id)])
        expect(log).toMatchInlineSnapshot(`
          [
            [
              "put",
              {
                "cacheControl": "no-store",
                "result": {
                  "ok": undefined,
                },
                "retryAfter": undefined,
                "setCookie": [
                  "lagodev_session=<ID1>; Path=/; HttpOnly; Secure; SameSite=Lax",
                ],
                "status": 200,
              },
            ],
            [
              "just before 2h",
              {
                "__session": {
                  "c": 0,
                  "r": 0,
                },
                "user": "ada",
              },
            ],
            [
              "at 2h",
              undefined,
            ],
          ]
        `)
      })))
  }
}
