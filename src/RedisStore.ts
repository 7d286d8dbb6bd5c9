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
 * - Every command is bounded by `commandTimeout` on the store's own timer (whatever the client's
 *   queues do); a client the store creates itself has no offline queue, and auto-pipelines
 *   (commands of concurrent requests share socket writes). A lock attempt that fails or times out
 *   releases its token at once, so a late `SET NX` leaves no lock behind. Failures are
 *   `SessionStoreError`s (`Unavailable`, `Timeout`, `CorruptRecord`, `Unencodable`), never defects;
 *   a failed connect names the server (`host:port`, never credentials) and carries the cause.
 *
 * @since 0.1.0
 */
import { Lifetime, RedisLayout } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { type Cluster, Redis, type RedisOptions } from "ioredis"
import { randomBytes } from "node:crypto"
import { Deadlines, MAX_DELAY } from "./internal/deadlines.js"
import { checkObject, durationOr, positiveDurationOr } from "./internal/options.js"
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
   * but the queued command runs later). Building the layer waits, up to `connectTimeout`, until
   * the client is ready (connecting it if it is lazy and was never connected).
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
  /**
   * How long building the layer waits for the client (its own or yours) to be ready. Default 10
   * seconds. Longer than about 24.8 days waits that long: the longest
   * timer Node keeps.
   */
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
  // The arguments as one array (ioredis flattens it), never spread into the call: a spread of tens
  // of thousands of arguments can run out of stack inside ioredis's auto-pipelining, after it has
  // queued the reply's callback but before the command, and every later reply in that pipeline
  // would then go to the wrong request.
  effectSessionWrite(key: string, args: ReadonlyArray<string>): Promise<number>
  effectSessionPatch(key: string, args: ReadonlyArray<string>): Promise<number>
  effectSessionUnlock(key: string, token: string): Promise<number>
  effectSessionRetire(key: string, now: string, grace: string): Promise<number>
  hgetall(key: string): Promise<Record<string, string>>
  set(key: string, value: string, px: "PX", ttl: number, nx: "NX"): Promise<"OK" | null>
  del(key: string): Promise<number>
}

const defineCommands = (client: Redis | Cluster): ScriptedClient => {
  // Defining twice (two stores sharing one client) is harmless: same names, same scripts.
  client.defineCommand("effectSessionWrite", { numberOfKeys: 1, lua: RedisLayout.WRITE })
  client.defineCommand("effectSessionPatch", { numberOfKeys: 1, lua: RedisLayout.PATCH })
  client.defineCommand("effectSessionUnlock", { numberOfKeys: 1, lua: RedisLayout.UNLOCK })
  client.defineCommand("effectSessionRetire", { numberOfKeys: 1, lua: RedisLayout.RETIRE })
  return client as unknown as ScriptedClient
}

/** The real clock: command deadlines must fire in real time even when `TestClock` drives expiry. */
const liveClock = Clock.make()

const errorText = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

const toStoreError = (operation: string) => (cause: unknown): SessionStoreError => {
  const text = errorText(cause)
  return new SessionStoreError({
    reason: RedisLayout.failureReason(text),
    message: `redis ${operation}: ${text}`,
    cause
  })
}

/** A record's hash back into session data (the core's `RedisLayout.decode`), with the store's errors. */
const decodeHash = (
  hash: Record<string, string>,
  now: number
): Either.Either<Option.Option<SessionCodec.SessionData>, SessionStoreError> => {
  const decoded = RedisLayout.decode(hash, now)
  switch (decoded._tag) {
    case "None":
      return Either.right(Option.none())
    case "Some":
      return Either.right(Option.some(decoded.data))
    case "Corrupt":
      return Either.left(
        new SessionStoreError({
          reason: "CorruptRecord",
          message: `redis read: ${decoded.message}`,
          cause: decoded.cause
        })
      )
  }
}

/** The store's `Unencodable` error for arguments the core could not build. */
const unencodable = (args: Exclude<RedisLayout.Args, { readonly _tag: "Args" }>): SessionStoreError =>
  new SessionStoreError({ reason: "Unencodable", message: args.message })

