/**
 * Values that are not plain JSON are refused at `Session.put` with a typed `SessionValueError`
 * ("Unencodable"), never a defect and never silently changed: a value whose reading throws (a
 * getter, a `Proxy` trap), and an array with properties beside its elements (JSON would drop
 * them). The check is the core's (`Value.check`), shared by both lines.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { Session, SessionTest } from "effect-session-v4"

const values: Record<string, () => unknown> = {
  "a getter that throws": () => ({
    get x(): number {
      throw new Error("getter")
    }
  }),
  "a Proxy whose getPrototypeOf trap throws": () =>
    new Proxy({}, {
      getPrototypeOf() {
        throw new Error("trap")
      }
    }),
  "a Proxy whose ownKeys trap throws": () =>
    new Proxy({}, {
      ownKeys() {
        throw new Error("trap")
      }
    })
}

describe("Session.put with a value whose inspection throws", () => {
  for (const [name, make] of Object.entries(values)) {
    it.effect(`${name}: a typed SessionValueError, not a defect`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Session.put("k", make()))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(Cause.hasDies(exit.cause)).toBe(false)
          const error = exit.cause.reasons.find(Cause.isFailReason)?.error as any
          expect(error?._tag).toBe("SessionValueError")
          expect(error?.reason).toBe("Unencodable")
        }
      }).pipe(Effect.provide(SessionTest.layer())))
  }
})

describe("an array with extra own properties", () => {
  it.effect("is refused at put, or reads back with its properties; never silently truncated", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const value = Object.assign([1, 2], { extra: "lost" })
      const put = yield* client.run(Effect.result(Session.put("k", value)))
      if (put.value._tag === "Failure") {
        expect(put.value.failure._tag).toBe("SessionValueError")
        return
      }
      const read = yield* client.run(Session.get("k"))
      expect((read.value as any).extra).toBe("lost")
    }).pipe(Effect.scoped))
})
