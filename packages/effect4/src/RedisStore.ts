/**
 * A `SessionStore` on Redis (or Valkey) through effect's own `Redis` service
 * (`effect/persistence/Redis`), for many replicas. Any provider of that service works:
 * `NodeRedis.layer` from `@effect/platform-node` (node-redis 5), or your own.
 *
 * The record layout and Lua scripts are the shared core's (`RedisLayout`), the same as the effect 3
 * package's `RedisStore`: an effect 3 app and an effect 4 app can share one Redis.
 *
 * - A record is a hash under `prefix + id`: one field per session key (the key as a JSON string)
 *   holding that key's JSON, and a field `x` holding the expiry on Effect's `Clock` (so expiry is
 *   exact, and `TestClock` drives it). The key's `PX` is the same TTL: Redis removes expired
 *   records by itself.
 * - `write` replaces the record and its expiry in one Lua script. With the store's default TTL `0`
 *   records have no expiry and no `PX` is ever sent.
 * - `patch` (atomic per-key changes, no resurrection, retired records refused), `rotate` (atomic
 *   move to a new ID, conditional on the old record) and `lock` (`SET NX PX` with a random token,
 *   compare-and-delete release) are supported. On a Redis Cluster, `rotate` needs both keys in
 *   one slot: put a hash tag in the prefix (`"{session}:"`).
 * - Every command is bounded by `commandTimeout` in real time. Failures are `SessionStoreError`s
 *   (`Unavailable`, `Timeout`, `CorruptRecord`, `Unencodable`), never defects.
 *
 * @since 0.1.0
 */
