/** effect-session-v4 on Redis (`RedisStore` over effect's `Redis` service, `NodeRedis`). */
import { NodeHttpServer, NodeRedis, NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as RedisStore from "effect-session-v4/RedisStore"
import { HttpRouter } from "effect/http"
import { createServer } from "node:http"
import { port, redisPrefix, redisUrl } from "../../../../bench/lib/config.js"
import { Routes } from "../lib/count.js"

const ServerLive = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" })),
  Layer.provide(
    RedisStore.layerWith(NodeRedis.layer({ url: redisUrl() }), { prefix: `${redisPrefix()}effect4:` })
  )
)

NodeRuntime.runMain(Layer.launch(ServerLive))
