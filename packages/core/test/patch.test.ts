import { Patch, StoredRecord } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("Patch", () => {
  it("applies clear, then remove, then set, then add", () => {
    expect(Patch.apply({ n: 1, a: "x" }, { clear: false, remove: ["a"], set: [["b", true]], add: [["n", 2]] }))
      .toEqual({ n: 3, b: true })
    expect(Patch.apply({ n: 1, a: "x" }, { clear: true, remove: [], set: [["c", 1]], add: [["n", 1]] }))
      .toEqual({ c: 1, n: 1 })
  })

  it("adds to 0 when the key is missing or not a number", () => {
    expect(Patch.apply({ s: "5", o: {} }, { clear: false, remove: [], set: [], add: [["s", 1], ["o", 2], ["m", 3]] }))
      .toEqual({ s: 1, o: 2, m: 3 })
  })

  it("never changes its input, and keeps __proto__ as data", () => {
    const record = { n: 1 }
    const next = Patch.apply(record, { clear: false, remove: [], set: [["__proto__", { x: 1 }]], add: [] })
    expect(record).toEqual({ n: 1 })
    expect(Object.keys(next)).toEqual(["n", "__proto__"])
  })

  it("refuses a retired record, and only that", () => {
    expect(Patch.refuses(StoredRecord.retire({ n: 1 }, 0))).toBe(true)
    expect(Patch.refuses({ n: 1 })).toBe(false)
  })
})
