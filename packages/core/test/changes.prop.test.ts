import { Changes, Flash, Meta, Patch, type SessionData, type SessionMeta, StoredRecord } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

/** JSON text with object keys sorted: equal for records a store would hold equal (`-0` is `0`, `undefined` goes). */
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

const NOW = 1_000_000

/** User keys: a small pool, so operations meet, with keys named like `Object.prototype` members. */
const userKey = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom("a", "b", "n", "__proto__", "constructor", "", "x") },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }).filter((k) => !StoredRecord.isReserved(k)) }
)
const json = fc.jsonValue({ maxDepth: 2 }).map((v) => v as unknown)
const value = fc.oneof(json, fc.integer({ min: -50, max: 50 }))

const metaArb: fc.Arbitrary<SessionMeta> = fc.record({
  c: fc.integer({ min: 0, max: NOW }),
  dr: fc.integer({ min: 0, max: NOW }),
  t: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
  fn: fc.option(fc.uniqueArray(userKey, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  fo: fc.option(fc.uniqueArray(userKey, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  l: fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
  a: fc.option(fc.integer({ min: 1, max: 10 ** 9 }), { nil: undefined })
}).map(({ c, dr, ...rest }) => {
  const meta: SessionMeta = { c, r: Math.min(NOW, c + dr) }
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (meta as unknown as Record<string, unknown>)[k] = v
  return meta
})

/** A record as the library writes it: user data plus the metadata entries. */
const storedRecord: fc.Arbitrary<SessionData> = fc.tuple(fc.array(fc.tuple(userKey, value), { maxLength: 6 }), metaArb)
  .map(([entries, meta]) => {
    const record: Record<string, unknown> = {}
    for (const [k, v] of entries) StoredRecord.setOwn(record, k, v)
    for (const [k, v] of Meta.entries(meta)) record[k] = v
    return record
  })

type Op =
  | { readonly op: "set" | "flash" | "now"; readonly key: string; readonly value: unknown }
  | { readonly op: "remove"; readonly key: string }
  | { readonly op: "add"; readonly key: string; readonly by: number }
  | { readonly op: "keep"; readonly keys: ReadonlyArray<string> }
  | { readonly op: "flush" | "reflash" | "token" | "regenerateToken" | "renew" | "ageFlash" | "save" }
  | { readonly op: "lifetime"; readonly l: number | undefined; readonly a: number | undefined }

/**
 * Deltas are safe integers here: with fractional ones the patch's sum of the deltas and the request's
 * step-by-step sum may differ in the last bit (known, left as it is: see docs/concurrency.md).
 */
const delta = fc.integer({ min: -1000, max: 1000 })

const opArb = (by: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constantFrom("set", "flash", "now"), key: userKey, value }) },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant("remove"), key: fc.oneof(userKey, fc.constant("__session")) })
    },
    { weight: 4, arbitrary: fc.record({ op: fc.constant("add"), key: userKey, by }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("keep"), keys: fc.array(userKey, { maxLength: 2 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("lifetime"),
        l: fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
        a: fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined })
      })
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constantFrom("flush", "reflash", "token", "regenerateToken", "renew", "ageFlash", "save")
      })
    }
  ) as fc.Arbitrary<Op>

let tokens = 0

/** What `src/internal/state.ts` does for each operation, on the core's `Changes`. */
const run = (changes: Changes.Changes, op: Op, now: number, save: () => void): void => {
  switch (op.op) {
    case "set":
      return Changes.set(changes, op.key, op.value)
    case "flash":
      Changes.set(changes, op.key, op.value)
      return Flash.flash(changes.meta, op.key)
    case "now":
      Changes.set(changes, op.key, op.value)
      return Flash.now(changes.meta, op.key)
    case "remove":
      Changes.remove(changes, op.key)
      return
    case "add": {
      // as `increment` does: refused for a value that is not a number, or a sum that is not finite
      const current = Changes.get(changes, op.key) ?? 0
      if (typeof current !== "number") return
      Changes.add(changes, op.key, op.by)
      return
    }
    case "keep":
      return Flash.keep(changes.meta, op.keys)
    case "flush":
      return Changes.flush(changes, now)
    case "reflash":
      return Flash.reflash(changes.meta)
    case "token":
      changes.meta.t ??= `token${tokens++}`
      return
    case "regenerateToken":
      changes.meta.t = `token${tokens++}`
      return
    case "renew":
      changes.meta.r = now
      return
    case "lifetime":
      if (op.l !== undefined) changes.meta.l = op.l
      if (op.a !== undefined) changes.meta.a = op.a || undefined
      return
    case "ageFlash":
      return Changes.ageFlash(changes)
    case "save":
      return save()
  }
}

const loaded = (record: SessionData, now: number): Changes.Changes => {
  const meta = Meta.read(record, now)
  if (meta._tag !== "Meta") throw new Error(`generated a corrupt record: ${meta.reason}`)
  return Changes.fromRecord(record, meta.meta)
}

