/**
 * The SQL store's tables, per dialect. `docs/stores.md` shows the same DDL for the default table
 * name; keep the two in step.
 *
 * - `<table>`: `id` (the hashed session ID, compared byte for byte), `data` (the record as the
 *   codec's JSON text), `expires_at` (milliseconds on Effect's `Clock`; `NULL` = never), with an
 *   index on `expires_at` for the sweeper.
 * - `<table>_locks`: one row per held lock: `id`, the holder's random `token`, `expires_at`.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"

/** The dialects the store speaks. */
export type Dialect = "pg" | "mysql" | "sqlite"

/** One part of a table name: a plain SQL identifier, short enough for the `_locks`/`_expires_at` suffixes. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,50}$/

/** Why `table` is not a usable table name (`name` or `schema.name`), or `undefined` when it is. */
export const checkTableName = (table: string): string | undefined => {
  const parts = table.split(".")
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    return `table must be an SQL identifier (letters, digits, _; at most 51 characters), optionally schema-qualified, got ${
      JSON.stringify(table)
    }`
  }
  return undefined
}

/** The names the store uses for a table name option. */
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

/**
 * `CREATE … IF NOT EXISTS` statements for the store's tables, in order. (`any`: DDL returns no rows;
 * `Statement`'s row type has no "nothing" to name.)
 */
export const createStatements = (
  sql: SqlClient.SqlClient,
  dialect: Dialect,
  { index, locks, table }: Names
): ReadonlyArray<Statement.Statement<any>> => {
  switch (dialect) {
    case "pg":
      return [
        sql`CREATE TABLE IF NOT EXISTS ${
          sql(table)
        } (id VARCHAR(255) PRIMARY KEY, data TEXT NOT NULL, expires_at BIGINT)`,
        sql`CREATE INDEX IF NOT EXISTS ${sql(index)} ON ${sql(table)} (expires_at)`,
        sql`CREATE TABLE IF NOT EXISTS ${
          sql(locks)
        } (id VARCHAR(255) PRIMARY KEY, token VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL)`
      ]
    case "mysql":
      // VARBINARY: IDs are compared byte for byte (the default collations ignore case and trailing spaces).
      return [
        sql`CREATE TABLE IF NOT EXISTS ${
          sql(table)
        } (id VARBINARY(255) NOT NULL PRIMARY KEY, data MEDIUMTEXT NOT NULL, expires_at BIGINT NULL, INDEX ${
          sql(index)
        } (expires_at)) DEFAULT CHARSET = utf8mb4`,
        sql`CREATE TABLE IF NOT EXISTS ${
          sql(locks)
        } (id VARBINARY(255) NOT NULL PRIMARY KEY, token VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL) DEFAULT CHARSET = utf8mb4`
      ]
    case "sqlite":
      return [
        sql`CREATE TABLE IF NOT EXISTS ${
          sql(table)
        } (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, expires_at INTEGER)`,
        sql`CREATE INDEX IF NOT EXISTS ${sql(index)} ON ${sql(table)} (expires_at)`,
        sql`CREATE TABLE IF NOT EXISTS ${
          sql(locks)
        } (id TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, expires_at INTEGER NOT NULL)`
      ]
  }
}

/** Rows a raw `INSERT`/`UPDATE`/`DELETE` result says it changed (pg, mysql2 and better-sqlite3 shapes). */
export const affectedRows = (raw: unknown): number => {
  if (typeof raw !== "object" || raw === null) return 0
  const r = raw as { rowCount?: unknown; affectedRows?: unknown; changes?: unknown }
  const n = r.rowCount ?? r.affectedRows ?? r.changes
  return typeof n === "number" ? n : 0
}
