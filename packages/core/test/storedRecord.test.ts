import { RedisLayout, StoredRecord } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("StoredRecord", () => {
  it("a record is a plain object; null, numbers, strings, arrays and class instances are not", () => {
    expect(StoredRecord.isRecord({})).toBe(true)
    expect(StoredRecord.isRecord(Object.create(null))).toBe(true)
    for (const value of [null, undefined, 42, "text", [1, 2], new Date(), new Map(), true]) {
      expect(StoredRecord.isRecord(value)).toBe(false)
    }
  })

  it("reserved keys are the metadata keys, nothing else", () => {
    for (const key of ["__session", "__session.token", "__session.flash", "__session.retired"]) {
      expect(StoredRecord.isReserved(key)).toBe(true)
    }
    for (const key of ["session", "__session.other", "__proto__", ""]) expect(StoredRecord.isReserved(key)).toBe(false)
  })

  it("setOwn and copyJson keep a key named __proto__ as data", () => {
    const record: Record<string, unknown> = {}
    StoredRecord.setOwn(record, "__proto__", { polluted: true })
    expect(Object.keys(record)).toEqual(["__proto__"])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const copy = StoredRecord.copyJson(record) as Record<string, unknown>
    expect(Object.keys(copy)).toEqual(["__proto__"])
    expect(copy).not.toBe(record)
  })

  it("a retired record carries when its grace ends; a malformed marker still retires it", () => {
    const retired = StoredRecord.retire({ n: 1 }, 5000)
    expect(StoredRecord.isRetired(retired)).toBe(true)
    expect(StoredRecord.retiredUntil(retired)).toBe(5000)
    expect(StoredRecord.retiredUntil({ n: 1 })).toBeUndefined()
    expect(StoredRecord.retiredUntil({ "__session.retired": "soon" })).toBe(-Infinity)
    expect(StoredRecord.userData(retired)).toEqual({ n: 1 })
  })

  it("fromText: JSON that no save could write back (1e999, nesting past the limit) is corrupt", () => {
    const deep = `${"[".repeat(600)}${"]".repeat(600)}`
    for (const text of ["{\"n\":1e999}", `{"deep":${deep}}`, "{\"a\":{\"b\":-1e400}}"]) {
      const read = StoredRecord.fromText(text)
      expect(read._tag).toBe("Corrupt")
      expect(read._tag === "Corrupt" && read.message).toContain("holds a value no save could write back")
    }
    expect(StoredRecord.fromText("{\"n\":1e308}")).toEqual({ _tag: "Record", record: { n: 1e308 } })
  })

  it("fromText: a value nested exactly as deep as a write accepts reads back; one level deeper is corrupt", () => {
    // Depth counts from each value, as a write checks it (`Value.unstorable` per key), not from the record.
    const nested = (levels: number): unknown => {
      let v: unknown = {}
      for (let i = 0; i < levels; i++) v = { a: v }
      return v
    }
    const atLimit = StoredRecord.toText({ v: nested(512) })
    expect(atLimit._tag).toBe("Text")
    const back = atLimit._tag === "Text" ? StoredRecord.fromText(atLimit.text) : undefined
    expect(back).toEqual({ _tag: "Record", record: { v: nested(512) } })
    expect(StoredRecord.toText({ v: nested(513) })._tag).toBe("Unencodable")
    const deeper = StoredRecord.fromText(JSON.stringify({ v: nested(513) }))
    expect(deeper._tag === "Corrupt" && deeper.message).toContain("session value for key \"v\"")
  })
})

describe("a write of data that is not a record", () => {
  it("is refused as unencodable by the text and Redis layouts, never a TypeError", () => {
    for (const data of [null, undefined, [], "text", 1]) {
      expect(StoredRecord.toText(data as never)).toStrictEqual({
        _tag: "Unencodable",
        message: StoredRecord.NOT_A_RECORD
      })
      expect(RedisLayout.writeArgs(data as never, ["0", "0"])).toMatchObject({ _tag: "Unencodable" })
    }
  })
})
