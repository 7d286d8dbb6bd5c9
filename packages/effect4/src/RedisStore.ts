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
 * - `patch` (atomic per-key changes, no resurrection, retired records refused), `rotate` (a move
 *   to a new ID, conditional on the old record: the new record is written, then the old one is
 *   retired by a one-key script only if it is still live and not retired, else the new one is
 *   deleted again) and `lock` (`SET NX PX` with a random token, compare-and-delete release) are
 *   supported. Every script touches one key, so the store runs on a Redis Cluster with any prefix.
 * - Every command is bounded by `commandTimeout` in real time. Failures are `SessionStoreError`s
 *   (`Unavailable`, `Timeout`, `CorruptRecord`, `Unencodable`), never defects.
 *
 * @since 0.1.0
 */
import { RedisLayout } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redis from "effect/persistence/Redis"
import * as Result from "effect/Result"
import { randomBytes } from "node:crypto"
import { checkObject, decodeDuration } from "./internal/options.js"
import { positiveMillis, storeError, ttlMillisOf } from "./internal/storeCommon.js"
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

const retireScript = Redis.script((key: string, args: ReadonlyArray<string>) => [key, ...args], {
  lua: RedisLayout.RETIRE,
  numberOfKeys: 1
}).withReturnType<number>()

/** The real clock: command deadlines must fire in real time even when `TestClock` drives expiry. */
const liveClock = Clock.Clock.defaultValue()

const errorText = (cause: unknown): string => {
  const inner = cause instanceof Redis.RedisError ? cause.cause : cause
  return inner instanceof Error ? inner.message : String(inner)
}

const toStoreError = (operation: string) => (cause: unknown): SessionStoreError => {
  const text = errorText(cause)
  return storeError(RedisLayout.failureReason(text), `redis ${operation}: ${text}`, cause)
}

/** A record's hash back into session data (the core's `RedisLayout.decode`), with the store's errors. */
const decodeHash = (reply: unknown, now: number): Result.Result<Option.Option<SessionData>, SessionStoreError> => {
  const decoded = RedisLayout.decode(reply, now)
  switch (decoded._tag) {
    case "None":
      return Result.succeed(Option.none())
    case "Some":
      return Result.succeed(Option.some(decoded.data))
    case "Corrupt":
      return Result.fail(storeError("CorruptRecord", `redis read: ${decoded.message}`, decoded.cause))
  }
}

/** A script's arguments, or the store's `Unencodable` error. */
const argsOf = (args: RedisLayout.Args): Result.Result<Array<string>, SessionStoreError> =>
  args._tag === "Args" ? Result.succeed(args.args) : Result.fail(storeError("Unencodable", args.message))

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
    yield* Effect.fromResult(checkObject(options))
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
    const expiryOf = (now: number, ttl: Duration.Duration) =>
      RedisLayout.expiry(now, ttlMillisOf(ttl, defaultTtlMillis))

    // The clock is read outside `command` (which runs on the live clock), so TestClock drives expiry.
    const now = Effect.map(Clock.currentTimeMillis, Math.floor)

    const read: RedisStore["read"] = (id) =>
      Effect.flatMap(now, (now) =>
        Effect.flatMap(
          command("read", redis.send<unknown>("HGETALL", key(id))),
          (reply) => Effect.fromResult(decodeHash(reply, now))
        ))

    const write: RedisStore["write"] = (id, data, ttl) =>
      Effect.flatMap(now, (now) =>
        Effect.flatMap(
          Effect.fromResult(argsOf(RedisLayout.writeArgs(data, expiryOf(now, ttl)))),
          (args) => Effect.asVoid(command("write", redis.eval(writeScript)(key(id), args)))
        ))

    const destroy: RedisStore["destroy"] = (id) => Effect.asVoid(command("destroy", redis.send("DEL", key(id))))

    const patch: RedisStore["patch"] = (id, changes, ttl) =>
      Effect.flatMap(now, (now) =>
        Effect.flatMap(
          Effect.fromResult(argsOf(RedisLayout.patchArgs(now, expiryOf(now, ttl), changes))),
          (args) =>
            Effect.map(command("patch", redis.eval(patchScript)(key(id), args)), (applied) => Number(applied) === 1)
        ))

    // The new record first, then the old one retired only if it is still there, else the new one
    // deleted again (the core's `RedisLayout.RETIRE` explains why that is as good as one step).
    // Each script touches one key, so this runs on Redis Cluster with any prefix.
    const rotate: RedisStore["rotate"] = (from, to, rotation) =>
      Effect.andThen(
        write(to, rotation.data, rotation.ttl),
        Effect.flatMap(now, (now) =>
          Effect.flatMap(
            command(
              "rotate",
              redis.eval(retireScript)(key(from), RedisLayout.retireArgs(now, Duration.toMillis(rotation.grace)))
            ),
            (retired) => Number(retired) === 1 ? Effect.succeed(true) : Effect.as(destroy(to), false)
          ))
      )

    const lock: RedisStore["lock"] = (id, lockOptions) =>
      Effect.gen(function*() {
        const lockKey = RedisLayout.lockKey(prefix, id)
        const token = randomBytes(16).toString("base64url")
        const ttlMillis = String(Math.max(1, Math.ceil(Duration.toMillis(lockOptions.ttl))))
        const waitMillis = Duration.toMillis(lockOptions.wait)
        // The release is one command, `EVAL` with the script's text: `redis.eval` may first send
        // `SCRIPT LOAD` and only then `EVALSHA`, so a release bounded by the command timeout while
        // Redis is stalled could be cut off between the two and never reach Redis. Sent whole, it
        // is queued behind the `SET` it undoes, and Redis runs both in order once it answers again.
        const release = command(
          "unlock",
          redis.send<number>("EVAL", RedisLayout.UNLOCK, "1", lockKey, token)
        ).pipe(
          Effect.catch((error) => Effect.logDebug("effect-session: releasing a session lock failed", error.message)),
          Effect.asVoid
        )
        const start = yield* Clock.currentTimeMillis
        while (true) {
          const reply = yield* command("lock", redis.send<unknown>("SET", lockKey, token, "PX", ttlMillis, "NX")).pipe(
            // A SET that failed, timed out or was interrupted (the request gave up) may still run
            // later: release by token, so no lock nobody holds is left behind for its whole TTL.
            // `onExit` runs on interruption too (an error handler does not); the release is forked
            // detached, so the interruption that ended the attempt does not end it as well.
            Effect.onExit((exit) => Exit.isFailure(exit) ? Effect.asVoid(Effect.forkDetach(release)) : Effect.void)
          )
          if (reply === "OK") return release
          const waited = (yield* Clock.currentTimeMillis) - start
          if (waited >= waitMillis) return yield* new SessionLockTimeout({ waitedMillis: waited })
          yield* Effect.sleep(Duration.millis(Math.min(RedisLayout.LOCK_RETRY_MILLIS, waitMillis - waited)))
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
