/**
 * A SQLite `SqlClient` for effect 4.1 on Node's built-in `node:sqlite` (Node 22, which the effect 4
 * tests run on; no native dependency): TEST INFRASTRUCTURE, not shipped (it is outside `src/`, so
 * it is neither built nor published). It exists so that `SqlStore`'s `sqlite` dialect branches run
 * against a real SQLite: as of 2026-12-05 no effect 4.1 SQLite client is on npm
 * (`@effect/sql-sqlite-node` stops at 4.0.0-beta.102, which imports `effect/unstable/sql/*`, moved
 * to `effect/sql/*` in effect 4.1).
 *
 * Ported from `@effect/sql-sqlite-node` 4.0.0-beta.102, `src/SqliteClient.ts`
 * (from npm; repository https://github.com/Effect-TS/effect, packages/sql/sqlite-node). MIT License,
 * Copyright (c) 2023-present The Contributors (Effect contributors). Changes from the beta, to
 * what these tests need, on public effect 4.1 APIs only:
 * - imports from `effect/sql/*` and `effect/reactivity/Reactivity`; `SqlClient.make` gets `driver`;
 * - the one connection is shared through effect 4.1's public `SqlClient.makeSqliteAcquirers`
 *   (a semaphore, a borrower for single statements, ROLLBACK after a failed COMMIT, and
 *   `isTransaction` from `DatabaseSync.isTransaction`) in place of the beta's own acquirers, which
 *   read the fiber's `Scope` with `Fiber.getCurrent()`/`Context.getUnsafe`;
 * - the layer provides `SqlClient` only (no `SqliteClient` service, `layerConfig`, `backup`,
 *   `loadExtension`, name transforms, span attributes);
 * - no prepared-statement cache (each statement is prepared when run);
 * - opening the database can fail with a `SqlError` (the beta's constructor threw, a defect).
 * Statements compile with effect's own `Statement.makeCompilerSqlite` (`?` placeholders,
 * double-quoted identifiers, dialect `"sqlite"`), as in the beta. `:memory:` is one database per
 * client: every statement of a client runs on its single connection.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Reactivity from "effect/reactivity/Reactivity"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Client from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import { classifySqliteError, SqlError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import * as Stream from "effect/Stream"
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite"

export interface SqliteClientConfig {
  /** A file, or `":memory:"`. */
  readonly filename: string
  readonly readonly?: boolean | undefined
  /** Skip `PRAGMA journal_mode = WAL` (which a `:memory:` database ignores anyway). */
  readonly disableWAL?: boolean | undefined
}

/** node:sqlite reports SQLite's result code as `errcode`; effect's classifier reads `errno`. */
const classifyError = (cause: unknown, message: string, operation: string) => {
  if (typeof cause === "object" && cause !== null && "errcode" in cause && !("errno" in cause)) {
    const errcode = (cause as { readonly errcode: unknown }).errcode
    if (typeof errcode === "number") Object.assign(cause, { errno: errcode })
  }
  return classifySqliteError(cause, { message, operation })
}

const fail = (message: string, operation: string) => (cause: unknown) =>
  new SqlError({ reason: classifyError(cause, message, operation) })

interface SqliteConnection extends Connection {
  readonly db: DatabaseSync
}

/** Builds a client on one `DatabaseSync` connection, closed when the scope closes. */
export const make = (
  options: SqliteClientConfig
): Effect.Effect<Client.SqlClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          const db = new DatabaseSync(options.filename, { readOnly: options.readonly ?? false })
          if (options.disableWAL !== true) db.exec("PRAGMA journal_mode = WAL")
          return db
        },
        catch: fail("Failed to open database", "connect")
      }),
      (db) => Effect.sync(() => db.close())
    )

    const prepare = (sql: string) =>
      Effect.try({ try: () => db.prepare(sql), catch: fail("Failed to prepare statement", "prepare") })

    const runStatement = (statement: StatementSync, params: ReadonlyArray<unknown>, raw: boolean, arrays: boolean) =>
      Effect.gen(function*() {
        const safeIntegers = yield* Client.SafeIntegers
        return yield* Effect.try({
          try: (): any => {
            statement.setReadBigInts(safeIntegers)
            statement.setReturnArrays(arrays)
            const values = params as Array<SQLInputValue>
            if (statement.columns().length > 0) return statement.all(...values)
            const result = statement.run(...values)
            return raw ? { changes: result.changes, lastInsertRowid: result.lastInsertRowid } : []
          },
          catch: fail("Failed to execute statement", "execute")
        })
      })

    const run = (sql: string, params: ReadonlyArray<unknown>, raw = false, arrays = false) =>
      Effect.flatMap(prepare(sql), (statement) => runStatement(statement, params, raw, arrays))

    const connection: SqliteConnection = {
      db,
      execute(sql, params, transformRows) {
        return transformRows ? Effect.map(run(sql, params), transformRows) : run(sql, params)
      },
      executeRaw(sql, params) {
        return run(sql, params, true)
      },
      executeValues(sql, params) {
        return run(sql, params, false, true)
      },
      executeValuesUnprepared(sql, params) {
        return run(sql, params, false, true)
      },
      executeUnprepared(sql, params, transformRows) {
        return transformRows ? Effect.map(run(sql, params), transformRows) : run(sql, params)
      },
      executeStream() {
        return Stream.die(new Error("test SqliteClient: streaming is not implemented"))
      }
    }

    const acquirers = Client.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: (conn) => conn.db.isTransaction
    })

    return yield* Client.make({
      driver: "sqlite-node",
      acquirer: acquirers.acquirer,
      borrower: acquirers.borrower,
      transactionAcquirer: acquirers.transactionAcquirer,
      onCommitFailure: acquirers.onCommitFailure,
      isTransaction: acquirers.isTransaction,
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]]
    })
  })

/** A layer providing `SqlClient` on SQLite. */
export const layer = (config: SqliteClientConfig): Layer.Layer<Client.SqlClient, SqlError> =>
  Layer.effectContext(Effect.map(make(config), (client) => Context.make(Client.SqlClient, client))).pipe(
    Layer.provide(Reactivity.layer)
  )
