/**
 * The effect 4 demo app: `npm start` (in packages/effect4) serves it on http://127.0.0.1:3000
 * (`PORT=8080 npm start` for another port). It mirrors the effect 3 package's demo, on
 * `effect/http`'s Layer-based `HttpRouter` and the memory store.
 *
 * One page shows what the library does: a visit counter; log in, which regenerates the session
 * ID (the page shows the hash of the old and the new one: the store key, never an ID); "remember
 * me" (`Session.setLifetime`); flash messages; a note form protected by `Csrf`; the session's
 * idle and absolute expiry counting down; log out (`Session.invalidate`).
 *
 * It runs over plain HTTP on loopback, so the cookie is set with `insecure: true` (no `Secure`
 * attribute) — never do that in production.
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Clock, Effect, Layer, Option, Schema } from "effect"
import { Csrf, MemoryStoreLive, Session } from "effect-session-v4"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"

/** The lifetimes the demo uses, and the longer ones "remember me" gives a session. */
export const lifetimes = {
  normal: { ttl: "2 hours", absoluteTimeout: "8 hours" },
  remembered: { ttl: "30 days", absoluteTimeout: "90 days" }
} as const
const MILLIS = { "2 hours": 7_200_000, "8 hours": 28_800_000, "30 days": 2_592_000_000, "90 days": 7_776_000_000 }

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

/** The first characters of a store key: enough to tell keys apart on screen. */
const short = (key: string) => `${key.slice(0, 12)}…`

const COUNTDOWN_SCRIPT = `
const show = (ms) => {
  if (ms <= 0) return "expired: reload for a new session"
  const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600)
  const m = Math.floor(s % 3600 / 60), r = s % 60, two = (n) => String(n).padStart(2, "0")
  return (d > 0 ? d + "d " : "") + h + ":" + two(m) + ":" + two(r)
}
const tick = () => {
  for (const el of document.querySelectorAll("[data-deadline]")) {
    el.textContent = show(Number(el.dataset.deadline) - Date.now())
  }
}
tick()
setInterval(tick, 1000)`

const page = (title: string, body: string, token?: string) =>
  HttpServerResponse.html(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} · effect-session-v4 demo</title>
