/**
 * The naive floor: what a user would write by hand without a library. Parse the cookie, look
 * the ID up in a `Map`, make a random ID for a new session, set the cookie when it is new.
 */
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { COOKIE_NAME, port, ROUTE, TTL_MILLIS } from "../lib/config.js"

interface Entry {
  n: number
  expiresAt: number
}

const sessions = new Map<string, Entry>()
const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", maxAge: Duration.millis(TTL_MILLIS) } as const

const count = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const now = Date.now()
  const sent = request.cookies[COOKIE_NAME]
  let entry = sent === undefined ? undefined : sessions.get(sent)
  if (entry !== undefined && entry.expiresAt <= now) {
    sessions.delete(sent!)
    entry = undefined
  }
  let id: string | undefined
  if (entry === undefined) {
    id = randomBytes(32).toString("base64url")
    entry = { n: 0, expiresAt: 0 }
    sessions.set(id, entry)
  }
  entry.n += 1
  entry.expiresAt = now + TTL_MILLIS
  const response = HttpServerResponse.text(String(entry.n))
  return id === undefined ? response : HttpServerResponse.unsafeSetCookie(response, COOKIE_NAME, id, cookieOptions)
})

const ServerLive = HttpRouter.empty.pipe(
  HttpRouter.get(ROUTE, count),
  HttpServer.serve(),
  Layer.provide(NodeHttpServer.layer(createServer, { port: port(), host: "127.0.0.1" }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
