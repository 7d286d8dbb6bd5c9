/**
 * A reference row, not a peer: the least a Redis-backed session can cost on @effect/platform. The
 * handler itself sends `GET` for the raw cookie value and `SET … PX` with the new JSON, through the
 * same client effect-session's store uses (ioredis, auto-pipelining on). No middleware, no
 * service, no hashing of the ID, no checks, no atomic patch (concurrent requests overwrite each
 * other), no metrics. Whatever it measures under the bare server is out of reach for any Redis
 * session on this stack.
 */
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { COOKIE_NAME, port, redisPrefix, redisUrl, ROUTE, TTL_MILLIS } from "../lib/config.js"

const redis = new Redis(redisUrl(), { enableAutoPipelining: true })
const prefix = `${redisPrefix()}floor:`
const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", maxAge: Duration.millis(TTL_MILLIS) } as const

const count = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const sent = request.cookies[COOKIE_NAME]
  const stored = sent === undefined ? Effect.succeed(null) : Effect.promise(() => redis.get(prefix + sent))
  return Effect.flatMap(stored, (text) => {
    const data = text === null ? {} : JSON.parse(text) as Record<string, unknown>
    const id = text === null ? randomBytes(32).toString("base64url") : sent!
    const n = (typeof data.n === "number" ? data.n : 0) + 1
    const saved = Effect.promise(() => redis.set(prefix + id, JSON.stringify({ ...data, n }), "PX", TTL_MILLIS))
    return Effect.map(saved, () => {
      const response = HttpServerResponse.text(String(n))
      return text !== null ? response : HttpServerResponse.unsafeSetCookie(response, COOKIE_NAME, id, cookieOptions)
    })
  })
})

const ServerLive = HttpRouter.empty.pipe(
  HttpRouter.get(ROUTE, count),
  HttpServer.serve(),
  Layer.provide(Layer.scopedDiscard(Effect.addFinalizer(() => Effect.promise(() => redis.quit())))),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
