/**
 * Every accessor of `Session`, used the way handlers use it: behind the middleware, over real
 * HTTP, one request per step, with a cookie jar carrying the session between steps (ported from
 * the effect 3 package's test/Session.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option, Schema } from "effect"
import { Session, SessionKey, SessionKeyMissing, SessionTest, SessionValueError } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { isTagged } from "effect/Predicate"
import { makeJar, type Reply, serve } from "./utils/http.js"

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/

// The test hands each request the handler body it wants to run.
let step: Effect.Effect<unknown, unknown, Session> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const Routes = Layer.mergeAll(
  // The step's own failures are captured for the test; store failures still reach the middleware.
  HttpRouter.add(
    "POST",
    "/",
    Effect.suspend(() => step).pipe(
      Effect.exit,
      Effect.flatMap((exit) => {
        outcome = exit
        const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
        return Option.isSome(failure) && isTagged(failure.value, "SessionStoreError")
          ? Effect.fail(failure.value)
          : Effect.succeed(HttpServerResponse.text("ok"))
      })
    )
  ),
  // Here the step's failure is the app's failure, as in a real handler.
  HttpRouter.add("POST", "/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

const server = serve(Routes)

const withServer = <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(server))

interface Step<A, E> {
  readonly exit: Exit.Exit<A, E>
  readonly reply: Reply
}

/** A browser with its own cookie jar. */
const browser = () => {
  const jar = makeJar()
  const send = <A, E>(effect: Effect.Effect<A, E, Session>, path: "/" | "/strict" = "/") =>
    Effect.gen(function*() {
      step = effect
      outcome = undefined
      const reply = yield* jar.post(path)
      const result: Step<A, E> = { exit: outcome as unknown as Exit.Exit<A, E>, reply }
      return result
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
      return Option.getOrThrow(Cause.findErrorOption(exit.cause))
    })
  return { jar, send, run, fail, cookie: () => jar.value }
}

const calls = SessionTest.RecordingStore.use((store) => store.calls)
const clearCalls = SessionTest.RecordingStore.use((store) => store.clear)
/** The store calls that save a session: a full write, a patch or a rotation. */
const saves = Effect.map(
  calls,
  (all) => all.filter((c) => c._tag === "write" || c._tag === "patch" || c._tag === "rotate")
)

const dataOf = (value: unknown) => JSON.parse(JSON.stringify(value))

