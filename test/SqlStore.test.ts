/**
 * SqlStore: the conformance suite on SQLite (always), PostgreSQL and MariaDB (when reachable), in a
 * table unique to this run that is dropped afterwards; then what is specific to SQL: the DDL and
 * the table check, expires_at from Effect's Clock, byte-exact IDs, corrupt rows, the batched
 * sweeper, option checks and statement failures.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { MysqlClient } from "@effect/sql-mysql2"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { afterAll, describe, expect, layer } from "@effect/vitest"
import {
  Cause,
  Clock,
  Config,
  ConfigProvider,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  TestClock
} from "effect"
import { Session, SessionStore } from "effect-session"
import { StoredRecord } from "effect-session-core"
import * as SessionStoreSuite from "effect-session/SessionStoreSuite"
import * as SqlStore from "effect-session/SqlStore"
import { randomBytes } from "node:crypto"
import { storeLayerFromEnv } from "../examples/store.js"
import { tcpProxy } from "./fixtures/tcp-proxy.js"
import { Jar, request, serve } from "./utils/http.js"
import { describeWith, type ServiceName, SERVICES } from "./utils/services.js"

const runId = randomBytes(4).toString("hex")
const table = `effect_sessions_t${runId}`

/**
 * The conformance suite checks what a store does, not how fast: on a loaded machine (load 9 on two
 * cores) 200 concurrent patch transactions on one row queue for seconds, so the suite's store and
 * pool wait this long (below the suite's 30 s per-test timeout). Timeouts are tested elsewhere.
 */
const PATIENT = Duration.seconds(25)

/** The typed failure of an exit, if it has one. */
const failure = (exit: Exit.Exit<unknown, unknown>): any =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** A value `levels` objects deep below the top, `{ a: { a: ... {} } }`: 512 is as deep as a value may be. */
const nested = (levels: number): unknown => {
  let value: unknown = {}
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

interface Database {
  readonly title: string
  readonly service: ServiceName | undefined
  /**
   * a client on the database, through `port` when given (a proxy); `patient`: one whose callers
   * may queue for a pooled connection as long as a loaded machine makes them (the conformance
   * suite's 200 concurrent transactions on one row)
   */
  readonly client: (port?: number, patient?: boolean) => Layer.Layer<SqlClient.SqlClient, unknown>
}

const databases: ReadonlyArray<Database> = [
  {
    title: "SQLite",
    service: undefined,
    client: () => SqliteClient.layer({ filename: ":memory:" })
  },
  {
    title: "PostgreSQL",
    service: "postgres",
    client: (port = SERVICES.postgres.port, patient = false) =>
      PgClient.layer({
        url: Redacted.make(`postgres://postgres@127.0.0.1:${port}/test`),
        // also how long a caller waits for a pooled connection
        connectTimeout: patient ? PATIENT : "3 seconds"
      })
  },
  {
    title: "MariaDB",
    service: "mysql",
    client: (port = SERVICES.mysql.port) =>
      MysqlClient.layer({ url: Redacted.make(`mysql://root@127.0.0.1:${port}/test`) })
  }
]

/** A store whose database goes away right after the layer is built. */
const unavailable = (db: Database, target: number) =>
  Layer.unwrapScoped(
    Effect.map(tcpProxy(target), (proxy) =>
      SqlStore.layer({ table, ensureTable: true, timeout: "3 seconds" }).pipe(
        Layer.provide(db.client(proxy.port)),
        Layer.tap(() => proxy.cut)
      ))
  )

const dropTables = (db: Database, ...tables: Array<string>) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.forEach(tables.flatMap((t) => [`${t}_locks`, t]), (t) =>
        sql`DROP TABLE IF EXISTS ${sql(t)}`, {
        discard: true
      })).pipe(Effect.provide(db.client()), Effect.orDie)
  )

