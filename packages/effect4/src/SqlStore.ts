/**
 * A `SessionStore` on SQL through effect's `SqlClient` (`effect/sql`): PostgreSQL
 * (`@effect/sql-pg`), MySQL/MariaDB and SQLite, each through an effect 4.1 client for the database.
 * As of 2026-12-05 none is published for MySQL or SQLite (`@effect/sql-mysql2` and
 * `@effect/sql-sqlite-node` stop at effect 4.0 pre-releases); this repository tests those two
 * dialects against MariaDB and SQLite through test-only ports of those drivers.
 *
 * The tables are the shared core's (`SqlSchema`), the same as the effect 3 package's `SqlStore`:
 * an effect 3 app and an effect 4 app can share one table.
 *
 * - One row per session: the hashed ID, the record as JSON text, and `expires_at` in milliseconds
 *   on Effect's `Clock` (`NULL`: never). Reads compare it with the caller's `Clock` time, passed as
 *   a parameter (never the database's `now()`), so expiry is exact and `TestClock` drives it.
 *   Expired rows are never returned; a sweeper fiber deletes them in batches.
 * - `patch` and `rotate` run in a transaction that locks the row (`SELECT … FOR UPDATE` on
 *   PostgreSQL and MySQL; on SQLite a first write takes the database's write lock). A missing or
 *   retired row is not recreated.
 * - `lock` keeps one row per held lock in `<table>_locks` (holder token + expiry).
 * - `ensureTable: true` creates the tables if they are missing.
 * - Every failure, a failed `COMMIT` included, is a `SessionStoreError`, never a defect.
 *
 * @since 0.1.0
 */
