/**
 * RedisStore: the conformance suite against the shared Redis on 6379 (unique key prefix per run,
 * removed afterwards), then what is specific to Redis: the record layout and its PX, corrupt
 * records, option checks, a user's own client, and outages on a private redis-server.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { afterAll, describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Config,
  ConfigProvider,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Schedule,
  TestClock
} from "effect"
import { Session, SessionStore } from "effect-session"
import { RedisLayout } from "effect-session-core"
import * as RedisStore from "effect-session/RedisStore"
import * as SessionStoreSuite from "effect-session/SessionStoreSuite"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import { connect, createServer, type Socket } from "node:net"
import { storeLayerFromEnv } from "../examples/store.js"
import { freePort, privateRedis, redisServerInstalled } from "./fixtures/redis-server.js"
import { Jar, request, serve } from "./utils/http.js"
import { describeWith, required, SERVICES } from "./utils/services.js"

const url = SERVICES.redis.url
const runPrefix = `effect-session-test:${randomBytes(6).toString("hex")}:`
const deadPort = await freePort()

/** `POST /put?key=k` puts `k: true` in the session; `GET /all` answers the session as JSON. */
const routes = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/put",
    Effect.gen(function*() {
      const { key } = yield* HttpServerRequest.ParsedSearchParams
      yield* Session.put(String(key), true)
      return HttpServerResponse.text("ok")
    })
  ),
  HttpRouter.get("/all", Effect.map(Session.all, (all) => HttpServerResponse.unsafeJson(all)))
)

/** Real time in milliseconds (for the tests of real network timeouts, which run with `it.live`). */
const elapsedSince = (start: number) => Date.now() - start

/** The typed failure of an exit, if it has one. */
const storeError = (exit: Exit.Exit<unknown, unknown>): any =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

