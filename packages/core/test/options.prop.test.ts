import { Options } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

class FakeDuration {
  constructor(readonly millis: number) {}
}

const modules = fc.boolean().map((objects): Options.DurationModule => ({
  isDuration: (u) => u instanceof FakeDuration,
  format: (d: never) => `${(d as FakeDuration).millis} millis`,
  objects
}))

/** fc.anything() with every kind of value it can make, null-prototype objects included. */
const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true
})

const input = fc.oneof(
  anything,
  fc.constantFrom<unknown>(0, 0n, -0, NaN, Infinity, new FakeDuration(5), Symbol("s"), () => 1, Object.create(null)),
  fc.tuple(fc.oneof(fc.double(), anything), fc.oneof(fc.double(), anything)),
  fc.tuple(
    fc.double({ min: -100, max: 100 }),
    fc.constantFrom("seconds", "minutes", "hours", "days", "weeks", "millis")
  )
    .map(([n, unit]) => `${n} ${unit}`),
  fc.dictionary(fc.constantFrom("minutes", "hours", "seconds", "foo", "__proto__"), fc.oneof(fc.double(), anything))
)

describe("Options.durationProblem (properties)", () => {
  it("never throws: a message naming the option, or undefined", () => {
    fc.assert(
      fc.property(fc.constantFrom("ttl", "absoluteTimeout", "touchAfter"), input, modules, (option, u, module) => {
        const problem = Options.durationProblem(option, u, module)
        if (problem !== undefined) {
          expect(typeof problem).toBe("string")
          expect(problem.startsWith(option)).toBe(true)
        }
        // a bare number is refused unless it is zero
        if (typeof u === "number" || typeof u === "bigint") expect(problem === undefined).toBe(Options.isBareZero(u))
        if (u instanceof FakeDuration) expect(problem).toBeUndefined()
      }),
      { numRuns: 1000 }
    )
  })
})
