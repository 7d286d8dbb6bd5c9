/** effect-session on Redis (`effect-session/RedisStore`, ioredis). */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { Session } from "effect-session"
import * as RedisStore from "effect-session/RedisStore"
import { createServer } from "node:http"
import { port, redisPrefix, redisUrl } from "../lib/config.js"
import { router, sessionOptions } from "../lib/effect-count.js"

const ServerLive = router.pipe(
  Session.middleware(sessionOptions),
  HttpServer.serve(),
  Layer.provide(RedisStore.layer({ url: redisUrl(), prefix: `${redisPrefix()}effect:` })),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
