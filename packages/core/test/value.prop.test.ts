import { Value } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

/**
 * A value to build, kept as an immutable description: fast-check may reuse a generated value while
 * shrinking, and cycles need fresh objects, so each run builds its own from this.
 */
type Spec =
  | { readonly t: "prim"; readonly v: string | number | boolean | null | undefined | bigint }
  | { readonly t: "fn" | "date" | "instance" | "map" | "boxed" | "symbol" }
  | { readonly t: "array"; readonly items: ReadonlyArray<Spec>; readonly hole: boolean; readonly symbolKey: boolean }
  | {
    readonly t: "object"
    readonly entries: ReadonlyArray<readonly [string, Spec]>
    readonly nullProto: boolean
    readonly symbolKey: boolean
  }

const key = fc.oneof(
  fc.constantFrom("a", "b", "__proto__", "constructor", "toString", "hasOwnProperty", "", "0", "length"),
  fc.string({ maxLength: 6 })
)

const leaf: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.oneof(fc.string(), fc.boolean(), fc.constant(null)).map((v) => ({ t: "prim", v }) as const)
  },
  {
    weight: 6,
    arbitrary: fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53)
    ).map((v) => ({ t: "prim", v }) as const)
  },
  { weight: 1, arbitrary: fc.constant({ t: "prim", v: undefined } as const) },
  { weight: 1, arbitrary: fc.bigInt().map((v) => ({ t: "prim", v }) as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("fn", "date", "instance", "map", "boxed", "symbol").map((t) => ({ t }) as Spec)
  }
)

/** true now and then */
const rare = fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })

const { spec } = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record({
      t: fc.constant("array" as const),
      items: fc.array(tie("spec"), { maxLength: 4 }),
      hole: rare,
      // an array with a symbol key: JSON drops it, so `check` refuses it
      symbolKey: rare
    }),
    fc.record({
      t: fc.constant("object" as const),
      entries: fc.array(fc.tuple(key, tie("spec")), { maxLength: 4 }),
      nullProto: fc.boolean(),
      symbolKey: rare
    })
  )
}))

/** Mostly plain specs: symbol keys, holes and exotic leaves are rarer, so plain JSON is often generated. */
const rarely = fc.boolean().chain((plain) => plain ? plainSpec : spec)

const plainLeaf: fc.Arbitrary<Spec> = fc.oneof(
  fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }))
    .map((v) => ({ t: "prim", v }) as const)
)
const { plainSpec } = fc.letrec<{ plainSpec: Spec }>((tie) => ({
  plainSpec: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    plainLeaf,
    fc.array(tie("plainSpec"), { maxLength: 4 }).map((items): Spec => ({
      t: "array",
      items,
      hole: false,
      symbolKey: false
    })),
    fc.array(fc.tuple(key, tie("plainSpec")), { maxLength: 4 }).map((entries): Spec => ({
      t: "object",
      entries,
      nullProto: false,
      symbolKey: false
    }))
  )
}))

class Point {
  constructor(readonly x: number) {}
}

const define = (target: object, name: string | symbol, value: unknown): void => {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true })
}

/** Builds a fresh value from a spec; containers are listed with their ancestors, for cycles. */
const build = (root: Spec): { value: unknown; containers: Array<{ node: object; ancestors: Array<object> }> } => {
  const containers: Array<{ node: object; ancestors: Array<object> }> = []
  const go = (s: Spec, ancestors: Array<object>): unknown => {
    switch (s.t) {
      case "prim":
        return s.v
      case "fn":
        return () => 1
      case "date":
        return new Date(0)
      case "instance":
        return new Point(1)
      case "map":
        return new Map([["a", 1]])
      case "boxed":
        return new String("a")
      case "symbol":
        return Symbol("s")
      case "array": {
        const array: Array<unknown> = []
        containers.push({ node: array, ancestors })
        s.items.forEach((item, i) => {
          array[i] = go(item, [...ancestors, array])
        })
        if (s.hole) array.length += 1
        if (s.symbolKey) define(array, Symbol("k"), 1)
        return array
      }
      case "object": {
        const object: object = s.nullProto ? Object.create(null) : {}
        containers.push({ node: object, ancestors })
        for (const [k, item] of s.entries) define(object, k, go(item, [...ancestors, object]))
        if (s.symbolKey) define(object, Symbol("k"), 1)
        return object
      }
    }
  }
  return { value: go(root, []), containers }
}

