import { Meta } from "effect-session-core"
import { describe, expect, it } from "vitest"

const now = 1_000_000_000_000

describe("Meta", () => {
  it("reads the metadata spread over the reserved keys", () => {
    const result = Meta.read({
      n: 1,
      __session: { c: now - 10, r: now - 5, l: 60_000, a: 120_000 },
      "__session.token": "tok",
      "__session.flash": { new: ["a"], old: ["b"] }
    }, now)
    expect(result).toEqual({
      _tag: "Meta",
      meta: { c: now - 10, r: now - 5, l: 60_000, a: 120_000, t: "tok", fn: ["a"], fo: ["b"] }
    })
  })

  it("round-trips through entries", () => {
    const meta: Meta.Meta = { c: now, r: now, t: "x", fn: ["k"] }
    const record = Object.fromEntries(Meta.entries(meta))
    expect(Meta.read(record, now)).toEqual({ _tag: "Meta", meta })
  })

  it.each([
    ["no metadata", {}],
    ["metadata that is not an object", { __session: "admin" }],
    ["metadata that is an array", { __session: [1, 2] }],
    ["a creation time that is not a number", { __session: { c: "yesterday", r: 0 } }],
    ["a lifetime of 1e300", { __session: { c: now, r: now, l: 1e300 } }],
    ["an absolute lifetime of 1e300", { __session: { c: now, r: now, a: 1e300 } }],
    ["a negative lifetime", { __session: { c: now, r: now, l: -1 } }],
    ["a NaN lifetime", { __session: { c: now, r: now, l: NaN } }],
    ["an infinite creation time", { __session: { c: Infinity, r: Infinity } }],
    ["a negative creation time", { __session: { c: -5, r: now } }],
    ["a creation time an hour in the future", { __session: { c: now + 3_600_000, r: now + 3_600_000 } }],
    ["a renewal before the creation", { __session: { c: now, r: now - 1 } }],
    ["a zero absolute lifetime", { __session: { c: now, r: now, a: 0 } }],
    ["a CSRF token that is not a string", { __session: { c: now, r: now }, "__session.token": 42 }],
    ["flash lists that are not lists of keys", { __session: { c: now, r: now }, "__session.flash": { new: [1] } }]
  ])("%s is corrupt", (_, record) => {
    expect(Meta.read(record, now)._tag).toBe("Corrupt")
  })

  it("accepts times a little in the future (clock skew between replicas) and a 100-year lifetime", () => {
    expect(Meta.read({ __session: { c: now + 60_000, r: now + 60_000, l: Meta.MAX_LIFETIME_MILLIS } }, now)._tag)
      .toBe("Meta")
  })

  it("compares metadata part by part", () => {
    const a: Meta.Meta = { c: 1, r: 2, fn: ["x"] }
    expect(Meta.same(a, { c: 1, r: 2, fn: ["x"] })).toBe(true)
    expect(Meta.same(a, { c: 1, r: 3, fn: ["x"] })).toBe(false)
    expect(Meta.same(a, { c: 1, r: 2 })).toBe(false)
    expect(Meta.same(a, undefined)).toBe(false)
  })

  it("a flash list with a hole (only a hand-written record has one) is corrupt, not [undefined]", () => {
    const record = { __session: { c: 0, r: 0 }, "__session.flash": { new: Array(1) as Array<string>, old: [] } }
    expect(Meta.read(record, 1000)._tag).toBe("Corrupt")
  })
})
