import { Changes, Meta, Patch, type SessionData } from "effect-session-core"
import { describe, expect, it } from "vitest"

const loaded = (record: SessionData, now = 1000) => {
  const meta = Meta.read(record, now)
  if (meta._tag !== "Meta") throw new Error(meta.reason)
  return Changes.fromRecord(record, meta.meta)
}

describe("Changes", () => {
  it("a new session is unchanged until it holds something", () => {
    const changes = Changes.fresh(1000)
    expect(Changes.changed(changes)).toBe(false)
    Changes.set(changes, "a", 1)
    expect(Changes.changed(changes)).toBe(true)
    expect(Changes.toRecord(changes)).toEqual({ a: 1, __session: { c: 1000, r: 1000 } })
  })

  it("a loaded session's patch holds only what the request changed", () => {
    const changes = loaded({ a: 1, b: 2, n: 5, __session: { c: 0, r: 0 }, "__session.token": "t" })
    expect(Changes.changed(changes)).toBe(false)
    Changes.set(changes, "a", 10)
    Changes.remove(changes, "b")
    Changes.add(changes, "n", 2)
    Changes.add(changes, "m", 1)
    expect(Changes.toPatch(changes)).toEqual({
      clear: false,
      remove: ["b"],
      set: [["a", 10]],
      add: [["n", 2], ["m", 1]]
    })
  })

  it("concurrent increments all count: a patch of deltas applied to the record as it is now", () => {
    const base = { n: 5, __session: { c: 0, r: 0 } }
    const first = loaded(base)
    const second = loaded(base)
    Changes.add(first, "n", 1)
    Changes.add(second, "n", 1)
    const stored = Patch.apply(Patch.apply(base, Changes.toPatch(first)), Changes.toPatch(second))
    expect(stored.n).toBe(7)
  })

  it("an increment after an assignment stays an assignment", () => {
    const changes = loaded({ n: 5, __session: { c: 0, r: 0 } })
    Changes.set(changes, "n", 1)
    Changes.add(changes, "n", 1)
    expect(Changes.toPatch(changes).set).toContainEqual(["n", 2])
    expect(Changes.toPatch(changes).add).toEqual([])
  })

  it("setting a key back to what it was is no change", () => {
    const changes = loaded({ a: { x: [1] }, __session: { c: 0, r: 0 } })
    Changes.set(changes, "a", { x: [1] })
    expect(Changes.changed(changes)).toBe(false)
  })

  it("flush clears data, token and flash, and starts the session's clock again: lifetimes reset", () => {
    const changes = loaded({
      a: 1,
      __session: { c: 0, r: 0, l: 2_592_000_000, a: 7_776_000_000 },
      "__session.token": "t",
      "__session.flash": { old: ["a"] }
    }, 5000)
    Changes.flush(changes, 5000)
    expect(changes.meta).toEqual({ c: 5000, r: 5000 })
    expect(Changes.toPatch(changes)).toEqual({
      clear: true,
      remove: [],
      set: [["__session", { c: 5000, r: 5000 }]],
      add: []
    })
  })

  it("ageing flash data removes last request's flashed values", () => {
    const changes = loaded({
      status: "saved",
      keep: 1,
      __session: { c: 0, r: 0 },
      "__session.flash": { old: ["status"] }
    })
    Changes.ageFlash(changes)
    expect([...changes.data.keys()]).toEqual(["keep"])
    expect(Changes.toPatch(changes)).toEqual({ clear: false, remove: ["status", "__session.flash"], set: [], add: [] })
  })

  it("after a save, the saved state is the baseline", () => {
    const changes = loaded({ a: 1, __session: { c: 0, r: 0 } })
    Changes.set(changes, "a", 2)
    Changes.saved(changes, undefined)
    expect(Changes.changed(changes)).toBe(false)
    expect(Changes.toPatch(changes)).toEqual({ clear: false, remove: [], set: [], add: [] })
  })

  it("reserved keys are never data", () => {
    const changes = loaded({ a: 1, __session: { c: 0, r: 0 } })
    expect(Changes.get(changes, "__session")).toBeUndefined()
    expect(Changes.has(changes, "__session")).toBe(false)
    expect(Changes.remove(changes, "__session")).toBe(false)
  })

  it("increments of a key the record lacks that sum to 0 still create it at 0, as a whole-record write would", () => {
    const record = { __session: { c: 0, r: 0 } }
    const changes = loaded(record)
    expect(Changes.add(changes, "b", 0)).toBe(0)
    expect(Changes.add(changes, "n", -584)).toBe(-584)
    expect(Changes.add(changes, "n", 584)).toBe(0)
    expect(Changes.toPatch(changes).add).toEqual([["b", 0], ["n", 0]])
    expect(Patch.apply(record, Changes.toPatch(changes))).toEqual(Changes.toRecord(changes))
    // a key held as null counts as 0 (as Session.increment reads it): a zero total sets it to 0
    const nulled = loaded({ b: null, __session: { c: 0, r: 0 } })
    Changes.add(nulled, "b", 0)
    expect(Patch.apply({ b: null, __session: { c: 0, r: 0 } }, Changes.toPatch(nulled)).b).toBe(0)
    // on a number the record holds, a zero total is nothing to send
    const held = loaded({ n: 5, __session: { c: 0, r: 0 } })
    Changes.add(held, "n", 0)
    expect(Changes.toPatch(held).add).toEqual([])
  })

  it("fractional increments: the request's value is the baseline plus the total delta, what the patch stores", () => {
    const record = { n: 0.1, __session: { c: 0, r: 0 } }
    const changes = loaded(record)
    Changes.add(changes, "n", 0.2)
    const next = Changes.add(changes, "n", 0.3)
    expect(next).toBe(0.1 + (0.2 + 0.3)) // 0.6, where ((0.1 + 0.2) + 0.3) would be 0.6000000000000001
    expect(Patch.apply(record, Changes.toPatch(changes)).n).toBe(next)
  })

  it("a total delta that overflows is refused (undefined, nothing changed) even when every step was finite", () => {
    const changes = loaded({ n: -1e308, __session: { c: 0, r: 0 } })
    expect(Changes.add(changes, "n", 1e308)).toBe(0)
    expect(Changes.add(changes, "n", 1e308)).toBeUndefined() // the delta 2e308 is Infinity: no store could keep it
    expect(Changes.get(changes, "n")).toBe(0)
    expect(Changes.toPatch(changes).add).toEqual([["n", 1e308]])
    expect(Changes.add(changes, "n", Infinity)).toBeUndefined()
  })
})
