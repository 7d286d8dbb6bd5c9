/**
 * A MySQL/MariaDB `SqlClient` for effect 4.1 on `mysql2`: TEST INFRASTRUCTURE, not shipped (it is
 * outside `src/`, so it is neither built nor published). It exists so that `SqlStore`'s `mysql`
 * dialect branches run against a real MariaDB: as of 2026-12-05 no effect 4.1 MySQL client is on
 * npm (`@effect/sql-mysql2` stops at 4.0.0-rc.111, which imports `effect/unstable/sql/*`, moved to
 * `effect/sql/*` in effect 4.1).
 *
 * Ported from `@effect/sql-mysql2` 4.0.0-rc.111, `src/MysqlClient.ts`
 * (from npm; repository https://github.com/Effect-TS/effect, packages/sql/mysql2). MIT License,
 * Copyright (c) 2023-present The Contributors (Effect contributors). Changes from the rc, to
 * what these tests need, on public effect 4.1 APIs only:
 * - imports from `effect/sql/*` and `effect/reactivity/Reactivity`; `SqlClient.make` gets `driver`;
 * - the layer provides `SqlClient` only (no `MysqlClient` service, `layerConfig`, name transforms,
 *   span attributes, `disablePreparedStatements`, `poolConfig`, `connectionTTL`);
 * - no streaming (`executeStream` dies), so no `SqlStream` query stream;
 * - no `SELECT 1` when the layer is built: the pool connects on first use, as `@effect/sql-pg`
 *   4.1's does, so an unreachable server fails `SqlStore`'s first statement (what the conformance
 *   suite's `unavailable` case checks), not the client layer. `connectTimeout` is passed to mysql2;
 * - the pool is ended by the layer's scope even when nothing was ever run;
 * - error classification keeps the rc's errno table, minus the constraint-name parsing, plus:
 *   a socket-level failure (mysql2's `fatal`) is a `ConnectionError`.
 * Statements compile as in the rc: `?` placeholders, identifiers in backticks (doubled inside),
 * dialect `"mysql"`; transactions are the client's defaults (`BEGIN`/`COMMIT`/`ROLLBACK`,
 * savepoints) on a connection taken from the pool for the transaction.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Client from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import {
  AuthenticationError,
  AuthorizationError,
  ConnectionError,
  ConstraintError,
  DeadlockError,
  LockTimeoutError,
  SqlError,
  SqlSyntaxError,
  StatementTimeoutError,
  UniqueViolation,
  UnknownError
} from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import * as Stream from "effect/Stream"
import * as Mysql from "mysql2"

export interface MysqlClientConfig {
  /** Connection URI; overrides the other connection fields. */
  readonly url?: Redacted.Redacted | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly database?: string | undefined
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted | undefined
  /** Pool size. Default mysql2's (10). */
  readonly maxConnections?: number | undefined
  /** How long opening a connection may take. Default mysql2's (10 seconds). */
  readonly connectTimeout?: Duration.Input | undefined
}

const mysqlConnectionErrorCodes = new Set([1040, 1042, 1043, 1129, 1130, 1203])
const mysqlAuthorizationErrorCodes = new Set([1044, 1142, 1143, 1227])
const mysqlSyntaxErrorCodes = new Set([1054, 1064, 1146])
const mysqlConstraintErrorCodes = new Set([1022, 1048, 1169, 1216, 1217, 1451, 1452, 1557])

const property = (cause: unknown, name: string): unknown =>
  typeof cause === "object" && cause !== null && name in cause ? (cause as Record<string, unknown>)[name] : undefined

const classifyError = (cause: unknown, message: string, operation: string) => {
  const props = { cause, message, operation }
  const errno = property(cause, "errno")
  if (typeof errno === "number") {
    if (mysqlConnectionErrorCodes.has(errno)) return new ConnectionError(props)
    if (errno === 1045) return new AuthenticationError(props)
    if (mysqlAuthorizationErrorCodes.has(errno)) return new AuthorizationError(props)
    if (mysqlSyntaxErrorCodes.has(errno)) return new SqlSyntaxError(props)
    if (errno === 1062) return new UniqueViolation({ ...props, constraint: "unknown" })
    if (mysqlConstraintErrorCodes.has(errno)) return new ConstraintError(props)
    if (errno === 1213) return new DeadlockError(props)
    if (errno === 1205) return new LockTimeoutError(props)
    if (errno === 3024) return new StatementTimeoutError(props)
  }
  // mysql2 marks errors that end the connection (refused, reset, connect timeout) as fatal
  if (property(cause, "fatal") === true) return new ConnectionError(props)
  return new UnknownError(props)
}

