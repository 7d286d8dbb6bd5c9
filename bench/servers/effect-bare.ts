/**
 * The ceiling for any Effect server: the same route, no session at all. Like every other server
 * (and like bare express and fastify), it builds its response per request, answering a count; a
 * response made once at startup would skip the body encoding every real handler pays for.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { port, ROUTE } from "../lib/config.js"

let served = 0

const ServerLive = HttpRouter.empty.pipe(
  HttpRouter.get(ROUTE, Effect.sync(() => HttpServerResponse.text(String(++served)))),
  HttpServer.serve(),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
