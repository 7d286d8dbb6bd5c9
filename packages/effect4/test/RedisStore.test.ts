/**
 * RedisStore on a real Redis (127.0.0.1:6379) through `NodeRedis` (node-redis 5): the conformance
 * suite, the record layout shared with the effect 3 package, and what users rely on beyond it.
 * Every run uses its own key prefix (other runs share the server); nothing is flushed.
 */
import { NodeRedis } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option } from "effect"
import { RedisLayout } from "effect-session-core"
import * as RedisStore from "effect-session-v4/RedisStore"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"
import * as Redis from "effect/persistence/Redis"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { describeWith, SERVICES } from "./utils/services.js"

const run = randomBytes(6).toString("base64url")
const prefix = `e4test:${run}:`
const RedisLive = NodeRedis.layer({ url: SERVICES.redis.url })

await describeWith("redis", "RedisStore (NodeRedis)", () => {
  SessionStoreSuite.run("conformance", RedisStore.layerWith(RedisLive, { prefix, ttl: "2 hours" }), {
    defaultTtl: "2 hours",
    noExpiry: RedisStore.layerWith(RedisLive, { prefix, ttl: 0 }),
    unavailable: RedisStore.layerWith(
      NodeRedis.layer({ url: "redis://127.0.0.1:1", socket: { connectTimeout: 1000 } }),
      { prefix, commandTimeout: "500 millis" }
    ),
    unavailableWithin: "10 seconds"
  })

  const provide = <A, E>(effect: Effect.Effect<A, E, Redis.Redis>) => Effect.provide(effect, RedisLive)

  describe("the record layout shared with the effect 3 package", () => {
    it.effect("a record is a hash: JSON-string fields, an expiry field x on the Clock, PX for Redis", () =>
      provide(Effect.gen(function*() {
        const redis = yield* Redis.Redis
        const store = yield* RedisStore.make({ prefix })
        const id = `layout-${randomBytes(6).toString("base64url")}`
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        yield* store.write(id, { user: "ada", cart: [1, 2] }, Duration.minutes(5))
        const hash = yield* redis.send<Array<string>>("HGETALL", `${prefix}${id}`)
        const fields = new Map<string, string>()
        for (let i = 0; i < hash.length; i += 2) fields.set(hash[i]!, hash[i + 1]!)
        expect(Object.fromEntries(fields)).toEqual({
          x: String(now + 300_000),
          "\"user\"": "\"ada\"",
          "\"cart\"": "[1,2]"
        })
        const pttl = yield* redis.send<number>("PTTL", `${prefix}${id}`)
        expect(pttl).toBeGreaterThan(290_000)
        yield* store.destroy(id)
      })))

    it.effect("a record written by the effect 3 store's script (the core's RedisLayout.WRITE) reads back", () =>
      provide(Effect.gen(function*() {
        const redis = yield* Redis.Redis
        const store = yield* RedisStore.make({ prefix })
        const id = `e3-${randomBytes(6).toString("base64url")}`
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        // what the effect 3 RedisStore sends for write(id, { n: 1, "__proto__": {...} }, 1 minute)
        yield* redis.send(
          "EVAL",
          RedisLayout.WRITE,
          "1",
          `${prefix}${id}`,
          String(now + 60_000),
          "60000",
          "\"n\"",
          "1",
          "\"__proto__\"",
          "{\"polluted\":true}"
        )
        const found = Option.getOrThrow(yield* store.read(id))
        expect(found.n).toBe(1)
        expect(Object.getOwnPropertyDescriptor(found, "__proto__")?.value).toEqual({ polluted: true })
        yield* TestClock.adjust(Duration.minutes(1))
        expect(yield* store.read(id)).toEqual(Option.none())
        yield* store.destroy(id)
      })))

    it.effect("a hash that is not a session record is CorruptRecord, a string key WRONGTYPE too", () =>
      provide(Effect.gen(function*() {
        const redis = yield* Redis.Redis
        const store = yield* RedisStore.make({ prefix })
        const a = `corrupt-${randomBytes(6).toString("base64url")}`
        const b = `wrongtype-${randomBytes(6).toString("base64url")}`
        yield* redis.send("HSET", `${prefix}${a}`, "x", "never", "not json", "{")
        yield* redis.send("SET", `${prefix}${b}`, "text")
        const first = yield* Effect.flip(store.read(a))
        expect(first.reason).toBe("CorruptRecord")
        const second = yield* Effect.flip(store.read(b))
        expect(second.reason).toBe("CorruptRecord")
        yield* Effect.all([store.destroy(a), store.destroy(b)])
      })))
  })

  describe("options", () => {
    it.effect("invalid options are a SessionConfigError", () =>
      provide(Effect.gen(function*() {
        for (const options of [{ ttl: -1 }, { commandTimeout: 0 }, { ttl: "soon" as Duration.Input }]) {
          const error = yield* Effect.flip(RedisStore.make(options))
          expect(error._tag).toBe("SessionConfigError")
        }
      })))
  })

  it.effect("layerWith builds the store on a NodeRedis provider", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(RedisStore.layerWith(RedisLive, { prefix }))
      expect(context).toBeDefined()
    }))
})
