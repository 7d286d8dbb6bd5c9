import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit } from "effect"
import { Session, SessionConfigError } from "effect-session"

type AnyOptions = Session.Options<any, any>

const invalid: Array<[string, AnyOptions, string]> = [
  ["ttl -1", { ttl: -1 }, "ttl"],
  ["ttl NaN", { ttl: NaN }, "ttl"],
  ["ttl Infinity", { ttl: Infinity }, "ttl"],
  ["ttl Duration.infinity", { ttl: Duration.infinity }, "ttl"],
  ["ttl \"garbage\"", { ttl: "garbage" as Duration.DurationInput }, "ttl"],
  ["ttl \"-5 minutes\"", { ttl: "-5 minutes" }, "ttl"],
  ["ttl \"Infinity\"", { ttl: "Infinity" as Duration.DurationInput }, "ttl"],
  ["ttl of a wrong type", { ttl: {} as Duration.DurationInput }, "ttl"],
  ["ttl negative bigint", { ttl: -1n }, "ttl"],
  ["ttl [NaN, 0]", { ttl: [NaN, 0] }, "ttl"],
  ["absoluteTimeout -1", { absoluteTimeout: -1 }, "absoluteTimeout"],
  ["absoluteTimeout 0", { absoluteTimeout: 0 }, "absoluteTimeout"],
  ["touchAfter NaN", { touchAfter: NaN }, "touchAfter"],
  ["touchAfter as long as ttl", { ttl: "1 minute", touchAfter: "1 minute" }, "touchAfter"],
  ["sameSite \"none\" with insecure", { sameSite: "none", insecure: true }, "sameSite"],
  ["sameSite of an unknown value", { sameSite: "loose" as "lax" }, "sameSite"],
  ["partitioned with insecure", { partitioned: true, insecure: true }, "partitioned"],
  ["__Host- with a domain", { cookieName: "__Host-sid", domain: "example.com" }, "domain"],
  ["__Host- with path \"/app\"", { cookieName: "__Host-sid", path: "/app" }, "path"],
  ["__Host- with insecure", { cookieName: "__Host-sid", insecure: true }, "cookieName"],
  ["__Secure- with insecure", { cookieName: "__Secure-sid", insecure: true }, "cookieName"],
  ["an empty cookie name", { cookieName: "" }, "cookieName"],
  ["a cookie name with a space", { cookieName: "my session" }, "cookieName"],
  ["a cookie name with \"=\"", { cookieName: "a=b" }, "cookieName"],
  ["a cookie name with \";\"", { cookieName: "a;b" }, "cookieName"],
  ["a cookie name with a non-ASCII character", { cookieName: "s\u00e9ssion" }, "cookieName"],
  ["a path with \";\"", { path: "/a;b" }, "path"],
  ["a domain with \";\"", { domain: "example.com;x" }, "domain"]
]

const valid: Array<[string, AnyOptions]> = [
  ["no options", {}],
  ["ttl 0 (browser-session cookie)", { ttl: 0 }],
  ["ttl as a string", { ttl: "30 minutes" }],
  ["ttl as a Duration", { ttl: Duration.hours(1) }],
  ["ttl in milliseconds", { ttl: 1500 }],
  ["insecure for local HTTP", { insecure: true }],
  ["sameSite none on a Secure cookie", { sameSite: "none" }],
  ["sameSite strict, insecure", { sameSite: "strict", insecure: true }],
  ["a __Host- cookie with defaults", { cookieName: "__Host-sid" }],
  ["a __Secure- cookie with a domain", { cookieName: "__Secure-sid", domain: "example.com" }],
  ["partitioned and prioritised", { partitioned: true, priority: "high" }],
  ["domain and path", { domain: "example.com", path: "/app" }],
  ["absolute timeout and touchAfter", { ttl: "1 hour", absoluteTimeout: "8 hours", touchAfter: "5 minutes" }]
]

describe("middleware options", () => {
  describe("invalid options are a SessionConfigError, everywhere", () => {
    for (const [name, options, option] of invalid) {
      it.effect(name, () =>
        Effect.gen(function*() {
          // validateOptions: Left
          const validated = Session.validateOptions(options)
          expect(Either.isLeft(validated)).toBe(true)
          const error = Either.isLeft(validated) ? validated.left : undefined
          expect(error).toBeInstanceOf(SessionConfigError)
          expect(error?._tag).toBe("SessionConfigError")
          expect(error?.option).toBe(option)
          expect(error?.message.length).toBeGreaterThan(0)

          // middleware: throws the same typed error at once
          let thrown: unknown
          try {
            Session.middleware(options)
          } catch (e) {
            thrown = e
          }
          expect(thrown).toBeInstanceOf(SessionConfigError)
          expect((thrown as SessionConfigError).option).toBe(option)

          // makeMiddleware: fails (not dies) with it
          const exit = yield* Effect.exit(Session.makeMiddleware(options))
          expect(Exit.isFailure(exit)).toBe(true)
          const failure = yield* Effect.flip(Session.makeMiddleware(options))
          expect(failure).toBeInstanceOf(SessionConfigError)
          expect(failure.option).toBe(option)
        }))
    }
  })

  describe("valid options are accepted", () => {
    for (const [name, options] of valid) {
      it.effect(name, () =>
        Effect.gen(function*() {
          expect(Session.validateOptions(options)).toStrictEqual(Either.right(undefined))
          expect(typeof Session.middleware(options)).toBe("function")
          const middleware = yield* Session.makeMiddleware(options)
          expect(typeof middleware).toBe("function")
        }))
    }

    it("validateOptions() with nothing is valid", () => {
      expect(Either.isRight(Session.validateOptions())).toBe(true)
    })
  })
})