/**
 * Runs `ops` on a session loaded from `record` (or a new one), saving with `toPatch` at each `save`
 * and at the end, and checks at each save that the store's record, patched, is the request's record.
 */
const patchedLikeWritten = (record: SessionData | undefined, ops: ReadonlyArray<Op>): void => {
  let now = NOW
  const changes = record === undefined ? Changes.fresh(now) : loaded(record, now)
  // A new session's patch clears whatever is there: start from junk to see that it does.
  let stored: SessionData = record ?? { junk: 1, "__session.token": "old" }
  const save = () => {
    const before = canon(stored)
    const unchanged = !Changes.changed(changes)
    stored = Patch.apply(stored, Changes.toPatch(changes))
    expect(canon(stored)).toBe(canon(Changes.toRecord(changes)))
    // nothing changed: the patch changes nothing either
    if (unchanged && changes.original !== undefined) expect(canon(stored)).toBe(before)
    expect(Meta.read(stored, now)).toEqual({ _tag: "Meta", meta: expect.anything() })
    Changes.saved(changes, undefined)
  }
  for (const op of ops) {
    now += 1
    run(changes, op, now, save)
  }
  save()
}

describe("Changes (properties)", () => {
  it("Patch.apply(stored record, toPatch) is toRecord, for any record and any operations", () => {
    fc.assert(
      fc.property(
        fc.option(storedRecord, { nil: undefined }),
        fc.array(opArb(delta), { maxLength: 25 }),
        patchedLikeWritten
      ),
      { numRuns: 1000 }
    )
  })

  it("two requests from one record changing different keys: the patches keep both requests' changes", () => {
    const ops = (keys: ReadonlyArray<string>) =>
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant("set" as const), key: fc.constantFrom(...keys), value }),
          fc.record({ op: fc.constant("remove" as const), key: fc.constantFrom(...keys) }),
          fc.record({ op: fc.constant("add" as const), key: fc.constantFrom(...keys), by: delta }),
          fc.record({ op: fc.constant("renew" as const) })
        ),
        { maxLength: 10 }
      )
    fc.assert(
      fc.property(
        storedRecord,
        ops(["a", "__proto__", "n"]),
        ops(["b", "constructor", "x"]),
        fc.boolean(),
        (record, ops1, ops2, order) => {
          const requests = [ops1, ops2].map((ops) => {
            const changes = loaded(record, NOW)
            ops.forEach((op, i) => run(changes, op, NOW + i + 1, () => undefined))
            return changes
          })
          const [first, second] = order ? requests : [requests[1], requests[0]]
          const final = Patch.apply(Patch.apply(record, Changes.toPatch(first)), Changes.toPatch(second))
          // each key is as the request that owns it left it, or as it was
          const expected: Record<string, unknown> = StoredRecord.userData(record)
          for (
            const [changes, keys] of [[requests[0], ["a", "__proto__", "n"]], [requests[1], [
              "b",
              "constructor",
              "x"
            ]]] as const
          ) {
            for (const k of keys) {
              if (changes.data.has(k)) StoredRecord.setOwn(expected, k, changes.data.get(k))
              else delete expected[k]
            }
          }
          expect(canon(StoredRecord.userData(final))).toBe(canon(expected))
          expect(Meta.read(final, NOW + 100)._tag).toBe("Meta")
        }
      ),
      { numRuns: 500 }
    )
  })

  it("two requests incrementing the same key from one record: the increments add up", () => {
    fc.assert(
      fc.property(
        storedRecord,
        fc.constantFrom("n", "__proto__", "constructor"),
        fc.array(delta, { maxLength: 6 }),
        fc.array(delta, { maxLength: 6 }),
        (record, key, deltas1, deltas2) => {
          const start = StoredRecord.hasOwn(record, key) ? record[key] : 0
          fc.pre(typeof start === "number")
          const [one, two] = [deltas1, deltas2].map((deltas) => {
            const changes = loaded(record, NOW)
            for (const by of deltas) run(changes, { op: "add", key, by }, NOW, () => undefined)
            return Changes.toPatch(changes)
          })
          const final = Patch.apply(Patch.apply(record, one), two)
          // each request sends its total delta; the store adds them in turn
          const total = (deltas: ReadonlyArray<number>) => deltas.reduce((t, by) => t + by, 0)
          const sum = (start as number) + total(deltas1) + total(deltas2)
          // incrementing creates the key (at 0 + the deltas), as the requests saw it
          const hadKey = StoredRecord.hasOwn(record, key) || deltas1.length + deltas2.length > 0
          expect(StoredRecord.hasOwn(final, key) ? final[key] : undefined).toBe(hadKey ? sum : undefined)
        }
      ),
      { numRuns: 500 }
    )
  })
})
