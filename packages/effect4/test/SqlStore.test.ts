/**
 * SqlStore on a real PostgreSQL (127.0.0.1:5432, db `test`) through `@effect/sql-pg` 4: the
 * conformance suite and the table shared with the effect 3 package. Every run uses its own tables
 * (other runs share the server), dropped afterwards.
 *
 * MySQL/MariaDB and SQLite: no effect 4 client exists on npm yet (`@effect/sql-mysql2` and
 * `@effect/sql-sqlite-node` stop at effect 3), so those dialects are not run here.
 */
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"
import * as SqlStore from "effect-session-v4/SqlStore"
import * as SqlClient from "effect/sql/SqlClient"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { describeWith, SERVICES } from "./utils/services.js"

const table = `e4_sessions_${randomBytes(6).toString("hex")}`
const PgLive = PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) })

await describeWith("postgres", "SqlStore (PostgreSQL)", () => {
  afterAll(() =>
    Effect.runPromise(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`DROP TABLE IF EXISTS "${table}", "${table}_locks", "${table}_zero", "${table}_zero_locks"`)
      }).pipe(Effect.provide(PgLive), Effect.ignore)
    )
  )

  SessionStoreSuite.run(
    "conformance",
    SqlStore.layer({ table, ensureTable: true }).pipe(Layer.provide(PgLive)),
    {
      defaultTtl: "2 hours",
      noExpiry: SqlStore.layer({ table: `${table}_zero`, ensureTable: true, ttl: 0 }).pipe(Layer.provide(PgLive)),
      unavailable: SqlStore.layer({ table, timeout: "2 seconds" }).pipe(
        Layer.provide(
          PgClient.layer({ url: Redacted.make("postgres://postgres@127.0.0.1:1/test"), connectTimeout: "1 second" })
        )
      ),
      unavailableWithin: "15 seconds"
    }
  )

  const provide = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient | Scope.Scope>) =>
    Effect.scoped(effect).pipe(Effect.provide(PgLive))

  describe("the table shared with the effect 3 package", () => {
    it.effect("a row is (id, data as JSON text, expires_at in Clock ms); rows written that way read back", () =>
      provide(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make({ table, ensureTable: true })
        const id = `layout-${randomBytes(6).toString("base64url")}`
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        yield* store.write(id, { user: "ada" }, Duration.minutes(1))
        const rows = yield* sql.unsafe<{ data: string; expires_at: string }>(
          `SELECT data, expires_at FROM "${table}" WHERE id = $1`,
          [id]
        )
        expect(rows[0]!.data).toBe("{\"user\":\"ada\"}")
        expect(Number(rows[0]!.expires_at)).toBe(now + 60_000)
        // what the effect 3 store writes
        yield* sql.unsafe(`UPDATE "${table}" SET data = $1 WHERE id = $2`, ["{\"n\":2}", id])
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
        yield* sql.unsafe(`INSERT INTO "${table}" (id, data, expires_at) VALUES ($1, $2, NULL)`, [id, "[1,2]"])
        expect((yield* Effect.flip(store.read(id))).reason).toBe("CorruptRecord")
        yield* store.destroy(id)
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

  it.effect("without ensureTable, a missing table fails with a SessionStoreError that says so", () =>
    provide(Effect.gen(function*() {
      const error = yield* Effect.flip(SqlStore.make({ table: `${table}_missing` }))
      expect(error._tag).toBe("SessionStoreError")
      expect(error.message).toContain("ensureTable")
    })))
})
