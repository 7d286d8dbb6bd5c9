import { Meta, type SessionMeta } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  // a flash list with a hole (only a hand-written store could hand one over) is corrupt, not [undefined]
  withSparseArray: true,
  withTypedArray: true,
  maxDepth: 2
})

const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    0,
    -0,
    -1,
    NaN,
    Infinity,
    Meta.MAX_LIFETIME_MILLIS,
    Meta.MAX_LIFETIME_MILLIS + 1,
    Meta.CLOCK_SKEW_MILLIS
  )
)
const field = fc.oneof(number, anything, fc.constant(undefined))

/** Records whose metadata keys hold anything: near-valid shapes, or not objects at all. */
const record = fc.record({
  core: fc.oneof(
    anything,
    fc.record({ c: field, r: field, l: field, a: field }, { requiredKeys: [] }),
    fc.tuple(fc.nat(10 ** 7), fc.nat(10 ** 7)).map(([c, d]) => ({ c, r: c + d }))
  ),
  token: fc.option(fc.oneof(fc.string(), anything), { nil: undefined }),
  flash: fc.option(
    fc.oneof(
      anything,
      fc.record({ new: fc.oneof(fc.array(fc.string()), anything), old: fc.oneof(fc.array(fc.string()), anything) }, {
        requiredKeys: []
      })
    ),
    { nil: undefined }
  ),
  extra: fc.dictionary(fc.string(), anything, { maxKeys: 3 })
}).map(({ core, extra, flash, token }) => {
  const data: Record<string, unknown> = { ...extra, __session: core }
  if (token !== undefined) data["__session.token"] = token
  if (flash !== undefined) data["__session.flash"] = flash
  return data
})

const now = fc.oneof(fc.integer({ min: 0, max: 2 * 10 ** 7 }), number)

describe("Meta.read (properties)", () => {
  it("never throws: it reads metadata within range, as the record holds it, or says Corrupt", () => {
    fc.assert(
      fc.property(record, now, (data, at) => {
        const result = Meta.read(data, at)
        if (result._tag === "Corrupt") {
          expect(typeof result.reason).toBe("string")
          return
        }
        const meta = result.meta
        const core = data.__session as Record<string, unknown>
        expect([meta.c, meta.r]).toEqual([core.c, core.r])
        expect(Number.isFinite(meta.c) && meta.c >= 0 && meta.c <= meta.r).toBe(true)
        expect(meta.r <= at + Meta.CLOCK_SKEW_MILLIS).toBe(true)
        expect(meta.l).toBe(core.l)
        expect(meta.a).toBe(core.a)
        if (meta.l !== undefined) expect(Meta.isLifetime(meta.l)).toBe(true)
        if (meta.a !== undefined) expect(Meta.isLifetime(meta.a) && meta.a > 0).toBe(true)
        expect(meta.t).toBe(data["__session.token"])
        for (const list of [meta.fn, meta.fo]) {
          if (list !== undefined) expect(list.length > 0 && list.every((k) => typeof k === "string")).toBe(true)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("reads back what Meta.entries stores, for any metadata in range", () => {
    const keys = fc.option(fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 4 }), { nil: undefined })
    const lifetime = fc.option(fc.double({ min: 0, max: Meta.MAX_LIFETIME_MILLIS, noNaN: true }), { nil: undefined })
    fc.assert(
      fc.property(
        fc.record({
          c: fc.nat(10 ** 9),
          d: fc.nat(10 ** 6),
          skew: fc.nat(Meta.CLOCK_SKEW_MILLIS),
          t: fc.option(fc.string(), { nil: undefined }),
          fn: keys,
          fo: keys,
          l: lifetime,
          a: lifetime.filter((a) => a !== 0)
        }),
        ({ c, d, skew, ...rest }) => {
          const meta: SessionMeta = { c, r: c + d }
          for (const [k, v] of Object.entries(rest)) {
            if (v !== undefined) (meta as unknown as Record<string, unknown>)[k] = v
          }
          const record = Object.fromEntries(Meta.entries(meta))
          // `now` may trail the record's times by up to the allowed clock skew
          expect(Meta.read(record, meta.r - skew)).toEqual({ _tag: "Meta", meta })
          expect(Meta.read(record, meta.r - Meta.CLOCK_SKEW_MILLIS - 1 - skew)._tag).toBe("Corrupt")
        }
      ),
      { numRuns: 500 }
    )
  })
})
