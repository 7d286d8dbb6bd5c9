/**
 * What a session value becomes in a store, and typed keys on effect 4's Schema (ported from the
 * effect 3 package's test/SessionCodec.test.ts, and its SessionKey cases in test/Session.test.ts).
 * Effect 4 has no public codec module: the codec is the core's plain-JSON record text, reached
 * through the stores (a `MemoryStore` keeps records as that text) and through `Session.put`, which
 * refuses what the codec cannot hold. `SessionKey` is how a value that is not plain JSON (a `Date`,
 * a `bigint`, a class) is stored: its schema encodes it to JSON first.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Option, Schema } from "effect"
import { MemoryStore, Session, SessionKey, SessionStoreError, SessionTest, SessionValueError } from "effect-session-v4"

/** `value` written under `v` to a memory store (which keeps the record as JSON text) and read back. */
const storeRoundTrip = (data: Record<string, unknown>) =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* MemoryStore.make()
    yield* store.write("id", data, Duration.minutes(1))
    return Option.getOrThrow(yield* store.read("id"))
  }))

/** `value` put under `v` in one request and read back in the next (through a memory store). */
const sessionRoundTrip = (value: unknown) =>
  Effect.gen(function*() {
    const client = yield* SessionTest.make()
    yield* client.run(Session.put("v", value))
    return (yield* client.run(Session.get("v"))).value
  })

/** The store's refusal of `data`. */
const storeRefusal = (data: Record<string, unknown>) =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* MemoryStore.make()
    const error = yield* Effect.flip(store.write("id", data, Duration.minutes(1)))
    expect(yield* store.read("id")).toEqual(Option.none())
    return error
  }))

class Point {
  constructor(readonly x: number) {}
}

describe("session values: plain JSON data round-trips exactly", () => {
  const values: Record<string, unknown> = {
    "null": null,
    "true": true,
    "false": false,
    "zero": 0,
    "integer": 42,
    "negative": -17,
    "fraction": 0.1 + 0.2,
    "max safe integer": Number.MAX_SAFE_INTEGER,
    "max value": Number.MAX_VALUE,
    "min value": Number.MIN_VALUE,
    "empty string": "",
    "unicode string": "héllo \u{1F600} \u0000 \u2028 \"quoted\" \\ </script>",
    "empty array": [],
    "empty object": {},
    "nested": { user: { id: 1, roles: ["admin", "editor"], profile: { name: "Ada", tags: [] } } },
    "array of mixed": [1, "two", null, true, { three: [3] }, [[]]],
    "null-prototype object": Object.assign(Object.create(null), { a: 1 })
  }
  for (const [name, value] of Object.entries(values)) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const back = yield* storeRoundTrip({ v: value })
        expect(back).toEqual({ v: value })
        // toEqual ignores some differences; compare the JSON form too
        expect(JSON.stringify(back)).toBe(JSON.stringify({ v: value }))
        const viaSession = yield* sessionRoundTrip(value)
        expect(JSON.stringify(viaSession)).toBe(JSON.stringify(value))
      }))
  }

  it.effect("a whole record with many keys keeps every key and its order", () =>
    Effect.gen(function*() {
      const record = { b: 1, a: [1, 2], c: { z: null, y: "s" } }
      const back = yield* storeRoundTrip(record)
      expect(back).toStrictEqual(record)
      expect(Object.keys(back)).toStrictEqual(["b", "a", "c"])
    }))

  it.effect("\"__proto__\" and \"constructor\" keys are plain data, not prototypes", () =>
    Effect.gen(function*() {
      const record = JSON.parse(
        "{\"__proto__\":{\"admin\":true},\"constructor\":{\"prototype\":{\"polluted\":1}},\"nested\":{\"__proto__\":[1]}}"
      )
      const back = yield* storeRoundTrip(record)
      expect(Object.prototype.hasOwnProperty.call(back, "__proto__")).toBe(true)
      expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toStrictEqual({ admin: true })
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
      expect((back as any).admin).toBeUndefined()
      expect(Object.getOwnPropertyDescriptor(back, "constructor")?.value).toStrictEqual({
        prototype: { polluted: 1 }
      })
      const nested = (back as any).nested
      expect(Object.getOwnPropertyDescriptor(nested, "__proto__")?.value).toStrictEqual([1])
      expect(({} as any).admin).toBeUndefined()
      expect(({} as any).polluted).toBeUndefined()
    }))

  it.effect("a shared (non-cyclic) reference is fine", () =>
    Effect.gen(function*() {
      const shared = { x: 1 }
      expect(yield* storeRoundTrip({ k: { a: shared, b: shared } })).toStrictEqual({ k: { a: { x: 1 }, b: { x: 1 } } })
      expect(yield* sessionRoundTrip({ a: shared, b: shared })).toStrictEqual({ a: { x: 1 }, b: { x: 1 } })
    }))
})

