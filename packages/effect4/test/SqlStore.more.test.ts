/**
 * SqlStore beyond the conformance suite, on its three dialects (ported from the effect 3 package's
 * test/SqlStore.test.ts): the DDL and building twice, the rows the shared core writes (rotation
 * grace included), corrupt rows, the batched sweep and the sweeper fiber on Effect's Clock, option
 * checks, statements that fail, and a failed COMMIT or ROLLBACK over HTTP.
 * - PostgreSQL (127.0.0.1:5432, db `test`) through `@effect/sql-pg`, when reachable;
 * - MariaDB (127.0.0.1:3306, db `test`) through `./utils/mysqlClient.ts`, when reachable;
 * - SQLite (`:memory:`, always) through `./utils/sqliteClient.ts`.
 * Every run uses its own tables, dropped afterwards.
 */
import { PgClient } from "@effect/sql-pg"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Fiber, Layer, Option, Redacted, type Scope } from "effect"
import { StoredRecord } from "effect-session-core"
import { Session } from "effect-session-v4"
import * as SqlStore from "effect-session-v4/SqlStore"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as SqlClient from "effect/sql/SqlClient"
import { TestClock } from "effect/testing"
import { randomBytes } from "node:crypto"
import { makeJar, serveWith } from "./utils/http.js"
import * as MysqlClient from "./utils/mysqlClient.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"
import * as SqliteClient from "./utils/sqliteClient.js"