describe("Session accessors over HTTP", () => {
  describe("get / getOption / getString", () => {
    it.effect("get returns what put stored, in the same request and the next", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const same = yield* b.run(Effect.andThen(Session.put("user", { id: 1, name: "Ada" }), Session.get("user")))
        expect(same).toStrictEqual({ id: 1, name: "Ada" })
        expect(yield* b.run(Session.get("user"))).toStrictEqual({ id: 1, name: "Ada" })
      })))

    it.effect("getOption is None when not set, Some otherwise (null included)", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Session.getOption("k"))).toStrictEqual(Option.none())
        yield* b.run(Effect.andThen(Session.put("k", 0), Session.put("n", null)))
        expect(yield* b.run(Session.getOption("k"))).toStrictEqual(Option.some(0))
        expect(yield* b.run(Session.getOption("n"))).toStrictEqual(Option.some(null))
      })))

    it.effect("getString is the string, or \"\" when missing or not a string", () =>
      withServer(Effect.gen(function*() {
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
      })))
  })

  describe("id / isNew / all", () => {
    it.effect("id is the cookie's value, stable across requests; isNew only on the first", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const [id, isNew] = yield* b.run(Effect.andThen(Session.put("x", 1), Effect.all([Session.id, Session.isNew])))
        expect(id).toMatch(ID_SHAPE)
        expect(isNew).toBe(true)
        expect(b.cookie()).toBe(id)
        expect(yield* b.run(Effect.all([Session.id, Session.isNew]))).toStrictEqual([id, false])
      })))

    it.effect("an ID asked for before the first write is the one the cookie carries", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.flatMap(Session.id, (id) => Effect.as(Session.put("x", 1), id)))
        expect(b.cookie()).toBe(id)
        expect(yield* b.run(Session.id)).toBe(id)
      })))

    it.effect("all returns the data only (no metadata), as a copy", () =>
      withServer(Effect.gen(function*() {
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
      })))
  })

  describe("has / exists / missing / only / except", () => {
    it.effect("has ignores null; exists counts it; missing is the opposite of exists", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("value", "v"), Session.put("nothing", null), Session.put("zero", 0)]))
        const check = (key: string) => Effect.all([Session.has(key), Session.exists(key), Session.missing(key)])
        expect(yield* b.run(check("value"))).toStrictEqual([true, true, false])
        expect(yield* b.run(check("nothing"))).toStrictEqual([false, true, false])
        expect(yield* b.run(check("zero"))).toStrictEqual([true, true, false])
        expect(yield* b.run(check("absent"))).toStrictEqual([false, false, true])
        // inherited Object properties are not session keys, nor is the metadata
        expect(yield* b.run(check("toString"))).toStrictEqual([false, false, true])
        expect(yield* b.run(check("__session"))).toStrictEqual([false, false, true])
      })))

    it.effect("only picks present keys; except drops the named ones", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", 2), Session.put("c", null), Session.token]))
        expect(yield* b.run(Session.only(["a", "c", "zzz", "__session"]))).toStrictEqual({ a: 1, c: null })
        expect(yield* b.run(Session.only([]))).toStrictEqual({})
        expect(yield* b.run(Session.except(["a", "zzz"]))).toStrictEqual({ b: 2, c: null })
        expect(yield* b.run(Session.except([]))).toStrictEqual({ a: 1, b: 2, c: null })
      })))
  })

  describe("put / forget / pull", () => {
    it.effect("put overwrites and persists; forget removes one key or several", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", 2), Session.put("c", 3), Session.put("d", 4)]))
        yield* b.run(Session.put("a", "one"))
        expect(yield* b.run(Session.all)).toStrictEqual({ a: "one", b: 2, c: 3, d: 4 })
        yield* b.run(Session.forget("b"))
        yield* b.run(Session.forget(["c", "d", "never-set"]))
        expect(yield* b.run(Session.all)).toStrictEqual({ a: "one" })
      })))

    it.effect("pull returns the value and removes it; a missing key is SessionKeyMissing", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("intended", "/account"))
        expect(yield* b.run(Session.pull("intended"))).toBe("/account")
        expect(yield* b.run(Session.exists("intended"))).toBe(false)
        const error = yield* b.fail(Session.pull("intended"))
        expect(error).toBeInstanceOf(SessionKeyMissing)
        expect(error).toMatchObject({ _tag: "SessionKeyMissing", key: "intended" })
        // the Go package's text, then the key
        expect((error as SessionKeyMissing).message).toBe("session: key not set: \"intended\"")
      })))

    it.effect("put refuses the reserved metadata key and undefined, naming the key", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const reserved = yield* b.fail(Session.put("__session", { c: 0, r: 0 }))
        expect(reserved).toBeInstanceOf(SessionValueError)
        expect(reserved).toMatchObject({ reason: "ReservedKey", key: "__session" })
        const undef = yield* b.fail(Session.put("u", undefined))
        expect(undef).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable", key: "u" })
        expect(b.cookie()).toBeUndefined()
      })))

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
          withServer(Effect.gen(function*() {
            const b = browser()
            const { exit, reply } = yield* b.send(Session.put("bad", value))
            expect(Exit.isFailure(exit)).toBe(true)
            const error = Option.getOrThrow(Cause.findErrorOption((exit as Exit.Failure<void, unknown>).cause))
            expect(error).toBeInstanceOf(SessionValueError)
            expect(error).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable", key: "bad" })
            expect((error as SessionValueError).message).toContain("\"bad\"")
            expect(reply.setCookie).toBeUndefined()
            expect(yield* saves).toStrictEqual([])
          })))
      }

      it.effect("a failed put leaves the previous value in place", () =>
        withServer(Effect.gen(function*() {
          const b = browser()
          yield* b.run(Session.put("k", "before"))
          yield* b.fail(Session.put("k", () => 1))
          expect(yield* b.run(Session.get("k"))).toBe("before")
        })))
    })

    it.effect("\"__proto__\" and \"constructor\" are plain data keys", () =>
      withServer(Effect.gen(function*() {
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
      })))
  })

  describe("increment / decrement / push / remember", () => {
    it.effect("increment and decrement start at 0, take a step, and persist across requests", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Session.increment("views"))).toBe(1)
        expect(yield* b.run(Session.increment("views"))).toBe(2)
        expect(yield* b.run(Session.increment("views", 10))).toBe(12)
        expect(yield* b.run(Session.decrement("views"))).toBe(11)
        expect(yield* b.run(Session.decrement("views", 5))).toBe(6)
        expect(yield* b.run(Session.decrement("credits", 3))).toBe(-3)
        expect(yield* b.run(Effect.all([Session.get("views"), Session.get("credits")]))).toStrictEqual([6, -3])
      })))

    it.effect("several increments in one request all count", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.increment("n"), Session.increment("n"), Session.increment("n", 3)]))
        expect(yield* b.run(Session.get("n"))).toBe(5)
        yield* b.run(Effect.andThen(Session.put("n", 100), Session.increment("n")))
        expect(yield* b.run(Session.get("n"))).toBe(101)
      })))

    it.effect("a value that is not a number is SessionValueError \"NotANumber\", and stays as it was", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("s", "12"), Session.put("o", { n: 1 }), Session.put("z", [1])]))
        for (const key of ["s", "o", "z"]) {
          const inc = yield* b.fail(Session.increment(key))
          expect(inc).toBeInstanceOf(SessionValueError)
          expect(inc).toMatchObject({ reason: "NotANumber", key })
          expect(yield* b.fail(Session.decrement(key))).toMatchObject({ reason: "NotANumber", key })
        }
        expect(yield* b.run(Session.only(["s", "o", "z"]))).toStrictEqual({ s: "12", o: { n: 1 }, z: [1] })
      })))

    it.effect("a step that is not finite, or a result that is not, is \"NotANumber\"", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("n", Number.MAX_VALUE))
        expect(yield* b.fail(Session.increment("m", NaN))).toMatchObject({ reason: "NotANumber" })
        expect(yield* b.fail(Session.increment("m", Infinity))).toMatchObject({ reason: "NotANumber" })
        expect(yield* b.fail(Session.increment("n", Number.MAX_VALUE))).toMatchObject({ reason: "NotANumber" })
        expect(yield* b.run(Effect.all([Session.get("n"), Session.exists("m")]))).toStrictEqual([
          Number.MAX_VALUE,
          false
        ])
      })))

    it.effect("push appends to an array (a new one when missing); a non-array is \"NotAnArray\"", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.push("cart", { sku: "A", qty: 1 }))
        yield* b.run(Effect.andThen(Session.push("cart", { sku: "B", qty: 2 }), Session.push("cart", "C")))
        expect(yield* b.run(Session.get("cart"))).toStrictEqual([{ sku: "A", qty: 1 }, { sku: "B", qty: 2 }, "C"])
        yield* b.run(Session.put("s", "text"))
        const error = yield* b.fail(Session.push("s", 1))
        expect(error).toBeInstanceOf(SessionValueError)
        expect(error).toMatchObject({ reason: "NotAnArray", key: "s" })
        expect(yield* b.fail(Session.push("cart", () => 1))).toMatchObject({ reason: "Unencodable", key: "cart" })
        expect(yield* b.run(Session.get("cart"))).toHaveLength(3)
      })))

    it.effect("remember computes and stores only when the key is missing or null", () =>
      withServer(Effect.gen(function*() {
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
      })))
  })

  describe("flush / invalidate / regenerate / destroy / save", () => {
    it.effect("flush clears data, flash data and the token, and keeps the ID", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const [id, token] = yield* b.run(
          Effect.andThen(
            Effect.all([Session.put("a", 1), Session.flash("f", 2)]),
            Effect.all([Session.id, Session.token])
          )
        )
        const [afterId, all] = yield* b.run(Effect.andThen(Session.flush, Effect.all([Session.id, Session.all])))
        expect(afterId).toBe(id)
        expect(all).toStrictEqual({})
        expect(b.cookie()).toBe(id)
        expect(yield* b.run(Effect.all([Session.all, Session.id]))).toStrictEqual([{}, id])
        expect(yield* b.run(Session.token)).not.toBe(token)
      })))

    it.effect("flush then put in one request keeps only the new data", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("a", 1), Session.put("b", 2)]))
        yield* b.run(Effect.andThen(Session.flush, Session.put("c", 3)))
        expect(yield* b.run(Session.all)).toStrictEqual({ c: 3 })
      })))

    it.effect("invalidate: empty session under a new ID; the old ID no longer works", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.andThen(Session.put("user", "ada"), Session.id))
        const newId = yield* b.run(Effect.andThen(Session.invalidate, Session.id))
        expect(newId).not.toBe(id)
        expect(b.cookie()).toBe(newId)
        expect(yield* b.run(Effect.all([Session.all, Session.isNew]))).toStrictEqual([{}, false])
        const old = browser()
        old.jar.set(id)
        expect(yield* old.run(Effect.all([Session.all, Session.isNew]))).toStrictEqual([{}, true])
      })))

    it.effect("regenerate: a new ID for the same data, visible at once through Session.id", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.andThen(Session.put("cart", [1]), Session.id))
        const [before, after, isNew] = yield* b.run(
          Effect.all([Session.id, Effect.andThen(Session.regenerate, Session.id), Session.isNew])
        )
        expect(before).toBe(id)
        expect(after).not.toBe(id)
        expect(after).toMatch(ID_SHAPE)
        expect(isNew).toBe(false)
        expect(b.cookie()).toBe(after)
        expect(yield* b.run(Session.get("cart"))).toStrictEqual([1])
      })))

    it.effect("regenerate replaces an existing CSRF token (a token from before login is void after)", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const token = yield* b.run(Session.token)
        const after = yield* b.run(Effect.andThen(Session.regenerate, Session.token))
        expect(after).not.toBe(token)
        expect(yield* b.run(Session.token)).toBe(after)
      })))

    it.effect("regenerate on a brand-new session just creates it once", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.all([Session.regenerate, Session.put("a", 1)]).pipe(Effect.andThen(Session.id)))
        expect(b.cookie()).toBe(id)
        const made = yield* calls
        expect(made.filter((c) => c._tag === "destroy")).toStrictEqual([])
        expect((yield* saves).length).toBe(1)
      })))

    it.effect("destroy: the handle is a new, empty session afterwards, and the cookie is deleted", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const id = yield* b.run(Effect.andThen(Session.put("user", "ada"), Session.id))
        const { exit, reply } = yield* b.send(
          Effect.andThen(Session.destroy, Effect.all([Session.all, Session.isNew, Session.exists("user")]))
        )
        expect(exit).toStrictEqual(Exit.succeed([{}, true, false]))
        expect(reply.setCookie).toMatch(/^lagodev_session=;/)
        expect(reply.setCookie).toMatch(/Max-Age=0/)
        expect(b.cookie()).toBeUndefined()
        const [all, isNew, newId] = yield* b.run(Effect.all([Session.all, Session.isNew, Session.id]))
        expect(all).toStrictEqual({})
        expect(isNew).toBe(true)
        expect(newId).not.toBe(id)
      })))

    it.effect("save writes ahead of the automatic save, which then writes only what changed since", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const savesNow = Effect.provideService(saves, SessionTest.RecordingStore, yield* SessionTest.RecordingStore)
        const savesDuringHandler = yield* b.run(
          Effect.gen(function*() {
            yield* Session.put("a", 1)
            yield* Session.save
            return (yield* savesNow).length
          })
        )
        expect(savesDuringHandler).toBe(1)
        expect((yield* saves).length).toBe(1)
        expect(b.cookie()).toMatch(ID_SHAPE)

        yield* clearCalls
        yield* b.run(Effect.gen(function*() {
          yield* Session.put("b", 2)
          yield* Session.save
          yield* Session.put("c", 3)
        }))
        expect((yield* saves).length).toBe(2)
        expect(yield* b.run(Session.all)).toStrictEqual({ a: 1, b: 2, c: 3 })
      })))

    it.effect("changes are kept only when the handler succeeds, except what save already wrote", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("n", 1))
        const failed = yield* b.send(Effect.andThen(Session.put("n", 2), Effect.fail("boom")), "/strict")
        expect(failed.reply.status).toBe(500)
        expect(yield* b.run(Session.get("n"))).toBe(1)
        const saved = yield* b.send(
          Effect.all([Session.put("n", 3), Session.save, Session.put("n", 4), Effect.fail("boom")], { discard: true }),
          "/strict"
        )
        expect(saved.reply.status).toBe(500)
        expect(yield* b.run(Session.get("n"))).toBe(3)
      })))
  })

  describe("flash data", () => {
    it.effect("flash lasts for the next request only, and leaves other data alone", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.andThen(Session.put("keep", true), Session.flash("status", "Saved!")))
        expect(yield* b.run(Session.get("status"))).toBe("Saved!")
        expect(yield* b.run(Session.getOption("status"))).toStrictEqual(Option.none())
        expect(yield* b.run(Session.all)).toStrictEqual({ keep: true })
      })))

    it.effect("flash is visible in the request that set it too", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Effect.andThen(Session.flash("status", "now"), Session.get("status")))).toBe("now")
      })))

    it.effect("now lasts for this request only, and a new session holding only now-data is never created", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        expect(yield* b.run(Effect.andThen(Session.now("inline", "hi"), Session.get("inline")))).toBe("hi")
        expect(b.cookie()).toBeUndefined()
        expect(yield* saves).toStrictEqual([])
        yield* b.run(Session.put("x", 1))
        yield* b.run(Session.now("inline", "again"))
        expect(yield* b.run(Session.all)).toStrictEqual({ x: 1 })
      })))

    it.effect("reflash keeps all flash data one more request", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.flash("a", 1), Session.flash("b", 2)]))
        expect(yield* b.run(Effect.andThen(Session.reflash, Session.only(["a", "b"])))).toStrictEqual({ a: 1, b: 2 })
        expect(yield* b.run(Session.only(["a", "b"]))).toStrictEqual({ a: 1, b: 2 })
        expect(yield* b.run(Session.only(["a", "b"]))).toStrictEqual({})
      })))

    it.effect("keep keeps only the named flash keys one more request", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.flash("a", 1), Session.flash("b", 2), Session.flash("c", 3)]))
        yield* b.run(Effect.all([Session.keep("a"), Session.keep(["c", "not-flash"])]))
        expect(yield* b.run(Session.only(["a", "b", "c"]))).toStrictEqual({ a: 1, c: 3 })
        expect(yield* b.run(Session.only(["a", "b", "c"]))).toStrictEqual({})
      })))

    it.effect("flashing a key again in the next request keeps it one more request, with the new value", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.flash("msg", "one"))
        yield* b.run(Session.flash("msg", "two"))
        expect(yield* b.run(Session.get("msg"))).toBe("two")
        expect(yield* b.run(Session.exists("msg"))).toBe(false)
      })))

    it.effect("flash with a typed key encodes the value", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const at = SessionKey.make("at", Schema.DateFromString)
        yield* b.run(Session.flash(at, new Date(1000)))
        const value = yield* b.run(Session.get(at))
        expect(value).toBeInstanceOf(Date)
        expect(value.getTime()).toBe(1000)
      })))
  })

  describe("CSRF token", () => {
    it.effect("token is created once, is 256-bit base64url, and differs from the session ID", () =>
      withServer(Effect.gen(function*() {
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
      })))

    it.effect("regenerateToken replaces it and returns the new one", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const token = yield* b.run(Session.token)
        const fresh = yield* b.run(Session.regenerateToken)
        expect(fresh).not.toBe(token)
        expect(fresh).toMatch(ID_SHAPE)
        expect(yield* b.run(Session.token)).toBe(fresh)
      })))

    it.effect("every session has its own token", () =>
      withServer(Effect.gen(function*() {
        const tokens = new Set<string>()
        for (let i = 0; i < 5; i++) tokens.add(yield* browser().run(Session.token))
        expect(tokens.size).toBe(5)
      })))
  })

  describe("typed access: SessionKey and get(key, schema)", () => {
    it.effect("a SessionKey encodes on put and decodes on get: Date, bigint, Map round-trip", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const lastSeen = SessionKey.make("lastSeen", Schema.DateFromString)
        const big = SessionKey.make("big", Schema.BigIntFromString)
        const prefs = SessionKey.make(
          "prefs",
          Schema.toCodecJson(Schema.ReadonlyMap(Schema.String, Schema.Number))
        )
        yield* b.run(Effect.all([
          Session.put(lastSeen, new Date("2024-01-02T03:04:05.000Z")),
          Session.put(big, 12345678901234567890n),
          Session.put(prefs, new Map([["a", 1]]))
        ]))
        const written = (yield* saves)[0]!
        expect(written._tag).toBe("write")
        const stored = (written as Extract<SessionTest.StoreCall, { _tag: "write" }>).data
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
      })))

    it.effect("getOption, pull and remember with a SessionKey", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const at = SessionKey.make("at", Schema.DateFromString)
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
      })))

    it.effect("get(key, schema) decodes an untyped value", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Effect.all([Session.put("n", 3), Session.put("when", "2020-01-01T00:00:00.000Z")]))
        expect(yield* b.run(Session.get("n", Schema.Number))).toBe(3)
        const when = yield* b.run(Session.get("when", Schema.DateFromString))
        expect(when).toBeInstanceOf(Date)
        expect(when.toISOString()).toBe("2020-01-01T00:00:00.000Z")
        expect(yield* b.run(Session.getOption("n", Schema.Number))).toStrictEqual(Option.some(3))
        expect(yield* b.fail(Session.get("absent", Schema.Number))).toBeInstanceOf(SessionKeyMissing)
      })))

    it.effect("a value that no longer decodes is SessionValueError \"DecodeFailed\"", () =>
      withServer(Effect.gen(function*() {
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
      })))

    it.effect("a value the key's schema cannot encode is \"EncodeFailed\", and nothing is stored", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const count = SessionKey.make("count", Schema.Int)
        const error = yield* b.fail(Session.put(count, 1.5))
        expect(error).toBeInstanceOf(SessionValueError)
        expect(error).toMatchObject({ reason: "EncodeFailed", key: "count" })
        expect(b.cookie()).toBeUndefined()
        expect(yield* saves).toStrictEqual([])
      })))

    it.effect("a schema whose encoded form is not JSON is still refused", () =>
      withServer(Effect.gen(function*() {
        const b = browser()
        const raw = SessionKey.make("raw", Schema.Date)
        expect(yield* b.fail(Session.put(raw, new Date(0)))).toMatchObject({ reason: "Unencodable", key: "raw" })
        expect(b.cookie()).toBeUndefined()
      })))
  })
})

describe("ending a session from outside its requests", () => {
  it.effect("Session.revoke(id) deletes the record: the next request with that cookie is a new session", () =>
    withServer(Effect.gen(function*() {
      const laptop = browser()
      yield* laptop.run(Session.put("user", "ada"))
      const id = laptop.cookie()!
      // e.g. "log out my other devices", run by another request or a job
      yield* Session.revoke(id)
      expect(yield* laptop.run(Session.isNew)).toBe(true)
      expect(yield* laptop.run(Session.getString("user"))).toBe("")
    })))

  it.effect("Session.storageKey(id) is the key the store holds it under; a malformed ID revokes nothing", () =>
    withServer(Effect.gen(function*() {
      const store = yield* SessionTest.RecordingStore
      const phone = browser()
      yield* phone.run(Session.put("user", "ada"))
      const id = phone.cookie()!
      expect(Option.isSome(yield* store.underlying.read(Session.storageKey(id)))).toBe(true)
      expect(Session.storageKey(id)).not.toContain(id)
      yield* store.clear
      yield* Session.revoke("not-a-session-id")
      expect(yield* store.calls).toStrictEqual([])
      expect(yield* phone.run(Session.getString("user"))).toBe("ada")
    })))
})