/** A value, and sometimes a cycle made on purpose: some container gets a property pointing at itself or a parent. */
const values = fc.tuple(rarely, fc.option(fc.tuple(fc.nat(), fc.nat()), { freq: 4 })).map(([s, cycle]) => ({
  spec: s,
  cycle,
  toString: () => JSON.stringify({ spec: s, cycle }, (_, v) => typeof v === "bigint" ? `${v}n` : v)
}))

const materialize = ({ cycle, spec: s }: { spec: Spec; cycle: readonly [number, number] | null }): unknown => {
  const { containers, value } = build(s)
  if (cycle !== null && containers.length > 0) {
    const { ancestors, node } = containers[cycle[0] % containers.length]
    const chain = [...ancestors, node]
    const target = chain[cycle[1] % chain.length]
    if (Array.isArray(node)) node.push(target)
    else define(node, "cycle", target)
  }
  return value
}

/**
 * Whether `parsed` (JSON's round trip of `original`) is `original` unchanged, with the exceptions
 * `Value` documents: `-0` is stored as `0` (JSON has no `-0`, `copyJson`), an object property whose
 * value is `undefined` is omitted ("omitted, as JSON does"), and a null-prototype object is plain
 * data (it comes back with `Object.prototype`).
 */
const unchanged = (original: unknown, parsed: unknown): boolean => {
  if (typeof original === "number") {
    return typeof parsed === "number" && (Object.is(original, parsed) || original === 0 && parsed === 0)
  }
  if (typeof original !== "object" || original === null) return Object.is(original, parsed)
  if (typeof parsed !== "object" || parsed === null) return false
  const ownKeys = Reflect.ownKeys(original)
  if (
    ownKeys.some((k) =>
      typeof k === "symbol" || !Object.getOwnPropertyDescriptor(original, k)!.enumerable && k !== "length"
    )
  ) {
    return false
  }
  if (Array.isArray(original)) {
    if (Object.getPrototypeOf(original) !== Array.prototype || !Array.isArray(parsed)) return false
    if (ownKeys.length !== original.length + 1 || parsed.length !== original.length) return false // holes, named keys
    return original.every((item, i) => Object.prototype.hasOwnProperty.call(original, i) && unchanged(item, parsed[i]))
  }
  const proto = Object.getPrototypeOf(original)
  if ((proto !== Object.prototype && proto !== null) || Array.isArray(parsed)) return false
  const kept = Object.keys(original).filter((k) => (original as Record<string, unknown>)[k] !== undefined)
  const parsedKeys = Object.keys(parsed)
  return kept.length === parsedKeys.length &&
    kept.every((k) =>
      Object.prototype.hasOwnProperty.call(parsed, k) &&
      unchanged((original as Record<string, unknown>)[k], (parsed as Record<string, unknown>)[k])
    )
}

const survivesJson = (value: unknown): boolean => {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    return false // a cycle, a bigint
  }
  return text !== undefined && unchanged(value, JSON.parse(text))
}

describe("Value.check (properties)", () => {
  it("accepts a value exactly when it survives a JSON round trip unchanged", () => {
    fc.assert(
      fc.property(values, (generated) => {
        const value = materialize(generated)
        const problem = Value.check(value)
        expect(problem === undefined).toBe(survivesJson(value))
        if (problem !== undefined) expect(typeof problem).toBe("string")
      }),
      { numRuns: 1000 }
    )
  })

  it("accepts fast-check's JSON values, and refuses them once they hold a non-finite number or a function", () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom<unknown>(NaN, Infinity, -Infinity, () => 1, 1n),
        (json, bad) => {
          expect(Value.check(json)).toBeUndefined()
          expect(Value.check([json, bad])).toBeDefined()
          expect(Value.check({ json, bad })).toBeDefined()
        }
      ),
      { numRuns: 500 }
    )
  })

  it("unstorable names the key, and refuses exactly undefined and what check refuses", () => {
    fc.assert(
      fc.property(fc.string(), values, (name, generated) => {
        const value = materialize(generated)
        const problem = Value.unstorable(name, value)
        expect(problem === undefined).toBe(value !== undefined && Value.check(value) === undefined)
        if (problem !== undefined) {
          expect(problem.startsWith(`session value for key ${JSON.stringify(name)}: `)).toBe(true)
        }
      }),
      { numRuns: 300 }
    )
  })
})
