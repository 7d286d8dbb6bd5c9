import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { SessionCodec, SessionStoreError } from "effect-session"

const roundTrip = (data: SessionCodec.SessionData) => {
  const text = SessionCodec.encode(data)
  if (Either.isLeft(text)) throw new Error(`encode refused: ${text.left.message}`)
  const back = SessionCodec.decode(text.right)
  if (Either.isLeft(back)) throw new Error(`decode refused: ${back.left.message}`)
  return back.right
}

const refusal = (data: SessionCodec.SessionData): SessionStoreError => {
  const text = SessionCodec.encode(data)
  if (Either.isRight(text)) throw new Error(`encode accepted ${text.right}`)
  return text.left
}

class Point {
  constructor(readonly x: number) {}
}

describe("SessionCodec", () => {
  describe("round trips plain JSON data exactly", () => {
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
      it(name, () => {
        const back = roundTrip({ v: value })
        expect(back).toEqual({ v: value })
        // toEqual ignores some differences; compare the JSON form too
        expect(JSON.stringify(back)).toBe(JSON.stringify({ v: value }))
      })
    }

    it("a whole record with many keys keeps every key and its order", () => {
      const record = { b: 1, a: [1, 2], c: { z: null, y: "s" } }
      const back = roundTrip(record)
      expect(back).toStrictEqual(record)
      expect(Object.keys(back)).toStrictEqual(["b", "a", "c"])
    })

    it("\"__proto__\" and \"constructor\" keys are plain data, not prototypes", () => {
      const record = JSON.parse(
        "{\"__proto__\":{\"admin\":true},\"constructor\":{\"prototype\":{\"polluted\":1}},\"nested\":{\"__proto__\":[1]}}"
      )
      const back = roundTrip(record)
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
    })
  })

  describe("documented normalisations", () => {
    it("-0 reads back as 0", () => {
      const back = roundTrip({ n: -0, list: [-0] })
      expect(Object.is(back.n, 0)).toBe(true)
      expect(Object.is((back.list as Array<number>)[0], 0)).toBe(true)
    })

    it("an object property whose value is undefined is omitted", () => {
      const back = roundTrip({ user: { name: "Ada", nickname: undefined } })
      expect(back).toStrictEqual({ user: { name: "Ada" } })
      expect(Object.prototype.hasOwnProperty.call(back.user, "nickname")).toBe(false)
    })
  })

  describe("refuses every non-JSON value, naming where it is", () => {
    const cycle: Record<string, unknown> = { name: "loop" }
    cycle.self = cycle
    const deep: Record<string, unknown> = {}
    let cursor = deep
    for (let i = 0; i < 600; i++) {
      const next = {}
      cursor.d = next
      cursor = next
    }
    const cases: Array<[string, SessionCodec.SessionData, string]> = [
      ["a function", { k: { f: () => 1 } }, "\"k\": .f is a function"],
      ["a symbol", { k: [Symbol("s")] }, "\"k\": [0] is a symbol"],
      ["a bigint", { k: { n: 1n } }, "\"k\": .n is a bigint"],
      ["a Date", { k: { items: [{ at: new Date(0) }] } }, "\"k\": .items[0].at is a Date"],
      ["a Map", { k: new Map() }, "\"k\": the value is a Map"],
      ["a Set", { k: { s: new Set([1]) } }, "\"k\": .s is a Set"],
      ["a class instance", { k: { p: new Point(1) } }, "\"k\": .p is a Point"],
      ["a RegExp", { k: /x/ }, "\"k\": the value is a RegExp"],
      ["a typed array", { k: { b: new Uint8Array(2) } }, "\"k\": .b is a Uint8Array"],
      ["NaN", { k: { n: NaN } }, "\"k\": .n is NaN"],
      ["Infinity", { k: [1, Infinity] }, "\"k\": [1] is Infinity"],
      ["-Infinity", { k: -Infinity }, "\"k\": the value is -Infinity"],
      ["a cycle", { k: cycle }, "\"k\": .self is a cycle"],
      ["undefined in an array", { k: [1, undefined] }, "\"k\": [1] is undefined"],
      ["undefined as a record value", { k: undefined }, "\"k\": the value is undefined"],
      ["symbol keys", { k: { [Symbol("s")]: 1 } }, "\"k\": the value has symbol keys"],
      ["an array subclass", { k: { a: new (class Items extends Array {})() } }, "\"k\": .a is a"],
      ["nesting deeper than the limit", { k: deep }, "\"k\": .d.d.d"]
    ]
    for (const [name, data, where] of cases) {
      it(name, () => {
        const error = refusal(data)
        expect(error).toBeInstanceOf(SessionStoreError)
        expect(error._tag).toBe("SessionStoreError")
        expect(error.reason).toBe("Unencodable")
        expect(error.message).toContain(where)
      })
    }

    it("a shared (non-cyclic) reference is fine", () => {
      const shared = { x: 1 }
      expect(roundTrip({ k: { a: shared, b: shared } })).toStrictEqual({ k: { a: { x: 1 }, b: { x: 1 } } })
    })

    it("checkValue answers undefined for plain data and a path for the rest", () => {
      expect(SessionCodec.checkValue({ a: [1, "x", null, { b: false }] })).toBeUndefined()
      expect(SessionCodec.checkValue({ a: [1, { b: new Date(0) }] })).toMatch(/^\.a\[1\]\.b is a Date/)
      expect(SessionCodec.checkValue(() => 1)).toMatch(/^the value is a function/)
    })
  })

  describe("decode", () => {
    const garbage: Array<[string, string]> = [
      ["not JSON", "{oops"],
      ["empty text", ""],
      ["truncated", "{\"a\":"],
      ["a JSON array", "[1,2]"],
      ["JSON null", "null"],
      ["a JSON number", "1"],
      ["a JSON string", "\"s\""],
      ["binary noise", "\u0000\u0001\uFFFD"]
    ]
    for (const [name, text] of garbage) {
      it(`${name} is a CorruptRecord`, () => {
        const result = SessionCodec.decode(text)
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) {
          expect(result.left).toBeInstanceOf(SessionStoreError)
          expect(result.left.reason).toBe("CorruptRecord")
        }
      })
    }

    it("text written by encode decodes to the same record", () => {
      const text = SessionCodec.encode({ a: 1 })
      expect(text).toStrictEqual(Either.right("{\"a\":1}"))
      expect(SessionCodec.decode("{\"a\":1}")).toStrictEqual(Either.right({ a: 1 }))
    })
  })
})
