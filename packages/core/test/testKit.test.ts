import { Meta, StoredRecord, TestKit } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("TestKit", () => {
  it("a seed stores as a record the next request loads: data, flash readable once, token", () => {
    const record = TestKit.record({ data: { user: "ada" }, flash: { status: "hi" }, token: "t" }, 1000)
    const read = Meta.read(record, 1000)
    expect(read._tag).toBe("Meta")
    expect(StoredRecord.userData(record)).toEqual({ user: "ada", status: "hi" })
    expect(TestKit.stored(record, 1000)).toEqual({
      data: { user: "ada", status: "hi" },
      flashed: ["status"],
      token: "t"
    })
    expect(TestKit.stored(undefined, 1000)).toEqual({ data: {}, flashed: [], token: undefined })
  })

  it("flashed lists only the flashed keys the record still holds (a flash later forgotten is not readable)", () => {
    const seeded = TestKit.record({ data: { user: "ada" }, flash: { status: "hi", kept: 1 } }, 1000)
    // the flash list still names "status", whose value a later forget removed
    const record = Object.fromEntries(Object.entries(seeded).filter(([key]) => key !== "status"))
    expect(TestKit.stored(record, 1000)).toEqual({
      data: { user: "ada", kept: 1 },
      flashed: ["kept"],
      token: undefined
    })
  })

  it("which seeds start a stored session", () => {
    expect(TestKit.startsStored({})).toBe(false)
    expect(TestKit.startsStored({ isNew: false })).toBe(true)
    expect(TestKit.startsStored({ token: "t" })).toBe(true)
  })

  it("names the option at fault", () => {
    expect(TestKit.check({ data: { a: 1 }, flash: { b: 2 }, token: "t" })).toBeUndefined()
    expect(TestKit.check({ isNew: true, data: { a: 1 } })?.option).toBe("isNew")
    expect(TestKit.check({ data: { __session: 1 } })?.option).toBe("data")
    expect(TestKit.check({ data: { at: new Date() } })?.option).toBe("data")
    expect(TestKit.check({ data: { a: 1 }, flash: { a: 2 } })?.option).toBe("flash")
    expect(TestKit.check({ token: "" })?.option).toBe("token")
  })
})
