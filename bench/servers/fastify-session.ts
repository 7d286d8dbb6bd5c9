/** fastify 5 + @fastify/cookie + @fastify/session on its default (memory) store. */
import fastifyCookie from "@fastify/cookie"
import fastifySession from "@fastify/session"
import Fastify from "fastify"
import { COOKIE_NAME, exitOnSignal, port, ROUTE, SECRET, TTL_MILLIS } from "../lib/config.js"

declare module "fastify" {
  interface Session {
    n?: number
  }
}

const app = Fastify({ logger: false })
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: SECRET,
  cookieName: COOKIE_NAME,
  saveUninitialized: false,
  cookie: { httpOnly: true, secure: false, sameSite: "lax", path: "/", maxAge: TTL_MILLIS }
})
app.get(ROUTE, async (request) => {
  const n = (request.session.get("n") ?? 0) + 1
  request.session.set("n", n)
  return String(n)
})
await app.listen({ port: port(), host: "127.0.0.1" })
exitOnSignal((done) => void app.close().then(done))
