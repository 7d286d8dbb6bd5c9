import { Flash, type SessionMeta } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("Flash", () => {
  it("flashed keys live for the next request, then go", () => {
    const meta: SessionMeta = { c: 0, r: 0 }
    Flash.flash(meta, "status")
    expect(Flash.age(meta)).toEqual([]) // end of the flashing request
    expect(meta).toEqual({ c: 0, r: 0, fo: ["status"] })
    expect(Flash.age(meta)).toEqual(["status"]) // end of the next one: removed
    expect(meta).toEqual({ c: 0, r: 0 })
  })

  it("now is for this request only; reflash and keep keep keys one more request", () => {
    const meta: SessionMeta = { c: 0, r: 0, fo: ["a", "b", "c"] }
    Flash.now(meta, "d")
    Flash.keep(meta, ["a"])
    expect(meta.fn).toEqual(["a"])
    expect(meta.fo).toEqual(["b", "c", "d"])
    Flash.reflash(meta)
    expect(meta.fn).toEqual(["a", "b", "c", "d"])
    expect(meta.fo).toBeUndefined()
  })

  it("flash after now moves the key from this request to the next", () => {
    const meta: SessionMeta = { c: 0, r: 0 }
    Flash.now(meta, "k")
    Flash.flash(meta, "k")
    expect(meta).toEqual({ c: 0, r: 0, fn: ["k"] })
  })
})
