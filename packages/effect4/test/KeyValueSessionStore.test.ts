/**
 * The store over effect's KeyValueStore: the conformance suite on its memory backend (the minimal
 * contract: patch, rotate and lock are reported as skipped), and what its entries look like.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option } from "effect"
import * as KeyValueSessionStore from "effect-session-v4/KeyValueSessionStore"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import { TestClock } from "effect/testing"

SessionStoreSuite.run(
  "KeyValueSessionStore conformance (layerMemory)",
  KeyValueSessionStore.layer().pipe(Layer.provide(KeyValueStore.layerMemory)),
  {
    defaultTtl: "2 hours",
    noExpiry: KeyValueSessionStore.layer({ ttl: 0 }).pipe(Layer.provide(KeyValueStore.layerMemory))
  }
)

describe("KeyValueSessionStore", () => {
  it.effect("an entry is {x: expiry on the Clock, d: record} under the prefix; an expired one is removed when read", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const store = yield* KeyValueSessionStore.make({ prefix: "s:" })
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      yield* store.write("a", { n: 1 }, Duration.minutes(1))
      expect(yield* kv.get("s:a")).toBe(`{"x":${now + 60_000},"d":{"n":1}}`)
      yield* TestClock.adjust(Duration.minutes(1))
      expect(yield* store.read("a")).toEqual(Option.none())
      expect(yield* kv.get("s:a")).toBeUndefined()
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

  it.effect("an entry that is not a session entry is CorruptRecord", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const store = yield* KeyValueSessionStore.make()
      for (const text of ["{", "[1]", "{\"x\":\"soon\",\"d\":{}}", "{\"x\":null,\"d\":[1]}"]) {
        yield* kv.set("session:bad", text)
        expect((yield* Effect.flip(store.read("bad"))).reason).toBe("CorruptRecord")
      }
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

  it.effect("an entry holding what no save could write back (1e999, nesting past the limit, an infinite expiry) is CorruptRecord", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const store = yield* KeyValueSessionStore.make()
      const tooDeep = "[".repeat(600) + "]".repeat(600)
      for (const d of ["{\"n\":1e999}", "{\"a\":{\"b\":[-1e400]}}", `{"deep":${tooDeep}}`]) {
        yield* kv.set("session:bad", `{"x":null,"d":${d}}`)
        const error = yield* Effect.flip(store.read("bad"))
        expect(error.reason).toBe("CorruptRecord")
        expect(error.message).toContain("no save could write back")
      }
      yield* kv.set("session:bad", "{\"x\":1e999,\"d\":{}}")
      expect((yield* Effect.flip(store.read("bad"))).reason).toBe("CorruptRecord")
      // an expired entry is none, whatever it holds, as in every store
      yield* kv.set("session:old", "{\"x\":0,\"d\":{\"n\":1e999}}")
      expect(yield* store.read("old")).toEqual(Option.none())
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

  it.effect("a record read back can be written back: a value nested exactly as deep as a write accepts round-trips", () =>
    Effect.gen(function*() {
      const store = yield* KeyValueSessionStore.make()
      let deep: unknown = {}
      for (let i = 0; i < 512; i++) deep = { a: deep }
      yield* store.write("deep", { v: deep, n: 1e308 }, Duration.minutes(1))
      const back = Option.getOrThrow(yield* store.read("deep"))
      expect(back).toEqual({ v: deep, n: 1e308 })
      yield* store.write("deep", back, Duration.minutes(1))
      expect(yield* store.read("deep")).toEqual(Option.some({ v: deep, n: 1e308 }))
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))
})
