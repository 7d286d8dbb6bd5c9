import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Layer } from "effect"
import { MemoryStore, Session, SessionConfigError, SessionTest } from "effect-session"
import * as RedisStore from "effect-session/RedisStore"
import * as SqlStore from "effect-session/SqlStore"

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

/** What every bare-number refusal must tell the user: the fix. */
const FIX = "use a Duration or a string such as \"2 hours\""

const expectBareNumberRefused = (error: unknown, option: string) => {
  expect(error).toBeInstanceOf(SessionConfigError)
  expect((error as SessionConfigError).option).toBe(option)
  expect((error as SessionConfigError).message).toContain(FIX)
  expect((error as SessionConfigError).message).toContain("milliseconds")
}

describe("a duration is never a bare number (ttl: 120 is not a 120 ms session)", () => {
  const middlewareOptions: Array<[option: string, options: AnyOptions]> = [
    ["ttl", { ttl: 120 }],
    ["absoluteTimeout", { absoluteTimeout: 28_800 }],
    ["touchAfter", { touchAfter: 60 }],
    ["regenerateGrace", { regenerateGrace: 5000 }],
    ["lock.ttl", { lock: { ttl: 10 } }],
    ["lock.wait", { lock: { wait: 10 } }]
  ]
  for (const [option, options] of middlewareOptions) {
    it(`Session.middleware({ ${option}: <number> }) throws, and says how to write it`, () => {
      const validated = Session.validateOptions(options)
      expectBareNumberRefused(Either.isLeft(validated) ? validated.left : undefined, option)
      expect(() => Session.middleware(options)).toThrow(SessionConfigError)
    })
  }

  it("a bare bigint (nanoseconds) is refused too", () => {
    const validated = Session.validateOptions({ ttl: 7200n })
    expect(Either.isLeft(validated) && validated.left.message).toContain(FIX)
  })

  it("zero stays accepted everywhere it means \"none chosen\"", () => {
    expect(Session.validateOptions({ ttl: 0 })).toStrictEqual(Either.right(undefined))
  })

  it.scoped("MemoryStore.make / MemoryStore.layer: ttl and sweepInterval", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(MemoryStore.make({ ttl: 120 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(MemoryStore.make({ sweepInterval: 500 })), "sweepInterval")
      expectBareNumberRefused(yield* Effect.flip(Effect.scoped(Layer.build(MemoryStore.layer({ ttl: 120 })))), "ttl")
      // zero and explicit units are fine
      yield* MemoryStore.make({ ttl: 0, sweepInterval: Duration.millis(500) })
    }))

  it.scoped("RedisStore.make: ttl, commandTimeout and connectTimeout (refused before any connection)", () =>
    Effect.gen(function*() {
      // a closed loopback port: the options are refused before a client is even created
      const url = "redis://127.0.0.1:1"
      expectBareNumberRefused(yield* Effect.flip(RedisStore.make({ url, ttl: 120 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(RedisStore.make({ url, commandTimeout: 2000 })), "commandTimeout")
      expectBareNumberRefused(yield* Effect.flip(RedisStore.make({ url, connectTimeout: 10_000 })), "connectTimeout")
    }))

  it.scoped("SqlStore.make: ttl, sweepInterval and timeout", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(SqlStore.make({ ttl: 120 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(SqlStore.make({ sweepInterval: 300_000 })), "sweepInterval")
      expectBareNumberRefused(yield* Effect.flip(SqlStore.make({ timeout: 5000 })), "timeout")
    }).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" }))))

  it.effect("Session.setLifetime: ttl and absoluteTimeout", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(Session.setLifetime({ ttl: 43_200 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(Session.setLifetime({ absoluteTimeout: 30 })), "absoluteTimeout")
      yield* Session.setLifetime({ ttl: "30 days", absoluteTimeout: Duration.days(90) })
    }).pipe(Effect.provide(SessionTest.layer())))

  it.effect("Session.blocking: ttl and wait", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(Session.blocking(Effect.void, { ttl: 10 })), "lock.ttl")
      expectBareNumberRefused(yield* Effect.flip(Session.blocking(Effect.void, { wait: 10 })), "lock.wait")
    }).pipe(Effect.provide(SessionTest.layer())))
})

describe("configuration errors say what is wrong and what would work", () => {
  const messageOf = (options: AnyOptions): string => {
    const validated = Session.validateOptions(options)
    if (Either.isRight(validated)) throw new Error("expected a SessionConfigError")
    return validated.left.message
  }

  it("a duration string that does not parse says so, with valid examples", () => {
    const message = messageOf({ ttl: "2 hourz" as Duration.DurationInput })
    expect(message).toContain("\"2 hourz\" does not parse")
    expect(message).toContain("\"2 hours\"")
    expect(message).toContain("minutes")
    expect(message).not.toContain("non-negative")
  })

  it("a negative duration says it must not be negative", () => {
    expect(messageOf({ ttl: "-5 minutes" })).toContain("must not be negative")
  })

  it("an infinite duration says it must be finite", () => {
    expect(messageOf({ ttl: Duration.infinity })).toContain("must be a finite duration")
  })

  it("an invalid cookie name shows the name and what a valid one looks like", () => {
    const message = messageOf({ cookieName: "my session" })
    expect(message).toContain("\"my session\" is not a valid cookie name")
    expect(message).toContain("letters, digits")
    expect(message).not.toContain("InvalidName")
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

  it("an invalid cookie path or domain says what is allowed", () => {
    expect(messageOf({ path: "/a;b" })).toContain("is not a valid cookie path")
    expect(messageOf({ domain: "example.com;x" })).toContain("is not a valid cookie domain")
  })
})

describe("untyped configuration is a SessionConfigError, never a defect (a fuzz review's findings)", () => {
  const configError = <A, E>(effect: Effect.Effect<A, E, never>) =>
    Effect.map(Effect.exit(effect), (exit) => {
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : exit).toBeInstanceOf(
        SessionConfigError
      )
    })

  it.effect("a store's options that are null, or a table name that is not a string", () =>
    Effect.gen(function*() {
      yield* configError(Effect.scoped(MemoryStore.make(null as never)))
      yield* configError(Effect.scoped(RedisStore.make(null as never)))
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
      expect(Either.isLeft(validated) && validated.left.message).toMatch(/must be at most 100 years/)
    }
    expect(Either.isRight(Session.validateOptions({ lock: { ttl: "1 day", wait: "1 hour" } }))).toBe(true)
  })

  it.scoped("Session.setLifetime(null) and Session.blocking(effect, null)", () =>
    Effect.gen(function*() {
      const client = yield* SessionTest.make()
      const lifetime = yield* client.run(Effect.flip(Session.setLifetime(null as never)))
      expect(lifetime.value).toBeInstanceOf(SessionConfigError)
      const blocking = yield* client.run(Effect.flip(Session.blocking(Effect.void, null as never)))
      expect(blocking.value).toBeInstanceOf(SessionConfigError)
    }))

  it.scoped("a store's write of data that is not a record is its typed Unencodable error", () =>
    Effect.gen(function*() {
      const store = yield* MemoryStore.make()
      const error = yield* Effect.flip(store.write("k", null as never, Duration.zero))
      expect(error).toMatchObject({ _tag: "SessionStoreError", reason: "Unencodable" })
    }))
})