import { RedisLayout } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redis from "effect/persistence/Redis"
import * as Result from "effect/Result"
import { randomBytes } from "node:crypto"
import { decodeDuration } from "./internal/options.js"
import { positiveMillis, storeError, ttlMillisOf } from "./internal/storeCommon.js"
import { setOwn, unstorable } from "./internal/storeRecord.js"
import type { SessionConfigError } from "./SessionError.js"
import { SessionLockTimeout, type SessionStoreError } from "./SessionError.js"
import { type SessionData, SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * Redis store options. Every field is optional.
 *
 * @example
 * ```ts
 * import type * as RedisStore from "effect-session-v4/RedisStore"
 *
 * const options: RedisStore.Options = { prefix: "myapp:session:", ttl: "2 hours", commandTimeout: "1 second" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prefix of every key the store writes. Default `"session:"` (the effect 3 store's default). */
  readonly prefix?: string | undefined
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.Input | undefined
  /** How long one command may take, in real time, before it fails with `Timeout`. Default 2 seconds. */
  readonly commandTimeout?: Duration.Input | undefined
}

/**
 * What `make` returns: a `SessionStoreService` whose optional `patch`, `lock` and `rotate` are
 * present.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import * as RedisStore from "effect-session-v4/RedisStore"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* RedisStore.make({ prefix: "demo:" })
 *   yield* store.patch("key", { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.zero)
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisStore extends SessionStoreService {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly lock: NonNullable<SessionStoreService["lock"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
}

const writeScript = Redis.script((key: string, args: ReadonlyArray<string>) => [key, ...args], {
  lua: RedisLayout.WRITE,
  numberOfKeys: 1
}).withReturnType<number>()

const patchScript = Redis.script((key: string, args: ReadonlyArray<string>) => [key, ...args], {
  lua: RedisLayout.PATCH,
  numberOfKeys: 1
}).withReturnType<number>()

const rotateScript = Redis.script((from: string, to: string, args: ReadonlyArray<string>) => [from, to, ...args], {
  lua: RedisLayout.ROTATE,
  numberOfKeys: 2
}).withReturnType<number>()

const unlockScript = Redis.script((key: string, token: string) => [key, token], {
  lua: RedisLayout.UNLOCK,
  numberOfKeys: 1
}).withReturnType<number>()

/** The real clock: command deadlines must fire in real time even when `TestClock` drives expiry. */
const liveClock = Clock.Clock.defaultValue()

/** Delay between two attempts to take a held lock. */
const LOCK_RETRY_MILLIS = 15

const errorText = (cause: unknown): string => {
  const inner = cause instanceof Redis.RedisError ? cause.cause : cause
  return inner instanceof Error ? inner.message : String(inner)
}

const toStoreError = (operation: string) => (cause: unknown): SessionStoreError => {
  const text = errorText(cause)
  const reason: SessionStoreError["reason"] = text.startsWith("WRONGTYPE") || text.startsWith("CORRUPT")
    ? "CorruptRecord"
    : text.startsWith("NONFINITE")
    ? "Unencodable"
    : /timed? ?out/i.test(text)
    ? "Timeout"
    : "Unavailable"
  return storeError(reason, `redis ${operation}: ${text}`, cause)
}

const corrupt = (why: string) => storeError("CorruptRecord", `redis read: ${why}`)

/**
 * `HGETALL`'s reply as field/value pairs: a flat array (RESP2), or an object or a `Map` (RESP3),
 * depending on the provider.
 */
const hashEntries = (reply: unknown): Result.Result<Array<readonly [string, string]>, SessionStoreError> => {
  if (reply === null || reply === undefined) return Result.succeed([])
  if (Array.isArray(reply)) {
    if (reply.length % 2 !== 0) return Result.fail(corrupt("HGETALL reply has an odd length"))
    const entries: Array<readonly [string, string]> = []
    for (let i = 0; i < reply.length; i += 2) entries.push([String(reply[i]), String(reply[i + 1])])
    return Result.succeed(entries)
  }
  if (reply instanceof Map) return Result.succeed([...reply].map(([k, v]) => [String(k), String(v)] as const))
  if (typeof reply === "object") {
    return Result.succeed(Object.entries(reply as Record<string, unknown>).map(([k, v]) => [k, String(v)] as const))
  }
  return Result.fail(corrupt("HGETALL reply is not a hash"))
}

/** Turns a record's hash back into session data at `now`, or says why it cannot. */
const decodeHash = (
  entries: ReadonlyArray<readonly [string, string]>,
  now: number
): Result.Result<Option.Option<SessionData>, SessionStoreError> => {
  if (entries.length === 0) return Result.succeed(Option.none())
  const expiry = entries.find(([field]) => field === RedisLayout.EXPIRY_FIELD)?.[1]
  if (expiry === undefined) return Result.fail(corrupt("session record has no expiry field"))
  if (expiry !== RedisLayout.NEVER) {
    const at = Number(expiry)
    if (expiry === "" || Number.isNaN(at)) return Result.fail(corrupt("session record has an invalid expiry"))
    if (now >= at) return Result.succeed(Option.none())
  }
  const data: Record<string, unknown> = {}
  for (const [field, text] of entries) {
    if (field === RedisLayout.EXPIRY_FIELD) continue
    let key: unknown
    let value: unknown
    try {
      key = JSON.parse(field)
      value = JSON.parse(text)
    } catch (cause) {
      return Result.fail(storeError("CorruptRecord", "redis read: not JSON", cause))
    }
    if (typeof key !== "string") return Result.fail(corrupt("session record has a field that is not a key"))
    setOwn(data, key, value) // a key such as "__proto__" is plain data
  }
  return Result.succeed(Option.some(data))
}

/** A record's fields and values as the scripts take them, or `Unencodable`. */
const fieldsOf = (data: SessionData): Result.Result<Array<string>, SessionStoreError> => {
  const args: Array<string> = []
  for (const key of Object.keys(data)) {
    const value = data[key]
    const problem = unstorable(key, value)
    if (problem !== undefined) return Result.fail(storeError("Unencodable", problem))
    args.push(RedisLayout.fieldOf(key), JSON.stringify(value))
  }
  return Result.succeed(args)
}

/**
 * Builds a Redis store on the `Redis` service in context.
 *
 * @example
 * ```ts
 * import { NodeRedis } from "@effect/platform-node"
 * import { Duration, Effect } from "effect"
 * import * as RedisStore from "effect-session-v4/RedisStore"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* RedisStore.make({ prefix: "demo:" })
 *   yield* store.write("key", { n: 1 }, Duration.minutes(5))
 *   return yield* store.read("key")
 * }).pipe(Effect.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<RedisStore, SessionConfigError, Redis.Redis> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const prefix = options.prefix ?? "session:"
    const defaultTtlMillis = yield* Effect.fromResult(decodeDuration("ttl", options.ttl ?? Duration.hours(2)))
    const commandTimeoutMillis = yield* Effect.fromResult(
      positiveMillis("commandTimeout", options.commandTimeout, Duration.seconds(2), decodeDuration)
    )
    const key = (id: string) => RedisLayout.recordKey(prefix, id)

    /** Runs one command, bounded in real time, with its failure mapped to a `SessionStoreError`. */
    const command = <A>(operation: string, effect: Effect.Effect<A, Redis.RedisError>) =>
      effect.pipe(
        Effect.mapError(toStoreError(operation)),
        Effect.timeoutOrElse({
          duration: Duration.millis(commandTimeoutMillis),
          orElse: () =>
            Effect.fail(storeError("Timeout", `redis ${operation}: no answer within ${commandTimeoutMillis} ms`))
        }),
        Effect.provideService(Clock.Clock, liveClock)
      )

    /** The record's expiry field and PX for a write at `now` with `ttl` (zero: the default). */
    const expiryOf = (now: number, ttl: Duration.Duration): [expiry: string, px: string] => {
      const millis = ttlMillisOf(ttl, defaultTtlMillis)
      return millis > 0 ? [String(now + millis), String(millis)] : [RedisLayout.NEVER, "0"]
    }

    // The clock is read outside `command` (which runs on the live clock), so TestClock drives expiry.
    const now = Effect.map(Clock.currentTimeMillis, Math.floor)

    const read: RedisStore["read"] = (id) =>
      Effect.flatMap(now, (now) =>
        Effect.flatMap(
          command("read", redis.send<unknown>("HGETALL", key(id))),
          (reply) => Effect.fromResult(Result.flatMap(hashEntries(reply), (entries) => decodeHash(entries, now)))
        ))

    const write: RedisStore["write"] = (id, data, ttl) =>
      Effect.flatMap(Effect.fromResult(fieldsOf(data)), (fields) =>
        Effect.flatMap(now, (now) => {
          const [expiry, px] = expiryOf(now, ttl)
          return Effect.asVoid(command("write", redis.eval(writeScript)(key(id), [expiry, px, ...fields])))
        }))

    const destroy: RedisStore["destroy"] = (id) => Effect.asVoid(command("destroy", redis.send("DEL", key(id))))

    const patch: RedisStore["patch"] = (id, changes, ttl) =>
      Effect.flatMap(now, (now) => {
        const set: Array<string> = []
        for (const [k, value] of changes.set) {
          const problem = unstorable(k, value)
          if (problem !== undefined) return Effect.fail(storeError("Unencodable", problem))
          set.push(RedisLayout.fieldOf(k), JSON.stringify(value))
        }
        const add: Array<string> = []
        for (const [k, delta] of changes.add) {
          if (!Number.isFinite(delta)) {
            return Effect.fail(storeError("Unencodable", `session delta for key ${JSON.stringify(k)} is ${delta}`))
          }
          add.push(RedisLayout.fieldOf(k), String(delta))
        }
        const [expiry, px] = expiryOf(now, ttl)
        const args = [
          String(now),
          expiry,
          px,
          changes.clear ? "1" : "0",
          String(changes.remove.length),
          String(changes.set.length),
          String(changes.add.length),
          ...changes.remove.map(RedisLayout.fieldOf),
          ...set,
          ...add
        ]
        return Effect.map(command("patch", redis.eval(patchScript)(key(id), args)), (applied) => Number(applied) === 1)
      })

    const rotate: RedisStore["rotate"] = (from, to, rotation) =>
      Effect.flatMap(Effect.fromResult(fieldsOf(rotation.data)), (fields) =>
        Effect.flatMap(now, (now) => {
          const [expiry, px] = expiryOf(now, rotation.ttl)
          const grace = String(Math.max(0, Math.ceil(Duration.toMillis(rotation.grace))))
          return Effect.map(
            command(
              "rotate",
              redis.eval(rotateScript)(key(from), key(to), [String(now), expiry, px, grace, ...fields])
            ),
            (applied) => Number(applied) === 1
          )
        }))

    const lock: RedisStore["lock"] = (id, lockOptions) =>
      Effect.gen(function*() {
        const lockKey = RedisLayout.lockKey(prefix, id)
        const token = randomBytes(16).toString("base64url")
        const ttlMillis = String(Math.max(1, Math.ceil(Duration.toMillis(lockOptions.ttl))))
        const waitMillis = Duration.toMillis(lockOptions.wait)
        const release = command("unlock", redis.eval(unlockScript)(lockKey, token)).pipe(
          Effect.catch((error) => Effect.logDebug("effect-session: releasing a session lock failed", error.message)),
          Effect.asVoid
        )
        const start = yield* Clock.currentTimeMillis
        while (true) {
          const reply = yield* command("lock", redis.send<unknown>("SET", lockKey, token, "PX", ttlMillis, "NX")).pipe(
            // A SET that timed out here may still run later: release by token, so no lock nobody
            // holds is left behind for its whole TTL.
            Effect.tapError(() => Effect.forkDetach(release))
          )
          if (reply === "OK") return release
          const waited = (yield* Clock.currentTimeMillis) - start
          if (waited >= waitMillis) return yield* new SessionLockTimeout({ waitedMillis: waited })
          yield* Effect.sleep(Duration.millis(Math.min(LOCK_RETRY_MILLIS, waitMillis - waited)))
        }
      })

    return { read, write, destroy, patch, lock, rotate } satisfies RedisStore
  })