describe("session values: documented normalisations", () => {
  it.effect("-0 reads back as 0", () =>
    Effect.gen(function*() {
      const back = yield* storeRoundTrip({ n: -0, list: [-0] })
      expect(Object.is(back.n, 0)).toBe(true)
      expect(Object.is((back.list as Array<number>)[0], 0)).toBe(true)
      expect(Object.is(yield* sessionRoundTrip(-0), 0)).toBe(true)
    }))

  it.effect("an object property whose value is undefined is omitted", () =>
    Effect.gen(function*() {
      const back = yield* storeRoundTrip({ user: { name: "Ada", nickname: undefined } })
      expect(back).toStrictEqual({ user: { name: "Ada" } })
      expect(Object.prototype.hasOwnProperty.call(back.user, "nickname")).toBe(false)
      const viaSession = yield* sessionRoundTrip({ name: "Ada", nickname: undefined })
      expect(viaSession).toStrictEqual({ name: "Ada" })
    }))
})

describe("every non-JSON value is refused, naming where it is", () => {
  const cycle: Record<string, unknown> = { name: "loop" }
  cycle.self = cycle
  const deep: Record<string, unknown> = {}
  let cursor = deep
  for (let i = 0; i < 600; i++) {
    const next = {}
    cursor.d = next
    cursor = next
  }
  const cases: Array<[string, unknown, string]> = [
    ["a function", { f: () => 1 }, "\"k\": .f is a function"],
    ["a symbol", [Symbol("s")], "\"k\": [0] is a symbol"],
    ["a bigint", { n: 1n }, "\"k\": .n is a bigint"],
    ["a Date", { items: [{ at: new Date(0) }] }, "\"k\": .items[0].at is a Date"],
    ["a Map", new Map(), "\"k\": the value is a Map"],
    ["a Set", { s: new Set([1]) }, "\"k\": .s is a Set"],
    ["a class instance", { p: new Point(1) }, "\"k\": .p is a Point"],
    ["a RegExp", /x/, "\"k\": the value is a RegExp"],
    ["a typed array", { b: new Uint8Array(2) }, "\"k\": .b is a Uint8Array"],
    ["NaN", { n: NaN }, "\"k\": .n is NaN"],
    ["Infinity", [1, Infinity], "\"k\": [1] is Infinity"],
    ["-Infinity", -Infinity, "\"k\": the value is -Infinity"],
    ["a cycle", cycle, "\"k\": .self is a cycle"],
    ["undefined in an array", [1, undefined], "\"k\": [1] is undefined"],
    ["symbol keys", { [Symbol("s")]: 1 }, "\"k\": the value has symbol keys"],
    ["an array subclass", { a: new (class Items extends Array {})() }, "\"k\": .a is a"],
    ["nesting deeper than the limit", deep, "\"k\": .d.d.d"]
  ]
  for (const [name, value, where] of cases) {
    it.effect(`${name}: Session.put fails SessionValueError, the store's write SessionStoreError; nothing is stored`, () =>
      Effect.gen(function*() {
        const client = yield* SessionTest.make()
        const outcome = yield* client.run(Effect.flip(Session.put("k", value)))
        const error = outcome.value
        expect(error).toBeInstanceOf(SessionValueError)
        expect(error).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable", key: "k" })
        expect(error.message).toContain(where)
        expect(outcome.calls).toEqual([])
        expect(Option.isNone(outcome.cookie)).toBe(true)

        const refused = yield* storeRefusal({ k: value })
        expect(refused).toBeInstanceOf(SessionStoreError)
        expect(refused._tag).toBe("SessionStoreError")
        expect(refused.reason).toBe("Unencodable")
        expect(refused.message).toContain(where)
      }))
  }

  it.effect("undefined as a record value: put says to use forget; the store refuses it, naming the key", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const error = (yield* client.run(Effect.flip(Session.put("k", undefined)))).value
      expect(error).toMatchObject({ _tag: "SessionValueError", reason: "Unencodable", key: "k" })
      expect(error.message).toContain("forget")
      const refused = yield* storeRefusal({ k: undefined })
      expect(refused.reason).toBe("Unencodable")
      expect(refused.message).toContain("\"k\": the value is undefined")
    }))
})

