/**
 * The accessors' rules, the same whether the `Session` handle is the middleware's own (the most
 * used accessors then take a shorter path) or any other handle, here a wrapper around it: an
 * invalid write fails before the session is loaded, reads and increments load once, defaults hold.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { Session, SessionKey, SessionTest } from "effect-session-v4"

const ops = (outcome: SessionTest.Outcome<unknown>) => outcome.calls.map((call) => call._tag)

/** A handle that forwards every member to the middleware's own, and is not it. */
const wrap = (session: Session["Service"]): Session["Service"] =>
  new Proxy(session, {
    getPrototypeOf: () => Object.prototype,
    get: (target, key) => {
      const value = Reflect.get(target, key, target)
      return typeof value === "function" ? value.bind(target) : value
    }
  })

const Count = SessionKey.make("count", Schema.Number)

for (const handle of ["the middleware's own handle", "another handle"] as const) {
  const run = <A, E>(client: SessionTest.Client, handler: Effect.Effect<A, E, Session>) =>
    client.run(handle === "another handle" ? Effect.updateService(handler, Session, wrap) : handler)

  describe(`accessors, with ${handle}`, () => {
    it.effect("an invalid put fails before the load: reserved key, undefined value", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ data: { n: 1 } })
        const reserved = yield* run(client, Effect.flip(Session.put("__session", 1)))
        expect(reserved.value).toMatchObject({ _tag: "SessionValueError", reason: "ReservedKey" })
        expect(ops(reserved)).toEqual([])
        const undefinedValue = yield* run(client, Effect.flip(Session.put("k", undefined)))
        expect(undefinedValue.value).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable" })
        expect(ops(undefinedValue)).toEqual([])
      }))

    it.effect("put, get and getOption load once and see each other's changes", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ data: { n: 1 } })
        const outcome = yield* run(
          client,
          Effect.gen(function*() {
            const before = yield* Session.getOption("n")
            yield* Session.put("n", 2)
            const after = yield* Session.get("n")
            const missing = yield* Effect.flip(Session.get("missing"))
            const none = yield* Session.getOption("missing")
            return { before, after, missing: missing._tag, none }
          })
        )
        expect(outcome.value).toEqual({
          before: Option.some(1),
          after: 2,
          missing: "SessionKeyMissing",
          none: Option.none()
        })
        expect(ops(outcome)).toEqual(["read", "patch"])
        expect(outcome.data).toEqual({ n: 2 })
      }))

    it.effect("a typed key decodes on get and getOption, and encodes on put", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ data: { count: 3, text: "x" } })
        const outcome = yield* run(
          client,
          Effect.gen(function*() {
            const got = yield* Session.get(Count)
            const option = yield* Session.getOption(Count)
            yield* Session.put(Count, got + 1)
            const wrong = yield* Effect.flip(Session.getOption("text", Schema.Number))
            return { got, option, wrong: wrong._tag === "SessionValueError" ? wrong.reason : wrong._tag }
          })
        )
        expect(outcome.value).toEqual({ got: 3, option: Option.some(3), wrong: "DecodeFailed" })
        expect(outcome.data).toEqual({ count: 4, text: "x" })
      }))

    it.effect("increment and decrement: by 1 unless told, numbers only", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ data: { n: 10, s: "text" } })
        const outcome = yield* run(
          client,
          Effect.gen(function*() {
            const up = yield* Session.increment("n")
            const upFive = yield* Session.increment("n", 5)
            const down = yield* Session.decrement("n")
            const downTwo = yield* Session.decrement("n", 2)
            const fresh = yield* Session.increment("m")
            const notANumber = yield* Effect.flip(Session.increment("s"))
            return { up, upFive, down, downTwo, fresh, notANumber: notANumber.reason }
          })
        )
        expect(outcome.value).toEqual({ up: 11, upFive: 16, down: 15, downTwo: 13, fresh: 1, notANumber: "NotANumber" })
        expect(ops(outcome)).toEqual(["read", "patch"])
        expect(outcome.data).toEqual({ n: 13, m: 1, s: "text" })
      }))
  })
}