import { Lifetime, SqlSchema } from "effect-session-core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { randomBytes } from "node:crypto"
import { checkObject, decodeDuration } from "./internal/options.js"
import {
  decodeRecord,
  encodeRecord,
  positiveInteger,
  positiveMillis,
  storeError,
  ttlMillisOf
} from "./internal/storeCommon.js"
import { applyPatch, graceEnd, isRetired, refuses, retire } from "./internal/storeRecord.js"
import { SessionConfigError, SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * SQL store options. Every field is optional.
 *
 * @example
 * ```ts
 * import type * as SqlStore from "effect-session-v4/SqlStore"
 *
 * const options: SqlStore.Options = { table: "sessions", ttl: "2 hours", sweepInterval: "5 minutes", ensureTable: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The sessions table, `name` or `schema.name`; locks live in `<table>_locks`. Default `"effect_sessions"`. */
  readonly table?: string | undefined
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.Input | undefined
  /** How often the sweeper deletes expired rows. Default 5 minutes. */
  readonly sweepInterval?: Duration.Input | undefined
  /** Rows one sweeper `DELETE` removes at most. Default 1,000. */
  readonly sweepBatchSize?: number | undefined
  /** Create the tables (and the index) if they do not exist. Default `false`: the layer checks that the table exists. */
  readonly ensureTable?: boolean | undefined
  /**
   * How long one store operation may take, in real time, before it fails with `Timeout`. Default 5 seconds.
   * A wait for a row lock is also bounded by the database, a little below it (PostgreSQL
   * `lock_timeout`, MySQL/MariaDB `innodb_lock_wait_timeout`), so it fails rather than completing later.
   */
  readonly timeout?: Duration.Input | undefined
}

/**
 * What `make` returns: a `SessionStoreService` with `patch`, `lock` and `rotate`, and the
 * sweeper's step.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as SqlStore from "effect-session-v4/SqlStore"
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
  readonly lock: NonNullable<SessionStoreService["lock"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
  /** Deletes every expired row (and expired lock) now, in batches; returns how many sessions it removed. */
  readonly sweep: Effect.Effect<number, SessionStoreError>
}

/** The real clock: operation deadlines must fire in real time even when `TestClock` drives expiry. */
const liveClock = Clock.Clock.defaultValue()

/** Delay between two attempts to take a held lock. */
const LOCK_RETRY_MILLIS = 25

const toStoreError = (operation: string) => (error: SqlError | SessionStoreError): SessionStoreError => {
  if (error instanceof SessionStoreError) return error
  // effect 4's drivers put a generic text in the reason's message ("Failed to execute statement")
  // and what the database said in its cause: the store error carries both.
  const driver = error.reason.cause
  const detail = driver instanceof Error && driver.message !== "" && driver.message !== error.message
    ? `${error.message}: ${driver.message}`
    : error.message
  const reason = /timed? ?out|timeout/i.test(detail) || error.reason._tag === "StatementTimeoutError"
    ? "Timeout"
    : "Unavailable"
  return storeError(reason, `sql ${operation}: ${detail}`, error)
}

/**
 * Builds a SQL store on the `SqlClient` in context, in the current scope: checks (or with
 * `ensureTable`, creates) its table, then starts the sweeper, which stops when the scope closes.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Duration, Effect, Redacted } from "effect"
 * import * as SqlStore from "effect-session-v4/SqlStore"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* SqlStore.make({ ensureTable: true })
 *   yield* store.write("key", { n: 1 }, Duration.minutes(5))
 *   return yield* store.read("key")
 * })).pipe(Effect.provide(PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:5432/app") })))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<SqlStore, SessionConfigError | SessionStoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.fromResult(checkObject(options))
    const table = options.table ?? "effect_sessions"
    const badTable = SqlSchema.checkTableName(table)
    if (badTable !== undefined) return yield* new SessionConfigError({ option: "table", message: badTable })
    const defaultTtlMillis = yield* Effect.fromResult(decodeDuration("ttl", options.ttl ?? Duration.hours(2)))
    const sweepMillis = yield* Effect.fromResult(
      positiveMillis("sweepInterval", options.sweepInterval, Duration.minutes(5), decodeDuration)
    )
    const batch = yield* Effect.fromResult(positiveInteger("sweepBatchSize", options.sweepBatchSize, 1000))
    const timeoutMillis = yield* Effect.fromResult(
      positiveMillis("timeout", options.timeout, Duration.seconds(5), decodeDuration)
    )

    // Without the client's name transforms: the store's columns are its own.
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const dialect = sql.onDialectOrElse({
      pg: () => "pg" as const,
      mysql: () => "mysql" as const,
      sqlite: () => "sqlite" as const,
      orElse: () => undefined
    })
    if (dialect === undefined) {
      return yield* new SessionConfigError({
        option: "SqlClient",
        message: "SqlStore supports PostgreSQL, MySQL/MariaDB and SQLite clients"
      })
    }
    const names = SqlSchema.names(table)
    const t = sql(names.table)
    const locks = sql(names.locks)

    /**
     * Bounds an operation in real time and maps every failure to a `SessionStoreError`: a defect
     * too (a failed COMMIT or ROLLBACK is one in `effect/sql`), an interruption excepted.
     */
    const bounded = <A>(
      operation: string,
      effect: Effect.Effect<A, SqlError | SessionStoreError>
    ): Effect.Effect<A, SessionStoreError> =>
      effect.pipe(
        Effect.mapError(toStoreError(operation)),
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause) || Cause.hasFails(cause)
            ? Effect.failCause(cause)
            : Effect.fail(storeError("Unavailable", `sql ${operation}: ${Cause.pretty(cause)}`, Cause.squash(cause)))
        ),
        Effect.timeoutOrElse({
          duration: Duration.millis(timeoutMillis),
          orElse: () => Effect.fail(storeError("Timeout", `sql ${operation}: no answer within ${timeoutMillis} ms`))
        }),
        Effect.provideService(Clock.Clock, liveClock)
      )

    // The Clock is read outside `bounded` (which runs on the live clock), so TestClock drives expiry.
    const now = Effect.map(Clock.currentTimeMillis, Math.floor)
    const expiresAt = (now: number, ttl: Duration.Duration): number | null => {
      const millis = ttlMillisOf(ttl, defaultTtlMillis)
      // NULL: no expiry (no TTL, or one past a safe integer such as Duration.infinity)
      return Lifetime.expiresAt(now, millis) ?? null
    }
    // Run first in each of the store's transactions: a row-lock wait fails on its own a little
    // before `timeout` (the core's `SqlSchema.boundLockWaits` says why and how, per dialect).
    const boundStatement = SqlSchema.boundLockWaits(dialect, timeoutMillis)
    const boundLockWaits: Effect.Effect<void, SqlError> = boundStatement === undefined
      ? Effect.void
      : Effect.asVoid(sql.unsafe(boundStatement))
    /** `sql.withTransaction(body)`, its lock waits bounded by the store's `timeout`. */
    const transaction = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      // Inside the caller's own transaction (a savepoint here) the bound is left out: `SET LOCAL`
      // would last to the end of the caller's transaction, and the session setting beyond it.
      Effect.flatMap(
        Effect.serviceOption(sql.transactionService),
        (outer) => sql.withTransaction(Option.isSome(outer) ? body : Effect.andThen(boundLockWaits, body))
      )
    /**
     * One statement that may wait on a row lock (a concurrent patch or rotation holds it): on
     * MySQL/MariaDB in a transaction whose lock waits are bounded, so a statement that timed out
     * fails instead of being applied when the lock is released (mysql2 cannot cancel it). On
     * PostgreSQL the interruption cancels the statement, and a transaction would cost every new
     * session three more round trips; SQLite has one writer.
     */
    const lockBounded = <A>(statement: Effect.Effect<A, SqlError>) =>
      dialect === "mysql" ? transaction(statement) : statement
    const alive = (now: number) => sql`(expires_at IS NULL OR expires_at > ${now})`

    if (options.ensureTable === true) {
      // Two replicas starting together may race on CREATE … IF NOT EXISTS: try again.
      yield* bounded(
        "ensureTable",
        Effect.forEach(SqlSchema.createStatements(dialect, names), (statement) => sql.unsafe(statement), {
          discard: true
        })
      ).pipe(
        Effect.retry({ times: 3, schedule: Schedule.spaced(Duration.millis(100)) }),
        Effect.provideService(Clock.Clock, liveClock)
      )
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

    const selectRow = (id: string, now: number, forUpdate: boolean) =>
      forUpdate && dialect !== "sqlite"
        ? sql<
          { readonly data: string; readonly expires_at: unknown }
        >`SELECT data, expires_at FROM ${t} WHERE id = ${id} AND ${alive(now)} FOR UPDATE`
        : sql<
          { readonly data: string; readonly expires_at: unknown }
        >`SELECT data, expires_at FROM ${t} WHERE id = ${id} AND ${alive(now)}`

    const read: SqlStore["read"] = (id) =>
      Effect.flatMap(now, (now) =>
        bounded(
          "read",
          Effect.flatMap(selectRow(id, now, false), (rows) =>
            rows.length === 0
              ? Effect.succeedNone
              : Effect.map(Effect.fromResult(decodeRecord("sql", String(rows[0]!.data))), Option.some))
        ))

    const upsert = (id: string, text: string, expiry: number | null) =>
      dialect === "mysql"
        ? sql`INSERT INTO ${t} (id, data, expires_at) VALUES (${id}, ${text}, ${expiry})
            ON DUPLICATE KEY UPDATE data = VALUES(data), expires_at = VALUES(expires_at)`
        : sql`INSERT INTO ${t} (id, data, expires_at) VALUES (${id}, ${text}, ${expiry})
            ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`

    const write: SqlStore["write"] = (id, data, ttl) =>
      Effect.flatMap(
        Effect.fromResult(encodeRecord(data)),
        (text) =>
          Effect.flatMap(now, (now) =>
            bounded("write", Effect.asVoid(lockBounded(upsert(id, text, expiresAt(now, ttl))))))
      )

    const destroy: SqlStore["destroy"] = (id) =>
      bounded("destroy", Effect.asVoid(lockBounded(sql`DELETE FROM ${t} WHERE id = ${id}`)))

    /** On SQLite, takes the write lock before reading (BEGIN IMMEDIATE semantics). */
    const lockRow = (id: string) =>
      dialect === "sqlite" ? Effect.asVoid(sql`UPDATE ${t} SET expires_at = expires_at WHERE id = ${id}`) : Effect.void

    const patch: SqlStore["patch"] = (id, changes, ttl) =>
      Effect.flatMap(now, (now) =>
        bounded(
          "patch",
          transaction(Effect.gen(function*() {
            yield* lockRow(id)
            const rows = yield* selectRow(id, now, true)
            if (rows.length === 0) return false
            const current = yield* Effect.fromResult(decodeRecord("sql", String(rows[0]!.data)))
            if (refuses(current)) return false
            const text = yield* Effect.fromResult(encodeRecord(applyPatch(current, changes)))
            yield* sql`UPDATE ${t} SET data = ${text}, expires_at = ${expiresAt(now, ttl)} WHERE id = ${id}`
            return true
          }))
        ))

    const rotate: SqlStore["rotate"] = (from, to, rotation) =>
      Effect.flatMap(Effect.fromResult(encodeRecord(rotation.data)), (text) =>
        Effect.flatMap(now, (now) =>
          bounded(
            "rotate",
            transaction(Effect.gen(function*() {
              yield* lockRow(from)
              const rows = yield* selectRow(from, now, true)
              if (rows.length === 0) return false
              const current = yield* Effect.fromResult(decodeRecord("sql", String(rows[0]!.data)))
              if (isRetired(current)) return false
              yield* upsert(to, text, expiresAt(now, rotation.ttl))
              const previous = rows[0]!.expires_at === null ? Infinity : Number(rows[0]!.expires_at)
              const until = graceEnd(now, Duration.toMillis(rotation.grace), previous)
              if (until !== undefined) {
                const retired = yield* Effect.fromResult(encodeRecord(retire(current, until)))
                yield* sql`UPDATE ${t} SET data = ${retired}, expires_at = ${until} WHERE id = ${from}`
              } else {
                yield* sql`DELETE FROM ${t} WHERE id = ${from}`
              }
              return true
            }))
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
              Effect.catch((error) =>
                Effect.logDebug("effect-session: releasing a session lock failed", error.message)
              ),
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
      // a store used without locks may have no lock table
      yield* Effect.ignore(bounded("sweep locks", sql`DELETE FROM ${locks} WHERE expires_at <= ${at}`))
      return removed
    })

    yield* sweep.pipe(
      Effect.catch((error) => Effect.logWarning("effect-session: sweeping expired sessions failed", error.message)),
      Effect.repeat(Schedule.spaced(Duration.millis(sweepMillis))),
      Effect.delay(Duration.millis(sweepMillis)),
      Effect.interruptible,
      Effect.forkScoped
    )

    return { read, write, destroy, patch, lock, rotate, sweep } satisfies SqlStore
  })

/**
 * A `SessionStore` layer on the `SqlClient` in context.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import * as SqlStore from "effect-session-v4/SqlStore"
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
  Layer.effect(SessionStore, make(options))
