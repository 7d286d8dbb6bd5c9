import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Csrf, MemoryStoreLive, Session } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import type { HttpServer } from "effect/http"

// The router's own types say which routes get `Session`: these checks run under `tsc -b`.
const route = HttpRouter.add(
  "GET",
  "/",
  Effect.map(Session.increment("views"), (views) => HttpServerResponse.text(String(views)))
)

/** Accepts a server that needs nothing but an `HttpServer`. */
const runnable = <E>(
  server: Layer.Layer<never, E, HttpServer.HttpServer>
): Effect.Effect<never, E, HttpServer.HttpServer> => Layer.launch(server)

// Without the middleware the served app still requires `Session`: it does not compile as a server.
// (Served first, then checked: as an argument, `serve`'s handler type would be inferred from the
// expected type instead.)
const servedWithout = HttpRouter.serve(route)
// @ts-expect-error Session is not provided to the route
const withoutMiddleware = runnable(servedWithout)

// Route-level: provided to the route, nothing but the server remains.
const withMiddleware = runnable(
  HttpRouter.serve(route.pipe(Layer.provide(Session.middleware().layer))).pipe(Layer.provide(MemoryStoreLive))
)

// Global: a layer that serves every route.
const global = runnable(
  HttpRouter.serve(route.pipe(Layer.provide(Session.middleware({}, { global: true })))).pipe(
    Layer.provide(MemoryStoreLive)
  )
)

// Without a store the middleware's layer does not compile either.
const servedWithoutStore = HttpRouter.serve(route.pipe(Layer.provide(Session.middleware().layer)))
// @ts-expect-error SessionStore is not provided
const withoutStore = runnable(servedWithoutStore)

// Csrf needs Session: its route-level layer exists only once combined with the session middleware.
// @ts-expect-error "Need to .combine(middleware) that satisfy the missing request dependencies"
const csrfAlone = route.pipe(Layer.provide(Csrf.middleware.layer))
const csrfCombined = runnable(
  HttpRouter.serve(route.pipe(Layer.provide(Csrf.middleware.combine(Session.middleware()).layer))).pipe(
    Layer.provide(MemoryStoreLive)
  )
)

// Global: Csrf's global middleware needs the session's global middleware beside it.
const servedCsrfAlone = HttpRouter.serve(route.pipe(Layer.provide(Csrf.make({}, { global: true })))).pipe(
  Layer.provide(MemoryStoreLive)
)
// @ts-expect-error Session is not provided to Csrf's global middleware (nor to the route)
const csrfGlobalAlone = runnable(servedCsrfAlone)
const csrfGlobal = runnable(
  HttpRouter.serve(
    route.pipe(
      Layer.provide(Csrf.make({}, { global: true })),
      Layer.provide(Session.middleware({}, { global: true }))
    )
  ).pipe(Layer.provide(MemoryStoreLive))
)

describe("types", () => {
  it("the middleware's types are checked by tsc", () => {
    expect(
      [withoutMiddleware, withMiddleware, global, withoutStore, csrfCombined, csrfGlobalAlone, csrfGlobal].every(
        Effect.isEffect
      )
    ).toBe(true)
    expect(csrfAlone).toBeDefined()
  })
})
