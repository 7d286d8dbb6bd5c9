/** effect-session-v4 on Redis (`RedisStore` over effect's `Redis` service, `NodeRedis`). */
import { NodeHttpServer, NodeRedis, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { Session } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { COOKIE_NAME, port, redisPrefix, redisUrl, ROUTE, TTL_MILLIS } from "../../../../bench/lib/config.js"

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
  Layer.provide(
    RedisStore.layerWith(NodeRedis.layer({ url: redisUrl() }), { prefix: `${redisPrefix()}effect4:` })
  )
)

NodeRuntime.runMain(Layer.launch(ServerLive))
