/**
 * Duration options on effect 4: never a bare number (`ttl: 120` would be a 120 ms session), never
 * an object that names no unit, and every refusal says what would work. The checks and their
 * words are the core's (`Options.durationProblem`), so the effect 3 package refuses the same
 * inputs with the same messages (test/options.test.ts there).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Result } from "effect"
import { MemoryStore, Session, SessionConfigError, SessionTest } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import * as SqlStore from "effect-session-v4/SqlStore"
import * as Redis from "effect/persistence/Redis"
import { TestClock } from "effect/testing"
import * as SqliteClient from "./utils/sqliteClient.js"

type AnyOptions = Session.Options<any, any>

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
      expectBareNumberRefused(Result.isFailure(validated) ? validated.failure : undefined, option)
      expect(() => Session.middleware(options)).toThrow(SessionConfigError)
    })
  }

  it("a bare bigint (nanoseconds) is refused too", () => {
    const validated = Session.validateOptions({ ttl: 7200n })
    expect(Result.isFailure(validated) && validated.failure.message).toContain(FIX)
  })

  it("zero stays accepted everywhere it means \"none chosen\"", () => {
    expect(Result.isSuccess(Session.validateOptions({ ttl: 0 }))).toBe(true)
  })

  it.effect("MemoryStore.make / MemoryStore.layer: ttl and sweepInterval", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(MemoryStore.make({ ttl: 120 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(MemoryStore.make({ sweepInterval: 500 })), "sweepInterval")
      expectBareNumberRefused(yield* Effect.flip(Effect.scoped(Layer.build(MemoryStore.layer({ ttl: 120 })))), "ttl")
      yield* MemoryStore.make({ ttl: 0, sweepInterval: Duration.millis(500) })
    }).pipe(Effect.scoped))

  it.effect("RedisStore.make: ttl and commandTimeout (refused before any command)", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(RedisStore.make({ ttl: 120 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(RedisStore.make({ commandTimeout: 2000 })), "commandTimeout")
    }).pipe(Effect.provideService(Redis.Redis, {} as Redis.Redis["Service"])))

  it.effect("SqlStore.make: ttl, sweepInterval and timeout", () =>
    Effect.gen(function*() {
      expectBareNumberRefused(yield* Effect.flip(SqlStore.make({ ttl: 120 })), "ttl")
      expectBareNumberRefused(yield* Effect.flip(SqlStore.make({ sweepInterval: 300_000 })), "sweepInterval")
      expectBareNumberRefused(yield* Effect.flip(SqlStore.make({ timeout: 5000 })), "timeout")
    }).pipe(Effect.scoped, Effect.provide(SqliteClient.layer({ filename: ":memory:" }))))

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

  it.effect("the handle's lock takes the same options as Session.blocking (durations, as on effect 3)", () =>
    Effect.gen(function*() {
      const session = yield* Session
      expectBareNumberRefused(yield* Effect.flip(session.lock({ ttl: 10 })), "lock.ttl")
      // a well-formed duration string is accepted (no cookie, so nothing to lock: it succeeds)
      yield* session.lock({ ttl: "5 seconds", wait: "1 second" })
    }).pipe(Effect.provide(SessionTest.layer())))
})

describe("configuration errors say what is wrong and what would work", () => {
  const messageOf = (options: AnyOptions): string => {
    const validated = Session.validateOptions(options)
    if (Result.isSuccess(validated)) throw new Error("expected a SessionConfigError")
    return validated.failure.message
  }

  it("a duration string that does not parse says so, with valid examples", () => {
    const message = messageOf({ ttl: "2 hourz" as Duration.Input })
    expect(message).toContain("\"2 hourz\" does not parse")
    expect(message).toContain("\"2 hours\"")
    expect(message).toContain("minutes")
    expect(message).not.toContain("non-negative")
  })

  it("a negative duration says it must not be negative", () => {
    expect(messageOf({ ttl: "-5 minutes" as Duration.Input })).toContain("must not be negative")
  })

  it("an infinite duration says it must be finite", () => {
    expect(messageOf({ ttl: Duration.infinity })).toContain("must be a finite duration")
  })

  it("an invalid cookie name shows the name and what a valid one looks like", () => {
    const message = messageOf({ cookieName: "my session" })
    expect(message).toContain("\"my session\" is not a valid cookie name")
    expect(message).toContain("letters, digits")
    expect(message).not.toContain("InvalidCookieName")
  })

  it("an invalid cookie path or domain says what is allowed", () => {
    expect(messageOf({ path: "/a;b" })).toContain("is not a valid cookie path")
    expect(messageOf({ domain: "example.com;x" })).toContain("is not a valid cookie domain")
  })
})

describe("effect 4's duration objects", () => {
  const refused: Array<[string, unknown, string]> = [
    ["{} (names no unit)", {}, "names no unit"],
    ["{ minute: 30 } (a misspelt unit)", { minute: 30 }, "\"minute\" is not a unit"],
    ["{ minutes: \"30\" } (a string field)", { minutes: "30" }, "minutes must be a number"],
    ["{ minutes: NaN }", { minutes: NaN }, "minutes must be a number"],
    ["{ minutes: -1 }", { minutes: -1 }, "must not be negative"],
    ["{ hours: Infinity }", { hours: Infinity }, "must be a finite duration"],
    ["[NaN, 0]", [NaN, 0], "is not a [seconds, nanos] pair"],
    ["Duration.millis(-5)", Duration.millis(-5), "must not be negative"],
    ["Duration.negativeInfinity", Duration.negativeInfinity, "must not be negative"],
    ["Duration.infinity", Duration.infinity, "must be a finite duration"]
  ]
  for (const [name, ttl, says] of refused) {
    it(`ttl ${name} is a SessionConfigError that says what is wrong`, () => {
      const validated = Session.validateOptions({ ttl: ttl as Duration.Input })
      expect(Result.isFailure(validated)).toBe(true)
      const failure = Result.isFailure(validated) ? validated.failure : undefined
      expect(failure?.option).toBe("ttl")
      expect(failure?.message).toContain(says)
      expect(() => Session.middleware({ ttl: ttl as Duration.Input })).toThrow(SessionConfigError)
    })
  }

  it.effect("an object with units is accepted: { hours: 1, minutes: 30 } is a 90-minute store TTL", () =>
    Effect.gen(function*() {
      expect(Result.isSuccess(Session.validateOptions({ ttl: { hours: 1, minutes: 30 } }))).toBe(true)
      const store = yield* MemoryStore.make({ ttl: { hours: 1, minutes: 30 }, sweepInterval: { minutes: 1 } })
      yield* store.write("k", { a: 1 }, Duration.zero)
      yield* TestClock.adjust("89 minutes")
      expect(Option.isSome(yield* store.read("k"))).toBe(true)
      yield* TestClock.adjust("1 minute")
      expect(Option.isNone(yield* store.read("k"))).toBe(true)
    }).pipe(Effect.scoped))
})
