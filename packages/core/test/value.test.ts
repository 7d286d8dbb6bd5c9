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

  it("a value whose reading throws is refused with the exception's message, never thrown", () => {
    const getter = {
      get x(): number {
        throw new Error("boom")
      }
    }
    const trap = new Proxy({}, {
      ownKeys() {
        throw new Error("trap")
      }
    })
    expect(Value.check(getter)).toContain("reading the value threw (boom)")
    expect(Value.check({ nested: [trap] })).toContain("reading the value threw (trap)")
  })

  it("an array with properties beside its elements is refused (JSON would drop them)", () => {
    expect(Value.check(Object.assign([1, 2], { extra: "lost" }))).toBe(
      "the value is an array with properties beside its elements, which JSON would drop"
    )
    expect(Value.check({ list: Object.assign([1], { x: 1 }) })).toContain(".list is an array with properties")
    expect(Value.check([1, [2, 3]])).toBeUndefined()
  })

  it("an array with a symbol key is refused, as an object with one is (JSON drops it)", () => {
    const array = Object.assign([], { [Symbol("k")]: 1 })
    expect(Value.check(array)).toBe("the value is an array with properties beside its elements, which JSON would drop")
  })
})

describe("Value.copyChecked", () => {
  it("copies what check accepts (as JSON would keep it) and refuses what it refuses, with its words", () => {
    const value = { a: [1, { b: "x" }], c: null, d: -0, e: undefined }
    const copy = Value.copyChecked(value)
    expect(copy).toStrictEqual({ a: [1, { b: "x" }], c: null, d: 0 })
    expect(copy).not.toBe(value)
    expect((copy as { a: Array<unknown> }).a[1]).not.toBe(value.a[1])
    // eslint-disable-next-line no-sparse-arrays -- a hole, on purpose
    for (const bad of [1n, () => 1, NaN, [1, , 2], new Date(0), { m: new Map() }]) {
      const refused = Value.copyChecked(bad)
      expect(refused).toBeInstanceOf(Value.Refusal)
      expect((refused as Value.Refusal).problem).toBe(Value.check(bad))
    }
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(Value.copyChecked(cycle)).toBeInstanceOf(Value.Refusal)
    const proto = JSON.parse("{\"__proto__\":{\"x\":1}}")
    expect(Object.keys(Value.copyChecked(proto) as object)).toEqual(["__proto__"])
  })

  it("reads each property once: a value that changes between reads is stored as it was checked", () => {
    let reads = 0
    const twoFaced = {
      get p() {
        if (reads++ > 0) throw new Error("read twice")
        return 1
      }
    }
    expect(Value.copyChecked(twoFaced)).toStrictEqual({ p: 1 })
    expect(reads).toBe(1)
  })

  it("a read that throws is a refusal, never an exception", () => {
    const throwing = {
      get p() {
        throw new Error("boom")
      }
    }
    const refused = Value.copyChecked(throwing)
    expect(refused).toBeInstanceOf(Value.Refusal)
    expect((refused as Value.Refusal).problem).toContain("reading the value threw (boom)")
  })
})
