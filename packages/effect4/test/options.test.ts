/**
 * Middleware options: every invalid option is a `SessionConfigError` naming the option, the same
 * through `Session.validateOptions`, `Session.middleware` (throws at once) and
 * `Session.makeMiddleware` (fails, never dies); every valid form is accepted; and the errors say
 * what is wrong and what would work.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Result } from "effect"
import { KeyValueSessionStore, MemoryStore, Session, SessionConfigError, SessionTest } from "effect-session-v4"
import * as SqlStore from "effect-session-v4/SqlStore"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as SqliteClient from "./utils/sqliteClient.js"

type AnyOptions = Session.Options<any, any>

const invalid: Array<[string, AnyOptions, string]> = [
  ["ttl -1", { ttl: -1 }, "ttl"],
  ["ttl NaN", { ttl: NaN }, "ttl"],
  ["ttl Infinity", { ttl: Infinity }, "ttl"],
  ["ttl Duration.infinity", { ttl: Duration.infinity }, "ttl"],
  ["ttl \"garbage\"", { ttl: "garbage" as Duration.Input }, "ttl"],
  ["ttl \"-5 minutes\"", { ttl: "-5 minutes" as Duration.Input }, "ttl"],
  ["ttl \"Infinity\"", { ttl: "Infinity" as Duration.Input }, "ttl"],
  ["ttl negative bigint", { ttl: -1n }, "ttl"],
  ["absoluteTimeout -1", { absoluteTimeout: -1 }, "absoluteTimeout"],
  ["absoluteTimeout 0", { absoluteTimeout: 0 }, "absoluteTimeout"],
  ["touchAfter NaN", { touchAfter: NaN }, "touchAfter"],
  ["touchAfter as long as ttl", { ttl: "1 minute", touchAfter: "1 minute" }, "touchAfter"],
  ["regenerateGrace -1", { regenerateGrace: -1 }, "regenerateGrace"],
  ["lock.ttl 0", { lock: { ttl: 0 } }, "lock.ttl"],
  ["lock.wait NaN", { lock: { wait: NaN } }, "lock.wait"],
  ["sameSite \"none\" with insecure", { sameSite: "none", insecure: true }, "sameSite"],
  ["sameSite of an unknown value", { sameSite: "loose" as "lax" }, "sameSite"],
  ["partitioned with insecure", { partitioned: true, insecure: true }, "partitioned"],
  ["__Host- with a domain", { cookieName: "__Host-sid", domain: "example.com" }, "domain"],
  ["__Host- with path \"/app\"", { cookieName: "__Host-sid", path: "/app" }, "path"],
  ["__Host- with insecure", { cookieName: "__Host-sid", insecure: true }, "cookieName"],
  ["__Secure- with insecure", { cookieName: "__Secure-sid", insecure: true }, "cookieName"],
  ["__HOST- (prefixes match in any case) with insecure", { cookieName: "__HOST-sid", insecure: true }, "cookieName"],
  ["__host- with a domain", { cookieName: "__host-sid", domain: "example.com" }, "domain"],
  ["__hOsT- with path \"/app\"", { cookieName: "__hOsT-sid", path: "/app" }, "path"],
  ["__SECURE- with insecure", { cookieName: "__SECURE-sid", insecure: true }, "cookieName"],
  ["__secure- with insecure", { cookieName: "__secure-sid", insecure: true }, "cookieName"],
  ["an empty cookie name", { cookieName: "" }, "cookieName"],
  ["a cookie name with a space", { cookieName: "my session" }, "cookieName"],
  ["a cookie name with \"=\"", { cookieName: "a=b" }, "cookieName"],
  ["a cookie name with \";\"", { cookieName: "a;b" }, "cookieName"],
  ["a cookie name with a non-ASCII character", { cookieName: "s\u00e9ssion" }, "cookieName"],
  ["a path with \";\"", { path: "/a;b" }, "path"],
  ["a path that does not start with \"/\" (browsers ignore it)", { path: "app" }, "path"],
  ["null instead of an options object", null as unknown as AnyOptions, "options"],
  ["a domain with \";\"", { domain: "example.com;x" }, "domain"],
  // options of the wrong type (config read from JSON or the environment without a schema)
  ["cookieName of a wrong type", { cookieName: 42 as unknown as string }, "cookieName"],
  ["cookieName as an array", { cookieName: ["sid"] as unknown as string }, "cookieName"],
  ["cookieName null", { cookieName: null as unknown as string }, "cookieName"],
  ["path of a wrong type", { path: 42 as unknown as string }, "path"],
  ["path null", { path: null as unknown as string }, "path"],
  ["domain of a wrong type", { domain: 42 as unknown as string }, "domain"],
  ["domain null", { domain: null as unknown as string }, "domain"],
  ["sameSite null", { sameSite: null as unknown as "lax" }, "sameSite"],
  ["sameSite a null-prototype object", { sameSite: Object.create(null) as "lax" }, "sameSite"],
  ["insecure as the string \"true\"", { insecure: "true" as unknown as boolean }, "insecure"],
  ["partitioned as the string \"true\"", { partitioned: "true" as unknown as boolean }, "partitioned"],
  ["priority of an unknown value", { priority: "urgent" as "high" }, "priority"],
  ["onError that is not a function", { onError: "log" as unknown as Session.FailureHandler<never, never> }, "onError"],
  ["lock null", { lock: null as unknown as boolean }, "lock"],
  ["lock as the string \"yes\"", { lock: "yes" as unknown as boolean }, "lock"],
  ["lock.wait null (null is not \"omitted\")", { lock: { wait: null as unknown as "1 second" } }, "lock.wait"]
]

const valid: Array<[string, AnyOptions]> = [
  ["no options", {}],
  ["ttl 0 (browser-session cookie)", { ttl: 0 }],
  ["ttl as a string", { ttl: "30 minutes" }],
  ["ttl as a Duration", { ttl: Duration.hours(1) }],
  ["ttl in milliseconds, said explicitly", { ttl: Duration.millis(1500) }],
  ["ttl as a [seconds, nanos] pair", { ttl: [90, 0] }],
  ["ttl 0n", { ttl: 0n }],
  ["regenerateGrace 0 and touchAfter 0", { regenerateGrace: 0, touchAfter: 0 }],
  ["lock: true (Laravel's defaults)", { lock: true }],
  ["lock with explicit times", { lock: { ttl: "5 seconds", wait: Duration.millis(250) } }],
  ["insecure for local HTTP", { insecure: true }],
  ["sameSite none on a Secure cookie", { sameSite: "none" }],
  ["sameSite strict, insecure", { sameSite: "strict", insecure: true }],
  ["a __Host- cookie with defaults", { cookieName: "__Host-sid" }],
  ["a __Secure- cookie with a domain", { cookieName: "__Secure-sid", domain: "example.com" }],
  ["a __HOST- cookie with defaults (any case)", { cookieName: "__HOST-sid" }],
  ["a __secure- cookie with a domain", { cookieName: "__secure-sid", domain: "example.com" }],
  ["partitioned and prioritised", { partitioned: true, priority: "high" }],
  ["domain and path", { domain: "example.com", path: "/app" }],
  ["absolute timeout and touchAfter", { ttl: "1 hour", absoluteTimeout: "8 hours", touchAfter: "5 minutes" }]
]

const failureOf = (options: AnyOptions): SessionConfigError | undefined => {
  const validated = Session.validateOptions(options)
  return Result.isFailure(validated) ? validated.failure : undefined
}

describe("middleware options", () => {
  describe("invalid options are a SessionConfigError, everywhere", () => {
    for (const [name, options, option] of invalid) {
      it.effect(name, () =>
        Effect.gen(function*() {
          // validateOptions: a failure
          const error = failureOf(options)
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

          // the global form too
          expect(() => Session.middleware(options, { global: true })).toThrow(SessionConfigError)

          // makeMiddleware: fails (not dies) with it
          const exit = yield* Effect.exit(Session.makeMiddleware(options))
          expect(Exit.isFailure(exit)).toBe(true)
          expect(Exit.hasDies(exit)).toBe(false)
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
          expect(Result.isSuccess(Session.validateOptions(options))).toBe(true)
          const middleware = Session.middleware(options)
          expect(middleware.layer).toBeDefined()
          const built = yield* Session.makeMiddleware(options)
          expect(built.layer).toBeDefined()
          expect(Session.middleware(options, { global: true })).toBeDefined()
        }))
    }

    it("validateOptions() with nothing is valid", () => {
      expect(Result.isSuccess(Session.validateOptions())).toBe(true)
    })
  })
})

describe("configuration errors say what is wrong", () => {
  const messageOf = (options: AnyOptions): string => {
    const error = failureOf(options)
    if (error === undefined) throw new Error("expected a SessionConfigError")
    return error.message
  }

  it("a duration that is negative, infinite or does not parse names the option and the value given", () => {
    for (
      const [options, shown] of [
        [{ ttl: "-5 minutes" }, "-5 minutes"],
        [{ ttl: "2 hourz" }, "2 hourz"],
        [{ absoluteTimeout: -1 }, "-1"]
      ] as const
    ) {
      const message = messageOf(options as AnyOptions)
      expect(message).toContain(Object.keys(options)[0])
      expect(message).toContain(shown)
    }
    expect(messageOf({ ttl: Duration.infinity })).toMatch(/finite/)
  })

  it("an option of the wrong type says what it must be and shows the value given", () => {
    expect(messageOf({ cookieName: 42 as unknown as string })).toBe(
      "cookieName must be a string such as \"__Host-session\", got 42"
    )
    expect(messageOf({ path: 42 as unknown as string })).toContain("path must be a string")
    expect(messageOf({ insecure: "true" as unknown as boolean })).toBe("insecure must be true or false, got \"true\"")
    expect(messageOf({ lock: null as unknown as boolean })).toContain("lock must be true, false or { ttl, wait }")
  })

  it("a case-variant __Host- name gets the words of the canonical spelling", () => {
    expect(messageOf({ cookieName: "__HOST-sid", insecure: true })).toBe(
      messageOf({ cookieName: "__Host-sid", insecure: true })
    )
    expect(messageOf({ cookieName: "__host-sid", domain: "example.com" })).toBe(
      messageOf({ cookieName: "__Host-sid", domain: "example.com" })
    )
  })

  it("sameSite none without Secure, and touchAfter as long as ttl, say why", () => {
    expect(messageOf({ sameSite: "none", insecure: true })).toMatch(/Secure/)
    expect(messageOf({ ttl: "1 minute", touchAfter: "1 minute" })).toMatch(/shorter than ttl/)
  })
})

describe("untyped configuration is a SessionConfigError, never a defect (a fuzz review's findings)", () => {
  const configError = <A, E>(effect: Effect.Effect<A, E, never>) =>
    Effect.map(Effect.exit(effect), (exit) => {
      const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
      expect(error !== undefined && error._tag === "Some" ? error.value : exit).toBeInstanceOf(SessionConfigError)
    })

  it.effect("a store's options that are null, or a table name that is not a string", () =>
    Effect.gen(function*() {
      yield* configError(Effect.scoped(MemoryStore.make(null as never)))
      yield* configError(KeyValueSessionStore.make(null as never).pipe(Effect.provide(KeyValueStore.layerMemory)))
      const sqlite = SqliteClient.layer({ filename: ":memory:" })
      yield* configError(Effect.scoped(SqlStore.make(null as never)).pipe(Effect.provide(sqlite)))
      yield* configError(Effect.scoped(SqlStore.make({ table: 1 as never })).pipe(Effect.provide(sqlite)))
      yield* configError(Effect.scoped(SqlStore.make({ table: {} as never })).pipe(Effect.provide(sqlite)))
    }))

  it("a lock time no store can keep (over 100 years) is refused, as a lifetime is", () => {
    for (
      const lock of [{ ttl: Duration.millis(1e300) }, { ttl: "99999999999999999999 weeks" }, { wait: "200000 weeks" }]
    ) {
      const validated = Session.validateOptions({ lock } as never)
      expect(Result.isFailure(validated) && validated.failure.message).toMatch(/must be at most 100 years/)
    }
    expect(Result.isSuccess(Session.validateOptions({ lock: { ttl: "1 day", wait: "1 hour" } }))).toBe(true)
  })

  it.effect("Session.setLifetime(null) and Session.blocking(effect, null)", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const lifetime = yield* client.run(Effect.flip(Session.setLifetime(null as never)))
      expect(lifetime.value).toBeInstanceOf(SessionConfigError)
      const blocking = yield* client.run(Effect.flip(Session.blocking(Effect.void, null as never)))
      expect(blocking.value).toBeInstanceOf(SessionConfigError)
    }))

  it.effect("a store's write of data that is not a record is its typed Unencodable error", () =>
    Effect.scoped(Effect.gen(function*() {
      const store = yield* MemoryStore.make()
      const error = yield* Effect.flip(store.write("k", null as never, Duration.zero))
      expect(error).toMatchObject({ _tag: "SessionStoreError", reason: "Unencodable" })
    })))
})