const positiveMillis = (option: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
  Either.map(positiveDurationOr(option, input, fallback), (duration) => Math.ceil(Duration.toMillis(duration)))

/**
 * Builds a Redis store in the current scope. With `url`/`redis` it creates the client (no
 * offline queue, bounded retries), waits until it is connected (failing with `SessionStoreError`
 * when it cannot connect within `connectTimeout`) and quits it when the scope closes; with
 * `client` it uses yours as it is, once it is ready (waiting up to `connectTimeout`).
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
    yield* checkObject(options)
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
    // Beyond `setTimeout`'s limit a timer would fire at once, failing a client that is still connecting.
    const connectTimeoutMillis = Math.min(
      MAX_DELAY,
      yield* positiveMillis("connectTimeout", options.connectTimeout, Duration.seconds(10))
    )

    const client = options.client ?? (yield* ownClient(options, connectTimeoutMillis))
    if (options.client !== undefined) yield* clientReady(options.client, connectTimeoutMillis)
    const redis = defineCommands(client)

    /**
     * Runs one command, bounded in real time by the store's own timer, with its failure mapped to
     * a `SessionStoreError`. ioredis' `commandTimeout` is not enough: with auto-pipelining, a
     * command queued behind a pipeline that is still waiting gets its timer only when that
     * pipeline ends (about twice the timeout, then three times...), and a user's client may have
     * none. All commands share one timeout, so their deadlines share one timer (`Deadlines`); no
     * interruption handler is needed: a deadline that fires after its fiber was interrupted
     * resumes nothing (an async step resumes once), and the layer's scope drops the queue.
     */
    const deadlines = yield* Effect.acquireRelease(
      Effect.sync(() => new Deadlines(commandTimeoutMillis)),
      (deadlines) => Effect.sync(() => deadlines.close())
    )
    const command = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, SessionStoreError> =>
      Effect.async<A, SessionStoreError>((resume) => {
        let promise: Promise<A>
        try {
          promise = run()
        } catch (cause) {
          resume(Effect.fail(toStoreError(operation)(cause)))
          return
        }
        const deadline = deadlines.add(() =>
          resume(Effect.fail(
            new SessionStoreError({
              reason: "Timeout",
              message: `redis ${operation}: no answer within ${commandTimeoutMillis} ms`
            })
          ))
        )
        promise.then(
          (value) => {
            deadlines.settle(deadline)
            resume(Effect.succeed(value))
          },
          (cause) => {
            deadlines.settle(deadline)
            resume(Effect.fail(toStoreError(operation)(cause)))
          }
        )
      })

    /** The record's expiry field and PX for a write at `now` with `ttl` (zero: the default). */
    const expiryOf = (now: number, ttl: Duration.Duration) =>
      RedisLayout.expiry(now, Lifetime.storeTtl(Duration.toMillis(ttl), defaultTtlMillis))
    const key = (id: string) => RedisLayout.recordKey(prefix, id)

    // Each operation reads the clock and builds its command in one step (no generator): these run
    // once or twice per request.
    const read = (id: string) =>
      Effect.clockWith((clock) =>
        Effect.flatMap(
          command("read", () => redis.hgetall(key(id))),
          (hash) => decodeHash(hash, Math.floor(clock.unsafeCurrentTimeMillis()))
        )
      )

    // The arguments are built in the step that reads the clock (an `Either` would be a step of its own).
    const write = (id: string, data: SessionCodec.SessionData, ttl: Duration.Duration) =>
      Effect.clockWith((clock) => {
        const args = RedisLayout.writeArgs(data, expiryOf(Math.floor(clock.unsafeCurrentTimeMillis()), ttl))
        if (args._tag !== "Args") return Effect.fail(unencodable(args))
        return Effect.asVoid(command("write", () => redis.effectSessionWrite(key(id), args.args)))
      })

    const destroy = (id: string) => Effect.asVoid(command("destroy", () => redis.del(key(id))))

    const patch: RedisStore["patch"] = (id, patch, ttl) =>
      Effect.clockWith((clock) => {
        const now = Math.floor(clock.unsafeCurrentTimeMillis())
        const args = RedisLayout.patchArgs(now, expiryOf(now, ttl), patch)
        if (args._tag !== "Args") return Effect.fail(unencodable(args))
        return Effect.map(command("patch", () => redis.effectSessionPatch(key(id), args.args)), (n) => n === 1)
      })

    // The new record first, then the old one retired only if it is still there, else the new one
    // deleted again (the core's `RedisLayout.RETIRE` explains why that is as good as one step).
    // Each script touches one key, so this runs on Redis Cluster with any prefix.
    const rotate: RedisStore["rotate"] = (from, to, data, ttl, grace) =>
      Effect.zipRight(
        write(to, data, ttl),
        Effect.clockWith((clock) => {
          const args = RedisLayout.retireArgs(Math.floor(clock.unsafeCurrentTimeMillis()), Duration.toMillis(grace))
          return Effect.flatMap(
            command("rotate", () => redis.effectSessionRetire(key(from), ...args)),
            (retired) => retired === 1 ? Effect.succeed(true) : Effect.as(destroy(to), false)
          )
        })
      )

    const lock: RedisStore["lock"] = (id, lockOptions) =>
      Effect.gen(function*() {
        const lockKey = RedisLayout.lockKey(prefix, id)
        const token = randomBytes(16).toString("base64url")
        const ttlMillis = Math.max(1, Math.ceil(Duration.toMillis(lockOptions.ttl)))
        const waitMillis = Duration.toMillis(lockOptions.wait)
        const start = yield* Clock.currentTimeMillis
        // An attempt that failed (timed out, connection lost) or was interrupted may still run on
        // the server later, leaving a lock whose token nobody holds: every request on the session
        // would wait, then fail, for the lock's whole TTL. So its token is released at once, without
        // waiting: the release goes down the same connection after the SET, so Redis runs it after
        // the SET, and deletes the lock only if that SET took it.
        const abandon = Effect.sync(() => {
          redis.effectSessionUnlock(lockKey, token).catch(() => undefined)
        })
        while (true) {
          const reply = yield* command("lock", () => redis.set(lockKey, token, "PX", ttlMillis, "NX")).pipe(
            Effect.onExit((exit) => Exit.isFailure(exit) ? abandon : Effect.void)
          )
          if (reply === "OK") {
            return command("unlock", () => redis.effectSessionUnlock(lockKey, token)).pipe(
              Effect.catchAll((error) => Effect.logDebug("effect-session: releasing a session lock failed", error)),
              Effect.asVoid
            )
          }
          const waited = (yield* Clock.currentTimeMillis) - start
          if (waited >= waitMillis) return yield* new SessionLockTimeout({ waitedMillis: waited })
          yield* Effect.sleep(Duration.millis(Math.min(RedisLayout.LOCK_RETRY_MILLIS, waitMillis - waited)))
        }
      })

    return { read, write, destroy, patch, rotate, lock } satisfies RedisStore
  })

