/**
 * The ceiling for any effect 4 server: the same route on effect 4's Layer-based `HttpRouter`, no
 * session at all, building its response per request like every other server. The router's
 * request logger is off, as it is in every other server of the benchmark.
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { port, ROUTE } from "../../../../bench/lib/config.js"

let served = 0

const Routes = HttpRouter.add("GET", ROUTE, Effect.sync(() => HttpServerResponse.text(String(++served))))

const ServerLive = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
