/**
 * The demo app: `npm start` serves it on http://127.0.0.1:3000.
 *
 * A visit counter, a login form that regenerates the session ID, a logout that destroys the
 * session, and flash messages. It runs over plain HTTP on loopback, so the cookie is set with
 * `insecure: true` (no `Secure` attribute) — never do that in production.
 */
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { Session } from "effect-session"
import { createServer } from "node:http"
import { storeLayerFromEnv } from "./store.js"

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const page = (body: string) =>
  HttpServerResponse.html(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>effect-session demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;line-height:1.5}
.flash{background:#e7f6e7;border:1px solid #7c7;padding:.5rem 1rem}.note{color:#a60}</style></head>
<body>
<h1>effect-session demo</h1>
${body}
<p class="note">This demo runs over plain HTTP on 127.0.0.1, so its session cookie is set with
<code>insecure: true</code> (no <code>Secure</code> attribute). Never use that option in production.</p>
</body></html>`)

const home = Effect.gen(function*() {
  const visits = yield* Session.increment("visits")
  const user = yield* Session.getString("user")
  const flash = yield* Session.getString("status")
  const token = yield* Session.token
  return yield* page(`
${flash ? `<p id="flash" class="flash">${escapeHtml(flash)}</p>` : ""}
<p>You have visited this page <strong id="visits">${visits}</strong> time${visits === 1 ? "" : "s"} in this session.</p>
${
    user
      ? `<p>Signed in as <strong id="user">${escapeHtml(user)}</strong>.</p>
<form id="logout" method="post" action="/logout">
  <input type="hidden" name="_token" value="${token}">
  <button type="submit">Log out</button>
</form>`
      : `<form id="login" method="post" action="/login">
  <input type="hidden" name="_token" value="${token}">
  <label>Name <input name="name" required maxlength="64" autocomplete="username"></label>
  <button type="submit">Log in</button>
</form>`
  }`)
})

const LoginForm = Schema.Struct({
  name: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(64)),
  _token: Schema.String
})

/** Checks the form's CSRF token against the session's before any state changes. */
const verifyToken = (submitted: string) =>
  Effect.flatMap(Session.token, (token) => token === submitted ? Effect.void : Effect.fail("csrf" as const))

const redirectHome = HttpServerResponse.empty({ status: 303, headers: { location: "/" } })

const login = Effect.gen(function*() {
  const form = yield* HttpServerRequest.schemaBodyUrlParams(LoginForm)
  yield* verifyToken(form._token)
  // A new ID at the moment privileges change: a fixated or leaked pre-login ID is now worthless.
  yield* Session.regenerate
  yield* Session.put("user", form.name)
  yield* Session.flash("status", `Welcome, ${form.name}!`)
  return redirectHome
})

const logout = Effect.gen(function*() {
  const form = yield* HttpServerRequest.schemaBodyUrlParams(Schema.Struct({ _token: Schema.String }))
  yield* verifyToken(form._token)
  yield* Session.destroy
  // The old session is gone; this message lives in a brand-new one.
  yield* Session.flash("status", "You have been logged out.")
  return redirectHome
})

const badRequest = (e: unknown) =>
  e === "csrf"
    ? HttpServerResponse.text("Page expired: reload the page and try again.", { status: 419 })
    : HttpServerResponse.text("Bad request", { status: 400 })

export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/", home),
  HttpRouter.post("/login", Effect.catchAll(login, badRequest)),
  HttpRouter.post("/logout", Effect.catchAll(logout, badRequest)),
  // Never touches the session: no store I/O, no cookie.
  HttpRouter.get("/health", HttpServerResponse.text("ok"))
)

export const app = router.pipe(Session.middleware({ insecure: true }))

const port = Number(process.env.PORT ?? 3000)

const ServerLive = HttpServer.serve(app).pipe(
  HttpServer.withLogAddress,
  Layer.provide(storeLayerFromEnv),
  Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" }))
)

if (import.meta.url === `file://${process.argv[1]}`) {
  NodeRuntime.runMain(Layer.launch(ServerLive))
}

/** For tests: the layer that serves the demo. */
export { ServerLive }
