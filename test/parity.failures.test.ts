/**
 * Parity of the two lines (effect 3 / effect 4): store failures, onError, locks, corrupt records. Each test records what a user
 * sees (status, session Set-Cookie with IDs normalised, Cache-Control, stored record layout,
 * accessor results and errors) and compares it with the same inline snapshot on both lines.
 * Twin: packages/effect4/test/parity.failures.test.ts (identical body below the harness).
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Option } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError, SessionTest } from "effect-session"
import { Id } from "effect-session-core"
import { request, serve } from "./utils/http.js"
import { browserWith, type Normaliser, normaliser } from "./utils/parity.js"

const COOKIE = "lagodev_session"

let step: Effect.Effect<unknown, unknown, Session | SessionStore> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const routes = HttpRouter.empty.pipe(
  HttpRouter.all(
    "/",
    Effect.suspend(() => step).pipe(
      Effect.exit,
      Effect.map((exit) => {
        outcome = exit
        return HttpServerResponse.text("ok")
      })
    )
  ),
  HttpRouter.post("/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
)

const withServer = <S = SessionStore>(
  options: Session.Options = {},
  store: Layer.Layer<S | SessionStore, unknown> = MemoryStore.layer() as Layer.Layer<S | SessionStore>
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(serve(routes, options).pipe(Layer.provideMerge(store))))

/** Runs `effect`, answering its failure as a value. */
const attempt = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.either(effect), (e) => e._tag === "Right" ? { right: e.right } : { left: e.left })
const readStore = (id: string) =>
  Effect.flatMap(SessionStore, (store) => Effect.either(store.read(Id.storageKey(id))))
    .pipe(Effect.map((e) => e._tag === "Right" ? Option.getOrUndefined(e.right) : { storeError: e.left._tag }))

const sendRaw = (method: "GET" | "POST" | "HEAD", path: string, cookie: string | undefined) =>
  Effect.map(
    request(method, path, cookie === undefined ? {} : { cookie: `${COOKIE}=${cookie}` }),
    (reply) => ({
      status: reply.status,
      body: reply.body,
      setCookie: reply.setCookies.filter((c) => c.name === COOKIE).map((c) => c.raw),
      headers: reply.headers as Record<string, string | undefined>
    })
  )

const recorder = SessionTest.RecordingStore
const HttpServerResponseText = (body: string, status: number) => HttpServerResponse.text(body, { status })
/** The memory store with only the required operations (no patch, rotate, lock). */
const minimalStore: Layer.Layer<SessionStore, unknown> = Layer.effect(
  SessionStore,
  Effect.map(SessionStore, (s) => ({ read: s.read, write: s.write, destroy: s.destroy }))
).pipe(Layer.provide(MemoryStore.layer()))

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

/** The store under test: a recording memory store whose failures each test plans. */
const recorded = SessionTest.layerRecording()

const failNext = (plan: SessionTest.FailurePlan) => Effect.flatMap(recorder, (store) => store.fail(plan))
const recover = Effect.flatMap(recorder, (store) => store.recover)
const ops = Effect.flatMap(
  recorder,
  (store) =>
    Effect.flatMap(
      store.calls,
      (calls) => Effect.andThen(store.clear, Effect.succeed(calls.map((c) => `${c._tag}${c.injected ? "!" : ""}`)))
    )
)

