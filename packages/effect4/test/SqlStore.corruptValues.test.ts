/**
 * A stored record that holds a value no save could write back (hand-written rows: `1e999`, which
 * parses to Infinity; an array nested deeper than a value may be) is a corrupt record: deleted,
 * the request gets a fresh session, never a session that answers 503 to every save. The read's
 * check is the core's (`StoredRecord.fromText`, `RedisLayout.decode`), shared by both lines.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { Id } from "effect-session-core"
import { Session } from "effect-session-v4"
import * as SqlStore from "effect-session-v4/SqlStore"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as SqlClient from "effect/sql/SqlClient"
import * as SqliteClient from "./utils/sqliteClient.js"

const COOKIE = "sid"
const routes = Layer.mergeAll(
  HttpRouter.add("GET", "/put", Effect.as(Session.put("x", 1), HttpServerResponse.text("put"))),
  HttpRouter.add("GET", "/regen", Effect.as(Session.regenerate, HttpServerResponse.text("regen")))
).pipe(Layer.provide(Session.middleware({ cookieName: COOKIE, insecure: true }).layer))

const Store = SqlStore.layer({ ensureTable: true }).pipe(
  Layer.provideMerge(SqliteClient.layer({ filename: ":memory:" }))
)

describe("a stored value JSON.parse reads but the codec refuses", () => {
  for (const [name, text] of [["1e999", "1e999"], ["nesting 600 deep", "[".repeat(600) + "]".repeat(600)]]) {
    it.effect(`${name}: put and regenerate are not 503s`, () =>
      Effect.gen(function*() {
        const app = yield* HttpRouter.toHttpEffect(routes)
        const call = (path: string, id: string) =>
          app.pipe(
            Effect.provideService(
              HttpServerRequest.HttpServerRequest,
              HttpServerRequest.fromWeb(
                new Request(`http://127.0.0.1${path}`, { headers: { cookie: `${COOKIE}=${id}` } })
              )
            ),
            Effect.scoped
          ) as Effect.Effect<HttpServerResponse.HttpServerResponse>
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
      }).pipe(Effect.scoped, Effect.provide(Store)))
  }
})
