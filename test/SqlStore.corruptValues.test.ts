/**
 * A stored record that holds a value no save could write back (hand-written rows: `1e999`, which
 * parses to Infinity; an array nested deeper than a value may be) is a corrupt record: deleted,
 * the request gets a fresh session, never a session that answers 503 to every save. The read's
 * check is the core's (`StoredRecord.fromText`, `RedisLayout.decode`), shared by both lines.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { Session } from "effect-session"
import { Id } from "effect-session-core"
import * as SqlStore from "effect-session/SqlStore"

const COOKIE = "sid"
const app = HttpRouter.empty.pipe(
  HttpRouter.get("/put", Effect.as(Session.put("x", 1), HttpServerResponse.text("put"))),
  HttpRouter.get("/regen", Effect.as(Session.regenerate, HttpServerResponse.text("regen"))),
  Session.middleware({ cookieName: COOKIE, insecure: true })
)
const call = (path: string, id: string) =>
  Effect.provideService(
    app,
    HttpServerRequest.HttpServerRequest,
    HttpServerRequest.fromWeb(new Request(`http://127.0.0.1${path}`, { headers: { cookie: `${COOKIE}=${id}` } }))
  )

const Store = SqlStore.layer({ ensureTable: true }).pipe(
  Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" }))
)

describe("a stored value JSON.parse reads but the codec refuses", () => {
  for (const [name, text] of [["1e999", "1e999"], ["nesting 600 deep", "[".repeat(600) + "]".repeat(600)]]) {
    it.effect(`${name}: put and regenerate are not 503s`, () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const id = Id.generate()
        const now = yield* Clock.currentTimeMillis
        yield* sql`INSERT INTO effect_sessions (id, data, expires_at) VALUES (${
          Id.storageKey(id)
        }, ${`{"__session":{"c":${now},"r":${now}},"bad":${text}}`}, ${null})`
        const put = yield* call("/put", id)
        expect(put.status).toBe(200)
        const regen = yield* call("/regen", id)
        expect(regen.status).toBe(200)
      }).pipe(Effect.provide(Store)))
  }
})
