import { StoredRecord, Value } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const key = fc.oneof(fc.constantFrom("__proto__", "constructor", "", "__session", "x"), fc.string({ unit: "binary" }))

/** Record values: mostly JSON, sometimes what JSON cannot hold. */
const value = fc.oneof(
  { weight: 8, arbitrary: fc.jsonValue().map((v) => v as unknown) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, NaN, Infinity, 1n, () => 1, new Date(0), [undefined]) }
)

const record = fc.array(fc.tuple(key, value), { maxLength: 6 }).map((entries) => {
  const data: Record<string, unknown> = {}
  for (const [k, v] of entries) StoredRecord.setOwn(data, k, v)
  return data
})

describe("StoredRecord text (properties)", () => {
  it("toText then fromText gives the record back; a value check refuses names its key", () => {
    fc.assert(
      fc.property(record, (data) => {
        const text = StoredRecord.toText(data)
        const bad = Object.keys(data).find((k) => Value.unstorable(k, data[k]) !== undefined)
        if (bad !== undefined) {
          expect(text).toEqual({ _tag: "Unencodable", message: Value.unstorable(bad, data[bad]) })
          return
        }
        expect(text._tag).toBe("Text")
        if (text._tag !== "Text") return
        const back = StoredRecord.fromText(text.text)
        expect(back._tag).toBe("Record")
        if (back._tag !== "Record") return
        expect(Object.keys(back.record)).toEqual(Object.keys(data))
        // own "__proto__" stays data: compare own properties, not prototypes
        for (const k of Object.keys(data)) {
          expect(Object.getOwnPropertyDescriptor(back.record, k)?.value).toStrictEqual(
            JSON.parse(JSON.stringify(data[k]))
          )
        }
        expect(StoredRecord.isRecord(back.record)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("fromText never throws: a record for JSON objects, Corrupt for anything else", () => {
    const texts = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom("", "null", "[]", "{", "{\"__proto__\":1}", "\"{}\"", "1e999", "\uFEFF{}"),
      fc.integer({ min: 1, max: 20_000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
      fc.integer({ min: 1, max: 20_000 }).map((n) => "{\"a\":".repeat(n))
    )
    fc.assert(
      fc.property(texts, (text) => {
        const result = StoredRecord.fromText(text)
        let parsed: unknown
        let isJson = true
        try {
          parsed = JSON.parse(text)
        } catch {
          isJson = false
        }
        const isObject = isJson && typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
        expect(result._tag).toBe(isObject ? "Record" : "Corrupt")
        if (result._tag === "Corrupt") expect(typeof result.message).toBe("string")
      }),
      { numRuns: 500 }
    )
  })
})
