/**
 * RedisStore beyond the conformance suite (ported from the effect 3 package's
 * test/RedisStore.test.ts): the record layout and its PX, the layout shared with the effect 3
 * store through the core's `RedisLayout` (patch and rotation included), corrupt records, connect
 * failures, a user's own client, and outages on a private redis-server (killed, paused).
 * The shared Redis on 6379 is used under a key prefix unique to this run, removed afterwards.
 */
import { NodeRedis } from "@effect/platform-node"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Option, Schedule } from "effect"
import { RedisLayout } from "effect-session-core"
import { Session } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Redis from "effect/persistence/Redis"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { makeJar, serveWith } from "./utils/http.js"
import { freePort, privateRedis, redisServerInstalled } from "./utils/redisServer.js"
import { describeWith, required, SERVICES } from "./utils/services.js"

const run = randomBytes(6).toString("hex")
const runPrefix = `e4more:${run}:`
const prefix = `${runPrefix}own:`
const RedisLive = NodeRedis.layer({ url: SERVICES.redis.url })
const deadPort = await freePort()

const provide = <A, E>(effect: Effect.Effect<A, E, Redis.Redis>) => Effect.provide(effect, RedisLive)

/** The store on the shared Redis, under this run's prefix. */
const withStore = <A, E>(
  f: (store: RedisStore.RedisStore) => Effect.Effect<A, E, Redis.Redis>,
  options: RedisStore.Options = {}
) => provide(Effect.flatMap(RedisStore.make({ prefix, ...options }), f))

const send = <A = unknown>(command: string, ...args: Array<string>) =>
  Effect.flatMap(Effect.service(Redis.Redis), (redis) => redis.send<A>(command, ...args))

