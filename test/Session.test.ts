/**
 * Every accessor of `Session`, used the way handlers use it: behind the middleware, over real
 * HTTP, one request per step, with a cookie jar carrying the session between steps.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option, Schema } from "effect"
import { Session, SessionKey, SessionKeyMissing, SessionValueError } from "effect-session"
import { isTagged } from "effect/Predicate"
import { Jar, type Reply, request, serve } from "./utils/http.js"
import * as Recording from "./utils/recording-store.js"

const COOKIE = "lagodev_session"
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/

// -----------------------------------------------------------------------------
// Harness: the test hands each request the handler body it wants to run
// -----------------------------------------------------------------------------

let step: Effect.Effect<unknown, unknown, Session> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const routes = HttpRouter.empty.pipe(
  // The step's own failures are captured for the test; store failures still reach the middleware.
  HttpRouter.post(
    "/",
    Effect.suspend(() => step).pipe(
      Effect.exit,
      Effect.flatMap((exit) => {
        outcome = exit
        const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        return Option.isSome(failure) && isTagged(failure.value, "SessionStoreError")
          ? Effect.fail(failure.value)
          : Effect.succeed(HttpServerResponse.text("ok"))
      })
    )
  ),
  // Here the step's failure is the app's failure, as in a real handler.
  HttpRouter.post("/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
)

const server = serve(routes).pipe(Layer.provideMerge(Recording.layer({ sweepInterval: "1 day" })))

interface Step<A, E> {
  readonly exit: Exit.Exit<A, E>
  readonly reply: Reply
}

/** A browser with its own cookie jar. */
const browser = () => {
  const jar = new Jar()
  const send = <A, E>(effect: Effect.Effect<A, E, Session>, path: "/" | "/strict" = "/") =>
    Effect.gen(function*() {
      step = effect
      outcome = undefined
      const reply = yield* request("POST", path, { jar })
      return { exit: outcome as unknown as Exit.Exit<A, E>, reply } satisfies Step<A, E>
    })
  /** Runs `effect` in one request and returns its value (failing the test if it failed). */
  const run = <A, E>(effect: Effect.Effect<A, E, Session>) =>
    Effect.flatMap(send(effect), ({ exit, reply }) => {
      expect(reply.status).toBe(200)
      if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
      throw new Error(`step failed: ${Cause.pretty(exit.cause)}`)
    })
  /** Runs `effect` in one request and returns its typed failure (failing the test if it succeeded). */
  const fail = <A, E>(effect: Effect.Effect<A, E, Session>) =>
    Effect.map(send(effect), ({ exit }) => {
      if (Exit.isSuccess(exit)) throw new Error(`step succeeded with ${JSON.stringify(exit.value)}`)
      return Option.getOrThrow(Cause.failureOption(exit.cause))
    })
  const cookie = () => jar.cookies.get(COOKIE)
  return { jar, send, run, fail, cookie }
}

const dataOf = (value: unknown) => JSON.parse(JSON.stringify(value))

