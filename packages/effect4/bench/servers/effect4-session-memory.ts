/** effect-session-v4 on the memory store (`MemoryStoreLive`), route-level middleware. */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { MemoryStoreLive } from "effect-session-v4"
import { HttpRouter } from "effect/http"
import { createServer } from "node:http"
import { port } from "../../../../bench/lib/config.js"
import { Routes } from "../lib/count.js"

const ServerLive = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" })),
  Layer.provide(MemoryStoreLive)
)

NodeRuntime.runMain(Layer.launch(ServerLive))
