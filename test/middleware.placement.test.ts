/**
 * Where `Session.middleware()` goes. Applied to a router or app it saves before the response
 * leaves; `HttpServer.serve(Session.middleware())` type-checks too (the middleware is
 * HttpMiddleware-shaped), but the platform runs a serve-level middleware around the code that has
 * already sent the response, so no session could ever be saved or sent there. The middleware finds
 * out on its first request and says so in an error log, once (docs/integrations.md).
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { MemoryStore, Session } from "effect-session"
import { Jar, request } from "./utils/http.js"

const inc = Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n)))
const routes = HttpRouter.empty.pipe(HttpRouter.get("/inc", inc))

/** Every log line at Error level, as text. */
const errors: Array<string> = []
const captured = Layer.merge(
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      if (logLevel === LogLevel.Error) errors.push((Array.isArray(message) ? message : [message]).join(" "))
    })
  ),
  Logger.minimumLogLevel(LogLevel.All)
)

const server = <E, R>(served: Layer.Layer<never, E, R>) =>
  served.pipe(
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(MemoryStore.layer()),
    Layer.provide(captured)
  )

const threeRequests = Effect.gen(function*() {
  const jar = new Jar()
  const replies = []
  for (let i = 0; i < 3; i++) replies.push(yield* request("GET", "/inc", { jar }))
  return replies
})

/** The error lines about the middleware's placement. */
const misplaced = (match: (line: string) => boolean) => errors.filter(match)

describe("Session.middleware placement", () => {
  it.effect("applied to the router: the counter goes up, and nothing is logged", () =>
    Effect.gen(function*() {
      errors.length = 0
      const replies = yield* threeRequests
      expect(replies.map((r) => r.body)).toStrictEqual(["1", "2", "3"])
      expect(misplaced((line) => line.includes("Session.middleware()"))).toStrictEqual([])
    }).pipe(Effect.provide(server(routes.pipe(Session.middleware(), HttpServer.serve())))))

  it.effect("HttpServer.serve(Session.middleware()): an error log says it is misplaced and how to fix it, once", () =>
    Effect.gen(function*() {
      errors.length = 0
      const replies = yield* threeRequests
      // what the platform makes of this placement: the response left before the session was saved
      expect(replies.map((r) => r.setCookies.length)).toStrictEqual([0, 0, 0])
      const lines = misplaced((line) => line.includes("Session.middleware()"))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain("HttpServer.serve")
      expect(lines[0]).toContain("apply it to the router or app instead")
    }).pipe(Effect.provide(server(routes.pipe(HttpServer.serve(Session.middleware()))))))
})
