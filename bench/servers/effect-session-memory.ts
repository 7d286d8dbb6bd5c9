/** effect-session on the memory store (`MemoryStoreLive`). */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { MemoryStoreLive, Session } from "effect-session"
import { createServer } from "node:http"
import { port } from "../lib/config.js"
import { router, sessionOptions } from "../lib/effect-count.js"

const ServerLive = router.pipe(
  Session.middleware(sessionOptions),
  HttpServer.serve(),
  Layer.provide(MemoryStoreLive),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
