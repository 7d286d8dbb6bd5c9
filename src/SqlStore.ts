/**
 * A `SessionStore` on SQL through `@effect/sql`'s `SqlClient`: PostgreSQL (`@effect/sql-pg`),
 * MySQL/MariaDB (`@effect/sql-mysql2`) and SQLite (`@effect/sql-sqlite-node`). Import it from
 * `effect-session/SqlStore`: `@effect/sql` is an optional peer dependency, needed only here.
 *
 * - One row per session: the hashed ID, the record as the codec's JSON text, and `expires_at` in
 *   milliseconds on Effect's `Clock` (`NULL`: never). Reads compare it with the caller's `Clock`
 *   time, passed as a parameter (never the database's `now()`), so expiry is exact, identical to
 *   the other stores, and driven by `TestClock` in tests. Expired rows are never returned; a
 *   sweeper fiber deletes them in batches.
 * - `patch` runs in a transaction that locks the row (`SELECT … FOR UPDATE` on PostgreSQL and
 *   MySQL; on SQLite a first write takes the database's write lock, as `BEGIN IMMEDIATE` would),
 *   applies the patch (the core's `Patch.apply`) and writes the row back; a missing or retired row is
 *   not recreated.
 * - `lock` keeps one row per held lock in `<table>_locks` (holder token + expiry): the same on all
 *   three databases.
 * - `ensureTable: true` creates the tables if they are missing (see `docs/stores.md` for the DDL).
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Lifetime, Patch, SqlSchema, StoredRecord } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { isTagged } from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import { checkObject, durationOr, positiveDurationOr } from "./internal/options.js"
import * as SessionCodec from "./SessionCodec.js"
import { SessionConfigError, SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * SQL store options. Every field is optional.
 *
 * @example
 * ```ts
 * import type * as SqlStore from "effect-session/SqlStore"
 *
 * const options: SqlStore.Options = {
 *   table: "sessions",
 *   ttl: "2 hours",
 *   sweepInterval: "5 minutes",
 *   ensureTable: true
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The sessions table, `name` or `schema.name` (letters, digits and `_`); locks live in
   * `<table>_locks`. Default `"effect_sessions"`.
   */
  readonly table?: string | undefined
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.DurationInput | undefined
  /** How often the sweeper deletes expired rows. Default 5 minutes. */
  readonly sweepInterval?: Duration.DurationInput | undefined
  /** Rows one sweeper `DELETE` removes at most. Default 1,000. */
  readonly sweepBatchSize?: number | undefined
  /** Create the tables (and the index) if they do not exist. Default `false`: the layer checks that the table exists. */
  readonly ensureTable?: boolean | undefined
  /**
   * How long one store operation may take before it fails with `Timeout`. Default 5 seconds.
   * A wait for a row lock is also bounded by the database, a little below it (PostgreSQL
   * `lock_timeout`, MySQL/MariaDB `innodb_lock_wait_timeout`), so it fails rather than completing later.
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * What `make` returns: a `SessionStoreService` with `patch` and `lock`, and the sweeper's step.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as SqlStore from "effect-session/SqlStore"
 *
 * // remove every expired row now (the layer also does it every sweepInterval)
 * const sweepNow = Effect.flatMap(SqlStore.make({ ensureTable: true }), (store) => store.sweep)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SqlStore extends SessionStoreService {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
  readonly lock: NonNullable<SessionStoreService["lock"]>
  /** Deletes every expired row (and expired lock) now, in batches; returns how many sessions it removed. */
  readonly sweep: Effect.Effect<number, SessionStoreError>
}

/** The real clock: operation deadlines must fire in real time even when `TestClock` drives expiry. */
const liveClock = Clock.make()

/** Delay between two attempts to take a held lock. */
const LOCK_RETRY_MILLIS = 25

const isStoreError = (u: unknown): u is SessionStoreError => isTagged(u, "SessionStoreError")

const toStoreError = (operation: string) => (error: SqlError | SessionStoreError): SessionStoreError => {
  if (isStoreError(error)) return error
  const cause = error.cause
  const detail = cause instanceof Error ? `${error.message}: ${cause.message}` : error.message
  const reason = /timed? ?out|timeout/i.test(detail) ? "Timeout" : "Unavailable"
  return new SessionStoreError({ reason, message: `sql ${operation}: ${detail}`, cause: error })
}

