/** effect-session-v4 on the memory store (`MemoryStoreLive`), route-level middleware. */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { MemoryStoreLive, Session } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { COOKIE_NAME, port, ROUTE, TTL_MILLIS } from "../../../../bench/lib/config.js"

/** Reads `n` (0 when absent), stores `n + 1`, answers it: the same route as every other server. */
const count = Effect.gen(function*() {
  const current = yield* Session.getOption("n")
  const n = Option.isSome(current) && typeof current.value === "number" ? current.value : 0
  yield* Session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

const Routes = HttpRouter.add("GET", ROUTE, count).pipe(
  Layer.provide(Session.middleware({ cookieName: COOKIE_NAME, ttl: `${TTL_MILLIS} millis`, insecure: true }).layer)
)

const ServerLive = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" })),
  Layer.provide(MemoryStoreLive)
)

NodeRuntime.runMain(Layer.launch(ServerLive))