describe("SessionKey: values that are not JSON, stored through a schema", () => {
  it("SessionKey is recognisable and pipeable", () => {
    const key = SessionKey.make("k", Schema.Number)
    expect(SessionKey.isSessionKey(key)).toBe(true)
    expect(SessionKey.isSessionKey("k")).toBe(false)
    expect(SessionKey.isSessionKey({ key: "k", schema: Schema.Number })).toBe(false)
    expect(key.key).toBe("k")
    expect(String(key)).toBe("SessionKey(k)")
    expect(key.pipe((k) => k.key)).toBe("k")
  })

  it.effect("a Date, a DateTime, a bigint and a class are stored as their JSON encoding and read back as themselves", () =>
    Effect.gen(function*() {
      class Cart extends Schema.Class<Cart>("Cart")({ items: Schema.Array(Schema.String), total: Schema.Number }) {
        get size() {
          return this.items.length
        }
      }
      const At = SessionKey.make("at", Schema.DateFromString)
      const Seen = SessionKey.make("seen", Schema.DateTimeUtcFromString)
      const Big = SessionKey.make("big", Schema.BigIntFromString)
      const CartKey = SessionKey.make("cart", Cart)
      const client = yield* SessionTest.make()
      const seen = DateTime.makeUnsafe("2024-05-06T07:08:09.000Z")
      const first = yield* client.run(Effect.all([
        Session.put(At, new Date("2024-01-02T03:04:05.000Z")),
        Session.put(Seen, seen),
        Session.put(Big, 2n ** 70n),
        Session.put(CartKey, new Cart({ items: ["a", "b"], total: 3 }))
      ]))
      expect(first.data).toStrictEqual({
        at: "2024-01-02T03:04:05.000Z",
        seen: "2024-05-06T07:08:09.000Z",
        big: "1180591620717411303424",
        cart: { items: ["a", "b"], total: 3 }
      })
      const next = yield* client.run(
        Effect.all([Session.get(At), Session.get(Seen), Session.get(Big), Session.get(CartKey)])
      )
      const [at, seenBack, big, cart] = next.value
      expect(at).toBeInstanceOf(Date)
      expect(at.toISOString()).toBe("2024-01-02T03:04:05.000Z")
      expect(DateTime.isDateTime(seenBack)).toBe(true)
      expect(DateTime.formatIso(seenBack)).toBe("2024-05-06T07:08:09.000Z")
      expect(big).toBe(2n ** 70n)
      expect(cart).toBeInstanceOf(Cart)
      expect(cart.size).toBe(2)
    }))

  it.effect("a branded key refuses a value outside its brand at put time, and stores nothing", () =>
    Effect.gen(function*() {
      const UserId = Schema.String.check(Schema.isPattern(/^u_[0-9]+$/)).pipe(Schema.brand("UserId"))
      const Key = SessionKey.make("userId", UserId)
      const client = yield* SessionTest.make()
      const bad = yield* client.run(Effect.flip(Session.put(Key, "admin" as typeof UserId.Type)))
      expect(bad.value).toMatchObject({ _tag: "SessionValueError", reason: "EncodeFailed", key: "userId" })
      expect(bad.calls).toEqual([])
      yield* client.run(Session.put(Key, UserId.make("u_42")))
      expect((yield* client.run(Session.get(Key))).value).toBe("u_42")
      // a stored value that no longer matches the brand does not decode
      const tampered = yield* SessionTest.make({ data: { userId: "root" } })
      expect((yield* tampered.run(Effect.flip(Session.get(Key)))).value).toMatchObject({
        reason: "DecodeFailed",
        key: "userId"
      })
    }))

  it.effect("a typed key on the reserved metadata key is refused like the string key", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const outcome = yield* client.run(Effect.flip(Session.put(SessionKey.make("__session", Schema.Number), 1)))
      expect(outcome.value).toMatchObject({ _tag: "SessionValueError", reason: "ReservedKey", key: "__session" })
      expect(outcome.calls).toEqual([])
    }))
})
