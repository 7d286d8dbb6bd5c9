import { Options } from "effect-session-core"
import { describe, expect, it } from "vitest"

/** A stand-in for a line's `Duration` module: durations are `{ ms }` objects here. */
const isDuration = (u: unknown): boolean => typeof u === "object" && u !== null && "ms" in u
const effect3 = { isDuration, format: (d: never) => `${(d as { ms: number }).ms} millis`, objects: false }
const effect4 = { ...effect3, objects: true }

describe("Options.durationProblem", () => {
  it("accepts what names its unit: strings, [seconds, nanos] pairs, Durations, and bare zero", () => {
    for (const input of ["2 hours", " 30 minutes ", "1.5 seconds", [90, 0], { ms: 5 }, 0, 0n]) {
      expect(Options.durationProblem("ttl", input, effect3), JSON.stringify(String(input))).toBeUndefined()
    }
  })

  it("refuses a bare number or bigint, saying how it would be read and what to write", () => {
    expect(Options.durationProblem("ttl", 120, effect3)).toMatch(
      /^ttl is a bare number \(120\), which would be read as milliseconds: use a Duration or a string such as "2 hours"/
    )
    expect(Options.durationProblem("lock.wait", 7200n, effect4)).toContain(
      "(7200n), which would be read as nanoseconds"
    )
  })

  it("refuses unparsable, negative and infinite inputs, each with its own words", () => {
    expect(Options.durationProblem("ttl", "2 hourz", effect3)).toContain("ttl \"2 hourz\" does not parse as a duration")
    expect(Options.durationProblem("ttl", "-5 minutes", effect3)).toContain(
      "ttl must not be negative, got \"-5 minutes\""
    )
    expect(Options.durationProblem("ttl", [-1, 0], effect3)).toContain("must not be negative")
    expect(Options.durationProblem("ttl", [Infinity, 0], effect3)).toContain(
      "must be a finite duration, got [Infinity, 0]"
    )
    expect(Options.durationProblem("ttl", [1, 2, 3], effect3)).toContain("is not a [seconds, nanos] pair")
    expect(Options.durationProblem("ttl", [NaN, 0], effect3)).toContain("is not a [seconds, nanos] pair")
  })

  it("objects: refused on effect 3; on effect 4 accepted only with known units and finite, non-negative numbers", () => {
    expect(Options.durationProblem("ttl", { minutes: 30 }, effect3)).toContain("must be a Duration or a string")
    expect(Options.durationProblem("ttl", { hours: 1, minutes: 30 }, effect4)).toBeUndefined()
    expect(Options.durationProblem("ttl", { minutes: 30, seconds: undefined }, effect4)).toBeUndefined()
    expect(Options.durationProblem("ttl", {}, effect4)).toContain("names no unit")
    expect(Options.durationProblem("ttl", { seconds: undefined }, effect4)).toContain("names no unit")
    expect(Options.durationProblem("ttl", { mins: 30 }, effect4)).toContain("\"mins\" is not a unit")
    expect(Options.durationProblem("ttl", { minutes: "30" }, effect4)).toContain("minutes must be a number")
    expect(Options.durationProblem("ttl", { minutes: -1 }, effect4)).toContain("must not be negative")
    expect(Options.durationProblem("ttl", { days: Infinity }, effect4)).toContain("must be a finite duration")
  })

  it("refuses anything else, showing the value as written", () => {
    expect(Options.durationProblem("ttl", null, effect4)).toContain(
      "must be a Duration or a string such as \"2 hours\", got null"
    )
    expect(Options.durationProblem("ttl", true, effect3)).toContain("got true")
  })

  it("never throws, even on values neither JSON nor String can render (null-prototype objects)", () => {
    const bare = Object.assign(Object.create(null), { "": 0n })
    expect(Options.durationProblem("ttl", [Object.create(null)], effect4)).toContain("is not a [seconds, nanos] pair")
    expect(Options.durationProblem("ttl", bare, effect3)).toContain("got [object Object]")
    expect(Options.durationProblem("ttl", bare, effect4)).toContain("is not a duration")
  })
})