/** A value `levels` objects deep below the top, `{ a: { a: ... {} } }`: 512 is as deep as a value may be. */
const nested = (levels: number): unknown => {
  let value: unknown = {}
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

interface Database {
  readonly title: string
  /** the server it needs; `undefined`: none (SQLite) */
  readonly service: ServiceName | undefined
  readonly client: Layer.Layer<SqlClient.SqlClient, unknown>
}

const databases: ReadonlyArray<Database> = [
  {
    title: "PostgreSQL",
    service: "postgres",
    client: PgClient.layer({ url: Redacted.make(SERVICES.postgres.url) })
  },
  {
    title: "MariaDB",
    service: "mysql",
    client: MysqlClient.layer({ url: Redacted.make(SERVICES.mysql.url) })
  },
  {
    title: "SQLite",
    service: undefined,
    client: SqliteClient.layer({ filename: ":memory:" })
  }
]

const suiteFor = (db: Database) => () => {
  const table = `e4_more_${randomBytes(6).toString("hex")}`
  const specific = `${table}_specific`
  const options: SqlStore.Options = { table: specific, ensureTable: true }
  const provide = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient | Scope.Scope>) =>
    Effect.scoped(effect).pipe(Effect.provide(db.client))

  if (db.service !== undefined) {
    afterAll(() =>
      Effect.runPromise(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          for (const name of [specific, `${table}_sweep`, `${table}_doomed`, `${table}_tx`]) {
            yield* sql`DROP TABLE IF EXISTS ${sql(`${name}_locks`)}`
            yield* sql`DROP TABLE IF EXISTS ${sql(name)}`
          }
        }).pipe(Effect.provide(db.client), Effect.ignore)
      )
    )
  }

  const rows = (name: string, id: string) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql<{ data: string; expires_at: unknown }>`SELECT data, expires_at FROM ${sql(name)} WHERE id = ${id}`
    )
  const unique = (label: string) => `${label}-${randomBytes(6).toString("base64url")}`

  it.effect("ensureTable creates the tables; building again is harmless; data and expires_at follow the Clock", () =>
    provide(Effect.gen(function*() {
      yield* SqlStore.make(options)
      const store = yield* SqlStore.make(options)
      yield* TestClock.adjust(Duration.seconds(5))
      const id = unique("clock")
      yield* store.write(id, { a: [] }, Duration.minutes(1))
      const [clock] = yield* rows(specific, id)
      expect(clock!.data).toBe("{\"a\":[]}")
      expect(Number(clock!.expires_at)).toBe(65_000)
      // with the store's TTL 0 and a write TTL of zero, the row never expires
      const forever = yield* SqlStore.make({ ...options, ttl: 0 })
      const never = unique("never")
      yield* forever.write(never, { b: {} }, Duration.zero)
      const [row] = yield* rows(specific, never)
      expect(row!.expires_at).toBeNull()
      // (well past the 2-hour default; the sweepers of both stores run meanwhile)
      yield* TestClock.adjust(Duration.hours(3))
      expect(yield* forever.read(never)).toEqual(Option.some({ b: {} }))
      yield* Effect.all([store.destroy(id), forever.destroy(never)])
    })))

  it.effect("rows are the core's: the text StoredRecord.toText builds, read by fromText; a row written that way reads back", () =>
    provide(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* SqlStore.make(options)
      const now = yield* Clock.currentTimeMillis
      const record = { user: "ada", ["__proto__"]: { p: 1 }, "": [], n: 0.1, s: "é\u2028\"" }
      const mine = unique("e4-row")
      yield* store.write(mine, record, Duration.minutes(1))
      const [row] = yield* rows(specific, mine)
      const text = StoredRecord.toText(record)
      if (text._tag !== "Text") throw new Error(text.message)
      expect(row!.data).toBe(text.text)
      const parsed = StoredRecord.fromText(row!.data)
      expect(parsed).toEqual({ _tag: "Record", record })
      expect(Object.getOwnPropertyDescriptor((parsed as any).record, "__proto__")?.value).toEqual({ p: 1 })
      expect(Number(row!.expires_at)).toBe(now + 60_000)
      // what the effect 3 store writes for write(id, record, 1 minute) now
      const theirs = unique("e3-row")
      yield* sql`INSERT INTO ${sql(specific)} (id, data, expires_at) VALUES (${theirs}, ${text.text}, ${now + 60_000})`
      const back = Option.getOrThrow(yield* store.read(theirs))
      expect(back).toEqual(record)
      expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toEqual({ p: 1 })
      // a rotation with a grace longer than the record's life retires it until its own expiry, no longer
      const next = unique("e3-next")
      expect(yield* store.rotate(theirs, next, { data: record, ttl: Duration.minutes(5), grace: Duration.minutes(2) }))
        .toBe(true)
      const [old] = yield* rows(specific, theirs)
      expect(Number(old!.expires_at)).toBe(StoredRecord.graceEnd(now, 120_000, now + 60_000))
      expect(StoredRecord.fromText(old!.data)).toEqual({
        _tag: "Record",
        record: { ...record, "__session.retired": now + 60_000 }
      })
      expect(yield* store.read(next)).toEqual(Option.some(record))
      yield* Effect.all([store.destroy(mine), store.destroy(theirs), store.destroy(next)])
    })))

  it.effect("a corrupt row: read and patch fail with CorruptRecord, the row is left as it was, destroy works", () =>
    provide(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* SqlStore.make(options)
      const id = unique("corrupt")
      const garbage = ["{oops", "", "{\"a\":", "[1,2]", "null", "1", "\"text\"", "\u0001\uFFFD"]
      for (const text of garbage) {
        yield* store.write(id, { a: 1 }, Duration.minutes(1))
        yield* sql`UPDATE ${sql(specific)} SET data = ${text} WHERE id = ${id}`
        const read = yield* Effect.flip(store.read(id))
        expect(read._tag).toBe("SessionStoreError")
        expect(read.reason).toBe("CorruptRecord")
        const patched = yield* Effect.flip(
          store.patch(id, { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.zero)
        )
        expect(patched.reason).toBe("CorruptRecord")
        expect((yield* rows(specific, id))[0]!.data).toBe(text)
        yield* store.destroy(id)
        expect(yield* store.read(id)).toEqual(Option.none())
      }
    })))

  it.effect("a value nested as deep as a write accepts reads back and patches; one level deeper is refused", () =>
    provide(Effect.gen(function*() {
      const store = yield* SqlStore.make(options)
      const id = unique("deep")
      yield* store.write(id, { v: nested(512) }, Duration.minutes(1))
      expect(yield* store.read(id)).toEqual(Option.some({ v: nested(512) }))
      expect(yield* store.patch(id, { clear: false, remove: [], set: [["n", 1]], add: [] }, Duration.zero)).toBe(true)
      expect(yield* store.read(id)).toEqual(Option.some({ v: nested(512), n: 1 }))
      const deeper = yield* Effect.flip(store.write(unique("deeper"), { v: nested(513) }, Duration.zero))
      expect(deeper.reason).toBe("Unencodable")
      yield* store.destroy(id)
    })))

  it.effect("sweep deletes expired rows in batches and keeps live ones", () =>
    provide(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const name = `${table}_sweep`
      const store = yield* SqlStore.make({ table: name, ensureTable: true, sweepBatchSize: 1000 })
      yield* sql`DELETE FROM ${sql(name)}`
      const expired = Array.from({ length: 2500 }, (_, i) => ({ id: `old-${i}`, data: "{}", expires_at: 1000 }))
      for (let i = 0; i < expired.length; i += 500) {
        const chunk = expired.slice(i, i + 500) as unknown as readonly [
          Record<string, unknown>,
          ...Array<Record<string, unknown>>
        ]
        yield* sql`INSERT INTO ${sql(name)} ${sql.insert(chunk)}`
      }
      for (let i = 0; i < 10; i++) yield* store.write(`live-${i}`, { i }, Duration.hours(1))
      yield* store.write("forever", {}, Duration.zero)
      yield* TestClock.adjust(Duration.seconds(2))
      expect(yield* store.sweep).toBe(2500)
      const [counted] = yield* sql<{ count: unknown }>`SELECT COUNT(*) AS count FROM ${sql(name)}`
      expect(Number(counted!.count)).toBe(11)
      expect(yield* store.sweep).toBe(0)
    })))

  it.effect("the sweeper fiber runs every sweepInterval on Effect's Clock", () =>
    provide(Effect.gen(function*() {
      const store = yield* SqlStore.make({ ...options, sweepInterval: "1 minute" })
      const id = unique("swept")
      yield* store.write(id, {}, Duration.seconds(1))
      yield* TestClock.adjust(Duration.seconds(30))
      expect(yield* rows(specific, id)).toHaveLength(1) // expired, not yet swept
      yield* TestClock.adjust(Duration.seconds(30))
      // the sweep's own statements run in real time: wait for them (bounded, generously)
      let left = 1
      for (let i = 0; i < 1000 && left > 0; i++) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
        left = (yield* rows(specific, id)).length
      }
      expect(left).toBe(0)
    })))

  it.effect("invalid options are a SessionConfigError", () =>
    provide(Effect.gen(function*() {
      const bad: Array<SqlStore.Options> = [
        { table: "sessions; DROP TABLE users" },
        { table: "a.b.c" },
        { table: "" },
        { sweepInterval: 0 },
        { sweepBatchSize: 1.5 },
        { sweepBatchSize: -1 },
        { timeout: "soon" as Duration.Input }
      ]
      for (const options of bad) {
        const error = yield* Effect.flip(SqlStore.make(options))
        expect(error._tag).toBe("SessionConfigError")
      }
    })))

  it.effect("a statement that fails (the table was dropped) is a SessionStoreError Unavailable, not a defect", () =>
    provide(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const doomed = `${table}_doomed`
      const store = yield* SqlStore.make({ table: doomed, ensureTable: true })
      yield* sql`DROP TABLE ${sql(doomed)}`
      yield* sql`DROP TABLE ${sql(`${doomed}_locks`)}`
      const failures = [
        yield* Effect.flip(store.read("x")),
        yield* Effect.flip(store.write("x", {}, Duration.zero)),
        yield* Effect.flip(store.destroy("x")),
        yield* Effect.flip(store.patch("x", { clear: true, remove: [], set: [], add: [] }, Duration.zero)),
        yield* Effect.flip(
          store.rotate("x", "y", { data: {}, ttl: Duration.minutes(1), grace: Duration.zero })
        ),
        yield* Effect.flip(store.lock("x", { ttl: Duration.seconds(1), wait: Duration.zero })),
        yield* Effect.flip(store.sweep)
      ]
      for (const error of failures) {
        expect(error._tag).toBe("SessionStoreError")
        expect((error as { reason?: string }).reason).toBe("Unavailable")
      }
    })))

  it.effect("a TTL too long for an expiry in whole milliseconds (Duration.infinity) is no expiry: write, patch, rotate, lock", () =>
    provide(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* SqlStore.make(options)
      const id = unique("infinite")
      const next = unique("infinite-next")
      yield* store.write(id, { a: 1 }, Duration.infinity)
      expect((yield* rows(specific, id))[0]!.expires_at).toBeNull()
      expect(yield* store.patch(id, { clear: false, remove: [], set: [["b", 2]], add: [] }, Duration.infinity))
        .toBe(true)
      expect(yield* store.rotate(id, next, { data: { c: 3 }, ttl: Duration.infinity, grace: Duration.zero })).toBe(true)
      expect((yield* rows(specific, next))[0]!.expires_at).toBeNull()
      const release = yield* store.lock(id, { ttl: Duration.infinity, wait: Duration.zero })
      const [held] = yield* sql<{ expires_at: unknown }>`SELECT expires_at FROM ${
        sql(`${specific}_locks`)
      } WHERE id = ${id}`
      expect(Number(held!.expires_at)).toBe(Number.MAX_SAFE_INTEGER)
      const second = yield* Effect.flip(store.lock(id, { ttl: Duration.seconds(1), wait: Duration.zero }))
      expect(second._tag).toBe("SessionLockTimeout")
      yield* release
      yield* store.sweep
      expect(yield* store.read(next)).toEqual(Option.some({ c: 3 }))
      yield* store.destroy(next)
    })))

  if (db.service !== undefined) {
    /**
     * Another connection locks the row `id` (`SELECT … FOR UPDATE`) for `seconds`: the returned
     * effect resolves once the lock is held; the fiber ends when the holder commits.
     */
    const holdRow = (id: string, seconds: number) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const held = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
          yield* sql`SELECT data FROM ${sql(specific)} WHERE id = ${id} FOR UPDATE`
          yield* Deferred.succeed(held, undefined)
          yield* sql.unsafe(db.title === "PostgreSQL" ? `SELECT pg_sleep(${seconds})` : `SELECT SLEEP(${seconds})`)
        })))
        yield* Deferred.await(held)
        return { holder, since: Date.now() }
      })
    const add = { clear: false, remove: [], set: [], add: [["n", 1]] } as const
    /** the lock is held this long; a Timeout must come well before it is released */
    const HOLD_SECONDS = 5
    const timedReason = <A>(since: number, effect: Effect.Effect<A, { readonly _tag: string }>) =>
      Effect.match(effect, {
        onFailure: (error) => ({ reason: (error as { reason?: string }).reason ?? error._tag, ms: Date.now() - since }),
        onSuccess: () => ({ reason: "success", ms: Date.now() - since })
      })

    it.live(
      "timeout bounds a patch, a rotation, a write and a destroy waiting on a row lock; none is applied after the Timeout",
      () =>
        provide(Effect.gen(function*() {
          const store = yield* SqlStore.make({ ...options, timeout: "1 second" })
          const id = unique("locked")
          const next = unique("locked-next")
          yield* store.write(id, { n: 0 }, Duration.minutes(5))
          const { holder, since } = yield* holdRow(id, HOLD_SECONDS)
          const results = yield* Effect.all([
            timedReason(since, store.patch(id, add, Duration.zero)),
            timedReason(
              since,
              store.rotate(id, next, { data: { n: 50 }, ttl: Duration.minutes(5), grace: Duration.zero })
            ),
            timedReason(since, store.write(id, { n: 99 }, Duration.zero)),
            timedReason(since, store.destroy(id))
          ], { concurrency: "unbounded" })
          expect(results.map(({ reason }) => reason)).toEqual(["Timeout", "Timeout", "Timeout", "Timeout"])
          yield* Fiber.join(holder)
          // a statement still waiting would take the row lock first: this patch comes after it
          expect(yield* store.patch(id, add, Duration.zero)).toBe(true)
          expect(yield* store.read(id)).toEqual(Option.some({ n: 1 }))
          expect(yield* store.read(next)).toEqual(Option.none())
          // each Timeout came well before the lock was released
          expect(Math.max(...results.map(({ ms }) => ms))).toBeLessThan(HOLD_SECONDS * 1000 - 1500)
          yield* store.destroy(id)
        })),
      30_000
    )

    if (db.title === "PostgreSQL") {
      it.effect("a timeout longer than PostgreSQL's lock_timeout takes (30 days) still patches", () =>
        provide(Effect.gen(function*() {
          const store = yield* SqlStore.make({ ...options, timeout: "30 days" })
          const id = unique("long")
          yield* store.write(id, { n: 0 }, Duration.minutes(5))
          expect(yield* store.patch(id, add, Duration.zero)).toBe(true)
          expect(yield* store.read(id)).toStrictEqual(Option.some({ n: 1 }))
        })))

      it.effect("inside the caller's own transaction the store leaves its lock_timeout alone", () =>
        provide(Effect.gen(function*() {
          const store = yield* SqlStore.make(options)
          const sql = yield* SqlClient.SqlClient
          const id = unique("nested")
          yield* store.write(id, { n: 0 }, Duration.minutes(5))
          const [before, after] = yield* sql.withTransaction(Effect.gen(function*() {
            const before = yield* sql<{ readonly lock_timeout: string }>`SHOW lock_timeout`
            expect(yield* store.patch(id, add, Duration.zero)).toBe(true)
            const after = yield* sql<{ readonly lock_timeout: string }>`SHOW lock_timeout`
            return [before[0]!.lock_timeout, after[0]!.lock_timeout] as const
          }))
          expect(after).toBe(before)
        })))
    }

    if (db.title === "PostgreSQL") {
      it.live(
        "timeout bounds patches waiting on a row lock when they take every pooled connection",
        () =>
          provide(Effect.gen(function*() {
            const small = yield* Layer.build(
              PgClient.layer({ url: Redacted.make(SERVICES.postgres.url), maxConnections: 3 })
            )
            const store = yield* SqlStore.make({ ...options, timeout: "1 second" }).pipe(Effect.provideContext(small))
            const id = unique("hot")
            yield* store.write(id, { n: 0 }, Duration.minutes(5))
            const { holder, since } = yield* holdRow(id, 5)
            const results = yield* Effect.all(
              Array.from({ length: 3 }, () => timedReason(since, store.patch(id, add, Duration.zero))),
              { concurrency: "unbounded" }
            )
            expect(results.map(({ reason }) => reason)).toEqual(["Timeout", "Timeout", "Timeout"])
            expect(Math.max(...results.map(({ ms }) => ms))).toBeLessThan(3500)
            yield* Fiber.join(holder)
            // the pool is free again, and no timed-out patch was applied
            expect(yield* store.read(id)).toEqual(Option.some({ n: 0 }))
            yield* store.destroy(id)
          })),
        30_000
      )
    }
  }

  if (db.title === "PostgreSQL") {
    it.effect(
      "a COMMIT or a ROLLBACK that fails is a 503 over HTTP (SessionStoreError), not a 500",
      () =>
        provide(Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const tx = `${table}_tx`
          yield* SqlStore.make({ table: tx, ensureTable: true })
          const refuse = sql(`${tx}_refuse_commit`)
          const kill = sql(`${tx}_kill_connection`)
          yield* Effect.addFinalizer(() => Effect.ignore(sql`DROP FUNCTION IF EXISTS ${refuse}, ${kill} CASCADE`))
          // A deferred constraint trigger: the patch's UPDATE succeeds, its COMMIT fails.
          yield* sql.unsafe(`CREATE FUNCTION ${tx}_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.data LIKE '%fail_commit%' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$`)
          yield* sql.unsafe(`CREATE CONSTRAINT TRIGGER ${tx}_refuse_commit AFTER UPDATE ON ${tx}
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${tx}_refuse_commit()`)
          // A trigger that ends its own connection mid-UPDATE: the ROLLBACK that follows fails too.
          yield* sql.unsafe(`CREATE FUNCTION ${tx}_kill_connection() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.data LIKE '%fail_rollback%' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
          RETURN NEW; END $$`)
          yield* sql.unsafe(`CREATE TRIGGER ${tx}_kill_connection BEFORE UPDATE ON ${tx}
          FOR EACH ROW EXECUTE FUNCTION ${tx}_kill_connection()`)

          const Routes = Layer.mergeAll(
            HttpRouter.add(
              "POST",
              "/put",
              Effect.gen(function*() {
                const request = yield* HttpServerRequest.HttpServerRequest
                const key = new URL(request.url, "http://localhost").searchParams.get("key") ?? ""
                yield* Session.put(key, true)
                return HttpServerResponse.text("ok")
              })
            ),
            HttpRouter.add("GET", "/all", Effect.map(Session.all, (all) => HttpServerResponse.jsonUnsafe(all)))
          ).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

          yield* Effect.gen(function*() {
            const jar = makeJar()
            expect((yield* jar.post("/put?key=user")).status).toBe(200)
            expect((yield* jar.post("/put?key=fail_commit")).status).toBe(503)
            expect((yield* jar.post("/put?key=fail_rollback")).status).toBe(503)
            // the store still works, and neither failed change was saved
            expect((yield* jar.post("/put?key=after")).status).toBe(200)
            expect(JSON.parse((yield* jar.get("/all")).body)).toEqual({ user: true, after: true })
          }).pipe(Effect.provide(serveWith(Routes, SqlStore.layer({ table: tx }).pipe(Layer.provide(db.client)))))
        })),
      30_000
    )
  }
}

for (const db of databases) {
  const title = `SqlStore, more (${db.title})`
  if (db.service === undefined) describe(title, suiteFor(db))
  else await describeWith(db.service, title, suiteFor(db))
}