/**
 * A `SessionStore` layer on the `Redis` service in context. Provide that service with any
 * provider, for instance `NodeRedis.layer` from `@effect/platform-node`.
 *
 * @example
 * ```ts
 * import { NodeRedis } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import * as RedisStore from "effect-session-v4/RedisStore"
 *
 * const StoreLive = RedisStore.layer({ prefix: "myapp:session:" }).pipe(
 *   Layer.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<SessionStore, SessionConfigError, Redis.Redis> =>
  Layer.effect(SessionStore, make(options))

/**
 * A `SessionStore` layer with its `Redis` provider built in: a provider that cannot connect
 * fails the layer with `SessionStoreError` (`Unavailable`), like every other store failure.
 *
 * @example
 * ```ts
 * import { NodeRedis } from "@effect/platform-node"
 * import * as RedisStore from "effect-session-v4/RedisStore"
 *
 * const StoreLive = RedisStore.layerWith(NodeRedis.layer({ url: "redis://127.0.0.1:6379" }), {
 *   prefix: "myapp:session:"
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = <ROut, R>(
  redis: Layer.Layer<ROut | Redis.Redis, Redis.RedisError, R>,
  options?: Options
): Layer.Layer<SessionStore, SessionConfigError | SessionStoreError, R> =>
  layer(options).pipe(
    Layer.provide(redis),
    Layer.catchTag(
      "RedisError",
      (error) => Layer.effect(SessionStore, Effect.fail(toStoreError("connect")(error)))
    )
  )
