/**
 * A reference row, not a peer: the least a session served the way effect-session serves one can
 * cost on this machine. A `Map` of plain entries keyed by the raw cookie value, handed to the
 * handler as a `Context` service that a middleware provides per request, read and written through
 * accessors that are Effects (`yield* Session.get("n")` in effect-session). It does none of the
 * library's work: no hashing of the ID, no copies, no checks of the ID or the values, no expiry,
 * no metrics, no concurrency rules. The middleware puts the service into the context with
 * `Effect.provideService`, the public API effect-session uses too, so the row prices the
 * architecture itself: whatever it measures under the bare server is out of reach for any library
 * built this way.
 */
import { type HttpApp, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Context, Duration, Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { COOKIE_NAME, port, ROUTE, TTL_MILLIS } from "../lib/config.js"

interface Entry {
  n: number
}

class FloorSession extends Context.Tag("bench/FloorSession")<FloorSession, {
  readonly get: Effect.Effect<number>
  readonly put: (n: number) => Effect.Effect<void>
}>() {}

const sessions = new Map<string, Entry>()
const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", maxAge: Duration.millis(TTL_MILLIS) } as const

const count = Effect.gen(function*() {
  const n = yield* Effect.flatMap(FloorSession, (session) => session.get)
  yield* Effect.flatMap(FloorSession, (session) => session.put(n + 1))
  return HttpServerResponse.text(String(n + 1))
})

const floorSession = <E, R>(
  app: HttpApp.Default<E, R>
): HttpApp.Default<E, Exclude<R, FloorSession> | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const sent = request.cookies[COOKIE_NAME]
    let entry = sent === undefined ? undefined : sessions.get(sent)
    let id: string | undefined
    if (entry === undefined) {
      id = randomBytes(32).toString("base64url")
      entry = { n: 0 }
      sessions.set(id, entry)
    }
    const current = entry
    const service = FloorSession.of({
      get: Effect.sync(() => current.n),
      put: (n) =>
        Effect.sync(() => {
          current.n = n
        })
    })
    const served = Effect.provideService(app, FloorSession, service)
    return id === undefined
      ? served
      : Effect.map(served, (response) => HttpServerResponse.unsafeSetCookie(response, COOKIE_NAME, id, cookieOptions))
  })

const ServerLive = HttpRouter.empty.pipe(
  HttpRouter.get(ROUTE, count),
  floorSession,
  HttpServer.serve(),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