/**
 * `@effect/sql` turns a failed `COMMIT` or `ROLLBACK` into a defect (`Effect.orDie`): a connection
 * cut at that moment is a store failure like any other, so such a defect (a `SqlError`) becomes a
 * `SessionStoreError` here, saying which of the two failed. Other defects stay defects.
 */
const transactionDefect = (
  operation: string,
  ending: () => "COMMIT" | "ROLLBACK"
) =>
(defect: unknown): Option.Option<Effect.Effect<never, SessionStoreError>> => {
  if (!isTagged(defect, "SqlError")) return Option.none()
  const error = toStoreError(operation)(defect as SqlError)
  return Option.some(Effect.fail(
    new SessionStoreError({
      reason: error.reason,
      message: error.message.replace(`sql ${operation}: `, `sql ${operation}: ${ending()} failed: `),
      cause: defect
    })
  ))
}

const invalid = (option: string, message: string) => Either.left(new SessionConfigError({ option, message }))

/**
 * Builds a SQL store on the `SqlClient` in context, in the current scope: checks (or with
 * `ensureTable`, creates) its table, then starts the sweeper, which stops when the scope closes.
 * Fails with `SessionConfigError` on invalid options or an unsupported dialect, and with
 * `SessionStoreError` when the table is missing or the database cannot be reached.
 *
 * @example
 * ```ts
 * import { SqliteClient } from "@effect/sql-sqlite-node"
 * import { Duration, Effect } from "effect"
 * import * as SqlStore from "effect-session/SqlStore"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* SqlStore.make({ ensureTable: true })
 *   yield* store.write("key", { n: 1 }, Duration.minutes(5))
 *   return yield* store.read("key")
 * })).pipe(Effect.provide(SqliteClient.layer({ filename: ":memory:" })))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<SqlStore, SessionConfigError | SessionStoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* checkObject(options)
    const table = options.table ?? "effect_sessions"
    const badTable = SqlSchema.checkTableName(table)
    if (badTable !== undefined) return yield* invalid("table", badTable)
    const ttl = yield* durationOr("ttl", options.ttl, Duration.hours(2))
    const sweepInterval = yield* positiveDurationOr("sweepInterval", options.sweepInterval, Duration.minutes(5))
    const batch = options.sweepBatchSize ?? 1000
    if (!Number.isSafeInteger(batch) || batch <= 0) {
      return yield* invalid("sweepBatchSize", `sweepBatchSize must be a positive integer, got ${batch}`)
    }
    const timeout = yield* positiveDurationOr("timeout", options.timeout, Duration.seconds(5))
    const defaultTtlMillis = Math.ceil(Duration.toMillis(ttl))

    // Without the client's name transforms: the store's columns are its own.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const dialect = sql.onDialectOrElse({
      pg: () => "pg" as const,
      mysql: () => "mysql" as const,
      sqlite: () => "sqlite" as const,
      orElse: () => undefined
    })
    if (dialect === undefined) {
      return yield* invalid("SqlClient", "SqlStore supports PostgreSQL, MySQL/MariaDB and SQLite clients")
    }
    const names = SqlSchema.names(table)
    const t = sql(names.table)
    const locks = sql(names.locks)

    /** Bounds an operation in real time and maps its failure to a `SessionStoreError`. */
    const bounded = <A>(
      operation: string,
      effect: Effect.Effect<A, SqlError | SessionStoreError>
    ): Effect.Effect<A, SessionStoreError> =>
      effect.pipe(
        Effect.mapError(toStoreError(operation)),
        // The caller's Timeout does not wait for the interrupted operation to clean up: mysql2
        // cannot cancel a running statement (its ROLLBACK queues behind it) and sql-pg's cancel
        // needs a free pooled connection. The statement itself is bounded by `boundLockWaits`.
        Effect.disconnect,
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new SessionStoreError({
              reason: "Timeout",
              message: `sql ${operation}: no answer within ${Duration.format(timeout)}`
            })
        }),
        Effect.withClock(liveClock)
      )

    // The Clock is read outside `bounded` (which runs on the live clock), so TestClock drives expiry.
    // `expires_at` holds whole milliseconds; comparing with floor(now) keeps "expired exactly at TTL".
    const now = Effect.map(Clock.currentTimeMillis, Math.floor)
    const expiresAt = (now: number, ttl: Duration.Duration): number | null => {
      const millis = Lifetime.storeTtl(Duration.toMillis(ttl), defaultTtlMillis)
      // NULL: no expiry (no TTL, or one past a safe integer such as Duration.infinity)
      return Lifetime.expiresAt(now, millis) ?? null
    }
    // Run first in each of the store's transactions: a row-lock wait fails on its own a little
    // before `timeout` (the core's `SqlSchema.boundLockWaits` says why and how, per dialect).
    const boundStatement = SqlSchema.boundLockWaits(dialect, Duration.toMillis(timeout))
    const boundLockWaits: Effect.Effect<void, SqlError> = boundStatement === undefined
      ? Effect.void
      : Effect.asVoid(sql.unsafe(boundStatement))
    const alive = (now: number) => sql`(expires_at IS NULL OR expires_at > ${now})`

    if (options.ensureTable === true) {
      // Two replicas starting together may race on CREATE … IF NOT EXISTS (PostgreSQL can fail
      // one of them): try again, the second attempt finds the tables.
      yield* bounded(
        "ensureTable",
        Effect.forEach(SqlSchema.createStatements(dialect, names), (statement) => sql.unsafe(statement), {
          discard: true
        })
      ).pipe(Effect.retry({ times: 3, schedule: Schedule.spaced(Duration.millis(100)) }), Effect.withClock(liveClock))
    } else {
      yield* bounded("check table", sql`SELECT id FROM ${t} WHERE 1 = 0`).pipe(
        Effect.mapError((error) =>
          new SessionStoreError({
            reason: error.reason,
            message: `${error.message} (does the table ${table} exist? create it, or pass ensureTable: true)`,
            cause: error.cause
          })
        )
      )
    }

    const read = (id: string) =>
      Effect.flatMap(now, (now) =>
        bounded(
          "read",
          Effect.flatMap(
            sql<{ readonly data: string }>`SELECT data FROM ${t} WHERE id = ${id} AND ${alive(now)}`,
            (rows) =>
              rows.length === 0
                ? Effect.succeedNone
                : Effect.map(SessionCodec.decode(String(rows[0]!.data)), Option.some)
          )
        ))

    const upsert = (id: string, text: string, expiry: number | null) =>
      dialect === "mysql"
        ? sql`INSERT INTO ${t} (id, data, expires_at) VALUES (${id}, ${text}, ${expiry})
            ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at)`
        : sql`INSERT INTO ${t} (id, data, expires_at) VALUES (${id}, ${text}, ${expiry})
            ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`

    /**
     * `sql.withTransaction(body)`, its lock waits bounded by the store's `timeout`, where a failed
     * COMMIT or ROLLBACK (a defect in `@effect/sql`) is a `SessionStoreError` naming which of the
     * two failed.
     */
    const transaction = <A, E, R>(operation: string, body: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        // what ends the transaction: COMMIT when its body succeeded, ROLLBACK otherwise
        let ending: "COMMIT" | "ROLLBACK" = "ROLLBACK"
        // Inside the caller's own transaction (a savepoint here) the bound is left out: `SET LOCAL`
        // would last to the end of the caller's transaction, and the session setting beyond it.
        return Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (outer) =>
          sql.withTransaction(Effect.zipRight(
            Option.isSome(outer) ? Effect.void : boundLockWaits,
            Effect.tap(body, () => {
              ending = "COMMIT"
            })
          ))).pipe(Effect.catchSomeDefect(transactionDefect(operation, () =>
            ending)))
      })

    /**
     * One statement that may wait on a row lock (a concurrent patch or rotation holds it): on
     * MySQL/MariaDB in a transaction whose lock waits are bounded, so a statement that timed out
     * fails instead of being applied when the lock is released (mysql2 cannot cancel it). On
     * PostgreSQL the interruption cancels the statement, and a transaction would cost every new
     * session three more round trips; SQLite has one writer.
     */
    const lockBounded = <A>(operation: string, statement: Effect.Effect<A, SqlError>) =>
      dialect === "mysql" ? transaction(operation, statement) : statement

    const write = (id: string, data: SessionCodec.SessionData, ttl: Duration.Duration) =>
      Effect.flatMap(
        SessionCodec.encode(data),
        (text) =>
          Effect.flatMap(now, (now) =>
            bounded("write", Effect.asVoid(lockBounded("write", upsert(id, text, expiresAt(now, ttl))))))
      )

    const destroy = (id: string) =>
      bounded("destroy", Effect.asVoid(lockBounded("destroy", sql`DELETE FROM ${t} WHERE id = ${id}`)))

    const patch: SqlStore["patch"] = (id, changes, ttl) =>
      Effect.flatMap(now, (now) =>
        bounded(
          "patch",
          transaction(
            "patch",
            Effect.gen(function*() {
              if (dialect === "sqlite") {
                // Take the write lock before reading (BEGIN IMMEDIATE semantics): another process
                // cannot change the row between this read and the write below.
                yield* sql`UPDATE ${t} SET expires_at = expires_at WHERE id = ${id}`
              }
              const rows = yield* (dialect === "sqlite"
                ? sql<{ readonly data: string }>`SELECT data FROM ${t} WHERE id = ${id} AND ${alive(now)}`
                : sql<{ readonly data: string }>`SELECT data FROM ${t} WHERE id = ${id} AND ${alive(now)} FOR UPDATE`)
              if (rows.length === 0) return false
              const current = yield* SessionCodec.decode(String(rows[0]!.data))
              if (Patch.refuses(current)) return false
              const text = yield* SessionCodec.encode(Patch.apply(current, changes))
              yield* sql`UPDATE ${t} SET data = ${text}, expires_at = ${expiresAt(now, ttl)} WHERE id = ${id}`
              return true
            })
          )
        ))

    // One transaction: the old row is locked (or, on SQLite, the database's write lock taken) before
    // it is checked, so a concurrent destroy either happens before (nothing is moved) or waits.
    const rotate: SqlStore["rotate"] = (from, to, data, ttl, grace) =>
      Effect.flatMap(SessionCodec.encode(data), (text) =>
        Effect.flatMap(now, (now) =>
          bounded(
            "rotate",
            transaction(
              "rotate",
              Effect.gen(function*() {
                if (dialect === "sqlite") yield* sql`UPDATE ${t} SET expires_at = expires_at WHERE id = ${from}`
                const rows = yield* (dialect === "sqlite"
                  ? sql<{ readonly data: string; readonly expires_at: unknown }>`SELECT data, expires_at FROM ${t}
                    WHERE id = ${from} AND ${alive(now)}`
                  : sql<{ readonly data: string; readonly expires_at: unknown }>`SELECT data, expires_at FROM ${t}
                    WHERE id = ${from} AND ${alive(now)} FOR UPDATE`)
                if (rows.length === 0) return false
                const old = yield* SessionCodec.decode(String(rows[0]!.data))
                if (StoredRecord.isRetired(old)) return false
                yield* upsert(to, text, expiresAt(now, ttl))
                const previous = rows[0]!.expires_at === null ? Infinity : Number(rows[0]!.expires_at)
                const until = StoredRecord.graceEnd(now, Duration.toMillis(grace), previous)
                if (until !== undefined) {
                  const retired = yield* SessionCodec.encode(StoredRecord.retire(old, until))
                  yield* sql`UPDATE ${t} SET data = ${retired}, expires_at = ${until} WHERE id = ${from}`
                } else {
                  yield* sql`DELETE FROM ${t} WHERE id = ${from}`
                }
                return true
              })
            )
          )))

    const lock: SqlStore["lock"] = (id, lockOptions) =>
      Effect.gen(function*() {
        const token = randomBytes(16).toString("base64url")
        const ttlMillis = Math.max(1, Math.ceil(Duration.toMillis(lockOptions.ttl)))
        // expires_at is NOT NULL in the locks table: an infinite TTL is the latest safe integer
        const lockExpiry = (now: number) => Lifetime.expiresAt(now, ttlMillis) ?? Number.MAX_SAFE_INTEGER
        const waitMillis = Duration.toMillis(lockOptions.wait)
        const start = yield* Clock.currentTimeMillis
        const attempt = (now: number) =>
          bounded(
            "lock",
            Effect.gen(function*() {
              // A lock whose holder let it expire is removed; a live one is left alone.
              yield* sql`DELETE FROM ${locks} WHERE id = ${id} AND expires_at <= ${now}`
              yield* (dialect === "mysql"
                ? sql`INSERT INTO ${locks} (id, token, expires_at) VALUES (${id}, ${token}, ${lockExpiry(now)})
                    ON DUPLICATE KEY UPDATE id = id`
                : sql`INSERT INTO ${locks} (id, token, expires_at) VALUES (${id}, ${token}, ${lockExpiry(now)})
                    ON CONFLICT (id) DO NOTHING`)
              const rows = yield* sql<{ readonly token: string }>`SELECT token FROM ${locks} WHERE id = ${id}`
              return rows.length > 0 && String(rows[0]!.token) === token
            })
          )
        while (true) {
          if (yield* Effect.flatMap(now, attempt)) {
            return bounded("unlock", sql`DELETE FROM ${locks} WHERE id = ${id} AND token = ${token}`).pipe(
              Effect.catchAll((error) => Effect.logDebug("effect-session: releasing a session lock failed", error)),
              Effect.asVoid
            )
          }
          const waited = (yield* Clock.currentTimeMillis) - start
          if (waited >= waitMillis) return yield* new SessionLockTimeout({ waitedMillis: waited })
          yield* Effect.sleep(Duration.millis(Math.min(LOCK_RETRY_MILLIS, waitMillis - waited)))
        }
      })

    const limit = sql.literal(String(batch))
    const sweepBatch = (now: number) =>
      bounded(
        "sweep",
        Effect.map(
          dialect === "mysql"
            ? sql`DELETE FROM ${t} WHERE expires_at <= ${now} LIMIT ${limit}`.raw
            : sql`DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE expires_at <= ${now} LIMIT ${limit})`.raw,
          SqlSchema.affectedRows
        )
      )

    const sweep: Effect.Effect<number, SessionStoreError> = Effect.gen(function*() {
      const at = yield* now
      let removed = 0
      while (true) {
        const n = yield* sweepBatch(at)
        removed += n
        if (n < batch) break
      }
      yield* bounded("sweep locks", sql`DELETE FROM ${locks} WHERE expires_at <= ${at}`).pipe(
        // a store used without locks may have no lock table
        Effect.catchAll(() => Effect.void)
      )
      return removed
    })

    yield* sweep.pipe(
      Effect.catchAll((error) => Effect.logWarning("effect-session: sweeping expired sessions failed", error.message)),
      Effect.repeat(Schedule.spaced(sweepInterval)),
      Effect.delay(sweepInterval),
      Effect.interruptible,
      Effect.forkScoped
    )

    return { read, write, destroy, patch, rotate, lock, sweep } satisfies SqlStore
  })

/**
 * A `SessionStore` layer on the `SqlClient` in context.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import * as SqlStore from "effect-session/SqlStore"
 *
 * const StoreLive = SqlStore.layer({ ensureTable: true }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:5432/app") }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<SessionStore, SessionConfigError | SessionStoreError, SqlClient.SqlClient> =>
  Layer.scoped(SessionStore, make(options))

/**
 * A `SessionStore` layer on the `SqlClient` in context, with options from `Config`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import * as SqlStore from "effect-session/SqlStore"
 *
 * const StoreLive = SqlStore.layerConfig({
 *   table: Config.string("SESSION_TABLE").pipe(Config.withDefault("effect_sessions")),
 *   ensureTable: Config.boolean("SESSION_ENSURE_TABLE").pipe(Config.withDefault(false))
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<SessionStore, ConfigError.ConfigError | SessionConfigError | SessionStoreError, SqlClient.SqlClient> =>
  Layer.scoped(SessionStore, Effect.flatMap(Config.unwrap(config), make))
