/**
 * A reference row, not a peer: the least a session served the way DESIGN.md asks can cost on
 * effect 4 with public APIs only. A `Map` of plain entries keyed by the raw cookie value, handed to
 * the handler as a `Context` service that an `HttpRouter.middleware` provides per request
 * (`Effect.provideService`), read and written through Effect accessors. It does none of the
 * library's work: no hashing of the ID, no copies, no checks, no expiry, no metrics, no
 * concurrency rules.
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Context, Duration, Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { COOKIE_NAME, port, ROUTE, TTL_MILLIS } from "../../../../bench/lib/config.js"

interface Entry {
  n: number
}

class FloorSession extends Context.Service<FloorSession, {
  readonly get: Effect.Effect<number>
  readonly put: (n: number) => Effect.Effect<void>
}>()("bench/FloorSession") {}

const sessions = new Map<string, Entry>()
const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", maxAge: Duration.millis(TTL_MILLIS) } as const

const FloorMiddleware = HttpRouter.middleware<{ provides: FloorSession }>()((httpEffect) =>
  Effect.flatMap(Effect.service(HttpServerRequest.HttpServerRequest), (request) => {
    const sent = request.cookies[COOKIE_NAME]
    let entry = sent === undefined ? undefined : sessions.get(sent)
    let id: string | undefined
    if (entry === undefined) {
      id = randomBytes(32).toString("base64url")
      entry = { n: 0 }
      sessions.set(id, entry)
    }
    const current = entry
    const served = Effect.provideService(httpEffect, FloorSession, {
      get: Effect.sync(() => current.n),
      put: (n) =>
        Effect.sync(() => {
          current.n = n
        })
    })
    return id === undefined
      ? served
      : Effect.map(served, (response) => HttpServerResponse.setCookieUnsafe(response, COOKIE_NAME, id, cookieOptions))
  })
)

const count = Effect.gen(function*() {
  const session = yield* FloorSession
  const n = yield* session.get
  yield* session.put(n + 1)
  return HttpServerResponse.text(String(n + 1))
})

const Routes = HttpRouter.add("GET", ROUTE, count).pipe(Layer.provide(FloorMiddleware.layer))

const ServerLive = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