const suiteFor = (db: Database) => () => {
  if (db.service !== undefined) {
    afterAll(() =>
      dropTables(db, table, `${table}_specific`, `${table}_cfg`, `${table}_doomed`, `${table}_example`, `${table}_tx`)
    )
  }

  SessionStoreSuite.run(
    `SqlStore on ${db.title} conformance`,
    SqlStore.layer({ table, ensureTable: true, timeout: PATIENT }).pipe(Layer.provide(db.client(undefined, true))),
    {
      defaultTtl: "2 hours",
      noExpiry: SqlStore.layer({ table, ensureTable: true, ttl: 0, timeout: PATIENT }).pipe(
        Layer.provide(db.client(undefined, true))
      ),
      unavailable: db.service === undefined ? undefined : unavailable(db, SERVICES[db.service].port)
    }
  )

  layer(db.client())(`SqlStore on ${db.title}`, (it) => {
    const specific = `${table}_specific`
    const options: SqlStore.Options = { table: specific, ensureTable: true }
    const rows = (id: string) =>
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) =>
          sql<{ data: string; expires_at: unknown }>`SELECT data, expires_at FROM ${sql(specific)} WHERE id = ${id}`
      )

    it.scoped("ensureTable creates the tables; building again is harmless; data and expires_at follow the Clock", () =>
      Effect.gen(function*() {
        yield* SqlStore.make(options)
        const store = yield* SqlStore.make(options)
        yield* TestClock.adjust(Duration.seconds(5))
        yield* store.write("clock", { a: [] }, Duration.minutes(1))
        const [clock] = yield* rows("clock")
        expect(clock!.data).toBe("{\"a\":[]}")
        expect(Number(clock!.expires_at)).toBe(65_000)
        const forever = yield* SqlStore.make({ ...options, ttl: 0 })
        yield* forever.write("never", { b: {} }, Duration.zero)
        const [never] = yield* rows("never")
        expect(never!.expires_at).toBeNull()
      }))

    // The effect 4 package's SqlStore writes `data` with the core's StoredRecord.toText, reads it
    // with fromText and retires with graceEnd (packages/effect4/src/SqlStore.ts): the rows are the
    // same in both lines, so an effect 3 app and an effect 4 app can share the table.
    it.scoped("rows are the core's: the text StoredRecord.toText builds, read by fromText; a row written as effect 4 writes it reads back", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make(options)
        const now = yield* Clock.currentTimeMillis // the layer's TestClock: earlier tests may have moved it
        const record = { user: "ada", ["__proto__"]: { p: 1 }, "": [], n: 0.1, s: "é\u2028\"" }
        yield* store.write("e3-row", record, Duration.minutes(1))
        const [row] = yield* rows("e3-row")
        const text = StoredRecord.toText(record)
        expect(text._tag === "Text" && text.text).toBe(row!.data)
        const parsed = StoredRecord.fromText(row!.data)
        expect(parsed).toEqual({ _tag: "Record", record })
        expect(Object.getOwnPropertyDescriptor((parsed as any).record, "__proto__")?.value).toEqual({ p: 1 })
        expect(Number(row!.expires_at)).toBe(now + 60_000)
        // what the effect 4 store writes for write("e4-row", record, 1 minute) now
        yield* sql`INSERT INTO ${sql(specific)} (id, data, expires_at) VALUES (${"e4-row"}, ${(text as any).text}, ${
          now + 60_000
        })`
        expect(yield* store.read("e4-row")).toEqual(Option.some(record))
        // a rotation with a grace longer than the record's life retires it until its own expiry
        expect(yield* store.rotate("e4-row", "e4-next", record, Duration.minutes(5), Duration.minutes(2))).toBe(true)
        const [old] = yield* rows("e4-row")
        expect(Number(old!.expires_at)).toBe(StoredRecord.graceEnd(now, 120_000, now + 60_000))
        expect(StoredRecord.fromText(old!.data)).toEqual({
          _tag: "Record",
          record: { ...record, "__session.retired": now + 60_000 }
        })
      }))

    it.scoped("without ensureTable, a missing table fails the layer with SessionStoreError naming the fix", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(SqlStore.make({ table: `${table}_missing` }))
        expect(failure(exit)?._tag).toBe("SessionStoreError")
        expect(failure(exit)?.message).toContain("ensureTable")
      }))

    it.scoped("IDs are compared byte for byte: case and trailing spaces make different sessions", () =>
      Effect.gen(function*() {
        const store = yield* SqlStore.make(options)
        yield* store.write("AbC", { v: 1 }, Duration.minutes(1))
        yield* store.write("abc", { v: 2 }, Duration.minutes(1))
        yield* store.write("abc ", { v: 3 }, Duration.minutes(1))
        expect(yield* store.read("AbC")).toEqual(Option.some({ v: 1 }))
        expect(yield* store.read("abc")).toEqual(Option.some({ v: 2 }))
        expect(yield* store.read("abc ")).toEqual(Option.some({ v: 3 }))
        yield* store.destroy("abc")
        expect(yield* store.read("AbC")).toEqual(Option.some({ v: 1 }))
      }))

    it.scoped("a corrupt row: read and patch fail with CorruptRecord, the row is left as it was, destroy works", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make(options)
        for (const text of ["{oops", "[1,2]", "\"text\"", "null"]) {
          yield* store.write("corrupt", { a: 1 }, Duration.minutes(1))
          yield* sql`UPDATE ${sql(specific)} SET data = ${text} WHERE id = ${"corrupt"}`
          expect(failure(yield* Effect.exit(store.read("corrupt")))?.reason).toBe("CorruptRecord")
          const patched = yield* Effect.exit(
            store.patch("corrupt", { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.zero)
          )
          expect(failure(patched)?.reason).toBe("CorruptRecord")
          expect((yield* rows("corrupt"))[0]!.data).toBe(text)
          yield* store.destroy("corrupt")
          expect(yield* store.read("corrupt")).toEqual(Option.none())
        }
      }))

    it.scoped("a value nested as deep as a write accepts reads back and patches; one level deeper is refused", () =>
      Effect.gen(function*() {
        const store = yield* SqlStore.make(options)
        yield* store.write("deep", { v: nested(512) }, Duration.minutes(1))
        expect(yield* store.read("deep")).toEqual(Option.some({ v: nested(512) }))
        expect(yield* store.patch("deep", { clear: false, remove: [], set: [["n", 1]], add: [] }, Duration.zero))
          .toBe(true)
        expect(yield* store.read("deep")).toEqual(Option.some({ v: nested(512), n: 1 }))
        expect(failure(yield* Effect.exit(store.write("deeper", { v: nested(513) }, Duration.zero)))?.reason).toBe(
          "Unencodable"
        )
        yield* store.destroy("deep")
      }))

    it.scoped("sweep deletes expired rows in batches and keeps live ones", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make({ ...options, sweepBatchSize: 1000 })
        yield* sql`DELETE FROM ${sql(specific)}`
        const expired = Array.from({ length: 2500 }, (_, i) => ({ id: `old-${i}`, data: "{}", expires_at: 1000 }))
        for (let i = 0; i < expired.length; i += 500) {
          yield* sql`INSERT INTO ${sql(specific)} ${sql.insert(expired.slice(i, i + 500))}`
        }
        for (let i = 0; i < 10; i++) yield* store.write(`live-${i}`, { i }, Duration.hours(1))
        yield* store.write("forever", {}, Duration.zero)
        yield* TestClock.adjust(Duration.seconds(2))
        expect(yield* store.sweep).toBe(2500)
        const [{ count }] = yield* sql<{ count: unknown }>`SELECT COUNT(*) AS count FROM ${sql(specific)}`
        expect(Number(count)).toBe(11)
        expect(yield* store.sweep).toBe(0)
      }))

    it.scoped("the sweeper fiber runs every sweepInterval on Effect's Clock", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const store = yield* SqlStore.make({ ...options, sweepInterval: "1 minute" })
        yield* store.write("swept", {}, Duration.seconds(1))
        yield* TestClock.adjust(Duration.seconds(30))
        expect(yield* rows("swept")).toHaveLength(1) // expired, not yet swept
        yield* TestClock.adjust(Duration.seconds(30))
        // the sweep's own I/O runs in real time: wait for it, bounded
        let left = 1
        for (let i = 0; i < 200 && left > 0; i++) {
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
          left = (yield* sql`SELECT id FROM ${sql(specific)} WHERE id = ${"swept"}`).length
        }
        expect(left).toBe(0)
      }))

    it.scoped("invalid options are a SessionConfigError", () =>
      Effect.gen(function*() {
        for (
          const bad of [
            { table: "sessions; DROP TABLE users" },
            { table: "a.b.c" },
            { table: "" },
            { ttl: -1 },
            { sweepInterval: 0 },
            { sweepBatchSize: 0 },
            { sweepBatchSize: 1.5 },
            { timeout: 0 }
          ] satisfies Array<SqlStore.Options>
        ) {
          expect(failure(yield* Effect.exit(SqlStore.make(bad)))?._tag).toBe("SessionConfigError")
        }
      }))

    it.effect("layerConfig reads its options from Config", () =>
      Effect.gen(function*() {
        const store = yield* SessionStore
        yield* store.write("cfg", { a: 1 }, Duration.zero)
        yield* TestClock.adjust(Duration.minutes(10))
        expect(yield* store.read("cfg")).toEqual(Option.none())
      }).pipe(
        Effect.provide(
          SqlStore.layerConfig({
            table: Config.string("SESSION_TABLE"),
            ttl: Config.duration("SESSION_TTL"),
            ensureTable: Config.boolean("SESSION_ENSURE_TABLE")
          }).pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
              new Map([["SESSION_TABLE", `${table}_cfg`], ["SESSION_TTL", "10 minutes"], [
                "SESSION_ENSURE_TABLE",
                "true"
              ]])
            )))
          )
        )
      ))

    if (db.title === "PostgreSQL") {
      it.effect("examples/store.ts: SESSION_STORE=postgres keeps the demo's sessions in SESSION_TABLE (created)", () =>
        Effect.gen(function*() {
          const store = yield* SessionStore
          yield* store.write("demo", { a: 1 }, Duration.minutes(1))
          const sql = yield* SqlClient.SqlClient
          const found = yield* sql<{ data: string }>`SELECT data FROM ${sql(`${table}_example`)} WHERE id = ${"demo"}`
          expect(found.map((row) => row.data)).toEqual(["{\"a\":1}"])
        }).pipe(
          Effect.provide(Layer.provide(
            storeLayerFromEnv,
            Layer.setConfigProvider(ConfigProvider.fromMap(
              new Map([["SESSION_STORE", "postgres"], ["DATABASE_URL", SERVICES.postgres.url], [
                "SESSION_TABLE",
                `${table}_example`
              ]])
            ))
          ))
        ))
    }

    if (db.title === "PostgreSQL") {
      it.scoped(
        "a COMMIT or a ROLLBACK that fails is a 503 over HTTP (SessionStoreError), not a 500",
        () =>
          Effect.gen(function*() {
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

            const routes = HttpRouter.empty.pipe(
              HttpRouter.post(
                "/put",
                Effect.gen(function*() {
                  const { key } = yield* HttpServerRequest.ParsedSearchParams
                  yield* Session.put(String(key), true)
                  return HttpServerResponse.text("ok")
                })
              ),
              HttpRouter.get("/all", Effect.map(Session.all, (all) => HttpServerResponse.unsafeJson(all)))
            )
            yield* Effect.gen(function*() {
              const jar = new Jar()
              expect((yield* request("POST", "/put?key=user", { jar })).status).toBe(200)
              const commit = yield* request("POST", "/put?key=fail_commit", { jar })
              expect(commit.status).toBe(503)
              const rollback = yield* request("POST", "/put?key=fail_rollback", { jar })
              expect(rollback.status).toBe(503)
              // the store still works, and neither failed change was saved
              expect((yield* request("POST", "/put?key=after", { jar })).status).toBe(200)
              expect(JSON.parse((yield* request("GET", "/all", { jar })).body)).toEqual({ user: true, after: true })
            }).pipe(
              Effect.provide(serve(routes, { insecure: true }).pipe(Layer.provide(SqlStore.layer({ table: tx }))))
            )
          }),
        30_000
      )
    }

    it.scoped("a TTL too long for an expiry in whole milliseconds (Duration.infinity) is no expiry: write, patch, rotate, lock", () =>
      Effect.gen(function*() {
        const store = yield* SqlStore.make(options)
        yield* store.write("infinite", { a: 1 }, Duration.infinity)
        expect((yield* rows("infinite"))[0]!.expires_at).toBeNull()
        expect(
          yield* store.patch("infinite", { clear: false, remove: [], set: [["b", 2]], add: [] }, Duration.infinity)
        )
          .toBe(true)
        expect(yield* store.rotate("infinite", "infinite-next", { c: 3 }, Duration.infinity, Duration.zero)).toBe(true)
        expect((yield* rows("infinite-next"))[0]!.expires_at).toBeNull()
        const release = yield* store.lock("infinite", { ttl: Duration.infinity, wait: Duration.zero })
        const [held] = yield* Effect.flatMap(
          SqlClient.SqlClient,
          (sql) =>
            sql<{ expires_at: unknown }>`SELECT expires_at FROM ${sql(`${specific}_locks`)} WHERE id = ${"infinite"}`
        )
        expect(Number(held!.expires_at)).toBe(Number.MAX_SAFE_INTEGER)
        const second = yield* Effect.exit(store.lock("infinite", { ttl: Duration.seconds(1), wait: Duration.zero }))
        expect(failure(second)?._tag).toBe("SessionLockTimeout")
        yield* release
        yield* store.sweep
        expect(yield* store.read("infinite-next")).toEqual(Option.some({ c: 3 }))
      }))

    if (db.service !== undefined) {
      /**
       * Another connection locks the row `id` (`SELECT … FOR UPDATE`) for `seconds`: the returned
       * effect resolves once the lock is held; the fiber ends when the holder commits.
       */
      const holdRow = (name: string, id: string, seconds: number) =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const held = yield* Deferred.make<void>()
          const holder = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
            yield* sql`SELECT data FROM ${sql(name)} WHERE id = ${id} FOR UPDATE`
            yield* Deferred.succeed(held, undefined)
            yield* sql.unsafe(db.title === "PostgreSQL" ? `SELECT pg_sleep(${seconds})` : `SELECT SLEEP(${seconds})`)
          })))
          yield* Deferred.await(held)
          return { holder, since: Date.now() }
        })
      const add = { clear: false, remove: [], set: [], add: [["n", 1]] } as const
      /** the lock is held this long; a Timeout must come well before it is released */
      const HOLD_SECONDS = 5

      it.scoped(
        "timeout bounds a patch, a rotation, a write and a destroy waiting on a row lock; none is applied after the Timeout",
        () =>
          Effect.gen(function*() {
            const store = yield* SqlStore.make({ ...options, timeout: "1 second" })
            yield* store.write("locked", { n: 0 }, Duration.minutes(5))
            const { holder, since } = yield* holdRow(specific, "locked", HOLD_SECONDS)
            const timed = <A, E>(effect: Effect.Effect<A, E>) =>
              Effect.map(Effect.exit(effect), (exit) => ({ exit, ms: Date.now() - since }))
            const results = yield* Effect.all([
              timed(store.patch("locked", add, Duration.zero)),
              timed(store.rotate("locked", "locked-next", { n: 50 }, Duration.minutes(5), Duration.zero)),
              timed(store.write("locked", { n: 99 }, Duration.zero)),
              timed(store.destroy("locked"))
            ], { concurrency: "unbounded" })
            expect(results.map(({ exit }) => failure(exit)?.reason)).toEqual([
              "Timeout",
              "Timeout",
              "Timeout",
              "Timeout"
            ])
            yield* Fiber.join(holder)
            // a statement still waiting would take the row lock first: this patch comes after it
            expect(yield* store.patch("locked", add, Duration.zero)).toBe(true)
            expect(yield* store.read("locked")).toEqual(Option.some({ n: 1 }))
            expect(yield* store.read("locked-next")).toEqual(Option.none())
            // each Timeout came well before the lock was released
            expect(Math.max(...results.map(({ ms }) => ms))).toBeLessThan(HOLD_SECONDS * 1000 - 1500)
          }),
        30_000
      )
    }

    if (db.title === "PostgreSQL") {
      const add = { clear: false, remove: [], set: [], add: [["n", 1]] } as const

      it.scoped("a timeout longer than PostgreSQL's lock_timeout takes (30 days) still patches", () =>
        Effect.gen(function*() {
          const store = yield* SqlStore.make({ ...options, timeout: "30 days" })
          yield* store.write("long", { n: 0 }, Duration.minutes(5))
          expect(yield* store.patch("long", add, Duration.zero)).toBe(true)
          expect(yield* store.read("long")).toStrictEqual(Option.some({ n: 1 }))
        }))

      it.scoped("inside the caller's own transaction the store leaves its lock_timeout alone", () =>
        Effect.gen(function*() {
          const store = yield* SqlStore.make(options)
          const sql = yield* SqlClient.SqlClient
          yield* store.write("nested", { n: 0 }, Duration.minutes(5))
          const [before, after] = yield* sql.withTransaction(Effect.gen(function*() {
            const before = yield* sql<{ readonly lock_timeout: string }>`SHOW lock_timeout`
            expect(yield* store.patch("nested", add, Duration.zero)).toBe(true)
            const after = yield* sql<{ readonly lock_timeout: string }>`SHOW lock_timeout`
            return [before[0]!.lock_timeout, after[0]!.lock_timeout] as const
          }))
          expect(after).toBe(before)
        }))
    }

    if (db.title === "PostgreSQL") {
      it.scoped(
        "timeout bounds patches waiting on a row lock when they take every pooled connection",
        () =>
          Effect.gen(function*() {
            const small = yield* Layer.build(
              PgClient.layer({ url: Redacted.make(SERVICES.postgres.url), maxConnections: 3 })
            )
            const store = yield* SqlStore.make({ ...options, timeout: "1 second" }).pipe(Effect.provide(small))
            yield* store.write("hot", { n: 0 }, Duration.minutes(5))
            const sql = yield* SqlClient.SqlClient
            const held = yield* Deferred.make<void>()
            const holder = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
              yield* sql`SELECT data FROM ${sql(specific)} WHERE id = ${"hot"} FOR UPDATE`
              yield* Deferred.succeed(held, undefined)
              yield* sql`SELECT pg_sleep(5)`
            })))
            yield* Deferred.await(held)
            const since = Date.now()
            const results = yield* Effect.all(
              Array.from({ length: 3 }, () =>
                Effect.map(
                  Effect.exit(
                    store.patch("hot", { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.zero)
                  ),
                  (exit) => ({ exit, ms: Date.now() - since })
                )),
              { concurrency: "unbounded" }
            )
            for (const { exit, ms } of results) {
              expect(failure(exit)?.reason).toBe("Timeout")
              expect(ms).toBeLessThan(3500)
            }
            yield* Fiber.join(holder)
            // the pool is free again, and no timed-out patch was applied
            expect(yield* store.read("hot")).toEqual(Option.some({ n: 0 }))
          }),
        30_000
      )
    }

    it.scoped("a statement that fails (the table was dropped) is a SessionStoreError, not a defect", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const doomed = `${table}_doomed`
        const store = yield* SqlStore.make({ table: doomed, ensureTable: true })
        yield* sql`DROP TABLE ${sql(doomed)}`
        yield* sql`DROP TABLE ${sql(`${doomed}_locks`)}`
        for (
          const exit of [
            yield* Effect.exit(store.read("x")),
            yield* Effect.exit(store.write("x", {}, Duration.zero)),
            yield* Effect.exit(store.destroy("x")),
            yield* Effect.exit(store.patch("x", { clear: true, remove: [], set: [], add: [] }, Duration.zero)),
            yield* Effect.exit(store.lock("x", { ttl: Duration.seconds(1), wait: Duration.zero }))
          ]
        ) {
          expect(failure(exit)?._tag).toBe("SessionStoreError")
          expect(failure(exit)?.reason).toBe("Unavailable")
        }
      }))
  })
}

for (const db of databases) {
  if (db.service === undefined) describe(`SqlStore on ${db.title}`, suiteFor(db))
  else await describeWith(db.service, `SqlStore on ${db.title}`, suiteFor(db))
}
