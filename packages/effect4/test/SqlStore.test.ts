/**
 * SqlStore on its three dialects, each with the conformance suite and the table shared with the
 * effect 3 package:
 * - PostgreSQL (127.0.0.1:5432, db `test`) through `@effect/sql-pg` 4.1, when reachable;
 * - MariaDB (127.0.0.1:3306, db `test`, user root) through `./utils/mysqlClient.ts`, when reachable;
 * - SQLite (`:memory:`, always) through `./utils/sqliteClient.ts`.
 * No effect 4.1 MySQL or SQLite client is on npm yet (as of 2026-12-05: `@effect/sql-mysql2` stops at
 * 4.0.0-rc.111, `@effect/sql-sqlite-node` at 4.0.0-beta.102, both on effect 4.0's
 * `effect/unstable/sql`), so those two run on test-only ports of them, not shipped.
 *
 * Every run uses its own tables (other runs share the servers), dropped afterwards. A `:memory:`
 * SQLite database is its client's alone and goes away with it, so there is nothing to drop.
 */
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"
import * as SqlStore from "effect-session-v4/SqlStore"
import * as SqlClient from "effect/sql/SqlClient"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import * as MysqlClient from "./utils/mysqlClient.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"
import * as SqliteClient from "./utils/sqliteClient.js"

interface Database {
  readonly title: string
  /** the server it needs; `undefined`: none (SQLite) */
  readonly service: ServiceName | undefined
  readonly client: Layer.Layer<SqlClient.SqlClient, unknown>
  /** a client on a port nothing listens on */
  readonly unreachable: Layer.Layer<SqlClient.SqlClient, unknown> | undefined
}

const databases: ReadonlyArray<Database> = [
  {
    title: "PostgreSQL",
    service: "postgres",
    client: PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) }),
    unreachable: PgClient.layer({
      url: Redacted.make("postgres://postgres@127.0.0.1:1/test"),
      connectTimeout: "1 second"
    })
  },
  {
    title: "MariaDB",
    service: "mysql",
    client: MysqlClient.layer({ url: Redacted.make(SERVICES.mysql.url) }),
    unreachable: MysqlClient.layer({
      url: Redacted.make("mysql://root@127.0.0.1:1/test"),
      connectTimeout: "1 second"
    })
  },
  {
    title: "SQLite",
    service: undefined,
    client: SqliteClient.layer({ filename: ":memory:" }),
    // SQLite runs in the process: there is no server to be unreachable. A database that cannot be
    // opened fails the client's layer (a SqlError) before SqlStore exists, so it says nothing
    // about the store.
    unreachable: undefined
  }
]

