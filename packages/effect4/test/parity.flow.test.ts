/**
 * Parity of the two lines (effect 3 / effect 4): request flow, expiry, HEAD, lifecycle, flash, accessors. Each test records what a user
 * sees (status, session Set-Cookie with IDs normalised, Cache-Control, stored record layout,
 * accessor results and errors) and compares it with the same inline snapshot on both lines.
 * Twin: test/parity.flow.test.ts (identical body below the harness).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Option } from "effect"
import { Id } from "effect-session-core"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { serveWith } from "./utils/http.js"
import { browserWith, type Normaliser, normaliser } from "./utils/parity.js"

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
    if (method !== "HEAD") yield* response.text
    const raw = response.headers["set-cookie"] as unknown
    const lines = raw === undefined
      ? []
      : Array.isArray(raw)
      ? raw as Array<string>
      : String(raw).split(/,(?=\s*[^;,=\s]+=)/)
    return {
      status: response.status,
      setCookie: lines.map((l) => l.trim()).filter((l) => l.startsWith(`${COOKIE}=`)),
      headers: response.headers as Record<string, string | undefined>
    }
  }).pipe(Effect.orDie)
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

describe("parity flow: expiry and renewal (TestClock)", () => {
  it.effect("idle ttl, touchAfter renewal, writes between renewals, expiry exactly at ttl", () =>
    withServer({ ttl: "10 minutes" })(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["t=0 put", yield* b.run(Session.put("user", "ada")), yield* stored(n, b.cookie)])
      yield* adjust("30 seconds")
      log.push(["t=30s read", yield* b.run(get("user")), yield* stored(n, b.cookie)])
      yield* adjust("31 seconds")
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
            "t=30s read",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "some": "ada",
                },
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

  it.effect("absolute timeout caps Max-Age and the record TTL; no adoption at the limit", () =>
    withServer({ ttl: "10 minutes", absoluteTimeout: "25 minutes" })(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["t=0 put", yield* b.run(Session.put("user", "ada"))])
      for (const t of [5, 10, 15, 20]) {
        yield* adjust("5 minutes")
        log.push([`t=${t}m read`, yield* b.run(get("user")), yield* stored(n, b.cookie)])
      }
      yield* adjust("4 minutes")
      log.push(["t=24m write", yield* b.run(Session.put("x", 1)), yield* stored(n, b.cookie)])
      yield* adjust("1 minutes")
      const id = b.cookie
      log.push(["t=25m read", yield* b.run(get("user")), yield* stored(n, id)])
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
          ],
          [
            "t=5m read",
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
                "r": 300000,
              },
              "user": "ada",
            },
          ],
          [
            "t=10m read",
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
                "r": 600000,
              },
              "user": "ada",
            },
          ],
          [
            "t=15m read",
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
                "r": 900000,
              },
              "user": "ada",
            },
          ],
          [
            "t=20m read",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": {
                  "some": "ada",
                },
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID1>; Max-Age=300; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "c": 0,
                "r": 1200000,
              },
              "user": "ada",
            },
          ],
          [
            "t=24m write",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID1>; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "c": 0,
                "r": 1440000,
              },
              "user": "ada",
              "x": 1,
            },
          ],
          [
            "t=25m read",
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
        ]
      `)
    })))

  it.effect("ttl 0: browser-session cookie, record with the store's default TTL", () =>
    withServer({ ttl: 0 }, MemoryStore.layer({ ttl: "1 hour" }))(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["put", yield* b.run(Session.put("user", "ada")), yield* stored(n, b.cookie)])
      yield* adjust("61 seconds")
      log.push(["read after touchAfter", yield* b.run(get("user")), yield* stored(n, b.cookie)])
      yield* adjust("1 hour")
      log.push(["read after store ttl", yield* b.run(get("user"))])
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
            {
              "__session": {
                "c": 0,
                "r": 0,
              },
              "user": "ada",
            },
          ],
          [
            "read after touchAfter",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "some": "ada",
                },
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
            },
          ],
          [
            "read after store ttl",
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
})

describe("parity flow: HEAD", () => {
  it.effect("HEAD creates nothing; HEAD on an existing session saves changes and renews", () =>
    withServer({ ttl: "10 minutes" })(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["HEAD put, no session", yield* b.run(Session.put("a", 1), "HEAD"), b.cookie ?? "no cookie"])
      log.push(["POST put", yield* b.run(Session.put("a", 1))])
      log.push(["HEAD put", yield* b.run(Session.put("b", 2), "HEAD"), yield* stored(n, b.cookie)])
      yield* adjust("2 minutes")
      log.push(["HEAD read, renewal due", yield* b.run(get("a"), "HEAD"), yield* stored(n, b.cookie)])
      log.push(["HEAD flash", yield* b.run(Session.flash("f", 1), "HEAD"), yield* stored(n, b.cookie)])
      log.push(["HEAD regenerate", yield* b.run(Session.regenerate, "HEAD"), yield* stored(n, b.cookie)])
      log.push(["HEAD destroy", yield* b.run(Session.destroy, "HEAD"), b.cookie ?? "no cookie"])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "HEAD put, no session",
            {
              "cacheControl": undefined,
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            "no cookie",
          ],
          [
            "POST put",
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
          ],
          [
            "HEAD put",
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
                "r": 0,
              },
              "a": 1,
              "b": 2,
            },
          ],
          [
            "HEAD read, renewal due",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": {
                  "some": 1,
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
                "r": 120000,
              },
              "a": 1,
              "b": 2,
            },
          ],
          [
            "HEAD flash",
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
                "r": 120000,
              },
              "__session.flash": {
                "old": [
                  "f",
                ],
              },
              "a": 1,
              "b": 2,
              "f": 1,
            },
          ],
          [
            "HEAD regenerate",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
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
                "r": 120000,
              },
              "a": 1,
              "b": 2,
            },
          ],
          [
            "HEAD destroy",
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
            "no cookie",
          ],
        ]
      `)
    })))
})

describe("parity flow: lifecycle operations", () => {
  it.effect("destroy, with domain/path/sameSite options", () =>
    withServer({ domain: "example.com", path: "/app", sameSite: "strict", cookieName: COOKIE })(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["put", yield* b.run(Session.put("user", "ada"))])
      const id = b.cookie
      log.push(["destroy", yield* b.run(Session.destroy), yield* stored(n, id)])
      log.push(["destroy then put", yield* b.run(Effect.andThen(Session.destroy, Session.put("bye", true)))])
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
                "lagodev_session=<ID1>; Max-Age=7200; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Strict",
              ],
              "status": 200,
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
                "lagodev_session=; Max-Age=0; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Strict",
              ],
              "status": 200,
            },
            undefined,
          ],
          [
            "destroy then put",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=7200; Domain=example.com; Path=/app; HttpOnly; Secure; SameSite=Strict",
              ],
              "status": 200,
            },
          ],
        ]
      `)
    })))

  it.effect("regenerate with grace: the old ID is read-only until the grace ends", () =>
    withServer({ regenerateGrace: "30 seconds", ttl: "10 minutes" })(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["put", yield* b.run(Session.put("user", "ada"))])
      const oldId = b.cookie
      log.push(["regenerate", yield* b.run(Effect.andThen(Session.regenerate, Session.id))])
      log.push(["old record", yield* stored(n, oldId)])
      log.push(["new record", yield* stored(n, b.cookie)])
      const old = browser(n)
      old.cookie = oldId
      log.push(["old ID read", yield* old.run(Effect.all([get("user"), Session.isNew, Session.id]))])
      log.push(["old ID write", yield* old.run(Session.put("x", 1))])
      log.push(["old ID token", yield* old.run(Session.token)])
      log.push(["old ID destroy", yield* old.run(Session.destroy)])
      log.push(["old ID invalidate", yield* old.run(Session.invalidate)])
      log.push(["old ID regenerate+put", yield* old.run(Effect.andThen(Session.regenerate, Session.put("y", 1)))])
      yield* adjust("30 seconds")
      log.push(["old ID after grace", yield* old.run(get("user")), yield* stored(n, oldId)])
      log.push(["new ID after grace", yield* b.run(get("user"))])
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
                "lagodev_session=<ID1>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
          [
            "regenerate",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": "<ID2>",
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
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
              "__session.retired": 30000,
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
                  "<ID1>",
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
            "old ID token",
            {
              "cacheControl": undefined,
              "result": {
                "ok": "<ID3>",
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "old ID destroy",
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
            "old ID invalidate",
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
            "old ID regenerate+put",
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
            "new ID after grace",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "some": "ada",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
        ]
      `)
    })))

  it.effect("invalidate, flush, setLifetime, regenerateToken", () =>
    withServer({ ttl: "10 minutes", absoluteTimeout: "1 hour" })(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push(["put+token", yield* b.run(Effect.andThen(Session.put("user", "ada"), Session.token))])
      log.push([
        "setLifetime",
        yield* b.run(Session.setLifetime({ ttl: "30 days", absoluteTimeout: "90 days" })),
        yield* stored(n, b.cookie)
      ])
      yield* adjust("2 hours")
      log.push(["after 2h (past middleware absolute)", yield* b.run(get("user")), yield* stored(n, b.cookie)])
      log.push(["regenerateToken", yield* b.run(Effect.all([Session.token, Session.regenerateToken, Session.token]))])
      log.push(["flush", yield* b.run(Effect.andThen(Session.flush, Session.all)), yield* stored(n, b.cookie)])
      log.push(["put after flush", yield* b.run(Session.put("k", 1)), yield* stored(n, b.cookie)])
      const before = b.cookie
      log.push([
        "invalidate",
        yield* b.run(Effect.andThen(Session.invalidate, Effect.all([Session.isNew, Session.all]))),
        yield* stored(n, before),
        yield* stored(n, b.cookie)
      ])
      log.push([
        "invalidate+put",
        yield* b.run(Effect.andThen(Session.invalidate, Session.put("z", 1))),
        yield* stored(n, b.cookie)
      ])
      log.push(["setLifetime ttl 0", yield* b.run(Session.setLifetime({ ttl: 0 })), yield* stored(n, b.cookie)])
      log.push(["setLifetime bad", yield* b.run(Session.setLifetime({ ttl: 5 as never }))])
      log.push([
        "setLifetime absolute 0",
        yield* b.run(Session.setLifetime({ absoluteTimeout: 0 })),
        yield* stored(n, b.cookie)
      ])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "put+token",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": "<ID1>",
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
          [
            "setLifetime",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=2592000; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "a": 7776000000,
                "c": 0,
                "l": 2592000000,
                "r": 0,
              },
              "__session.token": "<ID1>",
              "user": "ada",
            },
          ],
          [
            "after 2h (past middleware absolute)",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": {
                  "some": "ada",
                },
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=2592000; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "a": 7776000000,
                "c": 0,
                "l": 2592000000,
                "r": 7200000,
              },
              "__session.token": "<ID1>",
              "user": "ada",
            },
          ],
          [
            "regenerateToken",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "<ID1>",
                  "<ID3>",
                  "<ID3>",
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "flush",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": {},
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "c": 7200000,
                "r": 7200000,
              },
            },
          ],
          [
            "put after flush",
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
                "c": 7200000,
                "r": 7200000,
              },
              "k": 1,
            },
          ],
          [
            "invalidate",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": [
                  false,
                  {},
                ],
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID4>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            undefined,
            {
              "__session": {
                "c": 7200000,
                "r": 7200000,
              },
            },
          ],
          [
            "invalidate+put",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID5>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "c": 7200000,
                "r": 7200000,
              },
              "z": 1,
            },
          ],
          [
            "setLifetime ttl 0",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID5>; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "c": 7200000,
                "l": 0,
                "r": 7200000,
              },
              "z": 1,
            },
          ],
          [
            "setLifetime bad",
            {
              "cacheControl": undefined,
              "result": {
                "fail": {
                  "_tag": "SessionConfigError",
                  "message": "ttl is a bare number (5), which would be read as milliseconds: use a Duration or a string such as "2 hours" (e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)); write Duration.millis(n) if you do mean milliseconds",
                  "option": "ttl",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "setLifetime absolute 0",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID5>; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            {
              "__session": {
                "c": 7200000,
                "l": 0,
                "r": 7200000,
              },
              "z": 1,
            },
          ],
        ]
      `)
    })))
})

describe("parity flow: flash ageing", () => {
  it.effect("flash, now, reflash, keep across requests", () =>
    withServer()(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      log.push([
        "flash a, now b",
        yield* b.run(Effect.all([Session.flash("a", 1), Session.now("b", 2), Session.all])),
        yield* stored(n, b.cookie)
      ])
      log.push(["next", yield* b.run(Session.all), yield* stored(n, b.cookie)])
      log.push(["next 2", yield* b.run(Session.all), yield* stored(n, b.cookie)])
      log.push(["flash c,d", yield* b.run(Effect.all([Session.flash("c", 1), Session.flash("d", 2)]))])
      log.push(["keep c", yield* b.run(Effect.andThen(Session.keep("c"), Session.all)), yield* stored(n, b.cookie)])
      log.push(["after keep", yield* b.run(Session.all)])
      log.push(["after keep 2", yield* b.run(Session.all)])
      log.push(["flash e", yield* b.run(Session.flash("e", 1))])
      log.push(["reflash", yield* b.run(Effect.andThen(Session.reflash, Session.all))])
      log.push(["after reflash", yield* b.run(Session.all)])
      log.push(["after reflash 2", yield* b.run(Session.all)])
      log.push(["flash then put same key", yield* b.run(Effect.andThen(Session.flash("f", 1), Session.put("f", 2)))])
      log.push(["next", yield* b.run(Session.all)])
      log.push(["next 2", yield* b.run(Session.all)])
      log.push([
        "flash then forget",
        yield* b.run(Effect.andThen(Session.flash("g", 1), Session.forget("g"))),
        yield* stored(n, b.cookie)
      ])
      log.push(["pull flashed", yield* b.run(Session.flash("h", 1))])
      log.push(["pull", yield* b.run(Session.pull("h")), yield* stored(n, b.cookie)])
      log.push(["flash in HEAD", yield* b.run(Session.flash("i", 1), "HEAD")])
      log.push(["after HEAD", yield* b.run(Session.all)])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "flash a, now b",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": [
                  undefined,
                  undefined,
                  {
                    "a": 1,
                    "b": 2,
                  },
                ],
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID1>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
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
                  "a",
                ],
              },
              "a": 1,
            },
          ],
          [
            "next",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "a": 1,
                },
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
            },
          ],
          [
            "next 2",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {},
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
            },
          ],
          [
            "flash c,d",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  undefined,
                  undefined,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "keep c",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "c": 1,
                  "d": 2,
                },
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
              "__session.flash": {
                "old": [
                  "c",
                ],
              },
              "c": 1,
            },
          ],
          [
            "after keep",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "c": 1,
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "after keep 2",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {},
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "flash e",
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
            "reflash",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "e": 1,
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "after reflash",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "e": 1,
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "after reflash 2",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {},
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "flash then put same key",
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
            "next",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "f": 2,
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "next 2",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {},
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "flash then forget",
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
                "r": 0,
              },
              "__session.flash": {
                "old": [
                  "g",
                ],
              },
            },
          ],
          [
            "pull flashed",
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
            "pull",
            {
              "cacheControl": undefined,
              "result": {
                "ok": 1,
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
            },
          ],
          [
            "flash in HEAD",
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
            "after HEAD",
            {
              "cacheControl": undefined,
              "result": {
                "ok": {
                  "i": 1,
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
        ]
      `)
    })))
})

describe("parity flow: accessors", () => {
  it.effect("results and errors", () =>
    withServer()(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      const r = (name: string, e: Effect.Effect<unknown, unknown, Session | SessionStore>) =>
        Effect.map(b.run(e), (x) => log.push([name, (x as { result: unknown }).result]))
      yield* r(
        "seed",
        Effect.all([
          Session.put("s", "str"),
          Session.put("n", 5),
          Session.put("nul", null),
          Session.put("arr", [1]),
          Session.put("obj", { a: { b: 1 } })
        ])
      )
      yield* r("get missing", Session.get("zz"))
      yield* r("get", Session.get("obj"))
      yield* r("getString", Effect.all([Session.getString("s"), Session.getString("n"), Session.getString("zz")]))
      yield* r(
        "has/exists/missing nul",
        Effect.all([
          Session.has("nul"),
          Session.exists("nul"),
          Session.missing("nul"),
          Session.has("zz"),
          Session.missing("zz")
        ])
      )
      yield* r("only/except", Effect.all([Session.only(["s", "zz", "__session"]), Session.except(["s", "obj", "arr"])]))
      yield* r(
        "increment",
        Effect.all([
          Session.increment("n"),
          Session.increment("n", 2.5),
          Session.decrement("n", 10),
          Session.increment("new")
        ])
      )
      yield* r("increment nul", Session.increment("nul"))
      yield* r("increment string", Session.increment("s"))
      yield* r("increment Infinity", Session.increment("n", Infinity))
      yield* r("increment NaN", Session.increment("n", NaN))
      yield* r("increment reserved", Session.increment("__session"))
      yield* r("push", Effect.andThen(Session.push("arr", { x: 1 }), Session.get("arr")))
      yield* r("push new", Effect.andThen(Session.push("newarr", 1), Session.get("newarr")))
      yield* r("push not array", Session.push("s", 1))
      yield* r("push fn", Session.push("arr", () => 1))
      yield* r("push reserved", Session.push("__session.flash", 1))
      yield* r("remember missing", Session.remember("rem", Effect.succeed(7)))
      yield* r("remember present", Session.remember("rem", Effect.succeed(8)))
      yield* r("remember nul", Session.remember("nul", Effect.succeed(9)))
      yield* r("remember fails", Session.remember("rem2", Effect.fail("boom")))
      yield* r("pull", Effect.all([Session.pull("rem"), Session.exists("rem")]))
      yield* r("pull missing", Session.pull("rem"))
      yield* r("put undefined", Session.put("u", undefined))
      yield* r("put function", Session.put("u", () => 1))
      yield* r("put date", Session.put("u", new Date(0)))
      yield* r("put bigint", Session.put("u", 1n))
      yield* r("put NaN", Session.put("u", NaN))
      yield* r("put nested undefined", Effect.andThen(Session.put("u", { a: undefined, b: 1 }), Session.get("u")))
      yield* r("put array with undefined", Session.put("u", [undefined]))
      yield* r(
        "put cycle",
        Effect.suspend(() => {
          const o: Record<string, unknown> = {}
          o.o = o
          return Session.put("u", o)
        })
      )
      yield* r("put reserved", Session.put("__session.token", "x"))
      yield* r("put __proto__", Effect.andThen(Session.put("__proto__", { p: 1 }), Session.get("__proto__")))
      yield* r("put -0", Effect.andThen(Session.put("negz", -0), Session.get("negz")))
      yield* r("forget many", Effect.andThen(Session.forget(["s", "zz"]), Session.exists("s")))
      yield* r("flash reserved", Session.flash("__session", 1))
      yield* r("keep missing", Session.keep(["nope"]))
      yield* r("id/isNew", Effect.all([Session.isNew, Effect.map(Session.id, (id) => id.length)]))
      yield* r("save twice", Effect.all([Session.put("sv", 1), Session.save, Session.save]))
      yield* r("all", Session.all)
      log.push(["stored", yield* stored(n, b.cookie)])
      const fresh = browser(n)
      log.push([
        "fresh: id/isNew/save",
        yield* fresh.run(
          Effect.all([Session.isNew, Effect.map(Session.id, (id) => id.length), Session.save, Session.all])
        )
      ])
      log.push(["fresh: token only", yield* fresh.run(Session.token)])
      log.push(["fresh: regenerateToken", yield* fresh.run(Session.regenerateToken)])
      log.push(["fresh: setLifetime only", yield* browser(n).run(Session.setLifetime({ ttl: "1 hour" }))])
      log.push([
        "fresh: put then forget",
        yield* browser(n).run(Effect.andThen(Session.put("a", 1), Session.forget("a")))
      ])
      log.push(["fresh: flush", yield* browser(n).run(Session.flush)])
      log.push(["fresh: reflash", yield* browser(n).run(Session.reflash)])
      log.push(["fresh: increment 0", yield* browser(n).run(Session.increment("a", 0))])
      log.push(["fresh: put null", yield* browser(n).run(Session.put("a", null))])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "seed",
            {
              "ok": [
                undefined,
                undefined,
                undefined,
                undefined,
                undefined,
              ],
            },
          ],
          [
            "get missing",
            {
              "fail": {
                "_tag": "SessionKeyMissing",
                "key": "zz",
                "message": "session: key not set: "zz"",
              },
            },
          ],
          [
            "get",
            {
              "ok": {
                "a": {
                  "b": 1,
                },
              },
            },
          ],
          [
            "getString",
            {
              "ok": [
                "str",
                "",
                "",
              ],
            },
          ],
          [
            "has/exists/missing nul",
            {
              "ok": [
                false,
                true,
                false,
                false,
                true,
              ],
            },
          ],
          [
            "only/except",
            {
              "ok": [
                {
                  "s": "str",
                },
                {
                  "n": 5,
                  "nul": null,
                },
              ],
            },
          ],
          [
            "increment",
            {
              "ok": [
                6,
                8.5,
                -1.5,
                1,
              ],
            },
          ],
          [
            "increment nul",
            {
              "ok": 1,
            },
          ],
          [
            "increment string",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "s",
                "message": "session value for "s" is not a number",
                "reason": "NotANumber",
              },
            },
          ],
          [
            "increment Infinity",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "n",
                "message": "incrementing "n" by Infinity does not give a finite number",
                "reason": "NotANumber",
              },
            },
          ],
          [
            "increment NaN",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "n",
                "message": "incrementing "n" by NaN does not give a finite number",
                "reason": "NotANumber",
              },
            },
          ],
          [
            "increment reserved",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "__session",
                "message": "session key "__session" is reserved for the library's metadata",
                "reason": "ReservedKey",
              },
            },
          ],
          [
            "push",
            {
              "ok": [
                1,
                {
                  "x": 1,
                },
              ],
            },
          ],
          [
            "push new",
            {
              "ok": [
                1,
              ],
            },
          ],
          [
            "push not array",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "s",
                "message": "session value for "s" is not an array",
                "reason": "NotAnArray",
              },
            },
          ],
          [
            "push fn",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "arr",
                "message": "session value for "arr": the value is a function: store plain JSON data, or use a Schema-typed key",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "push reserved",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "__session.flash",
                "message": "session key "__session.flash" is reserved for the library's metadata",
                "reason": "ReservedKey",
              },
            },
          ],
          [
            "remember missing",
            {
              "ok": 7,
            },
          ],
          [
            "remember present",
            {
              "ok": 7,
            },
          ],
          [
            "remember nul",
            {
              "ok": 1,
            },
          ],
          [
            "remember fails",
            {
              "fail": "boom",
            },
          ],
          [
            "pull",
            {
              "ok": [
                7,
                false,
              ],
            },
          ],
          [
            "pull missing",
            {
              "fail": {
                "_tag": "SessionKeyMissing",
                "key": "rem",
                "message": "session: key not set: "rem"",
              },
            },
          ],
          [
            "put undefined",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": the value is undefined: use Session.forget to remove a key",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put function",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": the value is a function: store plain JSON data, or use a Schema-typed key",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put date",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": the value is a Date: store plain JSON data, or use a Schema-typed key",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put bigint",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": the value is a bigint: store plain JSON data, or use a Schema-typed key",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put NaN",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": the value is NaN, which JSON cannot represent",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put nested undefined",
            {
              "ok": {
                "b": 1,
              },
            },
          ],
          [
            "put array with undefined",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": [0] is undefined (JSON would turn it into null)",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put cycle",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "u",
                "message": "session value for "u": .o is a cycle back to one of its parents",
                "reason": "Unencodable",
              },
            },
          ],
          [
            "put reserved",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "__session.token",
                "message": "session key "__session.token" is reserved for the library's metadata",
                "reason": "ReservedKey",
              },
            },
          ],
          [
            "put __proto__",
            {
              "ok": {
                "p": 1,
              },
            },
          ],
          [
            "put -0",
            {
              "ok": 0,
            },
          ],
          [
            "forget many",
            {
              "ok": false,
            },
          ],
          [
            "flash reserved",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "__session",
                "message": "session key "__session" is reserved for the library's metadata",
                "reason": "ReservedKey",
              },
            },
          ],
          [
            "keep missing",
            {
              "ok": undefined,
            },
          ],
          [
            "id/isNew",
            {
              "ok": [
                false,
                43,
              ],
            },
          ],
          [
            "save twice",
            {
              "ok": [
                undefined,
                "Written",
                "Unchanged",
              ],
            },
          ],
          [
            "all",
            {
              "ok": {
                "arr": [
                  1,
                  {
                    "x": 1,
                  },
                ],
                "n": -1.5,
                "negz": 0,
                "new": 1,
                "newarr": [
                  1,
                ],
                "nul": 1,
                "obj": {
                  "a": {
                    "b": 1,
                  },
                },
                "sv": 1,
                "u": {
                  "b": 1,
                },
              },
            },
          ],
          [
            "stored",
            {
              "__session": {
                "c": 0,
                "r": 0,
              },
              "arr": [
                1,
                {
                  "x": 1,
                },
              ],
              "n": -1.5,
              "negz": 0,
              "new": 1,
              "newarr": [
                1,
              ],
              "nul": 1,
              "obj": {
                "a": {
                  "b": 1,
                },
              },
              "sv": 1,
              "u": {
                "b": 1,
              },
            },
          ],
          [
            "fresh: id/isNew/save",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  true,
                  43,
                  "Unchanged",
                  {},
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "fresh: token only",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": "<ID2>",
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID3>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
          [
            "fresh: regenerateToken",
            {
              "cacheControl": undefined,
              "result": {
                "ok": "<ID4>",
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "fresh: setLifetime only",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID5>; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
          [
            "fresh: put then forget",
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
            "fresh: flush",
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
            "fresh: reflash",
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
            "fresh: increment 0",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": 0,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID6>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
          [
            "fresh: put null",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID7>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
        ]
      `)
    })))
})
