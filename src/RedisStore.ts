/**
 * A `SessionStore` on Redis (or Valkey) through `ioredis` 5, for many replicas. Import it from
 * `effect-session/RedisStore`: `ioredis` is an optional peer dependency, needed only here.
 *
 * - A record is a hash under `prefix + id`: one field per session key holding that key's JSON, and
 *   a field holding the expiry on Effect's `Clock` (so expiry is exact, and `TestClock` drives it).
 *   The key's `PX` is the same TTL: Redis removes expired records by itself.
 * - `write` replaces the record and its expiry in one Lua script (never SET then EXPIRE). With the
 *   store's default TTL `0` records have no expiry and no `PX` is ever sent.
 * - `patch` (atomic per-key changes, no resurrection) and `lock` (`SET NX PX` with a random token,
 *   compare-and-delete release) are supported.
 * - Every command is bounded by `commandTimeout`; a client the store creates itself has no offline
 *   queue, and auto-pipelines (commands of concurrent requests share socket writes). Failures are `SessionStoreError`s (`Unavailable`, `Timeout`, `CorruptRecord`,
 *   `Unencodable`), never defects.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { type Cluster, Redis, type RedisOptions } from "ioredis"
import { randomBytes } from "node:crypto"
import { durationOr, positiveDurationOr } from "./internal/options.js"
import { setOwn } from "./internal/record.js"
import * as Scripts from "./internal/redisScripts.js"
import { unencodableValue } from "./internal/storedValue.js"
import * as SessionCodec from "./SessionCodec.js"
import { SessionConfigError, SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * Redis store options. Give either `client` (yours: the store never closes it) or `url` and/or
 * `redis` (the store creates the client, connects it when the layer is built, and quits it when
 * the layer's scope closes).
 *
 * @example
 * ```ts
 * import type * as RedisStore from "effect-session/RedisStore"
 *
 * const options: RedisStore.Options = {
 *   url: "redis://127.0.0.1:6379",
 *   prefix: "myapp:session:",
 *   ttl: "2 hours",
 *   commandTimeout: "1 second"
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * An existing `ioredis` client (or `Cluster`). The store defines its Lua commands on it and
   * never closes it. Give it `enableOfflineQueue: false`, or commands sent while it is
   * disconnected wait in its queue (the store still answers `Timeout` after `commandTimeout`,
   * but the queued command runs later).
   */
  readonly client?: Redis | Cluster | undefined
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`), for a client the store creates. */
  readonly url?: string | undefined
  /** More `ioredis` options for a client the store creates (they override the store's defaults). */
  readonly redis?: RedisOptions | undefined
  /** Prefix of every key the store writes. Default `"session:"`. */
  readonly prefix?: string | undefined
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.DurationInput | undefined
  /** How long one command may take before it fails with `Timeout`. Default 2 seconds. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long building the layer waits for a client it creates to connect. Default 10 seconds. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * What `make` returns: a `SessionStoreService` whose optional `patch` and `lock` are present.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import * as RedisStore from "effect-session/RedisStore"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* RedisStore.make({ url: "redis://127.0.0.1:6379" })
 *   yield* store.patch("key", { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.zero)
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisStore extends SessionStoreService {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
  readonly lock: NonNullable<SessionStoreService["lock"]>
}

/** The store's commands, defined on the client with `defineCommand`. */
interface ScriptedClient {
  effectSessionWrite(key: string, ...args: Array<string>): Promise<number>
  effectSessionPatch(key: string, ...args: Array<string>): Promise<number>
  effectSessionUnlock(key: string, token: string): Promise<number>
  effectSessionRetire(key: string, now: string, grace: string, until: string): Promise<number>
  hgetall(key: string): Promise<Record<string, string>>
  set(key: string, value: string, px: "PX", ttl: number, nx: "NX"): Promise<"OK" | null>
  del(key: string): Promise<number>
}

const defineCommands = (client: Redis | Cluster): ScriptedClient => {
  // Defining twice (two stores sharing one client) is harmless: same names, same scripts.
  client.defineCommand("effectSessionWrite", { numberOfKeys: 1, lua: Scripts.WRITE })
  client.defineCommand("effectSessionPatch", { numberOfKeys: 1, lua: Scripts.PATCH })
  client.defineCommand("effectSessionUnlock", { numberOfKeys: 1, lua: Scripts.UNLOCK })
  client.defineCommand("effectSessionRetire", { numberOfKeys: 1, lua: Scripts.RETIRE })
  return client as unknown as ScriptedClient
}

/** The real clock: command deadlines must fire in real time even when `TestClock` drives expiry. */
const liveClock = Clock.make()

const errorText = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

const toStoreError = (operation: string) => (cause: unknown): SessionStoreError => {
  const text = errorText(cause)
  const reason: SessionStoreError["reason"] = text.startsWith("WRONGTYPE") || text.startsWith("CORRUPT")
    ? "CorruptRecord"
    : text.startsWith("NONFINITE")
    ? "Unencodable"
    : /timed? ?out/i.test(text)
    ? "Timeout"
    : "Unavailable"
  return new SessionStoreError({ reason, message: `redis ${operation}: ${text}`, cause })
}

const corrupt = (why: string) => new SessionStoreError({ reason: "CorruptRecord", message: `redis read: ${why}` })

/** Turns a record's hash back into session data, or says why it cannot. */
const decodeHash = (
  hash: Record<string, string>,
  now: number
): Either.Either<Option.Option<SessionCodec.SessionData>, SessionStoreError> => {
  const fields = Object.keys(hash)
  if (fields.length === 0) return Either.right(Option.none())
  const expiry = hash[Scripts.EXPIRY_FIELD]
  if (expiry === undefined) return Either.left(corrupt("session record has no expiry field"))
  if (expiry !== Scripts.NEVER) {
    const at = Number(expiry)
    if (expiry === "" || Number.isNaN(at)) return Either.left(corrupt("session record has an invalid expiry"))
    if (now >= at) return Either.right(Option.none())
  }
  const data: Record<string, unknown> = {}
  for (const field of fields) {
    if (field === Scripts.EXPIRY_FIELD) continue
    let key: unknown
    let value: unknown
    try {
      key = JSON.parse(field)
      value = JSON.parse(hash[field]!)
    } catch (cause) {
      return Either.left(new SessionStoreError({ reason: "CorruptRecord", message: "redis read: not JSON", cause }))
    }
    if (typeof key !== "string") return Either.left(corrupt("session record has a field that is not a key"))
    setOwn(data, key, value) // a key such as "__proto__" is plain data
  }
  return Either.right(Option.some(data))
}

const positiveMillis = (option: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
  Either.map(positiveDurationOr(option, input, fallback), (duration) => Math.ceil(Duration.toMillis(duration)))

/**
 * Builds a Redis store in the current scope. With `url`/`redis` it creates the client (no
 * offline queue, bounded retries), waits until it is connected (failing with `SessionStoreError`
 * when it cannot connect within `connectTimeout`) and quits it when the scope closes; with
 * `client` it uses yours as it is.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import * as RedisStore from "effect-session/RedisStore"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* RedisStore.make({ url: "redis://127.0.0.1:6379", prefix: "demo:" })
 *   yield* store.write("key", { n: 1 }, Duration.minutes(5))
 *   return yield* store.read("key")
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<RedisStore, SessionConfigError | SessionStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    if (options.client !== undefined && (options.url !== undefined || options.redis !== undefined)) {
      return yield* new SessionConfigError({
        option: "client",
        message: "give either client (your own ioredis client) or url/redis options, not both"
      })
    }
    const prefix = options.prefix ?? "session:"
    const ttl = yield* durationOr("ttl", options.ttl, Duration.hours(2))
    const defaultTtlMillis = Math.ceil(Duration.toMillis(ttl))
    const commandTimeoutMillis = yield* positiveMillis("commandTimeout", options.commandTimeout, Duration.seconds(2))
    const connectTimeoutMillis = yield* positiveMillis("connectTimeout", options.connectTimeout, Duration.seconds(10))

    const client = options.client ?? (yield* ownClient(options, commandTimeoutMillis, connectTimeoutMillis))
    const redis = defineCommands(client)

    /** Runs one command, bounded in real time, with its failure mapped to a `SessionStoreError`. */
    // A client the store creates has ioredis' own `commandTimeout`, which rejects the command's
    // promise ("Command timed out" → Timeout): no Effect timer per command on the hot path. A
    // client the user gives may have none, so its commands get an Effect timeout in real time.
    const command = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, SessionStoreError> =>
      options.client === undefined
        ? Effect.tryPromise({ try: run, catch: toStoreError(operation) })
        : boundedCommand(operation, run)
    const boundedCommand = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, SessionStoreError> =>
      Effect.tryPromise({ try: run, catch: toStoreError(operation) }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(commandTimeoutMillis),
          onTimeout: () =>
            new SessionStoreError({
              reason: "Timeout",
              message: `redis ${operation}: no answer within ${commandTimeoutMillis} ms`
            })
        }),
        Effect.withClock(liveClock)
      )

    /** The record's expiry field and PX for a write at `now` with `ttl` (zero: the default). */
    const expiryOf = (now: number, ttl: Duration.Duration): [expiry: string, px: string] => {
      const requested = Math.ceil(Duration.toMillis(ttl))
      const millis = requested > 0 ? requested : defaultTtlMillis
      return millis > 0 ? [String(now + millis), String(millis)] : [Scripts.NEVER, "0"]
    }

    // Each operation reads the clock and builds its command in one step (no generator): these run
    // once or twice per request.
    const read = (id: string) =>
      Effect.clockWith((clock) =>
        Effect.flatMap(
          command("read", () => redis.hgetall(prefix + id)),
          (hash) => decodeHash(hash, clock.unsafeCurrentTimeMillis())
        )
      )

    const write = (id: string, data: SessionCodec.SessionData, ttl: Duration.Duration) =>
      Effect.clockWith((clock) => {
        const args: Array<string> = []
        for (const key of Object.keys(data)) {
          const value = data[key]
          const error = unencodableValue(key, value)
          if (error !== undefined) return Effect.fail(error)
          args.push(JSON.stringify(key), JSON.stringify(value))
        }
        const [expiry, px] = expiryOf(clock.unsafeCurrentTimeMillis(), ttl)
        return Effect.asVoid(command("write", () => redis.effectSessionWrite(prefix + id, expiry, px, ...args)))
      })

    const destroy = (id: string) => Effect.asVoid(command("destroy", () => redis.del(prefix + id)))

    const patch: RedisStore["patch"] = (id, patch, ttl) =>
      Effect.clockWith((clock) => {
        const set: Array<string> = []
        for (const [key, value] of patch.set) {
          const error = unencodableValue(key, value)
          if (error !== undefined) return Effect.fail(error)
          set.push(JSON.stringify(key), JSON.stringify(value))
        }
        const add: Array<string> = []
        for (const [key, delta] of patch.add) {
          if (!Number.isFinite(delta)) {
            return Effect.fail(
              new SessionStoreError({
                reason: "Unencodable",
                message: `session delta for key ${JSON.stringify(key)} is ${delta}`
              })
            )
          }
          add.push(JSON.stringify(key), String(delta))
        }
        const now = clock.unsafeCurrentTimeMillis()
        const [expiry, px] = expiryOf(now, ttl)
        return Effect.map(
          command("patch", () =>
            redis.effectSessionPatch(
              prefix + id,
              String(now),
              expiry,
              px,
              patch.clear ? "1" : "0",
              String(patch.remove.length),
              String(patch.set.length),
              String(patch.add.length),
              ...patch.remove.map((key) => JSON.stringify(key)),
              ...set,
              ...add
            )),
          (applied) => applied === 1
        )
      })

    // The new record first, then the old one retired only if it is still there, else the new one
    // deleted again: nobody can reach the new record before this returns (its ID is not out yet),
    // so this is as good as one atomic step, and each script touches one key (Redis Cluster).
    const rotate: RedisStore["rotate"] = (from, to, data, ttl, grace) =>
      Effect.zipRight(
        write(to, data, ttl),
        Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          const graceMillis = Math.ceil(Duration.toMillis(grace))
          return Effect.flatMap(
            command(
              "rotate",
              () =>
                redis.effectSessionRetire(prefix + from, String(now), String(graceMillis), String(now + graceMillis))
            ),
            (retired) => retired === 1 ? Effect.succeed(true) : Effect.as(destroy(to), false)
          )
        })
      )

    const lock: RedisStore["lock"] = (id, lockOptions) =>
      Effect.gen(function*() {
        const key = `${prefix}lock:${id}`
        const token = randomBytes(16).toString("base64url")
        const ttlMillis = Math.max(1, Math.ceil(Duration.toMillis(lockOptions.ttl)))
        const waitMillis = Duration.toMillis(lockOptions.wait)
        const start = yield* Clock.currentTimeMillis
        while (true) {
          const reply = yield* command("lock", () => redis.set(key, token, "PX", ttlMillis, "NX"))
          if (reply === "OK") {
            return command("unlock", () => redis.effectSessionUnlock(key, token)).pipe(
              Effect.catchAll((error) => Effect.logDebug("effect-session: releasing a session lock failed", error)),
              Effect.asVoid
            )
          }
          const waited = (yield* Clock.currentTimeMillis) - start
          if (waited >= waitMillis) return yield* new SessionLockTimeout({ waitedMillis: waited })
          yield* Effect.sleep(Duration.millis(Math.min(LOCK_RETRY_MILLIS, waitMillis - waited)))
        }
      })

    return { read, write, destroy, patch, rotate, lock } satisfies RedisStore
  })

/** Delay between two attempts to take a held lock. */
const LOCK_RETRY_MILLIS = 15

/** Creates, connects and (when the scope closes) quits a client the store owns. */
const ownClient = (
  options: Options,
  commandTimeoutMillis: number,
  connectTimeoutMillis: number
): Effect.Effect<Redis, SessionStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const redisOptions: RedisOptions = {
      // Fail fast instead of queueing while disconnected: a request gets a 503 now, and no
      // stale command runs after the outage.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMillis,
      connectTimeout: connectTimeoutMillis,
      // Commands issued in the same tick (many requests' loads and saves) share one write to the
      // socket: less CPU per command, same commands and replies.
      enableAutoPipelining: true,
      ...options.redis,
      lazyConnect: true
    }
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => options.url === undefined ? new Redis(redisOptions) : new Redis(options.url, redisOptions)),
      (client) =>
        client.status === "ready"
          ? Effect.promise(() => client.quit().catch(() => client.disconnect())).pipe(
            Effect.timeoutOption(Duration.seconds(1)),
            Effect.zipRight(Effect.sync(() => client.disconnect())),
            Effect.withClock(liveClock)
          )
          : Effect.sync(() => client.disconnect())
    )
    // Connection errors surface as failed commands; without a listener ioredis prints each one.
    const runtime = yield* Effect.runtime<never>()
    client.on("error", (error: unknown) => {
      Runtime.runFork(runtime)(Effect.logDebug("effect-session: redis connection error", errorText(error)))
    })
    yield* Effect.tryPromise({ try: () => client.connect(), catch: toStoreError("connect") }).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(connectTimeoutMillis),
        onTimeout: () =>
          new SessionStoreError({
            reason: "Timeout",
            message: `redis connect: not connected within ${connectTimeoutMillis} ms`
          })
      }),
      Effect.withClock(liveClock)
    )
    return client
  })

/**
 * A `SessionStore` layer on Redis. Fails with `SessionConfigError` on invalid options and with
 * `SessionStoreError` when a client it creates cannot connect.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServer } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Session } from "effect-session"
 * import * as RedisStore from "effect-session/RedisStore"
 *
 * const StoreLive = RedisStore.layer({ url: "redis://127.0.0.1:6379", prefix: "myapp:session:" })
 * const app = HttpRouter.empty.pipe(Session.middleware(), HttpServer.serve(), Layer.provide(StoreLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<SessionStore, SessionConfigError | SessionStoreError> =>
  Layer.scoped(SessionStore, make(options))

/**
 * A `SessionStore` layer on Redis whose options come from `Config`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import * as RedisStore from "effect-session/RedisStore"
 *
 * const StoreLive = RedisStore.layerConfig({
 *   url: Config.string("REDIS_URL"),
 *   prefix: Config.string("SESSION_PREFIX").pipe(Config.withDefault("session:"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<SessionStore, ConfigError.ConfigError | SessionConfigError | SessionStoreError> =>
  Layer.scoped(SessionStore, Effect.flatMap(Config.unwrap(config), make))
