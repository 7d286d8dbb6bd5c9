/**
 * A value read from the session is the handler's own copy, and `put` stores a copy of what it is
 * given, as a PHP array read from Laravel's session: reading a value, changing it in place and
 * putting it back saves the change; changing it without `put` changes nothing, whichever store.
 * (test/values.copies.test.ts is the twin on the other line.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Schema } from "effect"
import { MemoryStore, Session, SessionKey, type SessionStoreService, SessionTest } from "effect-session-v4"

/** The memory store with only the required operations: every save writes the whole record. */
const minimal = Effect.map(MemoryStore.make(), (memory): SessionStoreService => ({
  read: (id) => memory.read(id),
  write: (id, data, ttl) => memory.write(id, data, ttl),
  destroy: (id) => memory.destroy(id)
}))

const stores = [
  ["a store with patch (memory)", MemoryStore.make()],
  ["a store without patch", minimal]
] as const

for (const [storeName, makeStore] of stores) {
  describe(`values are copies: ${storeName}`, () => {
    it.effect("get, change in place, put back: the change is saved", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ store: yield* makeStore, data: { cart: ["A-1"] } })
        const outcome = yield* client.run(Effect.gen(function*() {
          const cart = (yield* Session.get("cart")) as Array<string>
          cart.push("B-2")
          yield* Session.put("cart", cart)
        }))
        expect(outcome.data).toStrictEqual({ cart: ["A-1", "B-2"] })
        expect((yield* client.run(Session.get("cart"))).value).toStrictEqual(["A-1", "B-2"])
      }))

    it.effect("an object from get, all, only or except, changed and put back: saved", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ store: yield* makeStore, data: { user: { visits: 0 }, n: 1 } })
        const bump = (user: unknown) => {
          ;(user as { visits: number }).visits += 1
          return Session.put("user", user)
        }
        yield* client.run(Effect.flatMap(Session.get("user"), bump))
        yield* client.run(Effect.flatMap(Session.all, (all) => bump(all.user)))
        yield* client.run(Effect.flatMap(Session.only(["user"]), (some) => bump(some.user)))
        yield* client.run(Effect.flatMap(Session.except(["n"]), (rest) => bump(rest.user)))
        expect((yield* client.run(Session.get("user"))).value).toStrictEqual({ visits: 4 })
      }))

    it.effect("a value changed in place without put changes nothing, even when another key is saved", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ store: yield* makeStore, data: { prefs: { theme: "light" }, n: 1 } })
        const outcome = yield* client.run(Effect.gen(function*() {
          const prefs = (yield* Session.get("prefs")) as { theme: string }
          prefs.theme = "dark"
          yield* Session.put("n", 2)
          return yield* Session.get("prefs")
        }))
        expect(outcome.value).toStrictEqual({ theme: "light" })
        expect(outcome.data).toStrictEqual({ prefs: { theme: "light" }, n: 2 })
      }))

    it.effect("put stores what it was given: changing the object afterwards changes nothing", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ store: yield* makeStore, data: {} })
        const outcome = yield* client.run(Effect.gen(function*() {
          const cart = ["A-1"]
          yield* Session.put("cart", cart)
          cart.push("B-2")
          return yield* Session.get("cart")
        }))
        expect(outcome.value).toStrictEqual(["A-1"])
        expect(outcome.data).toStrictEqual({ cart: ["A-1"] })
      }))

    it.effect("put, save, change in place, put again: the second put is saved too", () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make({ store: yield* makeStore, data: { cart: [] } })
        yield* client.run(Effect.gen(function*() {
          const cart = (yield* Session.get("cart")) as Array<string>
          cart.push("A-1")
          yield* Session.put("cart", cart)
          yield* Session.save
          cart.push("B-2")
          yield* Session.put("cart", cart)
        }))
        expect((yield* client.run(Session.get("cart"))).value).toStrictEqual(["A-1", "B-2"])
      }))
  })
}

const failureReason = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit)
    ? Option.getOrUndefined(
      Option.map(Cause.findErrorOption(exit.cause), (e) => (e as { readonly reason?: unknown }).reason)
    )
    : undefined

describe("values as JSON keeps them", () => {
  it.effect("a property holding undefined is left out at once, as the store leaves it out", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ data: {} })
      const outcome = yield* client.run(Effect.gen(function*() {
        yield* Session.put("u", { a: 1, b: undefined })
        return yield* Session.get("u")
      }))
      expect(outcome.value).toStrictEqual({ a: 1 })
      expect((yield* client.run(Session.get("u"))).value).toStrictEqual({ a: 1 })
    }))

  it.effect("remember with a typed key computes when the stored value is null, as with a plain key", () =>
    Effect.gen(function*() {
      const Locale = SessionKey.make("locale", Schema.String)
      const client = yield* SessionTest.make({ data: { locale: null, plain: null } })
      const outcome = yield* client.run(
        Effect.all([Session.remember(Locale, Effect.succeed("en")), Session.remember("plain", Effect.succeed("en"))])
      )
      expect(outcome.value).toStrictEqual(["en", "en"])
      expect(outcome.data).toStrictEqual({ locale: "en", plain: "en" })
      // a stored value is decoded and kept
      expect((yield* client.run(Session.remember(Locale, Effect.succeed("fr")))).value).toBe("en")
    }))

  it.effect("a Struct with a field declared UndefinedOr, put with undefined: refused at the put, not broken next request", () =>
    Effect.gen(function*() {
      const Profile = SessionKey.make(
        "profile",
        Schema.Struct({ name: Schema.String, nick: Schema.UndefinedOr(Schema.String) })
      )
      const client = yield* SessionTest.make({ data: {} })
      const outcome = yield* client.run(Effect.exit(Session.put(Profile, { name: "ada", nick: undefined })))
      expect(failureReason(outcome.value)).toBe("EncodeFailed")
      expect(outcome.data).toStrictEqual({})
      // the field declared optional instead: stored without it, decoded without it
      const Optional = SessionKey.make(
        "profile",
        Schema.Struct({ name: Schema.String, nick: Schema.optional(Schema.String) })
      )
      yield* client.run(Session.put(Optional, { name: "ada", nick: undefined }))
      expect((yield* client.run(Session.get(Optional))).value).toStrictEqual({ name: "ada" })
    }))
})

describe("put reads the value once: what is stored is what was checked", () => {
  /** An object whose property reads `first` once, then whatever `later` gives. */
  const twoFaced = (first: unknown, later: () => unknown) => {
    let reads = 0
    return {
      get p() {
        return reads++ === 0 ? first : later()
      }
    }
  }

  it.effect("a property that reads differently the second time: the checked value is stored", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make({ store: yield* MemoryStore.make() })
      const cases: ReadonlyArray<readonly [string, () => unknown]> = [
        ["undefined", () => undefined],
        ["a bigint", () => 1n],
        ["a throw", () => {
          throw new Error("second read")
        }]
      ]
      for (const [name, later] of cases) {
        yield* client.run(Session.put(name, twoFaced(1, later)))
        expect((yield* client.run(Session.get(name))).value).toStrictEqual({ p: 1 })
      }
    }))
})