/** The fields that are set (mysql2's options do not take an explicit `undefined`). */
const defined = <A extends Record<string, unknown>>(fields: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as any

type Method = "execute" | "query"

class ConnectionImpl implements Connection {
  constructor(readonly conn: Mysql.Pool | Mysql.PoolConnection) {}

  private runRaw(sql: string, values: ReadonlyArray<unknown>, rowsAsArray = false, method: Method = "execute") {
    return Effect.callback<unknown, SqlError>((resume) => {
      const options = { sql, values: values as Array<unknown>, rowsAsArray }
      const done = (cause: Mysql.QueryError | null, results: unknown) => {
        if (cause) {
          const operation = method === "query" ? "executeUnprepared" : "execute"
          resume(Effect.fail(new SqlError({ reason: classifyError(cause, "Failed to execute statement", operation) })))
        } else {
          resume(Effect.succeed(results))
        }
      }
      if (method === "query") this.conn.query(options, done)
      else this.conn.execute(options, done)
    })
  }

  private run(sql: string, values: ReadonlyArray<unknown>, rowsAsArray = false, method: Method = "execute") {
    return Effect.map(
      this.runRaw(sql, values, rowsAsArray, method),
      (results): ReadonlyArray<any> => Array.isArray(results) ? results : []
    )
  }

  execute(
    sql: string,
    params: ReadonlyArray<unknown>,
    transformRows: (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
  ) {
    return transformRows ? Effect.map(this.run(sql, params), transformRows) : this.run(sql, params)
  }
  executeRaw(sql: string, params: ReadonlyArray<unknown>) {
    return this.runRaw(sql, params)
  }
  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return this.run(sql, params, true)
  }
  executeValuesUnprepared(sql: string, params: ReadonlyArray<unknown>) {
    return this.run(sql, params, true, "query")
  }
  executeUnprepared(
    sql: string,
    params: ReadonlyArray<unknown>,
    transformRows: (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined
  ) {
    const rows = this.run(sql, params, false, "query")
    return transformRows ? Effect.map(rows, transformRows) : rows
  }
  executeStream() {
    return Stream.die(new Error("test MysqlClient: streaming is not implemented"))
  }
}

/** Builds a client on a new mysql2 pool, ended when the scope closes. */
export const make = (
  options: MysqlClientConfig
): Effect.Effect<Client.SqlClient, never, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const config: Mysql.PoolOptions = {
      multipleStatements: true,
      supportBigNumbers: true,
      ...(options.url !== undefined ? { uri: Redacted.value(options.url) } : {}),
      ...defined({
        host: options.host,
        port: options.port,
        database: options.database,
        user: options.username,
        password: options.password === undefined ? undefined : Redacted.value(options.password),
        connectionLimit: options.maxConnections,
        connectTimeout: options.connectTimeout === undefined
          ? undefined
          : Duration.toMillis(Duration.fromInputUnsafe(options.connectTimeout))
      })
    }
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => Mysql.createPool(config)),
      (pool) => Effect.callback<void>((resume) => pool.end(() => resume(Effect.void)))
    )

    const acquireConn = Effect.acquireRelease(
      Effect.callback<Mysql.PoolConnection, SqlError>((resume) => {
        pool.getConnection((cause, conn) => {
          if (cause) {
            resume(Effect.fail(
              new SqlError({ reason: classifyError(cause, "Failed to acquire connection", "acquireConnection") })
            ))
          } else {
            resume(Effect.succeed(conn))
          }
        })
      }),
      (conn) => Effect.sync(() => conn.release())
    )

    return yield* Client.make({
      driver: "mysql2",
      acquirer: Effect.succeed(new ConnectionImpl(pool)),
      transactionAcquirer: Effect.map(acquireConn, (conn) => new ConnectionImpl(conn)),
      compiler: makeCompiler(),
      spanAttributes: [["db.system.name", "mysql"]]
    })
  })

/** A layer providing `SqlClient` on MySQL/MariaDB. */
export const layer = (config: MysqlClientConfig): Layer.Layer<Client.SqlClient> =>
  Layer.effectContext(Effect.map(make(config), (client) => Context.make(Client.SqlClient, client))).pipe(
    Layer.provide(Reactivity.layer)
  )

const escape = Statement.defaultEscape("`")

/** The rc's MySQL compiler: `?` placeholders, backtick-quoted identifiers. */
export const makeCompiler = (): Statement.Compiler =>
  Statement.makeCompiler({
    dialect: "mysql",
    placeholder: () => "?",
    onIdentifier: escape,
    onCustom: () => ["", []],
    onRecordUpdate: () => ["", []]
  })
