import { Cookie, Id } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("Id", () => {
  it("generates 256-bit base64url IDs that pass the shape check, and none repeats", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => Id.generate()))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(Id.isWellFormed(id)).toBe(true)
    expect(Buffer.from([...ids][0]!, "base64url")).toHaveLength(32)
  })

  it("rejects near misses: one character short, padded, standard base64", () => {
    const id = Id.generate()
    expect(Id.isWellFormed(id.slice(1))).toBe(false)
    expect(Id.isWellFormed(`${id}=`)).toBe(false)
    expect(Id.isWellFormed(id.replace(/./, "+"))).toBe(false)
  })

  it("stores under SHA-256 of the ID, never the ID itself", () => {
    const id = Id.generate()
    const key = Id.storageKey(id)
    expect(key).not.toBe(id)
    expect(key).toBe(Id.storageKey(id))
    expect(Buffer.from(key, "base64url")).toHaveLength(32)
  })
})

describe("Cookie.findSessionId", () => {
  it("finds the first well-formed value under the exact name and skips malformed ones", () => {
    const id = Id.generate()
    expect(Cookie.findSessionId(`a=1; s=bad; s=${id}`, "s")).toBe(id)
    expect(Cookie.findSessionId(`\u00a0s=${id}`, "s")).toBeUndefined()
    expect(Cookie.findSessionId(undefined, "s")).toBeUndefined()
  })
})