describe("parity failures: store failures and their answers", () => {
  it.effect("load, save, patch, rotate, destroy failures: status, headers, cookie", () =>
    withServer({ ttl: "10 minutes" }, recorded)(Effect.gen(function*() {
      const n = normaliser()
      const log: Array<unknown> = []
      const b = browser(n)
      yield* b.run(Session.put("user", "ada"))
      yield* ops
      yield* failNext({ on: "read", times: 1 })
      log.push(["read fails, handler does not catch", yield* b.run(get("user"), "POST", "/strict"), yield* ops])
      yield* failNext({ on: "read", times: 1 })
      log.push(["read fails, handler catches", yield* b.run(get("user")), yield* ops])
      yield* failNext({ on: "patch", times: 1 })
      log.push(["patch fails at save", yield* b.run(Session.put("x", 1)), yield* ops, yield* stored(n, b.cookie)])
      yield* failNext({ on: "rotate", times: 1 })
      log.push(["rotate fails at save", yield* b.run(Session.regenerate), yield* ops, b.cookie !== undefined])
      yield* failNext({ on: "destroy", times: 1 })
      log.push(["destroy fails (handler catches)", yield* b.run(Session.destroy), yield* ops])
      yield* failNext({ on: "destroy", times: 1 })
      log.push(["destroy fails (strict)", yield* b.run(Session.destroy, "POST", "/strict"), yield* ops])
      yield* failNext({ on: "read", times: 2, after: 1 })
      log.push(["destroy's re-read fails", yield* b.run(Session.destroy, "POST", "/strict"), yield* ops])
      const fresh = browser(n)
      yield* failNext({ on: "write", times: 1 })
      log.push(["create fails", yield* fresh.run(Session.put("a", 1)), yield* ops, fresh.cookie ?? "no cookie"])
      yield* failNext({ on: "write", times: 1 })
      log.push([
        "explicit save fails, caught",
        yield* fresh.run(Effect.andThen(Session.put("a", 1), attempt(Session.save))),
        yield* ops
      ])
      yield* recover
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "read fails, handler does not catch",
            {
              "cacheControl": "no-store",
              "result": "no exit",
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
            [
              "read!",
            ],
          ],
          [
            "read fails, handler catches",
            {
              "cacheControl": undefined,
              "result": {
                "fail": {
                  "_tag": "SessionStoreError",
                  "message": "injected failure (SessionTest)",
                  "reason": "Unavailable",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read!",
            ],
          ],
          [
            "patch fails at save",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
            [
              "read",
              "patch!",
            ],
            {
              "__session": {
                "c": 0,
                "r": 0,
              },
              "user": "ada",
            },
          ],
          [
            "rotate fails at save",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
            [
              "read",
              "read",
              "rotate!",
            ],
            true,
          ],
          [
            "destroy fails (handler catches)",
            {
              "cacheControl": undefined,
              "result": {
                "fail": {
                  "_tag": "SessionStoreError",
                  "message": "injected failure (SessionTest)",
                  "reason": "Unavailable",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "read",
              "destroy!",
            ],
          ],
          [
            "destroy fails (strict)",
            {
              "cacheControl": "no-store",
              "result": "no exit",
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
            [
              "read",
              "read",
              "destroy!",
            ],
          ],
          [
            "destroy's re-read fails",
            {
              "cacheControl": "no-store",
              "result": "no exit",
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
            [
              "read",
              "read!",
            ],
          ],
          [
            "create fails",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
            [
              "write!",
            ],
            "no cookie",
          ],
          [
            "explicit save fails, caught",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": {
                  "left": {
                    "_tag": "SessionStoreError",
                    "message": "injected failure (SessionTest)",
                    "reason": "Unavailable",
                  },
                },
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            [
              "write!",
              "write",
            ],
          ],
        ]
      `)
    })))

  it.effect("onError: the phase and the handler's response it is given", () =>
    withServer({
      ttl: "10 minutes",
      onError: (error, context) =>
        Effect.succeed(
          Option.match(context.response, {
            onNone: () => HttpServerResponseText(`handled ${error._tag} ${context.phase} none`, 599),
            onSome: (response) =>
              HttpServerResponseText(`handled ${error._tag} ${context.phase} ${response.status}`, 598)
          })
        )
    }, recorded)(Effect.gen(function*() {
      const n = normaliser()
      const log: Array<unknown> = []
      const b = browser(n)
      yield* b.run(Session.put("user", "ada"))
      yield* failNext({ on: "read", times: 1 })
      log.push([
        "load",
        yield* sendRaw("POST", "/strict", b.cookie).pipe(
          Effect.map((r) =>
            n.plain({
              status: r.status,
              body: r.body,
              setCookie: r.setCookie,
              cacheControl: r.headers["cache-control"]
            })
          )
        )
      ])
      yield* failNext({ on: "patch", times: 1 })
      step = Session.put("x", 2)
      log.push([
        "save",
        yield* sendRaw("POST", "/strict", b.cookie).pipe(
          Effect.map((r) =>
            n.plain({
              status: r.status,
              body: r.body,
              setCookie: r.setCookie,
              cacheControl: r.headers["cache-control"]
            })
          )
        )
      ])
      yield* failNext({ on: "write", times: 1 })
      step = Effect.andThen(Session.put("x", 3), Session.save)
      log.push([
        "explicit save in handler",
        yield* sendRaw("POST", "/strict", b.cookie).pipe(
          Effect.map((r) =>
            n.plain({
              status: r.status,
              body: r.body,
              setCookie: r.setCookie,
              cacheControl: r.headers["cache-control"]
            })
          )
        )
      ])
      yield* recover
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "load",
            {
              "body": "handled SessionStoreError load none",
              "cacheControl": undefined,
              "setCookie": [],
              "status": 599,
            },
          ],
          [
            "save",
            {
              "body": "handled SessionStoreError save 200",
              "cacheControl": undefined,
              "setCookie": [],
              "status": 598,
            },
          ],
          [
            "explicit save in handler",
            {
              "body": "handled SessionStoreError load none",
              "cacheControl": undefined,
              "setCookie": [],
              "status": 599,
            },
          ],
        ]
      `)
    })))

  it.effect("lock option: a held lock answers 423 (wait 0); a store without lock answers 503", () =>
    withServer({ lock: { wait: 0 } }, recorded)(Effect.gen(function*() {
      const n = normaliser()
      const log: Array<unknown> = []
      const b = browser(n)
      log.push(["no cookie: no lock", yield* b.run(Session.put("user", "ada")), yield* ops])
      const store = yield* recorder
      const release = yield* store.lock!(Id.storageKey(b.cookie!), { ttl: Duration.seconds(10), wait: Duration.zero })
      yield* ops
      log.push(["locked", yield* b.run(get("user")), yield* ops])
      yield* release
      yield* ops
      log.push(["after release", yield* b.run(get("user")), yield* ops])
      log.push(["unknown cookie", yield* browser(n).run(get("user"))])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "no cookie: no lock",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": undefined,
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID1>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
            [
              "write",
            ],
          ],
          [
            "locked",
            {
              "cacheControl": "no-store",
              "result": "no exit",
              "retryAfter": "1",
              "setCookie": [],
              "status": 423,
            },
            [
              "lock",
            ],
          ],
          [
            "after release",
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
            [
              "lock",
              "read",
              "unlock",
            ],
          ],
          [
            "unknown cookie",
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

  it.effect("Session.blocking on a store without lock; explicit options", () =>
    withServer({}, minimalStore)(Effect.gen(function*() {
      const n = normaliser()
      const log: Array<unknown> = []
      const b = browser(n)
      log.push(["put", yield* b.run(Session.put("user", "ada"))])
      log.push(["blocking, caught", yield* b.run(Session.blocking(get("user")))])
      log.push(["blocking, strict", yield* b.run(Session.blocking(get("user")), "POST", "/strict")])
      log.push(["blocking bad options", yield* b.run(Session.blocking(get("user"), { wait: 5 as never }))])
      log.push(["blocking ttl 0", yield* b.run(Session.blocking(get("user"), { ttl: 0 }))])
      log.push(["regenerate without rotate", yield* b.run(Effect.andThen(Session.regenerate, Session.id))])
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
                "lagodev_session=<ID1>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
          [
            "blocking, caught",
            {
              "cacheControl": undefined,
              "result": {
                "fail": {
                  "_tag": "SessionStoreError",
                  "message": "session locking: this store has no lock capability",
                  "reason": "Unsupported",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "blocking, strict",
            {
              "cacheControl": "no-store",
              "result": "no exit",
              "retryAfter": "1",
              "setCookie": [],
              "status": 503,
            },
          ],
          [
            "blocking bad options",
            {
              "cacheControl": undefined,
              "result": {
                "fail": {
                  "_tag": "SessionConfigError",
                  "message": "lock.wait is a bare number (5), which would be read as milliseconds: use a Duration or a string such as "2 hours" (e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)); write Duration.millis(n) if you do mean milliseconds",
                  "option": "lock.wait",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "blocking ttl 0",
            {
              "cacheControl": undefined,
              "result": {
                "fail": {
                  "_tag": "SessionConfigError",
                  "message": "lock.ttl must be greater than zero",
                  "option": "lock.ttl",
                },
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
          ],
          [
            "regenerate without rotate",
            {
              "cacheControl": "no-store",
              "result": {
                "ok": "<ID2>",
              },
              "retryAfter": undefined,
              "setCookie": [
                "lagodev_session=<ID2>; Max-Age=7200; Path=/; HttpOnly; Secure; SameSite=Lax",
              ],
              "status": 200,
            },
          ],
        ]
      `)
    })))

  it.effect("corrupt records: not adopted, deleted, never a 5xx", () =>
    withServer({}, recorded)(Effect.gen(function*() {
      const n = normaliser()
      const log: Array<unknown> = []
      const store = yield* recorder
      for (
        const [name, record] of [
          ["no metadata", { user: "x" }],
          ["future creation", { __session: { c: 10 ** 12, r: 10 ** 12 }, user: "x" }],
          ["token not a string", { __session: { c: 0, r: 0 }, "__session.token": 5, user: "x" }],
          ["flash malformed", { __session: { c: 0, r: 0 }, "__session.flash": { new: [1] }, user: "x" }],
          ["lifetime too long", { __session: { c: 0, r: 0, l: 10 ** 13 }, user: "x" }],
          ["retired, grace over", { __session: { c: 0, r: 0 }, "__session.retired": 0, user: "x" }]
        ] as const
      ) {
        const id = Id.generate()
        yield* store.write(Id.storageKey(id), record as never, Duration.zero)
        yield* ops
        const b = browser(n)
        b.cookie = id
        log.push([name, yield* b.run(Effect.all([get("user"), Session.isNew])), yield* ops, yield* stored(n, id)])
      }
      yield* failNext({
        on: "read",
        times: 1,
        error: new SessionStoreError({ reason: "CorruptRecord", message: "bad" })
      })
      const b = browser(n)
      b.cookie = Id.generate()
      log.push(["read fails CorruptRecord", yield* b.run(Effect.all([get("user"), Session.isNew])), yield* ops])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "no metadata",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "destroy",
            ],
            undefined,
          ],
          [
            "future creation",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "destroy",
            ],
            undefined,
          ],
          [
            "token not a string",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "destroy",
            ],
            undefined,
          ],
          [
            "flash malformed",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "destroy",
            ],
            undefined,
          ],
          [
            "lifetime too long",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "destroy",
            ],
            undefined,
          ],
          [
            "retired, grace over",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
            ],
            {
              "__session": {
                "c": 0,
                "r": 0,
              },
              "__session.retired": 0,
              "user": "x",
            },
          ],
          [
            "read fails CorruptRecord",
            {
              "cacheControl": undefined,
              "result": {
                "ok": [
                  "none",
                  true,
                ],
              },
              "retryAfter": undefined,
              "setCookie": [],
              "status": 200,
            },
            [
              "read",
              "read!",
              "destroy",
            ],
          ],
        ]
      `)
    })))
})