${token === undefined ? "" : `<meta name="csrf-token" content="${token}">`}
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
section{border-top:1px solid #ddd;margin-top:1rem}.flash{background:#e7f6e7;border:1px solid #7c7;padding:.5rem 1rem}
code,.key{font-family:ui-monospace,monospace;font-size:.9em}.note{color:#a60}</style></head>
<body>
<h1>effect-session-v4 demo (effect 4)</h1>
${body}
<p class="note">This demo runs over plain HTTP on 127.0.0.1, so its session cookie is set with
<code>insecure: true</code> (no <code>Secure</code> attribute). Never use that option in production.</p>
<script>${COUNTDOWN_SCRIPT}</script>
</body></html>`)

/** When this session began: kept in the session itself, so it moves with `regenerate`. */
const createdAt = Effect.gen(function*() {
  const stored = yield* Session.getOption("createdAt")
  if (Option.isSome(stored) && typeof stored.value === "number") return stored.value
  const now = yield* Clock.currentTimeMillis
  yield* Session.put("createdAt", now)
  return now
})

const home = Effect.gen(function*() {
  const visits = yield* Session.increment("visits")
  const user = yield* Session.getString("user")
  const note = yield* Session.getString("note")
  const flash = yield* Session.getString("status")
  const token = yield* Session.token
  const remembered = Option.getOrUndefined(yield* Session.getOption("remember")) === true
  const key = Session.storageKey(yield* Session.id)
  const created = yield* createdAt
  const now = yield* Clock.currentTimeMillis
  // This request changes the session (the counter), so it is saved now and its idle expiry
  // starts again from now; the absolute expiry counts from creation and never moves.
  const lifetime = remembered ? lifetimes.remembered : lifetimes.normal
  const idleDeadline = now + MILLIS[lifetime.ttl]
  const absoluteDeadline = created + MILLIS[lifetime.absoluteTimeout]
  const hidden = `<input type="hidden" name="_token" value="${token}">`
  return page(
    "Home",
    `
${flash ? `<p id="flash" class="flash">${escapeHtml(flash)}</p>` : ""}
<p>You have visited this page <strong id="visits">${visits}</strong> time${visits === 1 ? "" : "s"} in this session.
Your session is stored under the key <span class="key" id="store-key">${short(key)}</span>
(the SHA-256 of its ID: the store never holds the ID itself).</p>

<section><h2>Expiry</h2>
<p>Idle expiry (${lifetime.ttl} after the last request): <strong id="idle" data-deadline="${idleDeadline}"></strong><br>
Absolute expiry (${lifetime.absoluteTimeout} after the session began, activity does not extend it):
<strong id="absolute" data-deadline="${absoluteDeadline}"></strong><br>
${remembered ? `<span id="remembered">Remembered: this session has its own, longer lifetimes.</span>` : ""}</p>
</section>

<section><h2>Account</h2>
${
      user
        ? `<p>Signed in as <strong id="user">${escapeHtml(user)}</strong>.</p>
<form id="logout" method="post" action="/logout">${hidden}<button type="submit">Log out</button></form>`
        : `<form id="login" method="post" action="/login">${hidden}
  <label>Name <input name="name" required maxlength="64" autocomplete="username"></label>
  <label><input type="checkbox" name="remember" value="on"> Remember me</label>
  <button type="submit">Log in</button>
</form>`
    }
</section>

<section><h2>A form protected against CSRF</h2>
<p>Your note: <strong id="note">${note ? escapeHtml(note) : "(none)"}</strong></p>
<form id="note-form" method="post" action="/note">${hidden}
  <input name="note" maxlength="200" placeholder="Write a note"> <button type="submit">Save</button>
</form>
<p>The form carries the session's token in a hidden <code>_token</code> field (scripts send it in an
<code>X-CSRF-Token</code> header, from the <code>csrf-token</code> meta tag). <code>Csrf</code>
answers 419 to a request without it.</p>
</section>`,
    token
  )
})

const LoginForm = Schema.Struct({
  name: Schema.String,
  remember: Schema.optional(Schema.Literal("on"))
})

const redirectHome = HttpServerResponse.redirect("/", { status: 303 })

const badRequest = () =>
  Effect.succeed(HttpServerResponse.text("Bad request: check the form and try again.", { status: 400 }))

// Csrf has already checked the token of every POST below: the handlers only do their job.

const login = Effect.gen(function*() {
  const form = yield* HttpServerRequest.schemaBodyUrlParams(LoginForm)
  const name = form.name.trim().slice(0, 64)
  if (name.length === 0) return yield* badRequest()
  const before = Session.storageKey(yield* Session.id)
  // A new ID at the moment privileges change: a fixated or leaked pre-login ID is now worthless.
  yield* Session.regenerate
  const after = Session.storageKey(yield* Session.id)
  if (form.remember === "on") {
    yield* Session.setLifetime(lifetimes.remembered)
    yield* Session.put("remember", true)
  }
  yield* Session.put("user", name)
  yield* Session.flash(
    "status",
    `Welcome, ${name}! Your session got a new ID: its store key was ${short(before)}, it is now ${short(after)}.`
  )
  return redirectHome
})

const logout = Effect.gen(function*() {
  // Laravel's invalidate: the data is flushed, the ID and the CSRF token are new, the old record is gone.
  yield* Session.invalidate
  yield* Session.flash("status", "You have been logged out.")
  return redirectHome
})

const saveNote = Effect.gen(function*() {
  const form = yield* HttpServerRequest.schemaBodyUrlParams(Schema.Struct({ note: Schema.String }))
  yield* Session.put("note", form.note.slice(0, 200))
  yield* Session.flash("status", "Note saved.")
  return redirectHome
})

/** The routes; a form that cannot be read is a 400 (a store failure stays the session's 503). */
export const Routes = Layer.mergeAll(
  HttpRouter.add("GET", "/", home),
  HttpRouter.add("POST", "/login", Effect.catchTags(login, { SchemaError: badRequest, HttpServerError: badRequest })),
  HttpRouter.add("POST", "/logout", logout),
  HttpRouter.add("POST", "/note", Effect.catchTags(saveNote, { SchemaError: badRequest, HttpServerError: badRequest })),
  // Never touches the session: no store I/O, no cookie.
  HttpRouter.add("GET", "/health", HttpServerResponse.text("ok"))
)

/**
 * The app: every route gets the session and CSRF protection (global middleware; the CSRF check
 * needs the session's token, which the session middleware provides).
 */
export const App = Routes.pipe(
  Layer.provide(Csrf.make({}, { global: true })),
  Layer.provide(Session.middleware({ insecure: true, ...lifetimes.normal }, { global: true }))
)

const port = Number(process.env.PORT ?? 3000)

// The store is provided last, so it is the outermost layer: on shutdown (Ctrl-C) the server stops
// first and lets in-flight requests finish, and they still have a store to save into.
const ServerLive = HttpRouter.serve(App).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
  Layer.provide(MemoryStoreLive)
)

if (import.meta.url === `file://${process.argv[1]}`) {
  NodeRuntime.runMain(Layer.launch(ServerLive))
}
