/**
 * Parity of the two lines (effect 3 / effect 4): typed keys. Each test records what a user
 * sees (status, session Set-Cookie with IDs normalised, Cache-Control, stored record layout,
 * accessor results and errors) and compares it with the same inline snapshot on both lines.
 * Twin: packages/effect4/test/parity.typed.test.ts (identical body below the harness).
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Schema } from "effect"
import { MemoryStore, Session, SessionKey, SessionStore } from "effect-session"
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

const withServer =
  (options: Session.Options = {}, store: Layer.Layer<SessionStore, unknown> = MemoryStore.layer()) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(Effect.provide(serve(routes, options).pipe(Layer.provideMerge(store))))

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

describe("parity typed keys (SessionKey, get(key, schema))", () => {
  it.effect("encode, decode, failures", () =>
    withServer()(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const log: Array<unknown> = []
      const Count = SessionKey.make("count", Schema.NumberFromString)
      const Whole = SessionKey.make("whole", Schema.Int)
      const Profile = SessionKey.make(
        "profile",
        Schema.Struct({ name: Schema.String, nick: Schema.optional(Schema.String), age: Schema.NullOr(Schema.Number) })
      )
      // optional: the same on both lines (UndefinedOr differs: the describe at the end)
      const Loose = SessionKey.make("loose", Schema.Struct({ a: Schema.optional(Schema.String), b: Schema.Number }))
      const r = (name: string, e: Effect.Effect<unknown, unknown, Session | SessionStore>) =>
        Effect.map(b.run(e), (x) => log.push([name, (x as { result: unknown }).result]))
      yield* r("put count", Effect.andThen(Session.put(Count, 5), Session.get("count")))
      yield* r("get count", Session.get(Count))
      yield* r("increment typed stored", Session.increment("count"))
      yield* r("put whole 1.5", Session.put(Whole, 1.5))
      yield* r("put profile", Effect.andThen(Session.put(Profile, { name: "ada", age: null }), Session.get("profile")))
      yield* r("get profile", Session.get(Profile))
      yield* r("put loose undefined", Session.put(Loose, { a: undefined, b: 1 }))
      yield* r("get loose", Session.getOption(Loose))
      yield* r("put raw bad", Session.put("whole", "x"))
      yield* r("get whole bad", Session.get(Whole))
      yield* r("getOption whole bad", Session.getOption(Whole))
      yield* r("pull whole bad", Effect.andThen(Session.pull(Whole), Session.exists("whole")))
      yield* r("exists after failed pull", Session.exists("whole"))
      yield* r("get with schema", Session.get("count", Schema.NumberFromString))
      yield* r("get with schema missing", Session.get("nope", Schema.NumberFromString))
      yield* r("remember typed", Effect.andThen(Session.remember(Whole, Effect.succeed(3)), Session.get("whole")))
      yield* r("remember typed present", Session.remember(Whole, Effect.succeed(4)))
      yield* r("flash typed", Session.flash(Count, 9))
      yield* r("after flash", Session.all)
      yield* r("now typed", Effect.andThen(Session.now(Count, 7), Session.get(Count)))
      yield* r("put reserved typed", Session.put(SessionKey.make("__session", Schema.Number), 1))
      yield* r("remember typed encode fails", Session.remember(SessionKey.make("w2", Schema.Int), Effect.succeed(1.5)))
      yield* r("exists w2", Session.exists("w2"))
      log.push(["stored", yield* stored(n, b.cookie)])
      expect(log).toMatchInlineSnapshot(`
        [
          [
            "put count",
            {
              "ok": "5",
            },
          ],
          [
            "get count",
            {
              "ok": 5,
            },
          ],
          [
            "increment typed stored",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "count",
                "message": "session value for "count" is not a number",
                "reason": "NotANumber",
              },
            },
          ],
          [
            "put whole 1.5",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "whole",
                "message": "session value for "whole" does not match its schema",
                "reason": "EncodeFailed",
              },
            },
          ],
          [
            "put profile",
            {
              "ok": {
                "age": null,
                "name": "ada",
              },
            },
          ],
          [
            "get profile",
            {
              "ok": {
                "age": null,
                "name": "ada",
              },
            },
          ],
          [
            "put loose undefined",
            {
              "ok": undefined,
            },
          ],
          [
            "get loose",
            {
              "ok": {
                "some": {
                  "b": 1,
                },
              },
            },
          ],
          [
            "put raw bad",
            {
              "ok": undefined,
            },
          ],
          [
            "get whole bad",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "whole",
                "message": "session value for "whole" does not match its schema",
                "reason": "DecodeFailed",
              },
            },
          ],
          [
            "getOption whole bad",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "whole",
                "message": "session value for "whole" does not match its schema",
                "reason": "DecodeFailed",
              },
            },
          ],
          [
            "pull whole bad",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "whole",
                "message": "session value for "whole" does not match its schema",
                "reason": "DecodeFailed",
              },
            },
          ],
          [
            "exists after failed pull",
            {
              "ok": true,
            },
          ],
          [
            "get with schema",
            {
              "ok": 5,
            },
          ],
          [
            "get with schema missing",
            {
              "fail": {
                "_tag": "SessionKeyMissing",
                "key": "nope",
                "message": "session: key not set: "nope"",
              },
            },
          ],
          [
            "remember typed",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "whole",
                "message": "session value for "whole" does not match its schema",
                "reason": "DecodeFailed",
              },
            },
          ],
          [
            "remember typed present",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "whole",
                "message": "session value for "whole" does not match its schema",
                "reason": "DecodeFailed",
              },
            },
          ],
          [
            "flash typed",
            {
              "ok": undefined,
            },
          ],
          [
            "after flash",
            {
              "ok": {
                "count": "9",
                "loose": {
                  "b": 1,
                },
                "profile": {
                  "age": null,
                  "name": "ada",
                },
                "whole": "x",
              },
            },
          ],
          [
            "now typed",
            {
              "ok": 7,
            },
          ],
          [
            "put reserved typed",
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
            "remember typed encode fails",
            {
              "fail": {
                "_tag": "SessionValueError",
                "key": "w2",
                "message": "session value for "w2" does not match its schema",
                "reason": "EncodeFailed",
              },
            },
          ],
          [
            "exists w2",
            {
              "ok": false,
            },
          ],
          [
            "stored",
            {
              "__session": {
                "c": 0,
                "r": 0,
              },
              "loose": {
                "b": 1,
              },
              "profile": {
                "age": null,
                "name": "ada",
              },
              "whole": "x",
            },
          ],
        ]
      `)
    })))
})

describe("typed keys: a Struct field declared UndefinedOr, put as undefined (differs by line: docs/migration.md)", () => {
  it.effect("effect 3: Session.put succeeds and the next request reads the value back (a missing key decodes as undefined)", () =>
    withServer()(Effect.gen(function*() {
      const n = normaliser()
      const b = browser(n)
      const Loose = SessionKey.make("loose", Schema.Struct({ a: Schema.UndefinedOr(Schema.String), b: Schema.Number }))
      const put = yield* b.run(Session.put(Loose, { a: undefined, b: 1 }))
      const next = yield* b.run(Effect.map(Session.getOption(Loose), (o) => Option.map(o, (v) => v.b)))
      expect([(put as { result: unknown }).result, (next as { result: unknown }).result]).toStrictEqual([
        { ok: undefined },
        { ok: { some: 1 } }
      ])
    })))
})
