/**
 * `Value.copyChecked` answers as `Value.check` followed by `StoredRecord.copyJson` did, on every
 * kind of value a session may be given; and `Cookie.attributes` takes the domains browsers take.
 */
import { Cookie, StoredRecord, Value } from "effect-session-core"
import { describe, expect, it } from "vitest"

const oldPath = (v: unknown): { ok: true; copy: unknown } | { ok: false; problem: string } => {
  const problem = Value.check(v)
  return problem === undefined ? { ok: true, copy: StoredRecord.copyJson(v) } : { ok: false, problem }
}
const newPath = (v: unknown): { ok: true; copy: unknown } | { ok: false; problem: string } => {
  try {
    const c = Value.copyChecked(v)
    return c instanceof Value.Refusal ? { ok: false, problem: c.problem } : { ok: true, copy: c }
  } catch (e) {
    return { ok: false, problem: "THREW " + String(e) }
  }
}

const nest = (n: number, leaf: unknown): unknown => {
  let v: unknown = leaf
  for (let i = 0; i < n; i++) v = [v]
  return v
}
const nestObj = (n: number, leaf: unknown): unknown => {
  let v: unknown = leaf
  for (let i = 0; i < n; i++) v = { a: v }
  return v
}

describe("copyChecked vs check + copyJson", () => {
  const proto = JSON.parse("{\"__proto__\": {\"x\": 1}, \"b\": [-0]}")
  const nullProto = Object.assign(Object.create(null), { a: 1, __proto__x: 2 })
  Object.defineProperty(nullProto, "__proto__", { value: { y: 1 }, enumerable: true })
  const extra = Object.assign([1, 2], { x: 1 })
  const sparse = [1, , 3] // eslint-disable-line no-sparse-arrays
  const frozen = Object.freeze({ a: Object.freeze([1, Object.freeze({ b: 2 })]) })
  const proxyObj = new Proxy({ a: 1, b: [1, 2] }, {})
  const proxyArr = new Proxy([1, { c: 2 }], {})
  const shared = { s: 1 }
  const dag = { x: shared, y: shared, z: [shared, shared] }
  const big = Array.from({ length: 200_000 }, (_, i) => i)
  const withUndef = { a: undefined, b: 1 }
  const nonEnum = Object.defineProperty({ a: 1 }, "hidden", { value: () => 1, enumerable: false })
  const getter = Object.defineProperty({}, "g", { get: () => ({ v: 1 }), enumerable: true })
  const arrNegZero = [-0, [-0], { z: -0 }]
  const cases: Record<string, unknown> = {
    proto,
    nullProto,
    extra,
    sparse,
    frozen,
    proxyObj,
    proxyArr,
    dag,
    big,
    withUndef,
    nonEnum,
    getter,
    arrNegZero,
    depth511: nest(511, 1),
    depth512: nest(512, 1),
    depth513: nest(513, 1),
    depth514: nest(514, 1),
    depthObj512: nestObj(512, { a: 1 }),
    depthObj513: nestObj(513, {}),
    depthObj514: nestObj(514, {}),
    negZero: -0,
    str: "x",
    nul: null,
    numericKeys: { 2: "b", 1: "a", x: 1 },
    emptyArr: [],
    arrLenProp: Object.defineProperty([1], "foo", { value: 1, enumerable: false })
  }
  for (const [name, value] of Object.entries(cases)) {
    it(name, () => {
      const o = oldPath(value)
      const n = newPath(value)
      expect(n.ok).toBe(o.ok)
      if (o.ok && n.ok) {
        expect(JSON.stringify(n.copy)).toBe(JSON.stringify(o.copy))
        expect(n.copy).toStrictEqual(o.copy)
        expect(Object.is(n.copy, value) && typeof value === "object" && value !== null).toBe(false)
      } else if (!o.ok && !n.ok) {
        expect(n.problem).toBe(o.problem)
      }
    })
  }
  it("revoked proxy", () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {})
    revoke()
    const n = newPath({ p: proxy })
    expect(n.ok).toBe(false)
    expect(n.ok === false && n.problem.startsWith("THREW")).toBe(false)
  })
  it("throwing getter / ownKeys proxy", () => {
    const p = new Proxy({}, {
      ownKeys: () => {
        throw new Error("boom")
      }
    })
    expect(newPath({ p }).ok).toBe(false)
    expect((newPath({ p }) as { problem: string }).problem).not.toMatch(/^THREW/)
    const g = Object.defineProperty({}, "g", {
      get: () => {
        throw new Error("g")
      },
      enumerable: true
    })
    expect((newPath(g) as { problem: string }).problem).not.toMatch(/^THREW/)
  })
  it("stack overflow-ish: proxy whose getPrototypeOf throws at top", () => {
    const p = new Proxy({}, {
      getPrototypeOf: () => {
        throw new Error("gp")
      }
    })
    expect((newPath(p) as { problem: string }).problem).not.toMatch(/^THREW/)
  })
})

describe("cookie domain", () => {
  const base = { insecure: false, sameSite: "lax" as const, path: "/" }
  for (
    const domain of [
      "example.com",
      "EXAMPLE.COM",
      ".example.com",
      "localhost",
      "192.168.1.10",
      "127.0.0.1",
      "example.com.",
      "[::1]",
      "[2001:db8::1]",
      "a".repeat(63) + ".com",
      "xn--bcher-kva.example"
    ]
  ) {
    it(domain, () => {
      const r = Cookie.attributes({ ...base, domain } as never)
      expect((r as { _tag?: string })._tag === "OptionProblem" || "option" in (r as object) ? r : "ok").toBe("ok")
    })
  }
})
