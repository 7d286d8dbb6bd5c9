import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import * as MemoryStore from "effect-session-v4/MemoryStore"
import { MemoryStoreLive } from "effect-session-v4/MemoryStore"
import { SessionConfigError, SessionStoreError } from "effect-session-v4/SessionError"
import { SessionStore } from "effect-session-v4/SessionStore"
import { TestClock } from "effect/testing"

const TWO_HOURS = Duration.toMillis(Duration.hours(2))

/** Lets forked fibers (the sweeper) and `setImmediate` turns run, without touching the clock. */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 5; i++) {
    yield* Effect.yieldNow
    yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
  }
})

/** Waits (a bounded number of real event-loop turns) until `size` is `expected`. */
const sizeBecomes = (store: MemoryStore.MemoryStore, expected: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if ((yield* store.size) === expected) return expected
      yield* settle
    }
    return yield* store.size
  })

/** A value `levels` objects deep below the top, `{ a: { a: ... {} } }`: 512 is as deep as a value may be. */
const nested = (levels: number): unknown => {
  let value: unknown = {}
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

const isSome = (store: MemoryStore.MemoryStore, id: string) => Effect.map(store.read(id), Option.isSome)

describe("MemoryStore", () => {
  describe("read, write, destroy", () => {
    it.effect("a miss is Option.none, not an error", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        expect(yield* store.read("nothing")).toStrictEqual(Option.none())
      }))

    it.effect("write then read returns an equal record, never a shared reference", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        const record = { user: { id: 1, roles: ["a"] }, n: 2 }
        yield* store.write("k", record, Duration.zero)
        record.user.roles.push("mutated after write")
        const first = yield* store.read("k")
        expect(first).toStrictEqual(Option.some({ user: { id: 1, roles: ["a"] }, n: 2 }))
        ;(Option.getOrThrow(first) as { user: { roles: Array<string> } }).user.roles.push("mutated after read")
        expect(yield* store.read("k")).toStrictEqual(Option.some({ user: { id: 1, roles: ["a"] }, n: 2 }))
      }))

    it.effect("a second write replaces the record", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* store.write("k", { b: 2 }, Duration.zero)
        expect(yield* store.read("k")).toStrictEqual(Option.some({ b: 2 }))
        expect(yield* store.size).toBe(1)
      }))

    it.effect("destroy removes the record; destroying a missing record succeeds", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* store.destroy("k")
        expect(yield* store.read("k")).toStrictEqual(Option.none())
        expect(yield* store.size).toBe(0)
        yield* store.destroy("k")
        yield* store.destroy("never-existed")
      }))

    it.effect("IDs such as \"__proto__\" are ordinary keys", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        yield* store.write("__proto__", { a: 1 }, Duration.zero)
        yield* store.write("constructor", { b: 2 }, Duration.zero)
        expect(yield* store.read("__proto__")).toStrictEqual(Option.some({ a: 1 }))
        expect(yield* store.read("constructor")).toStrictEqual(Option.some({ b: 2 }))
        expect(yield* store.read("toString")).toStrictEqual(Option.none())
      }))

    it.effect("a record that is not plain JSON is a typed error at write time, and nothing is stored", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        const error = yield* Effect.flip(store.write("k", { f: () => 1 }, Duration.zero))
        expect(error).toBeInstanceOf(SessionStoreError)
        expect(error.reason).toBe("Unencodable")
        expect(error.message).toContain("\"f\"")
        const cycle: Record<string, unknown> = {}
        cycle.self = cycle
        expect((yield* Effect.flip(store.write("k", { c: cycle }, Duration.zero))).reason).toBe("Unencodable")
        expect(yield* store.size).toBe(0)
      }))

    it.effect("a value nested as deep as a write accepts reads back and patches; one level deeper is refused", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        yield* store.write("deep", { v: nested(512) }, Duration.zero)
        expect(yield* store.read("deep")).toStrictEqual(Option.some({ v: nested(512) }))
        expect(yield* store.patch("deep", { clear: false, remove: [], set: [["n", 1]], add: [] }, Duration.zero))
          .toBe(true)
        expect(yield* store.read("deep")).toStrictEqual(Option.some({ v: nested(512), n: 1 }))
        expect((yield* Effect.flip(store.write("deeper", { v: nested(513) }, Duration.zero))).reason).toBe(
          "Unencodable"
        )
      }))

    it.effect("concurrent writes to different IDs are all kept", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make()
        yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) => store.write(`k${i}`, { i }, Duration.zero),
          { concurrency: "unbounded", discard: true }
        )
        expect(yield* store.size).toBe(200)
        expect(yield* store.read("k123")).toStrictEqual(Option.some({ i: 123 }))
      }))
  })

  describe("expiry follows the Clock, exactly at the TTL", () => {
    it.effect("the default TTL is 2 hours: alive at 2 h - 1 ms, gone at 2 h", () =>
      Effect.gen(function*() {
        // only the sweep interval differs from the defaults: fewer sweeps to run through
        const store = yield* MemoryStore.make({ sweepInterval: "1 day" })
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* TestClock.adjust(TWO_HOURS - 1)
        expect(yield* isSome(store, "k")).toBe(true)
        yield* TestClock.adjust(1)
        expect(yield* isSome(store, "k")).toBe(false)
      }))

    it.effect("a write's own TTL wins over the store's default", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ ttl: "1 hour", sweepInterval: "1 day" })
        yield* store.write("short", { a: 1 }, Duration.minutes(5))
        yield* store.write("long", { a: 1 }, Duration.hours(3))
        yield* TestClock.adjust(Duration.millis(Duration.toMillis("5 minutes") - 1))
        expect(yield* isSome(store, "short")).toBe(true)
        yield* TestClock.adjust(1)
        expect(yield* isSome(store, "short")).toBe(false)
        yield* TestClock.adjust("2 hours")
        expect(yield* isSome(store, "long")).toBe(true)
        yield* TestClock.adjust("55 minutes")
        expect(yield* isSome(store, "long")).toBe(false)
      }))

    it.effect("a TTL in nanoseconds expires as the same TTL in milliseconds, and an infinite one never", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ sweepInterval: "1 day" })
        yield* store.write("nanos", { a: 1 }, Duration.nanos(5_000_000_000n))
        yield* store.patch(
          "nanos",
          { clear: false, remove: [], set: [["a", 2]], add: [] },
          Duration.nanos(5_000_000_000n)
        )
        yield* store.write("forever", { a: 1 }, Duration.infinity)
        yield* TestClock.adjust(4_999)
        expect(yield* isSome(store, "nanos")).toBe(true)
        yield* TestClock.adjust(1)
        expect(yield* isSome(store, "nanos")).toBe(false)
        yield* TestClock.adjust("1000 days")
        expect(yield* isSome(store, "forever")).toBe(true)
      }))

    it.effect("the store's ttl option is used for writes with Duration.zero", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ ttl: "10 minutes" })
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* TestClock.adjust(Duration.toMillis("10 minutes") - 1)
        expect(yield* isSome(store, "k")).toBe(true)
        yield* TestClock.adjust(1)
        expect(yield* isSome(store, "k")).toBe(false)
      }))

    it.effect("rewriting a record restarts its TTL", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ ttl: "10 minutes" })
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* TestClock.adjust("9 minutes")
        yield* store.write("k", { a: 2 }, Duration.zero)
        yield* TestClock.adjust("9 minutes")
        expect(yield* store.read("k")).toStrictEqual(Option.some({ a: 2 }))
        yield* TestClock.adjust("1 minute")
        expect(yield* isSome(store, "k")).toBe(false)
      }))

    it.effect("ttl 0 means no expiry: entries live until destroyed, and the sweeper leaves them", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ ttl: 0, sweepInterval: "1 day" })
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* TestClock.adjust("100 days")
        yield* settle
        expect(yield* store.size).toBe(1)
        expect(yield* store.read("k")).toStrictEqual(Option.some({ a: 1 }))
        yield* store.destroy("k")
        expect(yield* isSome(store, "k")).toBe(false)
      }))

    it.effect("with ttl 0 an explicit write TTL still expires", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ ttl: 0 })
        yield* store.write("k", { a: 1 }, Duration.seconds(30))
        yield* TestClock.adjust(29_999)
        expect(yield* isSome(store, "k")).toBe(true)
        yield* TestClock.adjust(1)
        expect(yield* isSome(store, "k")).toBe(false)
      }))

    it.effect("reading an expired entry removes it (lazy expiry)", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ sweepInterval: "1 day" })
        yield* store.write("k", { a: 1 }, Duration.seconds(1))
        yield* TestClock.adjust("1 second")
        expect(yield* store.size).toBe(1)
        expect(yield* store.read("k")).toStrictEqual(Option.none())
        expect(yield* store.size).toBe(0)
      }))

    it.effect("MemoryStoreLive expires at 2 hours", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        yield* store.write("k", { a: 1 }, Duration.zero)
        yield* TestClock.adjust(TWO_HOURS - 1)
        expect(Option.isSome(yield* store.read("k"))).toBe(true)
        yield* TestClock.adjust(1)
        expect(Option.isNone(yield* store.read("k"))).toBe(true)
      }).pipe(Effect.provide(MemoryStoreLive)))
  })

  describe("the sweeper", () => {
    it.effect("removes expired entries once the sweep interval has passed, and keeps live ones", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ sweepInterval: "1 minute" })
        for (let i = 0; i < 10; i++) yield* store.write(`old${i}`, { i }, Duration.seconds(30))
        yield* store.write("live", { a: 1 }, Duration.zero)
        yield* TestClock.adjust("30 seconds")
        yield* settle
        // expired, but not yet swept: nothing has read them either
        expect(yield* store.size).toBe(11)
        yield* TestClock.adjust(Duration.toMillis("30 seconds") - 1)
        yield* settle
        expect(yield* store.size).toBe(11)
        yield* TestClock.adjust(1)
        expect(yield* sizeBecomes(store, 1)).toBe(1)
        expect(yield* isSome(store, "live")).toBe(true)
      }))

    it.effect("keeps sweeping on its schedule", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ sweepInterval: "10 seconds" })
        yield* store.write("a", { a: 1 }, Duration.seconds(5))
        yield* TestClock.adjust("10 seconds")
        expect(yield* sizeBecomes(store, 0)).toBe(0)
        yield* store.write("b", { b: 1 }, Duration.seconds(5))
        yield* store.write("c", { c: 1 }, Duration.seconds(15))
        yield* TestClock.adjust("10 seconds")
        expect(yield* sizeBecomes(store, 1)).toBe(1)
        yield* TestClock.adjust("10 seconds")
        expect(yield* sizeBecomes(store, 0)).toBe(0)
      }))

    it.effect("sweeps in chunks and still removes everything expired", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ sweepInterval: "1 minute", sweepChunk: 7 })
        for (let i = 0; i < 100; i++) yield* store.write(`k${i}`, { i }, Duration.seconds(1))
        for (let i = 0; i < 5; i++) yield* store.write(`live${i}`, { i }, Duration.zero)
        yield* TestClock.adjust("1 minute")
        expect(yield* sizeBecomes(store, 5)).toBe(5)
      }))

    it.effect("store.sweep removes expired entries now and says how many", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ sweepInterval: "1 day", sweepChunk: 3 })
        for (let i = 0; i < 10; i++) yield* store.write(`k${i}`, { i }, Duration.seconds(1))
        yield* store.write("live", {}, Duration.zero)
        expect(yield* store.sweep).toBe(0)
        yield* TestClock.adjust("1 second")
        expect(yield* store.sweep).toBe(10)
        expect(yield* store.size).toBe(1)
      }))

    it.effect("stops with its scope: once the scope closes, time passing sweeps nothing", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const store = yield* MemoryStore.make({ sweepInterval: "1 minute" }).pipe(Scope.provide(scope))

        yield* store.write("a", {}, Duration.seconds(1))
        yield* TestClock.adjust("1 minute")
        expect(yield* sizeBecomes(store, 0)).toBe(0)

        yield* store.write("b", {}, Duration.seconds(1))
        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust("10 minutes")
        yield* settle
        expect(yield* store.size).toBe(1)
      }))

    it.effect("the layer's sweeper stops when the layer's scope closes", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(MemoryStore.layer({ sweepInterval: "1 minute" }), scope)
        const store = Context.get(context, SessionStore)
        yield* store.write("a", {}, Duration.seconds(1))
        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust("10 minutes")
        yield* settle
        // expired, so a read misses; but nothing swept it from the table
        expect(yield* store.read("a")).toStrictEqual(Option.none())
      }))
  })

  describe("maxEntries", () => {
    it.effect("a write of a new entry at the bound evicts the least recently written one", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ maxEntries: 3 })
        yield* store.write("a", { v: 1 }, Duration.zero)
        yield* store.write("b", { v: 1 }, Duration.zero)
        yield* store.write("c", { v: 1 }, Duration.zero)
        // rewriting "a" makes "b" the least recently written
        yield* store.write("a", { v: 2 }, Duration.zero)
        expect(yield* store.size).toBe(3)
        yield* store.write("d", { v: 1 }, Duration.zero)
        expect(yield* store.size).toBe(3)
        expect(yield* isSome(store, "b")).toBe(false)
        expect(yield* store.read("a")).toStrictEqual(Option.some({ v: 2 }))
        expect(yield* isSome(store, "c")).toBe(true)
        expect(yield* isSome(store, "d")).toBe(true)
        yield* store.write("e", { v: 1 }, Duration.zero)
        expect(yield* isSome(store, "c")).toBe(false)
        expect(yield* store.size).toBe(3)
      }))

    it.effect("rewriting an entry at the bound evicts nothing", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ maxEntries: 2 })
        yield* store.write("a", { v: 1 }, Duration.zero)
        yield* store.write("b", { v: 1 }, Duration.zero)
        yield* store.write("b", { v: 2 }, Duration.zero)
        yield* store.write("a", { v: 2 }, Duration.zero)
        expect(yield* store.read("a")).toStrictEqual(Option.some({ v: 2 }))
        expect(yield* store.read("b")).toStrictEqual(Option.some({ v: 2 }))
      }))

    it.effect("a destroyed entry frees its place", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({ maxEntries: 2 })
        yield* store.write("a", { v: 1 }, Duration.zero)
        yield* store.write("b", { v: 1 }, Duration.zero)
        yield* store.destroy("a")
        yield* store.write("c", { v: 1 }, Duration.zero)
        expect(yield* isSome(store, "b")).toBe(true)
        expect(yield* isSome(store, "c")).toBe(true)
      }))
  })

  describe("invalid options are a SessionConfigError", () => {
    const cases: Array<[string, MemoryStore.Options, string]> = [
      ["ttl -1", { ttl: -1 }, "ttl"],
      ["ttl NaN", { ttl: NaN }, "ttl"],
      ["ttl Infinity", { ttl: Infinity }, "ttl"],
      ["ttl \"garbage\"", { ttl: "garbage" as Duration.Input }, "ttl"],
      ["sweepInterval 0", { sweepInterval: 0 }, "sweepInterval"],
      ["sweepInterval -1", { sweepInterval: -1 }, "sweepInterval"],
      ["sweepInterval Infinity", { sweepInterval: Duration.infinity }, "sweepInterval"],
      ["sweepChunk 0", { sweepChunk: 0 }, "sweepChunk"],
      ["sweepChunk 1.5", { sweepChunk: 1.5 }, "sweepChunk"],
      ["sweepChunk NaN", { sweepChunk: NaN }, "sweepChunk"],
      ["maxEntries 0", { maxEntries: 0 }, "maxEntries"],
      ["maxEntries -5", { maxEntries: -5 }, "maxEntries"],
      ["maxEntries 2.5", { maxEntries: 2.5 }, "maxEntries"],
      ["maxEntries Infinity", { maxEntries: Infinity }, "maxEntries"]
    ]
    for (const [name, options, option] of cases) {
      it.effect(name, () =>
        Effect.gen(function*() {
          const fromMake = yield* Effect.flip(Effect.scoped(MemoryStore.make(options)))
          expect(fromMake).toBeInstanceOf(SessionConfigError)
          expect(fromMake.option).toBe(option)
          const fromLayer = yield* Effect.flip(Effect.scoped(Layer.build(MemoryStore.layer(options))))
          expect(fromLayer).toBeInstanceOf(SessionConfigError)
          expect(fromLayer.option).toBe(option)
        }))
    }

    it.effect("valid options build", () =>
      Effect.gen(function*() {
        const store = yield* MemoryStore.make({
          ttl: "1 hour",
          sweepInterval: Duration.millis(500),
          sweepChunk: 1,
          maxEntries: 1
        })
        expect(yield* store.size).toBe(0)
      }))
  })
})
