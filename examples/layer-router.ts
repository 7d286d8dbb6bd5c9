/**
 * effect-session with `HttpLayerRouter` (the router that becomes `HttpRouter` in effect 4).
 *
 *   npx tsx --tsconfig tsconfig.test.json examples/layer-router.ts      # http://127.0.0.1:3000
 *
 * Routes are layers; the session middleware is a layer too, provided to the routes that use it.
 * It runs over plain HTTP on loopback, hence `insecure: true` — never in production.
 */
import { HttpLayerRouter, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { MemoryStoreLive, Session, SessionLayerRouter } from "effect-session"
import { createServer } from "node:http"

// Routes that use the session.
const SessionRoutes = Layer.mergeAll(
  HttpLayerRouter.add(
    "GET",
    "/",
    Effect.gen(function*() {
      const visits = yield* Session.increment("visits")
      const user = yield* Session.getString("user")
      return HttpServerResponse.text(`Hello ${user || "guest"}, visit number ${visits}\n`)
    })
  ),
  HttpLayerRouter.add(
    "POST",
    "/login",
    Effect.gen(function*() {
      // a new session ID whenever privileges change
      yield* Session.regenerate
      yield* Session.put("user", "ada")
      return HttpServerResponse.text("logged in\n")
    })
  ),
  HttpLayerRouter.add("POST", "/logout", Effect.as(Session.destroy, HttpServerResponse.text("logged out\n")))
).pipe(
  // Invalid options would fail this layer (and the server's start) with SessionConfigError.
  Layer.provide(SessionLayerRouter.layer({ ttl: "2 hours", insecure: true }))
)

// A route without the session middleware: no store I/O, no cookie.
const HealthRoute = HttpLayerRouter.add("GET", "/health", HttpServerResponse.text("ok\n"))

/** The app, needing a `SessionStore`. */
export const AppRoutesLive = HttpLayerRouter.serve(Layer.mergeAll(SessionRoutes, HealthRoute))

/** The app on the memory store (what the tests serve). */
export const AppLive = AppRoutesLive.pipe(Layer.provide(MemoryStoreLive))

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000)
  AppRoutesLive.pipe(
    Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
    // The store outermost: built first, released last, after the server has answered the
    // requests in flight on shutdown (provided inside, it would close under them).
    Layer.provide(MemoryStoreLive),
    Layer.launch,
    NodeRuntime.runMain
  )
}