describe("Options.typeProblem", () => {
  it("accepts every option of its type, and omitted ones", () => {
    expect(Options.typeProblem({})).toBeUndefined()
    expect(Options.typeProblem({ cookieName: undefined, lock: undefined, onError: undefined })).toBeUndefined()
    expect(
      Options.typeProblem({
        cookieName: "__Host-sid",
        insecure: false,
        sameSite: "none",
        domain: "example.com",
        path: "/app",
        partitioned: true,
        priority: "high",
        onError: () => undefined,
        lock: { ttl: "5 seconds" },
        ttl: "whatever: durations are durationProblem's"
      })
    ).toBeUndefined()
    for (const lock of [true, false, {}]) expect(Options.typeProblem({ lock })).toBeUndefined()
  })

  it("names the first option of the wrong type, what it must be and the value given; null is not \"omitted\"", () => {
    const wrong: Array<[option: string, value: unknown, says: string]> = [
      ["cookieName", 42, "cookieName must be a string such as \"__Host-session\", got 42"],
      ["cookieName", null, "cookieName must be a string such as \"__Host-session\", got null"],
      ["insecure", "true", "insecure must be true or false, got \"true\""],
      ["sameSite", "LAX", "sameSite must be \"lax\", \"strict\" or \"none\", got \"LAX\""],
      ["domain", 42, "domain must be a string such as \"example.com\", got 42"],
      ["path", ["/"], "path must be a string such as \"/\" or \"/app\", got [/]"],
      ["partitioned", 1, "partitioned must be true or false, got 1"],
      ["priority", "urgent", "priority must be \"low\", \"medium\" or \"high\", got \"urgent\""],
      ["onError", "log", "onError must be a function"],
      ["lock", null, "lock must be true, false or { ttl, wait }, got null"],
      ["lock", "yes", "lock must be true, false or { ttl, wait }, got \"yes\""],
      ["lock", ["10 seconds"], "lock must be true, false or { ttl, wait }"]
    ]
    for (const [option, value, says] of wrong) {
      const problem = Options.typeProblem({ [option]: value })
      expect(problem?.option, `${option}: ${String(value)}`).toBe(option)
      expect(problem?.message, `${option}: ${String(value)}`).toContain(says)
    }
  })

  it("never throws, even on values neither JSON nor String can render", () => {
    expect(Options.typeProblem({ sameSite: Object.create(null) })?.message).toBe(
      "sameSite must be \"lax\", \"strict\" or \"none\", got {}"
    )
    expect(Options.typeProblem({ cookieName: Symbol("sid") })?.option).toBe("cookieName")
  })
})

describe("Options.show", () => {
  it("quotes strings, marks bigints, formats Durations, survives what JSON cannot encode", () => {
    expect(Options.show("x", effect3)).toBe("\"x\"")
    expect(Options.show(5n, effect3)).toBe("5n")
    expect(Options.show({ ms: 5 }, effect3)).toBe("5 millis")
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    expect(Options.show(cyclic, effect4)).toBe("[object Object]")
  })
})

describe("Options.invalidCookie", () => {
  it("names the value and what a valid one looks like", () => {
    expect(Options.invalidCookie("cookieName", "InvalidName", "my session")).toContain(
      "cookieName \"my session\" is not a valid cookie name: use letters, digits"
    )
    expect(Options.invalidCookie("domain", "InvalidDomain", "a;b")).toContain("is not a valid cookie domain")
    expect(Options.invalidCookie("path", "InvalidPath", "/a;b")).toContain("is not a valid cookie path")
    expect(Options.invalidCookie("cookie", "Other", undefined)).toBe("invalid cookie cookie: Other")
  })
})

describe("options that are not an object, and lifetimes", () => {
  it("says what it got", () => {
    expect(Options.notAnObject(undefined)).toBeUndefined()
    expect(Options.notAnObject({})).toBeUndefined()
    expect(Options.notAnObject(null)).toBe("the options must be an object (or omitted), got null")
    expect(Options.notAnObject("x")).toBe("the options must be an object (or omitted), got string")
    expect(Options.lifetimeProblem("ttl", 1000)).toBeUndefined()
    expect(Options.lifetimeProblem("lock.ttl", 1e300)).toBe("lock.ttl must be at most 100 years")
  })
})
