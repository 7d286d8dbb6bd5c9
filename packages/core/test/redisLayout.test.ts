import { RedisLayout } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("RedisLayout", () => {
  it("decodes HGETALL in each client's shape: ioredis' object, RESP2's flat array, RESP3's Map", () => {
    const object = { x: "100", "\"a\"": "[1]", "\"__proto__\"": "{\"p\":1}" }
    const flat = ["x", "100", "\"a\"", "[1]", "\"__proto__\"", "{\"p\":1}"]
    const map = new Map(Object.entries(object))
    for (const reply of [object, flat, map]) {
      const decoded = RedisLayout.decode(reply, 99)
      expect(decoded._tag).toBe("Some")
      const data = (decoded as Extract<RedisLayout.Decoded, { _tag: "Some" }>).data
      expect(data.a).toEqual([1])
      expect(Object.getOwnPropertyDescriptor(data, "__proto__")?.value).toEqual({ p: 1 })
      expect(RedisLayout.decode(reply, 100)).toEqual({ _tag: "None" }) // expired exactly at its expiry
    }
    expect(RedisLayout.decode(null, 0)).toEqual({ _tag: "None" })
    expect(RedisLayout.decode([], 0)).toEqual({ _tag: "None" })
    expect(RedisLayout.decode({ x: "never", "\"a\"": "1" }, 1e15)).toEqual({ _tag: "Some", data: { a: 1 } })
  })

  it("a hash without a valid expiry, with a field or value that is not JSON, or an odd reply is corrupt", () => {
    for (
      const reply of [
        { "\"a\"": "1" },
        { x: "", "\"a\"": "1" },
        { x: "soon", "\"a\"": "1" },
        { x: "never", a: "1" },
        { x: "never", "\"a\"": "{" },
        { x: "never", "1": "1" },
        ["x"],
        "text"
      ]
    ) {
      expect(RedisLayout.decode(reply, 0)._tag).toBe("Corrupt")
    }
  })

  it("builds WRITE, PATCH and RETIRE arguments; values that are not plain JSON are Unencodable", () => {
    expect(RedisLayout.expiry(1000, 500)).toEqual(["1500", "500"])
    expect(RedisLayout.expiry(1000, 0)).toEqual(["never", "0"])
    // a TTL whose expiry no safe integer holds (Duration.infinity) is no expiry, as in the other stores
    expect(RedisLayout.expiry(1000, Infinity)).toEqual(["never", "0"])
    expect(RedisLayout.expiry(1000, Number.MAX_SAFE_INTEGER)).toEqual(["never", "0"])
    expect(RedisLayout.expiry(1000, Number.MAX_SAFE_INTEGER - 1000))
      .toEqual([String(Number.MAX_SAFE_INTEGER), String(Number.MAX_SAFE_INTEGER - 1000)])
    expect(RedisLayout.writeArgs({ a: [1], "": {} }, ["1500", "500"])).toEqual({
      _tag: "Args",
      args: ["1500", "500", "\"a\"", "[1]", "\"\"", "{}"]
    })
    expect(RedisLayout.writeArgs({ f: () => 1 }, ["never", "0"])._tag).toBe("Unencodable")
    expect(RedisLayout.patchArgs(7, ["never", "0"], { clear: true, remove: ["r"], set: [["s", 1]], add: [["n", 2]] }))
      .toEqual({ _tag: "Args", args: ["7", "never", "0", "1", "1", "1", "1", "\"r\"", "\"s\"", "1", "\"n\"", "2"] })
    expect(RedisLayout.patchArgs(7, ["never", "0"], { clear: false, remove: [], set: [], add: [["n", NaN]] })._tag)
      .toBe("Unencodable")
    expect(RedisLayout.retireArgs(7, 2.5)).toEqual(["7", "3"])
    expect(RedisLayout.retireArgs(7, -1)).toEqual(["7", "0"])
  })

  it("classifies a failed command by its message", () => {
    expect(RedisLayout.failureReason("WRONGTYPE Operation against a key")).toBe("CorruptRecord")
    expect(RedisLayout.failureReason("CORRUPT session record has an invalid expiry")).toBe("CorruptRecord")
    expect(RedisLayout.failureReason("NONFINITE adding")).toBe("Unencodable")
    expect(RedisLayout.failureReason("Command timed out")).toBe("Timeout")
    expect(RedisLayout.failureReason("Connection is closed.")).toBe("Unavailable")
  })

  it("a field whose JSON no save could write back (1e999, too deep) makes the record corrupt", () => {
    const decoded = RedisLayout.decode({ x: "never", "\"n\"": "1e999" }, 0)
    expect(decoded._tag).toBe("Corrupt")
    expect(decoded._tag === "Corrupt" && decoded.message).toContain("session value for key \"n\"")
    const deep = `${"[".repeat(600)}${"]".repeat(600)}`
    expect(RedisLayout.decode({ x: "never", "\"d\"": deep }, 0)._tag).toBe("Corrupt")
    expect(RedisLayout.decode({ x: "never", "\"n\"": "1e308" }, 0)).toEqual({ _tag: "Some", data: { n: 1e308 } })
  })
})
