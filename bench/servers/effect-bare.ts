/** The ceiling for any Effect server: the same route, no session at all. */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { createServer } from "node:http"
import { port, ROUTE } from "../lib/config.js"

const ServerLive = HttpRouter.empty.pipe(
  HttpRouter.get(ROUTE, HttpServerResponse.text("1")),
  HttpServer.serve(),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