describe("Session accessors", () => {
  describe("get / getOption / getString", () => {
    it.effect("get fails with SessionKeyMissing, message \"session: key not set: <key>\", when the key is not set", () =>
      Effect.gen(function*() {
        const b = browser()
        const error = yield* b.fail(Session.get("nope"))
        expect(error).toBeInstanceOf(SessionKeyMissing)
        expect(error).toMatchObject({ _tag: "SessionKeyMissing", key: "nope" })
        expect((error as SessionKeyMissing).message).toBe("session: key not set: \"nope\"")
      }).pipe(Effect.provide(server)))

    it.effect("get returns what put stored, in the same request and the next", () =>
      Effect.gen(function*() {
        const b = browser()
        const same = yield* b.run(Effect.zipRight(Session.put("user", { id: 1, name: "Ada" }), Session.get("user")))
        expect(same).toStrictEqual({ id: 1, name: "Ada" })
        expect(yield* b.run(Session.get("user"))).toStrictEqual({ id: 1, name: "Ada" })
      }).pipe(Effect.provide(server)))

    it.effect("getOption is None when not set, Some otherwise (null included)", () =>
      Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Session.getOption("k"))).toStrictEqual(Option.none())
        yield* b.run(Effect.zipRight(Session.put("k", 0), Session.put("n", null)))
        expect(yield* b.run(Session.getOption("k"))).toStrictEqual(Option.some(0))
        expect(yield* b.run(Session.getOption("n"))).toStrictEqual(Option.some(null))
      }).pipe(Effect.provide(server)))

    it.effect("getString is the string, or \"\" when missing or not a string", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("s", "hello"), Session.put("n", 42), Session.put("o", { s: "x" })]))
        expect(
          yield* b.run(Effect.all([
            Session.getString("s"),
            Session.getString("n"),
            Session.getString("o"),
            Session.getString("missing")
          ]))
        ).toStrictEqual(["hello", "", "", ""])
      }).pipe(Effect.provide(server)))
  })

  describe("id / isNew / all", () => {
    it.effect("id is the cookie's value, stable across requests; isNew only on the first", () =>
      Effect.gen(function*() {
        const b = browser()
        const [id, isNew] = yield* b.run(
          Effect.zipRight(Session.put("x", 1), Effect.all([Session.id, Session.isNew]))
        )
        expect(id).toMatch(ID_SHAPE)
        expect(isNew).toBe(true)
        expect(b.cookie()).toBe(id)
        expect(yield* b.run(Effect.all([Session.id, Session.isNew]))).toStrictEqual([id, false])
      }).pipe(Effect.provide(server)))

    it.effect("an ID asked for before the first write is the one the cookie carries", () =>
      Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.flatMap(Session.id, (id) => Effect.as(Session.put("x", 1), id)))
        expect(b.cookie()).toBe(id)
        expect(yield* b.run(Session.id)).toBe(id)
      }).pipe(Effect.provide(server)))

    it.effect("all returns the data only (no metadata), as a copy", () =>
      Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Session.all)).toStrictEqual({})
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", [true]), Session.token, Session.flash("f", 1)]))
        const all = yield* b.run(Session.all)
        expect(all).toStrictEqual({ a: 1, b: [true], f: 1 })
        const mutated = yield* b.run(Effect.gen(function*() {
          const copy = (yield* Session.all) as Record<string, unknown>
          copy.a = 999
          delete copy.b
          return yield* Session.all
        }))
        expect(mutated).toMatchObject({ a: 1, b: [true] })
      }).pipe(Effect.provide(server)))
  })

  describe("has / exists / missing / only / except", () => {
    it.effect("has ignores null; exists counts it; missing is the opposite of exists", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("value", "v"), Session.put("nothing", null), Session.put("zero", 0)]))
        const check = (key: string) => Effect.all([Session.has(key), Session.exists(key), Session.missing(key)])
        expect(yield* b.run(check("value"))).toStrictEqual([true, true, false])
        expect(yield* b.run(check("nothing"))).toStrictEqual([false, true, false])
        expect(yield* b.run(check("zero"))).toStrictEqual([true, true, false])
        expect(yield* b.run(check("absent"))).toStrictEqual([false, false, true])
        // inherited Object properties are not session keys
        expect(yield* b.run(check("toString"))).toStrictEqual([false, false, true])
        expect(yield* b.run(check("__session"))).toStrictEqual([false, false, true])
      }).pipe(Effect.provide(server)))

    it.effect("only picks present keys; except drops the named ones", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", 2), Session.put("c", null), Session.token]))
        expect(yield* b.run(Session.only(["a", "c", "zzz", "__session"]))).toStrictEqual({ a: 1, c: null })
        expect(yield* b.run(Session.only([]))).toStrictEqual({})
        expect(yield* b.run(Session.except(["a", "zzz"]))).toStrictEqual({ b: 2, c: null })
        expect(yield* b.run(Session.except([]))).toStrictEqual({ a: 1, b: 2, c: null })
      }).pipe(Effect.provide(server)))
  })

  describe("put / forget / pull", () => {
    it.effect("put overwrites and persists; forget removes one key or several", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", 2), Session.put("c", 3), Session.put("d", 4)]))
        yield* b.run(Session.put("a", "one"))
        expect(yield* b.run(Session.all)).toStrictEqual({ a: "one", b: 2, c: 3, d: 4 })
        yield* b.run(Session.forget("b"))
        yield* b.run(Session.forget(["c", "d", "never-set"]))
        expect(yield* b.run(Session.all)).toStrictEqual({ a: "one" })
      }).pipe(Effect.provide(server)))

    it.effect("pull returns the value and removes it; a missing key is SessionKeyMissing", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("intended", "/account"))
        expect(yield* b.run(Session.pull("intended"))).toBe("/account")
        expect(yield* b.run(Session.exists("intended"))).toBe(false)
        const error = yield* b.fail(Session.pull("intended"))
        expect(error).toBeInstanceOf(SessionKeyMissing)
      }).pipe(Effect.provide(server)))

    it.effect("put refuses the reserved metadata key and undefined", () =>
      Effect.gen(function*() {
        const b = browser()
        const reserved = yield* b.fail(Session.put("__session", { c: 0, r: 0 }))
        expect(reserved).toBeInstanceOf(SessionValueError)
        expect(reserved).toMatchObject({ reason: "ReservedKey", key: "__session" })
        const undef = yield* b.fail(Session.put("u", undefined))
        expect(undef).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable", key: "u" })
      }).pipe(Effect.provide(server)))

    describe("unencodable values are a SessionValueError \"Unencodable\" at put time, and nothing is stored", () => {
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      const values: Array<[string, unknown]> = [
        ["a function", () => 1],
        ["a cycle", cycle],
        ["a bigint", 10n],
        ["a Date", new Date(0)],
        ["a Map", new Map([["a", 1]])],
        ["NaN", NaN],
        ["a Date nested in an array", { list: [1, new Date(0)] }],
        ["a symbol", Symbol("s")],
        ["Infinity", Infinity]
      ]
      for (const [name, value] of values) {
        it.effect(name, () =>
          Effect.gen(function*() {
            const recorder = yield* Recording.Recording
            const b = browser()
            const { exit, reply } = yield* b.send(Session.put("bad", value))
            expect(Exit.isFailure(exit)).toBe(true)
            const error = Option.getOrThrow(Cause.failureOption((exit as Exit.Failure<void, unknown>).cause))
            expect(error).toBeInstanceOf(SessionValueError)
            expect(error).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable", key: "bad" })
            expect((error as SessionValueError).message).toContain("\"bad\"")
            expect(reply.setCookies).toStrictEqual([])
            expect(recorder.writes()).toStrictEqual([])
          }).pipe(Effect.provide(server)))
      }

      it.effect("a failed put leaves the previous value in place", () =>
        Effect.gen(function*() {
          const b = browser()
          yield* b.run(Session.put("k", "before"))
          yield* b.fail(Session.put("k", () => 1))
          expect(yield* b.run(Session.get("k"))).toBe("before")
        }).pipe(Effect.provide(server)))
    })

    it.effect("\"__proto__\" and \"constructor\" are plain data keys", () =>
      Effect.gen(function*() {
        const b = browser()
        const evil = JSON.parse("{\"__proto__\":{\"admin\":true}}")
        yield* b.run(Effect.all([
          Session.put("__proto__", { admin: true }),
          Session.put("constructor", "plain"),
          Session.put("payload", evil)
        ]))
        expect(yield* b.run(Session.get("__proto__"))).toStrictEqual({ admin: true })
        expect(yield* b.run(Session.get("constructor"))).toBe("plain")
        expect(yield* b.run(Effect.all([Session.has("__proto__"), Session.exists("constructor")]))).toStrictEqual([
          true,
          true
        ])
        const all = yield* b.run(Session.all)
        expect(Object.getOwnPropertyDescriptor(all, "__proto__")?.value).toStrictEqual({ admin: true })
        expect(Object.getPrototypeOf(all)).toBe(Object.prototype)
        expect((all as any).admin).toBeUndefined()
        const payload = yield* b.run(Session.get("payload"))
        expect(Object.getOwnPropertyDescriptor(payload, "__proto__")?.value).toStrictEqual({ admin: true })
        expect(({} as any).admin).toBeUndefined()
        yield* b.run(Session.forget("__proto__"))
        expect(yield* b.run(Session.all)).toStrictEqual({ constructor: "plain", payload: dataOf(evil) })
      }).pipe(Effect.provide(server)))
  })

  describe("increment / decrement / push / remember", () => {
    it.effect("increment and decrement start at 0, take a step, and persist", () =>
      Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Session.increment("views"))).toBe(1)
        expect(yield* b.run(Session.increment("views"))).toBe(2)
        expect(yield* b.run(Session.increment("views", 10))).toBe(12)
        expect(yield* b.run(Session.decrement("views"))).toBe(11)
        expect(yield* b.run(Session.decrement("views", 5))).toBe(6)
        expect(yield* b.run(Session.decrement("credits", 3))).toBe(-3)
        expect(yield* b.run(Effect.all([Session.get("views"), Session.get("credits")]))).toStrictEqual([6, -3])
      }).pipe(Effect.provide(server)))

    it.effect("several increments in one request all count", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.increment("n"), Session.increment("n"), Session.increment("n", 3)]))
        expect(yield* b.run(Session.get("n"))).toBe(5)
        yield* b.run(Effect.zipRight(Session.put("n", 100), Session.increment("n")))
        expect(yield* b.run(Session.get("n"))).toBe(101)
      }).pipe(Effect.provide(server)))

    it.effect("a value that is not a number is SessionValueError \"NotANumber\", and stays as it was", () =>
      Effect.gen(function*() {
        const b = browser()
        // (null is left out: increment treats it as missing, like Laravel; see the report)
        yield* b.run(Effect.all([Session.put("s", "12"), Session.put("o", { n: 1 }), Session.put("z", [1])]))
        for (const key of ["s", "o", "z"]) {
          const inc = yield* b.fail(Session.increment(key))
          expect(inc).toBeInstanceOf(SessionValueError)
          expect(inc).toMatchObject({ reason: "NotANumber", key })
          expect(yield* b.fail(Session.decrement(key))).toMatchObject({ reason: "NotANumber", key })
        }
        expect(yield* b.run(Session.only(["s", "o", "z"]))).toStrictEqual({ s: "12", o: { n: 1 }, z: [1] })
      }).pipe(Effect.provide(server)))

    it.effect("a step that is not finite, or a result that is not, is \"NotANumber\"", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("n", Number.MAX_VALUE))
        expect(yield* b.fail(Session.increment("m", NaN))).toMatchObject({ reason: "NotANumber" })
        expect(yield* b.fail(Session.increment("m", Infinity))).toMatchObject({ reason: "NotANumber" })
        expect(yield* b.fail(Session.increment("n", Number.MAX_VALUE))).toMatchObject({ reason: "NotANumber" })
        expect(yield* b.run(Effect.all([Session.get("n"), Session.exists("m")]))).toStrictEqual([
          Number.MAX_VALUE,
          false
        ])
      }).pipe(Effect.provide(server)))

    it.effect("push appends to an array (a new one when missing); a non-array is \"NotAnArray\"", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.push("cart", { sku: "A", qty: 1 }))
        yield* b.run(Effect.zipRight(Session.push("cart", { sku: "B", qty: 2 }), Session.push("cart", "C")))
        expect(yield* b.run(Session.get("cart"))).toStrictEqual([{ sku: "A", qty: 1 }, { sku: "B", qty: 2 }, "C"])
        yield* b.run(Session.put("s", "text"))
        const error = yield* b.fail(Session.push("s", 1))
        expect(error).toBeInstanceOf(SessionValueError)
        expect(error).toMatchObject({ reason: "NotAnArray", key: "s" })
        expect(yield* b.fail(Session.push("cart", () => 1))).toMatchObject({ reason: "Unencodable", key: "cart" })
        expect(yield* b.run(Session.get("cart"))).toHaveLength(3)
      }).pipe(Effect.provide(server)))

    it.effect("remember computes and stores only when the key is missing or null", () =>
      Effect.gen(function*() {
        const b = browser()
        let computed = 0
        const compute = Effect.sync(() => ++computed)
        expect(yield* b.run(Session.remember("theme", compute))).toBe(1)
        expect(yield* b.run(Session.remember("theme", compute))).toBe(1)
        expect(computed).toBe(1)
        yield* b.run(Session.put("theme", null))
        expect(yield* b.run(Session.remember("theme", compute))).toBe(2)
        expect(yield* b.run(Session.get("theme"))).toBe(2)
        // a failing computation stores nothing and fails with its own error
        const error = yield* b.fail(Session.remember("other", Effect.fail("nope" as const)))
        expect(error).toBe("nope")
        expect(yield* b.run(Session.exists("other"))).toBe(false)
        // an unencodable result is refused
        expect(yield* b.fail(Session.remember("fn", Effect.succeed(() => 1)))).toMatchObject({
          reason: "Unencodable"
        })
      }).pipe(Effect.provide(server)))
  })

  describe("flush / invalidate / regenerate / destroy / save", () => {
    it.effect("flush clears data, flash data and the token, and keeps the ID", () =>
      Effect.gen(function*() {
        const b = browser()
        const [id, token] = yield* b.run(
          Effect.zipRight(
            Effect.all([Session.put("a", 1), Session.flash("f", 2)]),
            Effect.all([Session.id, Session.token])
          )
        )
        const [afterId, all] = yield* b.run(Effect.zipRight(Session.flush, Effect.all([Session.id, Session.all])))
        expect(afterId).toBe(id)
        expect(all).toStrictEqual({})
        expect(b.cookie()).toBe(id)
        expect(yield* b.run(Effect.all([Session.all, Session.id]))).toStrictEqual([{}, id])
        expect(yield* b.run(Session.token)).not.toBe(token)
      }).pipe(Effect.provide(server)))

    it.effect("flush then put in one request keeps only the new data", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", 2)]))
        yield* b.run(Effect.zipRight(Session.flush, Session.put("c", 3)))
        expect(yield* b.run(Session.all)).toStrictEqual({ c: 3 })
      }).pipe(Effect.provide(server)))

    it.effect("invalidate: empty session under a new ID; the old ID no longer works", () =>
      Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.zipRight(Session.put("user", "ada"), Session.id))
        const newId = yield* b.run(Effect.zipRight(Session.invalidate, Session.id))
        expect(newId).not.toBe(id)
        expect(b.cookie()).toBe(newId)
        expect(yield* b.run(Effect.all([Session.all, Session.isNew]))).toStrictEqual([{}, false])
        step = Session.all
        const old = yield* request("POST", "/", { cookie: `${COOKIE}=${id}` })
        expect(old.status).toBe(200)
        expect(outcome).toStrictEqual(Exit.succeed({}))
      }).pipe(Effect.provide(server)))

    it.effect("regenerate: a new ID for the same data, visible at once through Session.id", () =>
      Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.zipRight(Session.put("cart", [1]), Session.id))
        const [before, after, isNew] = yield* b.run(
          Effect.all([Session.id, Effect.zipRight(Session.regenerate, Session.id), Session.isNew])
        )
        expect(before).toBe(id)
        expect(after).not.toBe(id)
        expect(after).toMatch(ID_SHAPE)
        expect(isNew).toBe(false)
        expect(b.cookie()).toBe(after)
        expect(yield* b.run(Session.get("cart"))).toStrictEqual([1])
      }).pipe(Effect.provide(server)))

    it.effect("regenerate replaces an existing CSRF token (a token from before login is void after)", () =>
      Effect.gen(function*() {
        const b = browser()
        const token = yield* b.run(Session.token)
        const after = yield* b.run(Effect.zipRight(Session.regenerate, Session.token))
        expect(after).not.toBe(token)
        expect(yield* b.run(Session.token)).toBe(after)
      }).pipe(Effect.provide(server)))

    it.effect("regenerate on a brand-new session just creates it once", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const b = browser()
        const id = yield* b.run(Effect.all([Session.regenerate, Session.put("a", 1)]).pipe(Effect.zipRight(Session.id)))
        expect(b.cookie()).toBe(id)
        expect(recorder.ops("destroy")).toStrictEqual([])
        expect(recorder.writes().length).toBe(1)
      }).pipe(Effect.provide(server)))

    it.effect("destroy: the handle is a new, empty session afterwards, and the cookie is deleted", () =>
      Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.zipRight(Session.put("user", "ada"), Session.id))
        const { exit, reply } = yield* b.send(
          Effect.zipRight(Session.destroy, Effect.all([Session.all, Session.isNew, Session.exists("user")]))
        )
        expect(exit).toStrictEqual(Exit.succeed([{}, true, false]))
        expect(reply.setCookies.map((c) => [c.name, c.attributes["max-age"]])).toStrictEqual([[COOKIE, "0"]])
        expect(b.cookie()).toBeUndefined()
        const [all, isNew, newId] = yield* b.run(Effect.all([Session.all, Session.isNew, Session.id]))
        expect(all).toStrictEqual({})
        expect(isNew).toBe(true)
        expect(newId).not.toBe(id)
      }).pipe(Effect.provide(server)))

    it.effect("save writes ahead of the automatic save, which then writes only what changed since", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const b = browser()
        const writesDuringHandler = yield* b.run(
          Effect.gen(function*() {
            yield* Session.put("a", 1)
            yield* Session.save
            return recorder.writes().length
          })
        )
        expect(writesDuringHandler).toBe(1)
        expect(recorder.writes().length).toBe(1)
        expect(b.cookie()).toMatch(ID_SHAPE)

        recorder.reset()
        yield* b.run(Effect.gen(function*() {
          yield* Session.put("b", 2)
          yield* Session.save
          yield* Session.put("c", 3)
        }))
        expect(recorder.writes().length).toBe(2)
        expect(yield* b.run(Session.all)).toStrictEqual({ a: 1, b: 2, c: 3 })
      }).pipe(Effect.provide(server)))

    it.effect("changes are kept only when the handler succeeds, except what save already wrote", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("n", 1))
        const failed = yield* b.send(Effect.zipRight(Session.put("n", 2), Effect.fail("boom")), "/strict")
        expect(failed.reply.status).toBe(500)
        expect(yield* b.run(Session.get("n"))).toBe(1)
        const saved = yield* b.send(
          Effect.all([Session.put("n", 3), Session.save, Session.put("n", 4), Effect.fail("boom")], { discard: true }),
          "/strict"
        )
        expect(saved.reply.status).toBe(500)
        expect(yield* b.run(Session.get("n"))).toBe(3)
      }).pipe(Effect.provide(server)))
  })

  describe("flash data", () => {
    it.effect("flash lasts for the next request only", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.zipRight(Session.put("keep", true), Session.flash("status", "Saved!")))
        expect(yield* b.run(Session.get("status"))).toBe("Saved!")
        expect(yield* b.run(Session.getOption("status"))).toStrictEqual(Option.none())
        expect(yield* b.run(Session.all)).toStrictEqual({ keep: true })
      }).pipe(Effect.provide(server)))

    it.effect("flash is visible in the request that set it too", () =>
      Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Effect.zipRight(Session.flash("status", "now"), Session.get("status")))).toBe("now")
      }).pipe(Effect.provide(server)))

    it.effect("now lasts for this request only, and a new session holding only now-data is never created", () =>
      Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Effect.zipRight(Session.now("inline", "hi"), Session.get("inline")))).toBe("hi")
        expect(b.cookie()).toBeUndefined()
        yield* b.run(Session.put("x", 1))
        yield* b.run(Session.now("inline", "again"))
        expect(yield* b.run(Session.all)).toStrictEqual({ x: 1 })
      }).pipe(Effect.provide(server)))

    it.effect("reflash keeps all flash data one more request", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.flash("a", 1), Session.flash("b", 2)]))
        expect(yield* b.run(Effect.zipRight(Session.reflash, Session.only(["a", "b"])))).toStrictEqual({ a: 1, b: 2 })
        expect(yield* b.run(Session.only(["a", "b"]))).toStrictEqual({ a: 1, b: 2 })
        expect(yield* b.run(Session.only(["a", "b"]))).toStrictEqual({})
      }).pipe(Effect.provide(server)))

    it.effect("keep keeps only the named flash keys one more request", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.flash("a", 1), Session.flash("b", 2), Session.flash("c", 3)]))
        yield* b.run(Effect.all([Session.keep("a"), Session.keep(["c", "not-flash"])]))
        expect(yield* b.run(Session.only(["a", "b", "c"]))).toStrictEqual({ a: 1, c: 3 })
        expect(yield* b.run(Session.only(["a", "b", "c"]))).toStrictEqual({})
      }).pipe(Effect.provide(server)))

    it.effect("flashing a key again in the next request keeps it one more request, with the new value", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.flash("msg", "one"))
        yield* b.run(Session.flash("msg", "two"))
        expect(yield* b.run(Session.get("msg"))).toBe("two")
        expect(yield* b.run(Session.exists("msg"))).toBe(false)
      }).pipe(Effect.provide(server)))

    it.effect("flash with a typed key encodes the value", () =>
      Effect.gen(function*() {
        const b = browser()
        const at = SessionKey.make("at", Schema.Date)
        yield* b.run(Session.flash(at, new Date(1000)))
        const value = yield* b.run(Session.get(at))
        expect(value).toBeInstanceOf(Date)
        expect(value.getTime()).toBe(1000)
      }).pipe(Effect.provide(server)))
  })

  describe("CSRF token", () => {
    it.effect("token is created once, is 256-bit base64url, and differs from the session ID", () =>
      Effect.gen(function*() {
        const b = browser()
        const [token, again] = yield* b.run(Effect.all([Session.token, Session.token]))
        expect(token).toBe(again)
        expect(token).toMatch(ID_SHAPE)
        expect(Buffer.from(token, "base64url").length).toBe(32)
        expect(token).not.toBe(b.cookie())
        // asking for a token creates the session (the token must survive to the next request)
        expect(b.cookie()).toMatch(ID_SHAPE)
        expect(yield* b.run(Session.token)).toBe(token)
        // and it is not user data
        expect(yield* b.run(Session.all)).toStrictEqual({})
      }).pipe(Effect.provide(server)))

    it.effect("regenerateToken replaces it and returns the new one", () =>
      Effect.gen(function*() {
        const b = browser()
        const token = yield* b.run(Session.token)
        const fresh = yield* b.run(Session.regenerateToken)
        expect(fresh).not.toBe(token)
        expect(fresh).toMatch(ID_SHAPE)
        expect(yield* b.run(Session.token)).toBe(fresh)
      }).pipe(Effect.provide(server)))

    it.effect("every session has its own token", () =>
      Effect.gen(function*() {
        const tokens = new Set<string>()
        for (let i = 0; i < 5; i++) tokens.add(yield* browser().run(Session.token))
        expect(tokens.size).toBe(5)
      }).pipe(Effect.provide(server)))
  })

  describe("typed access: SessionKey and get(key, schema)", () => {
    it.effect("a SessionKey encodes on put and decodes on get: Date, bigint, Map round-trip", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const b = browser()
        const lastSeen = SessionKey.make("lastSeen", Schema.Date)
        const big = SessionKey.make("big", Schema.BigInt)
        const prefs = SessionKey.make("prefs", Schema.ReadonlyMap({ key: Schema.String, value: Schema.Number }))
        yield* b.run(Effect.all([
          Session.put(lastSeen, new Date("2024-01-02T03:04:05.000Z")),
          Session.put(big, 12345678901234567890n),
          Session.put(prefs, new Map([["a", 1]]))
        ]))
        const stored = recorder.writes()[0]!.data!
        expect(stored.lastSeen).toBe("2024-01-02T03:04:05.000Z")
        expect(stored.big).toBe("12345678901234567890")
        expect(stored.prefs).toStrictEqual([["a", 1]])

        const [date, n, map] = yield* b.run(Effect.all([Session.get(lastSeen), Session.get(big), Session.get(prefs)]))
        expect(date).toBeInstanceOf(Date)
        expect(date.toISOString()).toBe("2024-01-02T03:04:05.000Z")
        expect(n).toBe(12345678901234567890n)
        expect(map).toBeInstanceOf(Map)
        expect([...map]).toStrictEqual([["a", 1]])
        // the untyped view is the stored JSON form
        expect(yield* b.run(Session.get("lastSeen"))).toBe("2024-01-02T03:04:05.000Z")
      }).pipe(Effect.provide(server)))

    it.effect("getOption, pull and remember with a SessionKey", () =>
      Effect.gen(function*() {
        const b = browser()
        const at = SessionKey.make("at", Schema.Date)
        expect(yield* b.run(Session.getOption(at))).toStrictEqual(Option.none())
        const remembered = yield* b.run(Session.remember(at, Effect.succeed(new Date(5))))
        expect(remembered.getTime()).toBe(5)
        const again = yield* b.run(Session.remember(at, Effect.succeed(new Date(6))))
        expect(again.getTime()).toBe(5)
        const some = yield* b.run(Session.getOption(at))
        expect(Option.map(some, (d) => d.getTime())).toStrictEqual(Option.some(5))
        const pulled = yield* b.run(Session.pull(at))
        expect(pulled.getTime()).toBe(5)
        expect(yield* b.fail(Session.get(at))).toBeInstanceOf(SessionKeyMissing)
      }).pipe(Effect.provide(server)))

    it.effect("get(key, schema) decodes an untyped value", () =>
      Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("n", 3), Session.put("when", "2020-01-01T00:00:00.000Z")]))
        expect(yield* b.run(Session.get("n", Schema.Number))).toBe(3)
        const when = yield* b.run(Session.get("when", Schema.Date))
        expect(when).toBeInstanceOf(Date)
        expect(yield* b.run(Session.getOption("n", Schema.Number))).toStrictEqual(Option.some(3))
        expect(yield* b.fail(Session.get("absent", Schema.Number))).toBeInstanceOf(SessionKeyMissing)
      }).pipe(Effect.provide(server)))

    it.effect("a value that no longer decodes is SessionValueError \"DecodeFailed\"", () =>
      Effect.gen(function*() {
        const b = browser()
        const v1 = SessionKey.make("cart", Schema.Array(Schema.String))
        const v2 = SessionKey.make("cart", Schema.Struct({ items: Schema.Array(Schema.String) }))
        yield* b.run(Session.put(v1, ["a"]))
        const error = yield* b.fail(Session.get(v2))
        expect(error).toBeInstanceOf(SessionValueError)
        expect(error).toMatchObject({ _tag: "SessionValueError", reason: "DecodeFailed", key: "cart" })
        expect(yield* b.fail(Session.getOption(v2))).toMatchObject({ reason: "DecodeFailed" })
        yield* b.run(Session.put("n", "not a number"))
        expect(yield* b.fail(Session.get("n", Schema.Number))).toMatchObject({ reason: "DecodeFailed", key: "n" })
        // the stored value is untouched by a failed decode
        expect(yield* b.run(Session.get(v1))).toStrictEqual(["a"])
      }).pipe(Effect.provide(server)))

    it.effect("a value the key's schema cannot encode is \"EncodeFailed\", and nothing is stored", () =>
      Effect.gen(function*() {
        const b = browser()
        const count = SessionKey.make("count", Schema.Int)
        const error = yield* b.fail(Session.put(count, 1.5))
        expect(error).toBeInstanceOf(SessionValueError)
        expect(error).toMatchObject({ reason: "EncodeFailed", key: "count" })
        expect(b.cookie()).toBeUndefined()
      }).pipe(Effect.provide(server)))

    it.effect("a schema whose encoded form is not JSON is still refused", () =>
      Effect.gen(function*() {
        const b = browser()
        const raw = SessionKey.make("raw", Schema.DateFromSelf)
        expect(yield* b.fail(Session.put(raw, new Date(0)))).toMatchObject({ reason: "Unencodable", key: "raw" })
      }).pipe(Effect.provide(server)))

    it("SessionKey is recognisable and pipeable", () => {
      const key = SessionKey.make("k", Schema.Number)
      expect(SessionKey.isSessionKey(key)).toBe(true)
      expect(SessionKey.isSessionKey("k")).toBe(false)
      expect(SessionKey.isSessionKey({ key: "k", schema: Schema.Number })).toBe(false)
      expect(key.key).toBe("k")
      expect(String(key)).toBe("SessionKey(k)")
      expect(key.pipe((k) => k.key)).toBe("k")
    })
  })

  describe("the type-level requirement", () => {
    it("accessors require Session, so a handler cannot run without the middleware", () => {
      const uses = Session.get("k")
      // @ts-expect-error: Session is not provided
      const _run = () => Effect.runSync(uses)
      expect(typeof _run).toBe("function")
    })
  })
})

describe("ending a session from outside its requests", () => {
  it.effect("Session.revoke(id) deletes the record: the next request with that cookie is a new session", () =>
    Effect.gen(function*() {
      const laptop = browser()
      yield* laptop.run(Session.put("user", "ada"))
      const id = laptop.cookie()!
      // e.g. "log out my other devices", run by another request or a job
      yield* Session.revoke(id)
      expect(yield* laptop.run(Session.isNew)).toBe(true)
      expect(yield* laptop.run(Session.getString("user"))).toBe("")
    }).pipe(Effect.provide(server)))

  it.effect("Session.storageKey(id) is the key the store holds it under; a malformed ID revokes nothing", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const phone = browser()
      yield* phone.run(Session.put("user", "ada"))
      const id = phone.cookie()!
      expect(Option.isSome(yield* recorder.inner.read(Session.storageKey(id)))).toBe(true)
      expect(Session.storageKey(id)).not.toContain(id)
      recorder.reset()
      yield* Session.revoke("not-a-session-id")
      expect(recorder.calls).toStrictEqual([])
      expect(yield* phone.run(Session.getString("user"))).toBe("ada")
    }).pipe(Effect.provide(server)))
})
