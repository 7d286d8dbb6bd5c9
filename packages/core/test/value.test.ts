import { Value } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("Value", () => {
  it("accepts plain JSON data", () => {
    for (const value of [null, true, 0, -1.5, "", "text", [], {}, { a: [1, { b: null }] }, Object.create(null)]) {
      expect(Value.check(value)).toBeUndefined()
    }
  })

  it("says where and why a value is not plain JSON", () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(Value.check({ a: { b: () => 1 } })).toBe(
      ".a.b is a function: store plain JSON data, or use a Schema-typed key"
    )
    expect(Value.check([1, NaN])).toBe("[1] is NaN, which JSON cannot represent")
    expect(Value.check(cycle)).toBe(".self is a cycle back to one of its parents")
    expect(Value.check(new Date(0))).toContain("a Date")
    expect(Value.check(10n)).toContain("a bigint")
  })

  it("names the key of a value a store cannot keep", () => {
    expect(Value.unstorable("k", undefined)).toBe("session value for key \"k\": the value is undefined")
    expect(Value.unstorable("k", 1)).toBeUndefined()
  })
})
