/**
 * The SQL stores' tables (both Effect lines: an effect 3 app and an effect 4 app can share one
 * table), as plain text per dialect. The same DDL as the effect 3 package's `SqlStore` and
 * `docs/stores.md`.
 *
 * - `<table>`: `id` (the hashed session ID, compared byte for byte), `data` (the record as JSON
 *   text), `expires_at` (milliseconds on Effect's `Clock`; `NULL` = never), with an index on
 *   `expires_at` for the sweeper.
 * - `<table>_locks`: one row per held lock: `id`, the holder's random `token`, `expires_at`.
 */

/** The dialects the stores speak. */
export type Dialect = "pg" | "mysql" | "sqlite"

/** One part of a table name: a plain SQL identifier, short enough for the `_locks`/`_expires_at` suffixes. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,50}$/

/** Why `table` is not a usable table name (`name` or `schema.name`), or `undefined` when it is. */
export const checkTableName = (table: string): string | undefined => {
  // untyped config can hold a number or an object here
  if (typeof table !== "string") return `table must be a string (an SQL identifier), got ${typeof table}`
  const parts = table.split(".")
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    return `table must be an SQL identifier (letters, digits, _; at most 51 characters), optionally schema-qualified, got ${
      JSON.stringify(table)
    }`
  }
  return undefined
}

/** The names a store uses for a table name option. */
export interface Names {
  readonly table: string
  readonly locks: string
  /** the index on `expires_at`, unqualified (an index lives in its table's schema) */
  readonly index: string
}

export const names = (table: string): Names => ({
  table,
  locks: `${table}_locks`,
  index: `${table.split(".").pop()}_expires_at`
})

/** A checked (`checkTableName`) name, quoted as the SQL clients quote identifiers. */
export const quote = (dialect: Dialect, name: string): string =>
  name.split(".").map((part) => dialect === "mysql" ? `\`${part}\`` : `"${part}"`).join(".")

/** `CREATE … IF NOT EXISTS` statements for a store's tables, in order. */
export const createStatements = (dialect: Dialect, names: Names): ReadonlyArray<string> => {
  const table = quote(dialect, names.table)
  const locks = quote(dialect, names.locks)
  const index = quote(dialect, names.index)
  switch (dialect) {
    case "pg":
      return [
        `CREATE TABLE IF NOT EXISTS ${table} (id VARCHAR(255) PRIMARY KEY, data TEXT NOT NULL, expires_at BIGINT)`,
        `CREATE INDEX IF NOT EXISTS ${index} ON ${table} (expires_at)`,
        `CREATE TABLE IF NOT EXISTS ${locks} (id VARCHAR(255) PRIMARY KEY, token VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL)`
      ]
    case "mysql":
      // VARBINARY: IDs are compared byte for byte (the default collations ignore case and trailing spaces).
      return [
        `CREATE TABLE IF NOT EXISTS ${table} (id VARBINARY(255) NOT NULL PRIMARY KEY, data MEDIUMTEXT NOT NULL, expires_at BIGINT NULL, INDEX ${index} (expires_at)) DEFAULT CHARSET = utf8mb4`,
        `CREATE TABLE IF NOT EXISTS ${locks} (id VARBINARY(255) NOT NULL PRIMARY KEY, token VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL) DEFAULT CHARSET = utf8mb4`
      ]
    case "sqlite":
      return [
        `CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, expires_at INTEGER)`,
        `CREATE INDEX IF NOT EXISTS ${index} ON ${table} (expires_at)`,
        `CREATE TABLE IF NOT EXISTS ${locks} (id TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, expires_at INTEGER NOT NULL)`
      ]
  }
}

/** Rows a raw `INSERT`/`UPDATE`/`DELETE` result says it changed (pg, mysql2 and SQLite driver shapes). */
export const affectedRows = (raw: unknown): number => {
  if (typeof raw !== "object" || raw === null) return 0
  const r = raw as { rowCount?: unknown; affectedRows?: unknown; changes?: unknown }
  const n = r.rowCount ?? r.affectedRows ?? r.changes
  return typeof n === "number" ? n : 0
}

/**
 * The statement that starts each of a SQL store's transactions (both lines), bounding how long a
 * statement in it may wait for a row another transaction holds: a little less than the store's
 * `timeout` (by a fifth, at most 1 s), so that the database ends the wait before the operation's
 * deadline interrupts it (a MySQL driver cannot cancel a blocked statement, and PostgreSQL cancels
 * through a pooled connection that a pool exhausted by waiters cannot lend). The blocked statement
 * then fails on its own with the database's lock-timeout error (a `Timeout`), so its transaction
 * ends and its connection is free again.
 *
 * PostgreSQL: `SET LOCAL lock_timeout` (this transaction only); MySQL/MariaDB: the session's
 * `innodb_lock_wait_timeout` (whole seconds, at least 1; set again by every transaction of the
 * store); each clamped to the database's largest value. SQLite (one writer, its busy timeout):
 * `undefined`, nothing to run.
 *
 * @example
 * ```ts
 * import { SqlSchema } from "effect-session-core"
 *
 * SqlSchema.boundLockWaits("pg", 5000) // "SET LOCAL lock_timeout = '4000ms'"
 * SqlSchema.boundLockWaits("sqlite", 5000) // undefined
 * ```
 */
export const boundLockWaits = (dialect: Dialect, timeoutMillis: number): string | undefined => {
  const millis = Math.max(1, Math.ceil(timeoutMillis) - Math.min(Math.floor(timeoutMillis / 5), 1000))
  switch (dialect) {
    case "pg":
      return `SET LOCAL lock_timeout = '${Math.min(millis, 2_147_483_647)}ms'`
    case "mysql":
      return `SET SESSION innodb_lock_wait_timeout = ${Math.min(Math.ceil(millis / 1000), 1_073_741_824)}`
    case "sqlite":
      return undefined
  }
}