/** A hash as an object (HGETALL answers a flat list of fields and values). */
const hgetall = (key: string) =>
  Effect.map(send<Array<string> | Record<string, string>>("HGETALL", key), (reply) => {
    if (!Array.isArray(reply)) return { ...reply }
    const fields: Record<string, string> = {}
    for (let i = 0; i < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!
    return fields
  })

const pttl = (key: string) => Effect.map(send<number>("PTTL", key), Number)

/** A script's arguments from the core (which says why it could not build them). */
const argsOf = (args: RedisLayout.Args): Array<string> => {
  if (args._tag !== "Args") throw new Error(args.message)
  return [...args.args]
}

/** The hash the core's `writeArgs` describes, as HGETALL answers it. */
const pairs = (args: RedisLayout.Args) => {
  const list = argsOf(args)
  const fields: Record<string, string> = { x: list[0]! }
  for (let i = 2; i < list.length; i += 2) fields[list[i]!] = list[i + 1]!
  return fields
}

const noPatch = { clear: false, remove: [], set: [], add: [] } as const

await describeWith("redis", "RedisStore, more (NodeRedis)", () => {
  afterAll(() =>
    Effect.runPromise(
      Effect.gen(function*() {
        let cursor = "0"
        do {
          const [next, keys] = yield* send<[string, Array<string>]>(
            "SCAN",
            cursor,
            "MATCH",
            `${runPrefix}*`,
            "COUNT",
            "1000"
          )
          cursor = String(next)
          if (keys.length > 0) yield* send("DEL", ...keys)
        } while (cursor !== "0")
      }).pipe(Effect.provide(RedisLive), Effect.ignore)
    )
  )

  describe("sessions too large for one script call", () => {
    const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]))

    it.effect(
      "a session near the limit is stored whole, and concurrent reads get their own records",
      () =>
        withStore((store) =>
          Effect.gen(function*() {
            yield* store.write("alice", { user: "alice" }, Duration.minutes(1))
            yield* store.write("bob", { user: "bob" }, Duration.minutes(1))
            const keys = Math.floor(RedisLayout.MAX_ARGUMENTS / 2) - 1
            const [written, alice, bob] = yield* Effect.all([
              Effect.exit(store.write("big", many(keys), Duration.minutes(1))),
              store.read("alice"),
              store.read("bob")
            ], { concurrency: "unbounded" })
            expect(written._tag).toBe("Success")
            expect(alice).toStrictEqual(Option.some({ user: "alice" }))
            expect(bob).toStrictEqual(Option.some({ user: "bob" }))
            const big = yield* store.read("big")
            expect(Object.keys(Option.getOrThrow(big)).length).toBe(keys)
          })
        ),
      60_000
    )

    it.effect(
      "one beyond it is refused as Unencodable before anything is sent; other requests are unaffected",
      () =>
        withStore((store) =>
          Effect.gen(function*() {
            yield* store.write("carol", { user: "carol" }, Duration.minutes(1))
            const keys = Math.floor(RedisLayout.MAX_ARGUMENTS / 2)
            const [written, patched, carol] = yield* Effect.all([
              Effect.flip(store.write("huge", many(keys), Duration.minutes(1))),
              Effect.flip(store.patch("carol", { ...noPatch, set: Object.entries(many(keys)) }, Duration.minutes(1))),
              store.read("carol")
            ], { concurrency: "unbounded" })
            expect([written.reason, patched.reason]).toStrictEqual(["Unencodable", "Unencodable"])
            expect(written.message).toContain("keep large data out of the session")
            expect(carol).toStrictEqual(Option.some({ user: "carol" }))
            expect(yield* store.read("huge")).toStrictEqual(Option.none())
          })
        ),
      60_000
    )
  })

  describe("layout", () => {
    it.effect("write sets value and PX in one step; the expiry field follows Effect's Clock", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("layout", { a: [1], "": {} }, Duration.minutes(1))
          // TestClock starts at 0: the record expires at 60 000 on that clock
          expect(yield* hgetall(`${prefix}layout`)).toEqual({ x: "60000", "\"a\"": "[1]", "\"\"": "{}" })
          const px = yield* pttl(`${prefix}layout`)
          expect(px).toBeGreaterThan(55_000)
          expect(px).toBeLessThanOrEqual(60_000)
        })
      ))

    it.effect("with store TTL 0 and write TTL zero no PX is sent: the key has no expiry", () =>
      withStore(
        (store) =>
          Effect.gen(function*() {
            yield* store.write("forever", { a: 1 }, Duration.zero)
            expect(yield* pttl(`${prefix}forever`)).toBe(-1)
            expect(yield* send("HGET", `${prefix}forever`, "x")).toBe("never")
            // a patch keeps it that way; a patch with a TTL gives it one
            expect(yield* store.patch("forever", { ...noPatch, add: [["a", 1]] }, Duration.zero)).toBe(true)
            expect(yield* pttl(`${prefix}forever`)).toBe(-1)
            yield* store.patch("forever", { ...noPatch, add: [["a", 1]] }, Duration.seconds(30))
            expect(yield* pttl(`${prefix}forever`)).toBeGreaterThan(25_000)
            expect(yield* store.read("forever")).toEqual(Option.some({ a: 3 }))
          }),
        { ttl: 0 }
      ))

    it.effect("a TTL too long for an expiry (Duration.infinity) is no expiry, as in the other stores: nothing half-written", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("infinite", { a: 1 }, Duration.infinity)
          expect(yield* pttl(`${prefix}infinite`)).toBe(-1)
          expect(yield* send("HGET", `${prefix}infinite`, "x")).toBe("never")
          // a patch with a finite TTL gives it one; a patch with an infinite TTL takes it away again
          yield* store.patch("infinite", { ...noPatch, add: [["a", 1]] }, Duration.seconds(30))
          expect(yield* pttl(`${prefix}infinite`)).toBeGreaterThan(25_000)
          expect(yield* store.patch("infinite", { ...noPatch, add: [["a", 1]] }, Duration.infinity)).toBe(true)
          expect(yield* pttl(`${prefix}infinite`)).toBe(-1)
          expect(yield* send("HGET", `${prefix}infinite`, "x")).toBe("never")
          yield* TestClock.adjust(Duration.days(1))
          expect(yield* store.read("infinite")).toEqual(Option.some({ a: 3 }))
          yield* store.destroy("infinite")
        })
      ))

    it.effect("a patch resets PX with the record", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("px", { a: 1 }, Duration.seconds(10))
          yield* store.patch("px", { ...noPatch, clear: true }, Duration.minutes(10))
          expect(yield* pttl(`${prefix}px`)).toBeGreaterThan(590_000)
          expect(yield* store.read("px")).toEqual(Option.some({}))
        })
      ))

    it.live("PX removes an expired record from Redis by itself", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("gc", { a: 1 }, Duration.millis(150))
          expect(yield* send("EXISTS", `${prefix}gc`)).toBe(1)
          // Redis expires it in real time: wait for that, bounded (the record would otherwise live)
          const gone = yield* send<number>("EXISTS", `${prefix}gc`).pipe(
            Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (n) => Number(n) === 0, times: 200 })
          )
          expect(gone).toBe(0)
        })
      ))

    it.effect("a session with thousands of keys is written (HSET is chunked below Lua's unpack limit)", () =>
      withStore((store) =>
        Effect.gen(function*() {
          const record = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))
          yield* store.write("many", record, Duration.minutes(1))
          expect(yield* store.read("many")).toEqual(Option.some(record))
        })
      ))
  })

  describe("the record layout shared with the effect 3 package (the core's RedisLayout)", () => {
    const record = {
      user: "ada",
      ["__proto__"]: { polluted: true },
      "": [],
      "lone \ud800 surrogate": "\udc00",
      n: 0.1,
      big: 1e21,
      nested: { a: [1, { b: null }], s: "é\n\"" }
    }

    it.effect("a record the store writes is the hash the core's writeArgs builds, and the core's decode reads it", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("e4-write", record, Duration.minutes(1))
          const hash = yield* hgetall(`${prefix}e4-write`)
          expect(hash).toEqual(pairs(RedisLayout.writeArgs(record, RedisLayout.expiry(0, 60_000))))
          const decoded = RedisLayout.decode(hash, 0)
          expect(decoded).toEqual({ _tag: "Some", data: record })
          expect(Object.getOwnPropertyDescriptor((decoded as any).data, "__proto__")?.value).toEqual({ polluted: true })
          expect(RedisLayout.decode(hash, 60_000)).toEqual({ _tag: "None" })
        })
      ))

    it.effect("a record written and patched by the core's scripts (as the effect 3 store sends them) reads back; the store's patch reads back through the core's decode", () =>
      withStore((store) =>
        Effect.gen(function*() {
          const key = RedisLayout.recordKey(prefix, "e3-write")
          const write = argsOf(RedisLayout.writeArgs(record, RedisLayout.expiry(0, 60_000)))
          yield* send("EVAL", RedisLayout.WRITE, "1", key, ...write)
          expect(yield* store.read("e3-write")).toEqual(Option.some(record))
          const patch = argsOf(RedisLayout.patchArgs(0, RedisLayout.expiry(0, 60_000), {
            clear: false,
            remove: ["user"],
            set: [["cart", [1]]],
            add: [["n", 0.2]]
          }))
          expect(Number(yield* send("EVAL", RedisLayout.PATCH, "1", key, ...patch))).toBe(1)
          const { user: _, ...rest } = record
          expect(yield* store.read("e3-write")).toEqual(Option.some({ ...rest, cart: [1], n: 0.30000000000000004 }))
          yield* store.patch("e3-write", { ...noPatch, add: [["n", 1]] }, Duration.minutes(1))
          const decoded = RedisLayout.decode(yield* hgetall(key), 0)
          expect(decoded._tag === "Some" && decoded.data.n).toBe(1.3)
        })
      ))

    it.effect("a rotation leaves the retired record the core's PATCH refuses and its decode marks", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("e4-from", { user: "ada" }, Duration.seconds(10))
          expect(
            yield* store.rotate("e4-from", "e4-to", {
              data: { user: "ada" },
              ttl: Duration.minutes(1),
              grace: Duration.minutes(1)
            })
          ).toBe(true)
          // the grace never extends the old record: it ends when the record would have expired
          const old = yield* hgetall(`${prefix}e4-from`)
          expect(old).toEqual({ x: "10000", [RedisLayout.RETIRED_FIELD]: "10000", "\"user\"": "\"ada\"" })
          expect(RedisLayout.decode(old, 0)).toEqual({
            _tag: "Some",
            data: { user: "ada", "__session.retired": 10_000 }
          })
          const key = RedisLayout.recordKey(prefix, "e4-from")
          const patch = argsOf(RedisLayout.patchArgs(0, RedisLayout.expiry(0, 60_000), {
            ...noPatch,
            set: [["user", "eve"]]
          }))
          expect(Number(yield* send("EVAL", RedisLayout.PATCH, "1", key, ...patch))).toBe(0)
          // the store's own patch refuses it too, and RETIRE (a second rotation) as well
          expect(yield* store.patch("e4-from", { ...noPatch, set: [["user", "eve"]] }, Duration.minutes(1))).toBe(false)
          const retire = RedisLayout.retireArgs(0, 60_000)
          expect(Number(yield* send("EVAL", RedisLayout.RETIRE, "1", key, ...retire))).toBe(0)
          expect(RedisLayout.decode(yield* hgetall(`${prefix}e4-to`), 0)).toEqual({
            _tag: "Some",
            data: { user: "ada" }
          })
        })
      ))
  })

  describe("corrupt records", () => {
    /**
     * `patch` fails with CorruptRecord, leaving the record as it was, on what its script reads
     * anyway (the key's type, the expiry field). It does not parse the values and field names it
     * does not touch: checking the whole record's JSON in Lua on every save costs Redis's one
     * thread too much (the core's `RedisLayout.PATCH` says how much), and the middleware patches
     * only records it has just read, where a corrupt one is deleted.
     */
    const corrupt = (
      name: string,
      setup: (key: string) => Effect.Effect<unknown, unknown, Redis.Redis>,
      patchGives: "CorruptRecord" | "patched"
    ) =>
      it.effect(`${name}: read fails with CorruptRecord; patch: ${patchGives}`, () =>
        withStore((store) =>
          Effect.gen(function*() {
            const id = `corrupt-${randomBytes(4).toString("hex")}`
            const key = `${prefix}${id}`
            yield* setup(key)
            const stored = Effect.flatMap(
              send<string>("TYPE", key),
              (type) => String(type) === "hash" ? hgetall(key) : send("GET", key)
            )
            const before = yield* stored
            const read = yield* Effect.flip(store.read(id))
            expect(read.reason).toBe("CorruptRecord")
            const patch = yield* Effect.result(store.patch(id, { ...noPatch, add: [["n", 1]] }, Duration.zero))
            if (patchGives === "CorruptRecord") {
              expect(patch._tag === "Failure" && patch.failure.reason).toBe("CorruptRecord")
              expect(yield* stored).toEqual(before)
            } else {
              expect(patch._tag === "Success" && patch.success).toBe(true)
            }
            // destroy (what the middleware does with a corrupt record) always works
            yield* store.destroy(id)
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        ))
    corrupt(
      "a plain string where the hash should be",
      (key) => send("SET", key, "{\"a\":1}", "PX", "60000"),
      "CorruptRecord"
    )
    corrupt("an expiry that is not a number", (key) => send("HSET", key, "x", "soon", "\"a\"", "1"), "CorruptRecord")
    corrupt("a hash without its expiry field", (key) => send("HSET", key, "\"a\"", "1"), "CorruptRecord")
    corrupt("a value that is not JSON", (key) => send("HSET", key, "x", "never", "\"a\"", "{oops"), "patched")
    corrupt("a field that is not a JSON key", (key) => send("HSET", key, "x", "never", "a", "1"), "patched")
  })

  describe("connecting", () => {
    it.live("a refused port: the layer fails Unavailable, naming host:port (never the password), carrying ECONNREFUSED", () =>
      Effect.gen(function*() {
        const layer = RedisStore.layerWith(
          NodeRedis.layer({ url: `redis://ada:s3cret@127.0.0.1:${deadPort}`, socket: { connectTimeout: 5000 } })
        )
        const error = yield* Effect.flip(Effect.scoped(Layer.build(layer)))
        expect(error._tag).toBe("SessionStoreError")
        if (error._tag !== "SessionStoreError") return
        expect(error.reason).toBe("Unavailable")
        expect(error.message).toContain(`127.0.0.1:${deadPort}`)
        expect(error.message).toContain("ECONNREFUSED")
        expect(error.message).not.toContain("s3cret")
        expect(JSON.stringify(String(error))).not.toContain("s3cret")
      }))

    it.live("an unknown host: the layer fails, naming the host (never the password)", () =>
      Effect.gen(function*() {
        const layer = RedisStore.layerWith(
          NodeRedis.layer({ url: "redis://:s3cret@no-such-host.invalid:6380", socket: { connectTimeout: 5000 } })
        )
        const error = yield* Effect.flip(Effect.scoped(Layer.build(layer)))
        expect(error._tag).toBe("SessionStoreError")
        expect(error.message).toContain("no-such-host.invalid")
        expect(error.message).not.toContain("s3cret")
      }))

    it.effect("the user's own client is used as it is and left open when the store's scope closes", () =>
      provide(Effect.gen(function*() {
        yield* Effect.scoped(Effect.gen(function*() {
          const store = yield* RedisStore.make({ prefix })
          yield* store.write("mine", { a: 1 }, Duration.minutes(1))
          expect(yield* store.read("mine")).toEqual(Option.some({ a: 1 }))
        }))
        // the store's scope is closed: the client still answers, and the record is there
        expect(yield* send("EXISTS", `${prefix}mine`)).toBe(1)
        expect(yield* send("PING")).toBe("PONG")
      })))
  })

  describe("outages (private redis-server)", () => {
    if (!redisServerInstalled) {
      if (required) {
        it("redis-server must be installed (EFFECT_SESSION_REQUIRE_SERVICES=1)", () => {
          throw new Error("redis-server is not installed")
        })
      } else {
        console.warn("[effect-session] SKIPPING RedisStore outage tests: redis-server is not installed")
        it.skip("outages (skipped: redis-server is not installed)", () => {})
      }
      return
    }

    /** `POST /put?key=k` puts `k: true` in the session; `GET /all` answers the session as JSON. */
    const routes = (options: Session.Options = {}) =>
      Layer.mergeAll(
        HttpRouter.add(
          "POST",
          "/put",
          Effect.gen(function*() {
            const request = yield* HttpServerRequest.HttpServerRequest
            const key = new URL(request.url, "http://localhost").searchParams.get("key") ?? ""
            yield* Session.put(key, true)
            return HttpServerResponse.text("ok")
          })
        ),
        HttpRouter.add("GET", "/all", Effect.map(Session.all, (all) => HttpServerResponse.jsonUnsafe(all)))
      ).pipe(Layer.provide(Session.middleware({ insecure: true, ...options }).layer))

    /** An admin connection to `url` (not the store's), in the test's scope. */
    const admin = (url: string) => Layer.build(NodeRedis.layer({ url }))

    /** Pauses every client of the server for `millis`; returns an effect that waits until the pause is over. */
    const pause = (url: string, millis: number) =>
      Effect.gen(function*() {
        const context = yield* admin(url)
        const redis = yield* Effect.provideContext(Effect.service(Redis.Redis), context)
        yield* redis.send("CLIENT", "PAUSE", String(millis), "ALL")
        // PING waits on the server until the pause ends
        return Effect.asVoid(redis.send("PING"))
      })

    it.live(
      "a killed server: commands fail with Unavailable or Timeout; after a restart the store works again",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const context = yield* Layer.build(
            NodeRedis.layer({ url: server.url })
          )
          const store = yield* Effect.provideContext(RedisStore.make({ commandTimeout: "1 second" }), context)
          yield* store.write("s", { a: 1 }, Duration.minutes(1))
          yield* Effect.promise(() => server.kill())
          const failures = yield* Effect.all([
            Effect.flip(store.read("s")),
            Effect.flip(store.write("s", { a: 2 }, Duration.minutes(1))),
            Effect.flip(store.patch("s", { ...noPatch, add: [["a", 1]] }, Duration.zero)),
            Effect.flip(store.lock("s", { ttl: Duration.seconds(1), wait: Duration.zero }))
          ])
          for (const error of failures) {
            expect(error._tag).toBe("SessionStoreError")
            expect(["Unavailable", "Timeout"]).toContain((error as { reason?: string }).reason)
          }
          yield* Effect.promise(() => server.start())
          // the client reconnects by itself
          const back = yield* store.read("s").pipe(
            Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 200 })
          )
          expect(back).toEqual(Option.none()) // a non-persistent server lost its data
          yield* store.write("s", { a: 3 }, Duration.minutes(1))
          expect(yield* store.read("s")).toEqual(Option.some({ a: 3 }))
        })),
      60_000
    )

    it.live(
      "a paused server: a command fails with Timeout after commandTimeout, then the same record reads back",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const context = yield* Layer.build(NodeRedis.layer({ url: server.url }))
          const store = yield* Effect.provideContext(RedisStore.make({ commandTimeout: "300 millis" }), context)
          yield* store.write("s", { user: "ada" }, Duration.minutes(1))
          // paused far longer than the command may take: only the store's own timeout can end it early
          const over = yield* pause(server.url, 5_000)
          const error = yield* Effect.flip(store.read("s"))
          expect(error.reason).toBe("Timeout")
          yield* over
          expect(yield* store.read("s")).toEqual(Option.some({ user: "ada" }))
        })),
      60_000
    )

    it.live(
      "a paused server: every request on the session answers 503, even those queued behind a waiting one",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const app = yield* Layer.build(
            serveWith(
              routes(),
              RedisStore.layerWith(NodeRedis.layer({ url: server.url }), { commandTimeout: "1 second" })
            )
          )
          const jar = makeJar()
          yield* Effect.provideContext(jar.post("/put?key=user"), app)
          const over = yield* pause(server.url, 8_000)
          // three requests on the session at once: the later ones wait behind the first one's read
          const replies = yield* Effect.all(
            [0, 1, 2].map(() => Effect.provideContext(jar.get("/all"), app)),
            { concurrency: "unbounded" }
          )
          for (const reply of replies) expect(reply.status).toBe(503)
          yield* over
          const after = yield* Effect.provideContext(jar.get("/all"), app)
          expect(after.status).toBe(200)
          expect(JSON.parse(after.body)).toEqual({ user: true })
        })),
      60_000
    )

    it.live(
      "a lock attempt interrupted while its SET NX waits on the server leaves no lock behind: the next lock is taken",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const context = yield* Layer.build(NodeRedis.layer({ url: server.url }))
          // a command timeout far beyond the test: only the interruption ends the attempt
          const store = yield* Effect.provideContext(
            RedisStore.make({ prefix: "p:", commandTimeout: "60 seconds" }),
            context
          )
          const redis = yield* Effect.provideContext(Effect.service(Redis.Redis), yield* admin(server.url))
          // the store's connection is up before the pause (its first command would otherwise wait on the connect)
          yield* store.write("warm", { a: 1 }, Duration.minutes(1))
          // writes wait until UNPAUSE (the admin's CLIENT LIST and EXISTS are not writes); long, in case of a loaded machine
          yield* redis.send("CLIENT", "PAUSE", "60000", "WRITE")
          const attempt = yield* Effect.forkChild(store.lock("s", { ttl: Duration.seconds(60), wait: Duration.zero }))
          // until the server holds the SET: a blocked client whose command is `set`
          const setHeld = Effect.map(
            redis.send<string>("CLIENT", "LIST"),
            (list) => String(list).split("\n").some((line) => / flags=b /.test(line) && / cmd=set /.test(line))
          )
          yield* Effect.repeat(setHeld, { schedule: Schedule.spaced("10 millis"), until: (held) => held, times: 1000 })
          expect(yield* setHeld).toBe(true)
          yield* Fiber.interrupt(attempt)
          yield* redis.send("CLIENT", "UNPAUSE")
          // Redis now runs the SET, then the release sent after it on the same connection
          const lockExists = Effect.map(redis.send<number>("EXISTS", "p:lock:s"), Number)
          yield* Effect.repeat(lockExists, {
            schedule: Schedule.spaced("20 millis"),
            until: (n) => n === 0,
            times: 250
          })
          expect(yield* lockExists).toBe(0)
          const next = yield* Effect.result(store.lock("s", { ttl: Duration.seconds(60), wait: Duration.zero }))
          expect(next._tag).toBe("Success")
        })),
      60_000
    )

    // Both the connection's first lock attempt (its release's script not loaded yet: the release must
    // still be one command, or it is cut off between SCRIPT LOAD and EVALSHA) and a later one.
    for (const warm of [false, true]) {
      it.live(
        `with locking on, ${
          warm ? "after a lock taken and released" : "on the connection's first lock"
        }, a lock attempt that timed out leaves no lock behind: the next request is 200, not 423`,
        () =>
          Effect.scoped(Effect.gen(function*() {
            const server = yield* privateRedis
            const app = yield* Layer.build(
              serveWith(
                routes({ lock: { ttl: "30 seconds", wait: "0 millis" } }),
                RedisStore.layerWith(NodeRedis.layer({ url: server.url }), {
                  commandTimeout: "300 millis",
                  prefix: "locks:"
                })
              )
            )
            const context = yield* admin(server.url)
            const redis = yield* Effect.provideContext(Effect.service(Redis.Redis), context)
            const jar = makeJar()
            expect((yield* Effect.provideContext(jar.post("/put?key=user"), app)).status).toBe(200)
            // a request on the existing session: locked, then released
            if (warm) expect((yield* Effect.provideContext(jar.get("/all"), app)).status).toBe(200)
            const over = yield* pause(server.url, 2_000)
            // the lock's SET NX times out at the client; Redis runs it when the pause ends
            expect((yield* Effect.provideContext(jar.post("/put?key=during"), app)).status).toBe(503)
            yield* over
            // the release sent after the timed-out SET removes it: wait for that (a lock left behind lives 30 s)
            const locks = yield* redis.send<Array<string>>("KEYS", "locks:lock:*").pipe(
              Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (keys) => keys.length === 0, times: 100 })
            )
            expect(locks).toEqual([])
            expect((yield* Effect.provideContext(jar.post("/put?key=after"), app)).status).toBe(200)
            const all = yield* Effect.provideContext(jar.get("/all"), app)
            expect(JSON.parse(all.body)).toEqual({ user: true, after: true })
          })),
        60_000
      )
    }
  })
})
