import { MemoryTable } from "effect-session-core"
import { describe, expect, it } from "vitest"

const { UNBOUNDED } = MemoryTable
const sweepAll = (table: MemoryTable.Entries<unknown>, now: number) => table.sweeper(() => now)(() => false)

describe("MemoryTable.Entries", () => {
  it("unbounded: a rewrite replaces the entry's value and expiry, and counts once", () => {
    const table = new MemoryTable.Entries<unknown>()
    table.set("k", "first", 100, UNBOUNDED)
    table.set("k", "second", 300, UNBOUNDED)
    expect(table.size).toBe(1)
    expect(table.get("k")?.value).toBe("second")
    // The sweep goes by the new expiry: alive at 200 (the old one's past), gone at 300.
    expect(sweepAll(table, 200)).toEqual({ removed: 0, done: true })
    expect(table.get("k")?.value).toBe("second")
    expect(sweepAll(table, 300)).toEqual({ removed: 1, done: true })
    expect(table.size).toBe(0)
  })

  it("unbounded: a rewrite with an earlier expiry is swept at that expiry", () => {
    const table = new MemoryTable.Entries<unknown>()
    table.set("k", "long", 1_000, UNBOUNDED)
    table.set("k", "short", 10, UNBOUNDED)
    expect(sweepAll(table, 10)).toEqual({ removed: 1, done: true })
    expect(table.get("k")).toBeUndefined()
  })

  it("bounded: a rewrite makes the entry the most recently written, so it is evicted last", () => {
    const table = new MemoryTable.Entries<unknown>()
    table.set("a", 1, Infinity, 2)
    table.set("b", 2, Infinity, 2)
    table.set("a", 3, Infinity, 2) // a is now newer than b
    table.set("c", 4, Infinity, 2) // evicts b
    expect(table.size).toBe(2)
    expect(table.get("b")).toBeUndefined()
    expect(table.get("a")?.value).toBe(3)
    expect(table.get("c")?.value).toBe(4)
  })
})

describe("MemoryTable.Records", () => {
  it("a patch of a returning session keeps one entry with the patched record and the new expiry", () => {
    const records = new MemoryTable.Records(UNBOUNDED)
    records.write("k", { n: 1 }, 100)
    const patched = records.patch("k", { clear: false, remove: [], set: [], add: [["n", 1]] }, 50, 500)
    expect(patched).toEqual({ _tag: "Done", value: true })
    expect(records.table.size).toBe(1)
    expect(records.read("k", 200)).toEqual({ _tag: "Done", value: { n: 2 } })
    expect(records.read("k", 500)).toEqual({ _tag: "Done", value: undefined })
  })
})