/** Creates, connects and (when the scope closes) quits a client the store owns. */
const ownClient = (
  options: Options,
  connectTimeoutMillis: number
): Effect.Effect<Redis, SessionStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const redisOptions: RedisOptions = {
      // Fail fast instead of queueing while disconnected: a request gets a 503 now, and no
      // stale command runs after the outage.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // No ioredis `commandTimeout`: the store's own timer bounds every command (see `command`),
      // and a second timer per command would cost CPU for nothing.
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
    // The last one is kept while connecting: ioredis' own rejection only says "Connection is closed."
    let lastError: unknown = undefined
    const runtime = yield* Effect.runtime<never>()
    client.on("error", (error: unknown) => {
      lastError = error
      Runtime.runFork(runtime)(Effect.logDebug("effect-session: redis connection error", errorText(error)))
    })
    const where = serverOf(client)
    yield* Effect.tryPromise({
      try: () => client.connect(),
      catch: (cause) => {
        const why = lastError ?? cause
        return new SessionStoreError({
          reason: "Unavailable",
          message: `redis connect to ${where}: ${errorText(why)}`,
          cause: why
        })
      }
    }).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(connectTimeoutMillis),
        onTimeout: () =>
          new SessionStoreError({
            reason: "Timeout",
            message: `redis connect to ${where}: not connected within ${connectTimeoutMillis} ms${
              lastError === undefined ? "" : ` (last error: ${errorText(lastError)})`
            }`,
            cause: lastError
          })
      }),
      Effect.withClock(liveClock)
    )
    return client
  })

/** The server a client talks to, for messages: `host:port` or the socket path, never credentials. */
const serverOf = (client: Redis | Cluster): string => {
  if (!("options" in client) || (client as Redis).isCluster) return "the cluster"
  const options = (client as Redis).options
  return options.path !== undefined && options.path !== null && options.path !== ""
    ? options.path
    : `${options.host ?? "localhost"}:${options.port ?? 6379}`
}

/**
 * Waits, at most `connectTimeoutMillis`, until a client the user gave is ready: a client without
 * an offline queue (as `docs/stores.md` advises) fails every command sent before that ("Stream
 * isn't writeable"). A lazy client that was never connected is connected here, as its first
 * command would have done.
 */
const clientReady = (client: Redis | Cluster, connectTimeoutMillis: number): Effect.Effect<void, SessionStoreError> =>
  client.status === "ready"
    ? Effect.void
    : Effect.async<void, SessionStoreError>((resume) => {
      const where = serverOf(client)
      let lastError: unknown = undefined
      const onError = (error: unknown) => {
        lastError = error
      }
      const cleanup = () => {
        clearTimeout(timer)
        client.off("ready", onReady)
        client.off("error", onError)
        client.off("end", onEnd)
      }
      const fail = (reason: SessionStoreError["reason"], why: string) => {
        cleanup()
        resume(Effect.fail(
          new SessionStoreError({
            reason,
            message: `redis: the client given (${where}) ${why}${
              lastError === undefined ? "" : `; last error: ${errorText(lastError)}`
            }`,
            cause: lastError
          })
        ))
      }
      const onReady = () => {
        cleanup()
        resume(Effect.void)
      }
      const onEnd = () => fail("Unavailable", "was closed before it was ready")
      const timer = setTimeout(
        () => fail("Timeout", `is not ready within ${connectTimeoutMillis} ms (status ${client.status})`),
        connectTimeoutMillis
      )
      client.on("ready", onReady)
      client.on("error", onError)
      client.on("end", onEnd)
      if (client.status === "end") onEnd()
      else if (client.status === "wait") client.connect().catch(onError)
      return Effect.sync(cleanup)
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