await describeWith("redis", "RedisStore", () => {
  const admin = new Redis(url, { lazyConnect: true })
  afterAll(async () => {
    let cursor = "0"
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${runPrefix}*`, "COUNT", 1000)
      cursor = next
      if (keys.length > 0) await admin.del(...keys)
    } while (cursor !== "0")
    await admin.quit()
  })

  SessionStoreSuite.run("RedisStore conformance", RedisStore.layer({ url, prefix: `${runPrefix}suite:` }), {
    defaultTtl: "2 hours",
    noExpiry: RedisStore.layer({ url, prefix: `${runPrefix}forever:`, ttl: 0 }),
    unavailable: RedisStore.layer({ url: `redis://127.0.0.1:${deadPort}`, connectTimeout: "2 seconds" })
  })

  describe("sessions too large for one script call", () => {
    const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]))
    const noPatch = { clear: false, remove: [], set: [], add: [] } as const

    it.scoped(
      "a session near the limit is stored whole, and concurrent reads get their own records",
      () =>
        Effect.gen(function*() {
          const store = yield* RedisStore.make({ url, prefix: `${runPrefix}large:` })
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
        }),
      60_000
    )

    it.scoped(
      "one beyond it is refused as Unencodable before anything is sent; other requests get their own records",
      () =>
        Effect.gen(function*() {
          const store = yield* RedisStore.make({ url, prefix: `${runPrefix}large:` })
          yield* store.write("carol", { user: "carol" }, Duration.minutes(1))
          yield* store.write("dave", { user: "dave" }, Duration.minutes(1))
          const keys = Math.floor(RedisLayout.MAX_ARGUMENTS / 2)
          const [written, patched, carol, dave] = yield* Effect.all([
            Effect.flip(store.write("huge", many(keys), Duration.minutes(1))),
            Effect.flip(store.patch("carol", { ...noPatch, set: Object.entries(many(keys)) }, Duration.minutes(1))),
            store.read("carol"),
            store.read("dave")
          ], { concurrency: "unbounded" })
          expect([written.reason, patched.reason]).toStrictEqual(["Unencodable", "Unencodable"])
          expect(written.message).toContain("keep large data out of the session")
          expect(carol).toStrictEqual(Option.some({ user: "carol" }))
          expect(dave).toStrictEqual(Option.some({ user: "dave" }))
          expect(yield* store.read("huge")).toStrictEqual(Option.none())
        }),
      60_000
    )
  })

  const prefix = `${runPrefix}own:`
  const withStore = <A, E>(
    f: (store: RedisStore.RedisStore) => Effect.Effect<A, E>,
    options: RedisStore.Options = {}
  ) => Effect.scoped(Effect.flatMap(RedisStore.make({ url, prefix, ...options }), f))

  describe("layout", () => {
    it.effect("write sets value and PX in one step; the expiry field follows Effect's Clock", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("layout", { a: [1], "": {} }, Duration.minutes(1))
          const hash = yield* Effect.promise(() => admin.hgetall(`${prefix}layout`))
          // TestClock starts at 0: the record expires at 60 000 on that clock
          expect(hash).toEqual({ x: "60000", "\"a\"": "[1]", "\"\"": "{}" })
          const pttl = yield* Effect.promise(() => admin.pttl(`${prefix}layout`))
          expect(pttl).toBeGreaterThan(55_000)
          expect(pttl).toBeLessThanOrEqual(60_000)
        })
      ))

    it.effect("with store TTL 0 and write TTL zero no PX is sent: the key has no expiry", () =>
      withStore(
        (store) =>
          Effect.gen(function*() {
            yield* store.write("forever", { a: 1 }, Duration.zero)
            expect(yield* Effect.promise(() => admin.pttl(`${prefix}forever`))).toBe(-1)
            expect(yield* Effect.promise(() => admin.hget(`${prefix}forever`, "x"))).toBe("never")
            // a patch keeps it that way; a patch with a TTL gives it one
            yield* store.patch("forever", { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.zero)
            expect(yield* Effect.promise(() => admin.pttl(`${prefix}forever`))).toBe(-1)
            yield* store.patch("forever", { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.seconds(30))
            const pttl = yield* Effect.promise(() => admin.pttl(`${prefix}forever`))
            expect(pttl).toBeGreaterThan(25_000)
            expect(yield* store.read("forever")).toEqual(Option.some({ a: 3 }))
          }),
        { ttl: 0 }
      ))

    it.effect("a TTL too long for an expiry (Duration.infinity) is no expiry, as in the other stores: nothing half-written", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("infinite", { a: 1 }, Duration.infinity)
          expect(yield* Effect.promise(() => admin.pttl(`${prefix}infinite`))).toBe(-1)
          expect(yield* Effect.promise(() => admin.hget(`${prefix}infinite`, "x"))).toBe("never")
          // a patch with a finite TTL gives it one; a patch with an infinite TTL takes it away again
          yield* store.patch("infinite", { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.seconds(30))
          expect(yield* Effect.promise(() => admin.pttl(`${prefix}infinite`))).toBeGreaterThan(25_000)
          expect(
            yield* store.patch("infinite", { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.infinity)
          )
            .toBe(true)
          expect(yield* Effect.promise(() => admin.pttl(`${prefix}infinite`))).toBe(-1)
          expect(yield* Effect.promise(() => admin.hget(`${prefix}infinite`, "x"))).toBe("never")
          yield* TestClock.adjust(Duration.days(3650))
          expect(yield* store.read("infinite")).toEqual(Option.some({ a: 3 }))
          yield* store.destroy("infinite")
        })
      ))

    it.effect("a patch resets PX with the record", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("px", { a: 1 }, Duration.seconds(10))
          yield* store.patch("px", { clear: true, remove: [], set: [], add: [] }, Duration.minutes(10))
          expect(yield* Effect.promise(() => admin.pttl(`${prefix}px`))).toBeGreaterThan(590_000)
          expect(yield* store.read("px")).toEqual(Option.some({}))
        })
      ))

    it.live("PX removes an expired record from Redis in real time", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("gc", { a: 1 }, Duration.millis(150))
          expect(yield* Effect.promise(() => admin.exists(`${prefix}gc`))).toBe(1)
          yield* Effect.sleep(Duration.millis(400))
          expect(yield* Effect.promise(() => admin.exists(`${prefix}gc`))).toBe(0)
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

  // The effect 4 package's RedisStore sends the core's scripts with the core's arguments and reads
  // with the core's decode (packages/effect4/src/RedisStore.ts): these tests hold the effect 3 store
  // to the same bytes, so one Redis serves apps on both lines.
  describe("the record layout shared with effect 4 (the core's RedisLayout)", () => {
    const record = {
      user: "ada",
      ["__proto__"]: { polluted: true },
      "": [],
      "lone \ud800 surrogate": "\udc00",
      n: 0.1,
      big: 1e21,
      nested: { a: [1, { b: null }], s: "é\n\"" }
    }
    const hgetall = (id: string) => Effect.promise(() => admin.hgetall(`${prefix}${id}`))
    const pairs = (args: RedisLayout.Args) => {
      if (args._tag !== "Args") throw new Error(args.message)
      const fields: Record<string, string> = { x: args.args[0]! }
      for (let i = 2; i < args.args.length; i += 2) fields[args.args[i]!] = args.args[i + 1]!
      return fields
    }

    it.effect("a record the effect 3 store writes is the hash the core's writeArgs builds, and the core's decode reads it", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("e3-write", record, Duration.minutes(1))
          const hash = yield* hgetall("e3-write")
          expect(hash).toEqual(pairs(RedisLayout.writeArgs(record, RedisLayout.expiry(0, 60_000))))
          const decoded = RedisLayout.decode(hash, 0)
          expect(decoded).toEqual({ _tag: "Some", data: record })
          expect(Object.getOwnPropertyDescriptor((decoded as any).data, "__proto__")?.value).toEqual({ polluted: true })
          expect(RedisLayout.decode(hash, 60_000)).toEqual({ _tag: "None" })
        })
      ))

    it.effect("a record written and patched as the effect 4 store does (the core's scripts and arguments) reads back in the effect 3 store", () =>
      withStore((store) =>
        Effect.gen(function*() {
          const key = RedisLayout.recordKey(prefix, "e4-write")
          const write = RedisLayout.writeArgs(record, RedisLayout.expiry(0, 60_000))
          if (write._tag !== "Args") throw new Error(write.message)
          yield* Effect.promise(() => admin.eval(RedisLayout.WRITE, 1, key, ...write.args))
          expect(yield* store.read("e4-write")).toEqual(Option.some(record))
          const patch = RedisLayout.patchArgs(0, RedisLayout.expiry(0, 60_000), {
            clear: false,
            remove: ["user"],
            set: [["cart", [1]]],
            add: [["n", 0.2]]
          })
          if (patch._tag !== "Args") throw new Error(patch.message)
          expect(yield* Effect.promise(() => admin.eval(RedisLayout.PATCH, 1, key, ...patch.args))).toBe(1)
          const { user: _, ...rest } = record
          expect(yield* store.read("e4-write")).toEqual(Option.some({ ...rest, cart: [1], n: 0.30000000000000004 }))
          // and the effect 3 store's patch reads back through the core's decode
          yield* store.patch("e4-write", { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.minutes(1))
          const decoded = RedisLayout.decode(yield* hgetall("e4-write"), 0)
          expect(decoded._tag === "Some" && decoded.data.n).toBe(1.3)
        })
      ))

    it.effect("a rotation by the effect 3 store leaves the retired record the core's PATCH refuses and its decode marks", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.write("e3-from", { user: "ada" }, Duration.seconds(10))
          expect(yield* store.rotate("e3-from", "e3-to", { user: "ada" }, Duration.minutes(1), Duration.minutes(1)))
            .toBe(
              true
            )
          // the grace never extends the old record: it ends when the record would have expired
          const old = yield* hgetall("e3-from")
          expect(old).toEqual({ x: "10000", [RedisLayout.RETIRED_FIELD]: "10000", "\"user\"": "\"ada\"" })
          expect(RedisLayout.decode(old, 0)).toEqual({
            _tag: "Some",
            data: { user: "ada", "__session.retired": 10_000 }
          })
          const patch = RedisLayout.patchArgs(0, RedisLayout.expiry(0, 60_000), {
            clear: false,
            remove: [],
            set: [["user", "eve"]],
            add: []
          })
          if (patch._tag !== "Args") throw new Error(patch.message)
          const key = RedisLayout.recordKey(prefix, "e3-from")
          expect(yield* Effect.promise(() => admin.eval(RedisLayout.PATCH, 1, key, ...patch.args))).toBe(0)
          // RETIRE, as the effect 4 store sends it, refuses a retired record too
          const retire = RedisLayout.retireArgs(0, 60_000)
          expect(yield* Effect.promise(() => admin.eval(RedisLayout.RETIRE, 1, key, ...retire))).toBe(0)
          expect(RedisLayout.decode(yield* hgetall("e3-to"), 0)).toEqual({ _tag: "Some", data: { user: "ada" } })
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
      setup: (key: string) => Promise<unknown>,
      patchGives: "CorruptRecord" | "patched"
    ) =>
      it.effect(`${name}: read fails with CorruptRecord; patch: ${patchGives}`, () =>
        withStore((store) =>
          Effect.gen(function*() {
            const key = `${prefix}corrupt`
            yield* Effect.promise(() => setup(key))
            const stored = () =>
              Effect.promise(async () =>
                (await admin.type(key)) === "hash" ? await admin.hgetall(key) : await admin.get(key)
              )
            const before = yield* stored()
            const read = yield* Effect.exit(store.read("corrupt"))
            expect(storeError(read)?.reason).toBe("CorruptRecord")
            const patch = yield* Effect.exit(
              store.patch("corrupt", { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.zero)
            )
            if (patchGives === "CorruptRecord") {
              expect(storeError(patch)?.reason).toBe("CorruptRecord")
              expect(yield* stored()).toEqual(before)
            } else {
              expect(patch).toEqual(Exit.succeed(true))
            }
            // destroy (what the middleware does with a corrupt record) always works
            yield* store.destroy("corrupt")
            expect(yield* store.read("corrupt")).toEqual(Option.none())
          })
        ))
    corrupt(
      "a plain string where the hash should be",
      (key) => admin.set(key, "{\"a\":1}", "PX", 60_000),
      "CorruptRecord"
    )
    corrupt("an expiry that is not a number", (key) => admin.hset(key, "x", "soon", "\"a\"", "1"), "CorruptRecord")
    corrupt("a hash without its expiry field", (key) => admin.hset(key, "\"a\"", "1"), "CorruptRecord")
    corrupt("a value that is not JSON", (key) => admin.hset(key, "x", "never", "\"a\"", "{oops"), "patched")
    corrupt("a field that is not a JSON key", (key) => admin.hset(key, "x", "never", "a", "1"), "patched")
  })

  describe("options", () => {
    it.effect("invalid options are a SessionConfigError", () =>
      Effect.gen(function*() {
        for (
          const options of [
            { url, ttl: -1 },
            { url, commandTimeout: 0 },
            { url, connectTimeout: "soon" as any },
            { client: new Redis({ lazyConnect: true }), url }
          ] satisfies Array<RedisStore.Options>
        ) {
          const exit = yield* Effect.exit(Effect.scoped(RedisStore.make(options)))
          expect(storeError(exit)?._tag).toBe("SessionConfigError")
        }
      }))

    it.live("a refused port: the connect failure names host:port (never the password) and carries ECONNREFUSED", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(
          Effect.scoped(
            RedisStore.make({ url: `redis://ada:s3cret@127.0.0.1:${deadPort}`, connectTimeout: "5 seconds" })
          )
        )
        const error = storeError(exit)
        expect(error?._tag).toBe("SessionStoreError")
        expect(error.reason).toBe("Unavailable")
        expect(error.message).toContain(`127.0.0.1:${deadPort}`)
        expect(error.message).toContain("ECONNREFUSED")
        expect(error.message).not.toContain("s3cret")
        expect(error.cause?.code).toBe("ECONNREFUSED")
      }))

    it.live("an unknown host: the connect failure names the host and carries the resolver's error", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(
          Effect.scoped(
            RedisStore.make({ url: "redis://:s3cret@no-such-host.invalid:6380", connectTimeout: "5 seconds" })
          )
        )
        const error = storeError(exit)
        expect(error?._tag).toBe("SessionStoreError")
        expect(error.message).toContain("no-such-host.invalid:6380")
        expect(error.message).not.toContain("s3cret")
        // ENOTFOUND; EAI_AGAIN where no resolver answers at all
        expect(["ENOTFOUND", "EAI_AGAIN"]).toContain(error.cause?.code)
      }))

    it.live("a client given with enableOfflineQueue: false, still connecting, serves the first request", () =>
      Effect.gen(function*() {
        const client = new Redis(url, { enableOfflineQueue: false })
        yield* Effect.addFinalizer(() => Effect.promise(() => client.quit().catch(() => client.disconnect())))
        // built at once, as an app does at startup: the client is still connecting
        expect(client.status).not.toBe("ready")
        const app = serve(routes, { insecure: true }).pipe(
          Layer.provide(RedisStore.layer({ client, prefix: `${runPrefix}offline:` }))
        )
        yield* Effect.gen(function*() {
          const jar = new Jar()
          expect((yield* request("POST", "/put?key=first", { jar })).status).toBe(200)
          expect(JSON.parse((yield* request("GET", "/all", { jar })).body)).toEqual({ first: true })
        }).pipe(Effect.provide(app))
      }).pipe(Effect.scoped))

    it.live("a client given that cannot connect fails the layer after connectTimeout, naming its server", () =>
      Effect.gen(function*() {
        const client = new Redis(`redis://127.0.0.1:${deadPort}`, { enableOfflineQueue: false })
        yield* Effect.addFinalizer(() => Effect.sync(() => client.disconnect()))
        const start = Date.now()
        const exit = yield* Effect.exit(Effect.scoped(RedisStore.make({ client, connectTimeout: "500 millis" })))
        expect(elapsedSince(start)).toBeLessThan(5_000)
        const error = storeError(exit)
        expect(error?._tag).toBe("SessionStoreError")
        expect(error.message).toContain(`127.0.0.1:${deadPort}`)
        expect(error.message).toContain("not ready")
        expect(error.cause?.code).toBe("ECONNREFUSED")
      }).pipe(Effect.scoped))

    it.live("connectTimeout beyond setTimeout's limit (30 days) waits for a client still connecting", () =>
      Effect.gen(function*() {
        // A proxy that holds each connection 150 ms before passing it on to Redis: the client
        // given is still connecting when the store starts waiting for it.
        const sockets = new Set<Socket>()
        const proxy = createServer((client) => {
          sockets.add(client)
          setTimeout(() => {
            const upstream = connect(SERVICES.redis.port, SERVICES.redis.host)
            sockets.add(upstream)
            client.pipe(upstream).pipe(client)
            upstream.on("error", () => client.destroy())
          }, 150)
          client.on("error", () => {})
        })
        const port = yield* Effect.async<number>((resume) => {
          proxy.listen(0, "127.0.0.1", () => resume(Effect.succeed((proxy.address() as { port: number }).port)))
        })
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            for (const socket of sockets) socket.destroy()
            proxy.close()
          })
        )
        const client = new Redis(`redis://127.0.0.1:${port}`, { enableOfflineQueue: false })
        yield* Effect.addFinalizer(() => Effect.sync(() => client.disconnect()))
        expect(client.status).not.toBe("ready")
        const store = yield* RedisStore.make({ client, prefix, connectTimeout: Duration.days(30) })
        yield* store.write("patient", { a: 1 }, Duration.minutes(1))
        expect(yield* store.read("patient")).toEqual(Option.some({ a: 1 }))
        yield* store.destroy("patient")
      }).pipe(Effect.scoped))

    it.effect("layerConfig reads its options from Config", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        yield* store.write("config", { a: 1 }, Duration.zero)
        expect(yield* Effect.promise(() => admin.exists(`${runPrefix}config:config`))).toBe(1)
        expect(yield* Effect.promise(() => admin.pttl(`${runPrefix}config:config`))).toBeGreaterThan(8 * 60_000)
      }).pipe(
        Effect.provide(
          RedisStore.layerConfig({
            url: Config.string("REDIS_URL"),
            prefix: Config.succeed(`${runPrefix}config:`),
            ttl: Config.duration("SESSION_TTL")
          }).pipe(
            Layer.provide(
              Layer.setConfigProvider(
                ConfigProvider.fromMap(new Map([["REDIS_URL", url], ["SESSION_TTL", "10 minutes"]]))
              )
            )
          )
        )
      ))

    it.effect("a user's own client is used as it is and left open when the store's scope closes", () =>
      Effect.gen(function*() {
        const client = new Redis(url, { enableOfflineQueue: false, lazyConnect: true })
        yield* Effect.promise(() => client.connect())
        yield* Effect.scoped(Effect.gen(function*() {
          const store = yield* RedisStore.make({ client, prefix })
          yield* store.write("mine", { a: 1 }, Duration.minutes(1))
          expect(yield* store.read("mine")).toEqual(Option.some({ a: 1 }))
        }))
        expect(client.status).toBe("ready")
        expect(yield* Effect.promise(() => client.exists(`${prefix}mine`))).toBe(1)
        yield* Effect.promise(() => client.quit())
      }))
  })

  describe("examples/store.ts", () => {
    const fromEnv = (env: Record<string, string>) =>
      Layer.provide(storeLayerFromEnv, Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

    it.effect("SESSION_STORE=redis puts the demo's sessions in Redis, under SESSION_PREFIX", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        yield* store.write("demo", { a: 1 }, Duration.minutes(1))
        expect(yield* Effect.promise(() => admin.hget(`${runPrefix}example:demo`, "\"a\""))).toBe("1")
      }).pipe(
        Effect.provide(fromEnv({ SESSION_STORE: "redis", REDIS_URL: url, SESSION_PREFIX: `${runPrefix}example:` }))
      ))

    it.effect("without SESSION_STORE the demo keeps sessions in memory; an unknown store is a ConfigError", () =>
      Effect.gen(function*() {
        yield* Effect.gen(function*() {
          const store = yield* SessionStore
          yield* store.write("demo-memory", { a: 1 }, Duration.minutes(1))
          expect(yield* store.read("demo-memory")).toEqual(Option.some({ a: 1 }))
          expect(yield* Effect.promise(() => admin.exists("session:demo-memory"))).toBe(0)
        }).pipe(Effect.provide(fromEnv({})))
        const unknown = yield* Effect.exit(Effect.provide(SessionStore, fromEnv({ SESSION_STORE: "mongo" })))
        expect(storeError(unknown)?._op).toBe("InvalidData") // a ConfigError
      }))
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

    it.live(
      "a killed server: commands fail fast with Unavailable; after a restart the store works again",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const store = yield* RedisStore.make({ url: server.url, commandTimeout: "1 second" })
          yield* store.write("s", { a: 1 }, Duration.minutes(1))
          yield* Effect.promise(() => server.kill())
          const started = Date.now()
          const failures = yield* Effect.all([
            Effect.exit(store.read("s")),
            Effect.exit(store.write("s", { a: 2 }, Duration.minutes(1))),
            Effect.exit(store.patch("s", { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.zero)),
            Effect.exit(store.lock("s", { ttl: Duration.seconds(1), wait: Duration.zero }))
          ])
          expect(Date.now() - started).toBeLessThan(1500)
          for (const exit of failures) expect(["Unavailable", "Timeout"]).toContain(storeError(exit)?.reason)
          yield* Effect.promise(() => server.start())
          // ioredis reconnects by itself (backoff up to 2 s)
          const back = yield* store.read("s").pipe(
            Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 }),
            Effect.timeout(Duration.seconds(10))
          )
          expect(back).toEqual(Option.none()) // a non-persistent server lost its data
          yield* store.write("s", { a: 3 }, Duration.minutes(1))
          expect(yield* store.read("s")).toEqual(Option.some({ a: 3 }))
        })),
      30_000
    )

    /** The session app on a private redis-server, in the test's scope. */
    const appOn = (server: { readonly url: string }, store: RedisStore.Options, lock?: Session.LockOptions) =>
      Layer.build(
        serve(routes, { insecure: true, lock: lock ?? false }).pipe(
          Layer.provide(RedisStore.layer({ url: server.url, ...store }))
        )
      )

    it.live(
      "a paused server: every request answers 503 within commandTimeout, even those queued behind a waiting pipeline",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const app = yield* appOn(server, { commandTimeout: "2 seconds" })
          const other = new Redis(server.url)
          yield* Effect.addFinalizer(() => Effect.sync(() => other.disconnect()))
          const jar = new Jar()
          yield* Effect.provide(request("POST", "/put?key=user", { jar }), app)
          yield* Effect.promise(() => other.call("CLIENT", "PAUSE", "6000", "ALL"))
          // three requests on the session, the later ones sent while the first one's read waits
          const timed = (delayMillis: number) =>
            Effect.gen(function*() {
              yield* Effect.sleep(Duration.millis(delayMillis))
              const start = Date.now()
              const reply = yield* request("GET", "/all", { cookie: jar.header()! })
              return { status: reply.status, took: elapsedSince(start) }
            }).pipe(Effect.provide(app))
          const replies = yield* Effect.all([timed(0), timed(150), timed(400)], { concurrency: "unbounded" })
          for (const reply of replies) {
            expect(reply.status).toBe(503)
            expect(reply.took).toBeGreaterThanOrEqual(1_900)
            // ioredis alone: about 4 s for the second and third (their timer starts when the first pipeline ends)
            expect(reply.took).toBeLessThan(3_000)
          }
        })),
      30_000
    )

    it.live(
      "with locking on, a lock attempt that timed out leaves no lock behind: the next request is 200, not 423",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const app = yield* appOn(server, { commandTimeout: "300 millis", prefix: "locks:" }, {
            ttl: "30 seconds",
            wait: "0 millis"
          })
          const other = new Redis(server.url)
          yield* Effect.addFinalizer(() => Effect.sync(() => other.disconnect()))
          yield* Effect.gen(function*() {
            const jar = new Jar()
            expect((yield* request("POST", "/put?key=user", { jar })).status).toBe(200)
            const pausedAt = Date.now()
            yield* Effect.promise(() => other.call("CLIENT", "PAUSE", "1500", "ALL"))
            // the lock's SET NX times out at the client; Redis runs it when the pause ends
            expect((yield* request("POST", "/put?key=during", { jar })).status).toBe(503)
            // real network time: until well after the pause ended (the lock would live 30 s)
            yield* Effect.sleep(Duration.millis(Math.max(0, pausedAt + 3_000 - Date.now())))
            const locks = yield* Effect.promise(() => other.keys("locks:lock:*"))
            expect(locks).toEqual([])
            expect((yield* request("POST", "/put?key=after", { jar })).status).toBe(200)
            expect(JSON.parse((yield* request("GET", "/all", { jar })).body)).toEqual({ user: true, after: true })
          }).pipe(Effect.provide(app))
        })),
      30_000
    )

    it.live(
      "a lock attempt interrupted while its SET NX waits on the server leaves no lock behind: the next lock is taken",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          // a command timeout far beyond the test: only the interruption ends the attempt
          const store = yield* RedisStore.make({ url: server.url, prefix: "p:", commandTimeout: "60 seconds" })
          const other = new Redis(server.url)
          yield* Effect.addFinalizer(() => Effect.sync(() => other.disconnect()))
          // writes wait until UNPAUSE (CLIENT LIST and EXISTS are not writes); long, in case of a loaded machine
          yield* Effect.promise(() => other.call("CLIENT", "PAUSE", "60000", "WRITE"))
          const attempt = yield* Effect.fork(store.lock("s", { ttl: Duration.seconds(60), wait: Duration.zero }))
          // until the server holds the SET: a blocked client whose command is `set`
          const setHeld = Effect.map(
            Effect.promise(() => other.call("CLIENT", "LIST")),
            (list) => String(list).split("\n").some((line) => / flags=b /.test(line) && / cmd=set /.test(line))
          )
          yield* Effect.repeat(setHeld, { schedule: Schedule.spaced("10 millis"), until: (held) => held, times: 1000 })
          expect(yield* setHeld).toBe(true)
          yield* Fiber.interrupt(attempt)
          yield* Effect.promise(() => other.call("CLIENT", "UNPAUSE"))
          // Redis now runs the SET, then the release sent after it on the same connection
          const lockExists = Effect.promise(() => other.exists("p:lock:s"))
          yield* Effect.repeat(lockExists, {
            schedule: Schedule.spaced("20 millis"),
            until: (n) => n === 0,
            times: 250
          })
          expect(yield* lockExists).toBe(0)
          const next = yield* Effect.either(store.lock("s", { ttl: Duration.seconds(60), wait: Duration.zero }))
          expect(next._tag).toBe("Right")
        })),
      60_000
    )

    it.live(
      "a paused server: commands fail with Timeout after commandTimeout, then the same record reads back",
      () =>
        Effect.scoped(Effect.gen(function*() {
          const server = yield* privateRedis
          const store = yield* RedisStore.make({ url: server.url, commandTimeout: "300 millis" })
          const other = new Redis(server.url)
          yield* Effect.addFinalizer(() => Effect.promise(() => other.quit()))
          yield* store.write("s", { user: "ada" }, Duration.minutes(1))
          yield* Effect.promise(() => other.call("CLIENT", "PAUSE", "1500", "ALL"))
          const started = Date.now()
          const exit = yield* Effect.exit(store.read("s"))
          const took = Date.now() - started
          expect(storeError(exit)?.reason).toBe("Timeout")
          expect(took).toBeGreaterThanOrEqual(250)
          expect(took).toBeLessThan(1200)
          yield* Effect.sleep(Duration.millis(1600))
          expect(yield* store.read("s")).toEqual(Option.some({ user: "ada" }))
        })),
      30_000
    )
  })
})
