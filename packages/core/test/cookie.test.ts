import { Cookie } from "effect-session-core"
import { describe, expect, it } from "vitest"

/** What `Cookie.attributes` answers for `options`, as a problem (or `undefined` when it accepts them). */
const problemOf = (options: Cookie.AttributeOptions): Cookie.OptionProblem | undefined => {
  const result = Cookie.attributes(options)
  return Cookie.isProblem(result) ? result : undefined
}

describe("Cookie.attributes", () => {
  it("the safe defaults: HttpOnly, Secure, SameSite=Lax, Path=/, nothing else", () => {
    expect(Cookie.attributes({ cookieName: "sid" })).toStrictEqual({
      httpOnly: true,
      secure: true,
      sameSite: "lax",
      path: "/"
    })
  })

  it("__Host- and __Secure- match in any letter case (RFC 6265bis, as browsers do), with the canonical spelling's problem", () => {
    const broken: Array<[string, Omit<Cookie.AttributeOptions, "cookieName">]> = [
      ["__Host-", { insecure: true }],
      ["__Host-", { domain: "example.com" }],
      ["__Host-", { path: "/app" }],
      ["__Secure-", { insecure: true }]
    ]
    for (const [prefix, options] of broken) {
      const canonical = problemOf({ ...options, cookieName: `${prefix}sid` })
      expect(canonical).toBeDefined()
      for (const variant of [prefix.toUpperCase(), prefix.toLowerCase(), swapCase(prefix)]) {
        expect(problemOf({ ...options, cookieName: `${variant}sid` }), `${variant}sid ${JSON.stringify(options)}`)
          .toStrictEqual(canonical)
      }
    }
    // what the prefixes allow stays allowed, in any case
    expect(problemOf({ cookieName: "__HOST-sid" })).toBeUndefined()
    expect(problemOf({ cookieName: "__secure-sid", domain: "example.com", insecure: false })).toBeUndefined()
  })

  it("a prefix is only a prefix: near misses are ordinary names", () => {
    // "\u017f" (long s) upper-cases to "S", but the match is ASCII only, as in RFC 6265bis
    for (
      const cookieName of ["_Host-sid", "__Hostsid", "__Host_sid", "x__Host-sid", "__Secur-sid", "__Ho\u017ft-sid"]
    ) {
      expect(problemOf({ cookieName, insecure: true, path: "/app", domain: "example.com" }), cookieName).toBeUndefined()
    }
  })

  it("an option of the wrong type is a problem naming it, never a thrown TypeError", () => {
    const wrong: Array<[option: string, value: unknown]> = [
      ["cookieName", 42],
      ["cookieName", ["sid"]],
      ["cookieName", null],
      ["path", 42],
      ["path", ["/"]],
      ["path", null],
      ["domain", 42],
      ["domain", null],
      ["domain", {}],
      ["sameSite", 42],
      ["sameSite", null],
      ["sameSite", Object.create(null)],
      ["insecure", "true"],
      ["insecure", 1],
      ["insecure", null],
      ["partitioned", "true"],
      ["priority", "urgent"],
      ["priority", 42]
    ]
    for (const [option, value] of wrong) {
      const options = { cookieName: "sid", [option]: value } as unknown as Cookie.AttributeOptions
      const label = `${option}: ${Object.prototype.toString.call(value)} ${typeof value === "object" ? "" : value}`
      let problem: Cookie.OptionProblem | undefined
      expect(() => problem = problemOf(options), label).not.toThrow()
      expect(problem?.option, label).toBe(option)
      expect(problem?.message, label).toMatch(new RegExp(`^${option} must be `))
    }
  })
})

/** `__Host-` as `__hOST-`: every letter's case flipped. */
const swapCase = (text: string): string =>
  [...text].map((c) => c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()).join("")

describe("Cookie.attributes: the domain", () => {
  it("is a host name: a space or another character a browser would not take is refused", () => {
    const problemOf = (domain: string) => {
      const result = Cookie.attributes({ cookieName: "sid", domain })
      return Cookie.isProblem(result) ? result : undefined
    }
    for (
      const domain of [
        "example.com",
        ".example.com",
        "app.example.co.uk",
        "localhost",
        "xn--bcher-kva.example",
        "ex_ample.com"
      ]
    ) {
      expect(problemOf(domain), domain).toBeUndefined()
    }
    for (
      const domain of [
        "exa mple.com",
        "example.com;x",
        "exa\tmple.com",
        "example..com",
        "-x.com",
        "bücher.de",
        "localhost:3000",
        ""
      ]
    ) {
      expect(problemOf(domain)?.option, domain).toBe("domain")
    }
  })
})
