import { Patch, RedisLayout, StoredRecord, Value } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

/** JSON text with object keys sorted: equal for data a store would hold equal. */
const canon = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map((item) => item === undefined ? "null" : canon(item)).join(",")}]`
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>
    return `{${
      Object.keys(record).filter((k) => record[k] !== undefined).sort().map((k) =>
        `${JSON.stringify(k)}:${canon(record[k])}`
      )
        .join(",")
    }}`
  }
  return JSON.stringify(value)
}

/** Keys, with `x` (the expiry field's name), `__proto__` and lone surrogates among them. */
const key = fc.oneof(
  fc.constantFrom("x", "never", "__proto__", "constructor", "", "\"x\"", "\ud800", "__session.retired"),
  fc.string({ unit: "binary" })
)
const value = fc.oneof(
  { weight: 10, arbitrary: fc.jsonValue().map((v) => v as unknown) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(-0, undefined, NaN, 1n, () => 1, new Date(0), { a: undefined }) }
)
const data = fc.array(fc.tuple(key, value), { maxLength: 6 }).map((entries) => {
  const record: Record<string, unknown> = {}
  for (const [k, v] of entries) StoredRecord.setOwn(record, k, v)
  return record
})

/** The three shapes an `HGETALL` reply takes: ioredis' object, RESP2's flat array, RESP3's `Map`. */
const shapes = (flat: ReadonlyArray<string>): Array<unknown> => {
  const object: Record<string, unknown> = {}
  const map = new Map<string, string>()
  for (let i = 0; i < flat.length; i += 2) {
    StoredRecord.setOwn(object, flat[i], flat[i + 1])
    map.set(flat[i], flat[i + 1])
  }
  return [object, [...flat], map]
}

const storable = (record: Record<string, unknown>): boolean =>
  Object.keys(record).every((k) => Value.unstorable(k, record[k]) === undefined)

describe("RedisLayout (properties)", () => {
  it("what writeArgs encodes, decode reads back, until exactly the expiry", () => {
    fc.assert(
      fc.property(
        data,
        fc.nat(2 ** 40),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 31 })),
        fc.nat(2 ** 32),
        (record, now, ttl, later) => {
          const args = RedisLayout.writeArgs(record, RedisLayout.expiry(now, ttl))
          if (!storable(record)) {
            expect(args._tag).toBe("Unencodable")
            return
          }
          if (args._tag !== "Args") throw new Error(args.message)
          const [expiry, px, ...pairs] = args.args
          expect([expiry, px]).toEqual(ttl > 0 ? [String(now + ttl), String(ttl)] : ["never", "0"])
          expect(pairs.length).toBe(2 * Object.keys(record).length)
          // the hash as WRITE leaves it: the expiry field, then the pairs
          for (const reply of shapes([RedisLayout.EXPIRY_FIELD, expiry, ...pairs])) {
            const read = RedisLayout.decode(reply, now)
            expect(read._tag).toBe("Some")
            if (read._tag !== "Some") return
            expect(Object.keys(read.data).sort()).toEqual(Object.keys(record).sort())
            expect(canon(read.data)).toBe(canon(record))
            const at = now + later
            expect(RedisLayout.decode(reply, at)._tag).toBe(ttl > 0 && at >= now + ttl ? "None" : "Some")
            if (ttl > 0) expect(RedisLayout.decode(reply, now + ttl)._tag).toBe("None")
          }
        }
      ),
      { numRuns: 500 }
    )
  })

  it("what patchArgs encodes reads back as the same patch", () => {
    const patch = fc.record({
      clear: fc.boolean(),
      remove: fc.array(key, { maxLength: 3 }),
      set: fc.array(fc.tuple(key, value), { maxLength: 4 }),
      add: fc.array(fc.tuple(key, fc.oneof(fc.double(), fc.integer())), { maxLength: 3 })
    })
    fc.assert(
      fc.property(data, patch, fc.nat(2 ** 40), fc.nat(2 ** 31), (record, p, now, ttl) => {
        const args = RedisLayout.patchArgs(now, RedisLayout.expiry(now, ttl), p)
        const encodable = p.set.every(([k, v]) => Value.unstorable(k, v) === undefined) &&
          p.add.every(([, d]) => Number.isFinite(d))
        expect(args._tag).toBe(encodable ? "Args" : "Unencodable")
        if (args._tag !== "Args") return
        const a = args.args
        expect(a.slice(0, 7)).toEqual([
          String(now),
          ...RedisLayout.expiry(now, ttl),
          p.clear ? "1" : "0",
          String(p.remove.length),
          String(p.set.length),
          String(p.add.length)
        ])
        expect(a.length).toBe(7 + p.remove.length + 2 * p.set.length + 2 * p.add.length)
        let i = 7
        const remove = p.remove.map(() => JSON.parse(a[i++]) as string)
        const set = p.set.map(() => [JSON.parse(a[i++]) as string, JSON.parse(a[i++])] as const)
        const add = p.add.map(() => [JSON.parse(a[i++]) as string, Number(a[i++])] as const)
        expect(remove).toEqual(p.remove)
        expect(set.map(([k]) => k)).toEqual(p.set.map(([k]) => k))
        expect(add.map(([k]) => k)).toEqual(p.add.map(([k]) => k))
        add.forEach(([, d], j) => expect(d === p.add[j][1]).toBe(true)) // -0 is sent as 0
        const decoded = { clear: p.clear, remove, set, add }
        fc.pre(storable(record))
        expect(canon(Patch.apply(record, decoded))).toBe(canon(Patch.apply(record, p)))
      }),
      { numRuns: 500 }
    )
  })

  it("decode never throws on arbitrary hash contents", () => {
    const text = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom("x", "never", "", "NaN", "Infinity", "1e3", " 5 ", "0x10", "\"x\"", "{", "null")
    )
    const flat = fc.array(text, { maxLength: 10 })
    const reply = fc.oneof(
      flat.chain((f) => fc.constantFrom(...shapes(f.length % 2 === 0 ? f : [...f, "1"]))),
      fc.tuple(text, flat).chain(([expiry, f]) =>
        fc.constantFrom(...shapes([RedisLayout.EXPIRY_FIELD, expiry, ...(f.length % 2 === 0 ? f : f.slice(1))]))
      ),
      flat,
      fc.array(fc.oneof(text, fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b))), { maxLength: 8 }),
      fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withBoxedValues: true })
    )
    fc.assert(
      fc.property(reply, fc.oneof(fc.double(), fc.nat()), (r, now) => {
        const decoded = RedisLayout.decode(r, now)
        expect(["None", "Some", "Corrupt"]).toContain(decoded._tag)
        if (decoded._tag === "Some") expect(StoredRecord.isRecord(decoded.data)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })
})