const suiteFor = (db: Database) => () => {
  const table = `e4_sessions_${randomBytes(6).toString("hex")}`
  const provide = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient | Scope.Scope>) =>
    Effect.scoped(effect).pipe(Effect.provide(db.client))

  if (db.service !== undefined) {
    afterAll(() =>
      Effect.runPromise(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          for (const name of [table, `${table}_zero`, `${table}_dropped`]) {
            yield* sql`DROP TABLE IF EXISTS ${sql(name)}`
            yield* sql`DROP TABLE IF EXISTS ${sql(`${name}_locks`)}`
          }
        }).pipe(Effect.provide(db.client), Effect.ignore)
      )
    )
  }

  SessionStoreSuite.run(
    "conformance",
    SqlStore.layer({ table, ensureTable: true }).pipe(Layer.provide(db.client)),
    {
      defaultTtl: "2 hours",
      noExpiry: SqlStore.layer({ table: `${table}_zero`, ensureTable: true, ttl: 0 }).pipe(Layer.provide(db.client)),
      unavailable: db.unreachable &&
        SqlStore.layer({ table, timeout: "2 seconds" }).pipe(Layer.provide(db.unreachable)),
      unavailableWithin: "15 seconds"
    }
  )

  describe("the table shared with the effect 3 package", () => {
    it.effect("a row is (id, data as JSON text, expires_at in Clock ms); rows written that way read back", () =>
      provide(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make({ table, ensureTable: true })
        const id = `layout-${randomBytes(6).toString("base64url")}`
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        yield* store.write(id, { user: "ada" }, Duration.minutes(1))
        const rows = yield* sql<{ data: string; expires_at: unknown }>`SELECT data, expires_at FROM ${
          sql(table)
        } WHERE id = ${id}`
        expect(rows[0]!.data).toBe("{\"user\":\"ada\"}")
        expect(Number(rows[0]!.expires_at)).toBe(now + 60_000)
        // what the effect 3 store writes
        yield* sql`UPDATE ${sql(table)} SET data = ${"{\"n\":2}"} WHERE id = ${id}`
        expect(yield* store.read(id)).toEqual(Option.some({ n: 2 }))
        yield* TestClock.adjust(Duration.minutes(1))
        expect(yield* store.read(id)).toEqual(Option.none())
        yield* store.destroy(id)
      })))

    it.effect("a row whose data is not a JSON object is CorruptRecord", () =>
      provide(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make({ table, ensureTable: true })
        const id = `corrupt-${randomBytes(6).toString("base64url")}`
        yield* sql`INSERT INTO ${sql(table)} (id, data, expires_at) VALUES (${id}, ${"[1,2]"}, NULL)`
        expect((yield* Effect.flip(store.read(id))).reason).toBe("CorruptRecord")
        yield* store.destroy(id)
      })))

    it.effect("IDs are compared byte for byte: case and trailing spaces make different sessions", () =>
      provide(Effect.gen(function*() {
        const store = yield* SqlStore.make({ table, ensureTable: true })
        const id = `bytes-${randomBytes(6).toString("hex")}-AbC`
        const ids = [id, id.toLowerCase(), `${id.toLowerCase()} `]
        for (const [i, key] of ids.entries()) yield* store.write(key, { v: i }, Duration.minutes(1))
        for (const [i, key] of ids.entries()) expect(yield* store.read(key)).toEqual(Option.some({ v: i }))
        yield* store.destroy(ids[1]!)
        expect(yield* store.read(id)).toEqual(Option.some({ v: 0 }))
        for (const key of ids) yield* store.destroy(key)
      })))

    it.effect("sweep deletes expired rows and keeps live ones", () =>
      provide(Effect.gen(function*() {
        const store = yield* SqlStore.make({ table, ensureTable: true, sweepBatchSize: 2 })
        const ids = Array.from({ length: 5 }, (_, i) => `sweep-${randomBytes(6).toString("base64url")}-${i}`)
        for (const id of ids) yield* store.write(id, {}, Duration.seconds(1))
        yield* store.write(`${ids[0]}-live`, {}, Duration.minutes(5))
        yield* TestClock.adjust(Duration.seconds(1))
        expect(yield* store.sweep).toBeGreaterThanOrEqual(5)
        expect(Option.isSome(yield* store.read(`${ids[0]}-live`))).toBe(true)
        yield* store.destroy(`${ids[0]}-live`)
      })))
  })

  it.effect("invalid options are a SessionConfigError", () =>
    provide(Effect.gen(function*() {
      for (const options of [{ table: "bad name" }, { ttl: -1 }, { sweepBatchSize: 0 }, { timeout: 0 }]) {
        expect((yield* Effect.flip(SqlStore.make(options)))._tag).toBe("SessionConfigError")
      }
    })))

  it.effect("a store error carries what the database said, not only the driver's generic message", () =>
    provide(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const dropped = `${table}_dropped`
      const store = yield* SqlStore.make({ table: dropped, ensureTable: true })
      yield* sql`DROP TABLE ${sql(dropped)}`
      const error = yield* Effect.flip(store.read("any"))
      expect(error._tag).toBe("SessionStoreError")
      // pg: relation "…" does not exist; MySQL: Table 'test.…' doesn't exist; SQLite: no such table: …
      expect(error.message).toContain(dropped)
    })))

  it.effect("without ensureTable, a missing table fails with a SessionStoreError that says so", () =>
    provide(Effect.gen(function*() {
      const error = yield* Effect.flip(SqlStore.make({ table: `${table}_missing` }))
      expect(error._tag).toBe("SessionStoreError")
      expect(error.message).toContain("ensureTable")
    })))
}

for (const db of databases) {
  const title = `SqlStore (${db.title})`
  if (db.service === undefined) describe(title, suiteFor(db))
  else await describeWith(db.service, title, suiteFor(db))
}
