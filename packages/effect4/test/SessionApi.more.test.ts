/**
 * More of the `HttpApi` integration through real HTTP, ported from the effect 3 package's
 * test/SessionApi.test.ts: a group behind `SessionApi.SessionMiddleware` beside a public group
 * without it, served on a loopback port with a cookie jar, over a store that records every call
 * and can be told to fail (`SessionTest.layerRecording`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Option, Schema } from "effect"
import { Session, SessionApi, SessionKey, SessionTest } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  OpenApi
} from "effect/http-api"
import { serveWith } from "./utils/http.js"
import { Jar, type Reply, request } from "./utils/wire.js"

const COOKIE = "lagodev_session"
const ID_SHAPE = /^[A-Za-z0-9_-]{43,}$/

// -----------------------------------------------------------------------------
// HTTP helpers: every Set-Cookie of a response, parsed, and a jar of several cookies
// -----------------------------------------------------------------------------

const sessionCookies = (reply: Reply, name = COOKIE) => reply.setCookies.filter((c) => c.name === name)

// -----------------------------------------------------------------------------
// The store: what it was asked, and what it holds
// -----------------------------------------------------------------------------

const recorder = Effect.service(SessionTest.RecordingStore)
const calls = Effect.flatMap(recorder, (store) => store.calls)
/** Every call that saves a record (write, patch or rotate). */
const writes = Effect.map(
  calls,
  (all) => all.filter((c) => c._tag === "write" || c._tag === "patch" || c._tag === "rotate")
)
/** The record stored for a session ID, read past the recording (undefined when there is none). */
const peek = (id: string) =>
  Effect.flatMap(
    recorder,
    (store) => Effect.map(store.underlying.read(SessionTest.storageKey(id)), Option.getOrUndefined)
  )

// -----------------------------------------------------------------------------
// The API: a group behind the middleware, a public group without it
// -----------------------------------------------------------------------------

class Counter extends HttpApiGroup.make("counter")
  .add(HttpApiEndpoint.get("inc", "/inc", { success: Schema.Number }))
  .add(HttpApiEndpoint.get("none", "/none", { success: Schema.String }))
  .add(HttpApiEndpoint.post("destroy", "/destroy", { success: Schema.String }))
  .middleware(SessionApi.SessionMiddleware)
{}

class Public extends HttpApiGroup.make("public")
  .add(HttpApiEndpoint.get("health", "/health", { success: Schema.String }))
{}

class Api extends HttpApi.make("api").add(Counter).add(Public) {}

// Only the value error dies: a store failure stays the declared SessionUnavailable (see the report
// on `Effect.orDie` after `mapStoreErrors` in /tmp/e4-bugs).
const increment = Session.increment("n").pipe(
  SessionApi.mapStoreErrors,
  Effect.catchTag("SessionValueError", Effect.die)
)

const CounterLive = HttpApiBuilder.group(Api, "counter", (handlers) =>
  handlers
    .handle("inc", () => increment)
    .handle("none", () => Effect.succeed("no session here"))
    .handle("destroy", () => Effect.as(SessionApi.mapStoreErrors(Session.destroy), "destroyed")))

const PublicLive = HttpApiBuilder.group(
  Api,
  "public",
  (handlers) => handlers.handle("health", () => Effect.succeed("ok"))
)

const app = (options?: Parameters<typeof SessionApi.layer>[0]) =>
  HttpApiBuilder.layer(Api).pipe(
    Layer.provide([CounterLive, PublicLive]),
    Layer.provide(SessionApi.layer(options))
  )

// A daily sweep: expiry itself is exact on read, and no test here moves the clock.
const server = (options?: Parameters<typeof SessionApi.layer>[0]) =>
  serveWith(app(options), SessionTest.layerRecording({ memory: { sweepInterval: "1 day" } }))

/** Records the log lines of every fiber, the server's handler fibers included. */
const captureLogs = () => {
  const lines: Array<{ level: string; message: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    lines.push({ level: String(logLevel), message: parts.map(String).join(" ") })
  })
  return { lines, layer: Logger.layer([logger]) }
}

describe("SessionApi (HttpApi middleware), ported from the effect 3 suite", () => {
  it.effect("a counter persists across requests, per client", () =>
    Effect.gen(function*() {
      const alice = new Jar()
      const bob = new Jar()
      expect((yield* request("GET", "/inc", { jar: alice })).body).toBe("1")
      expect((yield* request("GET", "/inc", { jar: alice })).body).toBe("2")
      expect((yield* request("GET", "/inc", { jar: bob })).body).toBe("1")
      expect((yield* request("GET", "/inc", { jar: alice })).body).toBe("3")
      expect(alice.cookies.get(COOKIE)).not.toBe(bob.cookies.get(COOKIE))
    }).pipe(Effect.provide(server())))

  it.effect("sets a HttpOnly, Secure, SameSite=Lax cookie on Path=/ with Max-Age = ttl", () =>
    Effect.gen(function*() {
      const reply = yield* request("GET", "/inc")
      expect(reply.status).toBe(200)
      const cookies = sessionCookies(reply)
      expect(cookies).toHaveLength(1)
      expect(cookies[0]!.value).toMatch(ID_SHAPE)
      expect(cookies[0]!.attributes).toStrictEqual({
        httponly: "",
        secure: "",
        samesite: "Lax",
        path: "/",
        "max-age": "7200"
      })
      expect(reply.headers["cache-control"]).toBe("no-store")
    }).pipe(Effect.provide(server())))

  it.effect("honours the options: cookie name, ttl, insecure", () =>
    Effect.gen(function*() {
      const reply = yield* request("GET", "/inc")
      expect(sessionCookies(reply)).toStrictEqual([])
      const cookies = sessionCookies(reply, "sid")
      expect(cookies).toHaveLength(1)
      expect(cookies[0]!.value).toMatch(ID_SHAPE)
      expect(cookies[0]!.attributes).toStrictEqual({ httponly: "", samesite: "Lax", path: "/", "max-age": "600" })
      // the renamed cookie is the one read back
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
    }).pipe(Effect.provide(server({ cookieName: "sid", ttl: "10 minutes", insecure: true }))))

  it.effect("endpoints that never touch the session cost no store I/O and set no cookie, even with a live session", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      expect(jar.cookies.has(COOKIE)).toBe(true)
      yield* Effect.flatMap(recorder, (store) => store.clear)
      // one behind the middleware, one in a group without it
      for (const path of ["/none", "/health"]) {
        const reply = yield* request("GET", path, { jar })
        expect(reply.status).toBe(200)
        expect(reply.setCookies).toStrictEqual([])
      }
      expect(yield* calls).toStrictEqual([])
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
    }).pipe(Effect.provide(server())))

  it.effect("destroy expires the cookie and deletes the record; the old ID is not accepted", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      yield* request("GET", "/inc", { jar })
      const old = jar.cookies.get(COOKIE)!
      expect(yield* peek(old)).toBeDefined()
      const reply = yield* request("POST", "/destroy", { jar })
      expect(reply.status).toBe(200)
      expect(reply.body).toBe("\"destroyed\"")
      const cookies = sessionCookies(reply)
      expect(cookies).toHaveLength(1)
      expect(cookies[0]!.value).toBe("")
      expect(cookies[0]!.attributes["max-age"]).toBe("0")
      expect(cookies[0]!.attributes.path).toBe("/")
      expect(jar.cookies.has(COOKIE)).toBe(false)
      expect(yield* peek(old)).toBeUndefined()
      // a client that kept the old cookie starts over, under a fresh ID
      const replay = yield* request("GET", "/inc", { cookie: `${COOKIE}=${old}` })
      expect(replay.body).toBe("1")
      const fresh = sessionCookies(replay)[0]!.value
      expect(fresh).toMatch(ID_SHAPE)
      expect(fresh).not.toBe(old)
    }).pipe(Effect.provide(server())))

  it.effect("a store failure on save is a 503 SessionUnavailable with no cookie, logged without the ID, never a 200", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      const id = jar.cookies.get(COOKIE)!
      yield* Effect.flatMap(recorder, (store) => store.fail({ on: "write" }))
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(JSON.parse(failed.body)).toStrictEqual({ _tag: "SessionUnavailable" })
      expect(failed.setCookies).toStrictEqual([])
      expect(logs.lines).toContainEqual({
        level: "Error",
        message: "effect-session: session store failed during save injected failure (SessionTest)"
      })
      expect(logs.lines.some((line) => line.message.includes(id))).toBe(false)
      // the failed save lost nothing that was stored: once the store is back, the count goes on
      yield* Effect.flatMap(recorder, (store) => store.recover)
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
    }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
  })

  it.effect("a store failure on load is the declared 503 SessionUnavailable, logged, and nothing is written", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const id = jar.cookies.get(COOKIE)!
      yield* Effect.flatMap(recorder, (store) => store.fail({ on: "read" }))
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(JSON.parse(failed.body)).toStrictEqual({ _tag: "SessionUnavailable" })
      expect(failed.setCookies).toStrictEqual([])
      expect(yield* writes).toHaveLength(1)
      expect(logs.lines).toContainEqual({
        level: "Error",
        message: "effect-session: session store failed in a handler injected failure (SessionTest)"
      })
      expect(logs.lines.some((line) => line.message.includes(id))).toBe(false)
    }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
  })

  it.effect("invalid cookie options fail the layer build with SessionConfigError naming the option", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(
          SessionApi.layer({ cookieName: "__Host-sid", path: "/app" }).pipe(Layer.provide(SessionTest.layerRecording()))
        )
      )
      expect(error._tag).toBe("SessionConfigError")
      expect(error.option).toBe("path")
      const insecure = yield* Effect.flip(
        Layer.build(
          SessionApi.layer({ cookieName: "__Host-sid", insecure: true }).pipe(
            Layer.provide(SessionTest.layerRecording())
          )
        )
      )
      expect(insecure.option).toBe("cookieName")
      // the same name with a valid path builds
      yield* Layer.build(
        SessionApi.layer({ cookieName: "__Host-sid" }).pipe(Layer.provide(SessionTest.layerRecording()))
      )
    }).pipe(Effect.scoped))

  it("the OpenAPI document declares 503 and 423 on the endpoints behind the middleware only", () => {
    const spec = OpenApi.fromApi(Api)
    for (const [path, method] of [["/inc", "get"], ["/none", "get"], ["/destroy", "post"]] as const) {
      const responses = Object.keys(spec.paths[path]![method]!.responses)
      expect(responses).toEqual(expect.arrayContaining(["200", "503", "423"]))
    }
    const health = Object.keys(spec.paths["/health"]!.get!.responses)
    expect(health).toContain("200")
    expect(health).not.toContain("503")
    expect(health).not.toContain("423")
  })
})

// -----------------------------------------------------------------------------
// A login flow (the effect 3 package's examples/http-api.ts, inline)
// -----------------------------------------------------------------------------

class Me extends Schema.Class<Me>("Me")({ name: Schema.String, visits: Schema.Number }) {}

class Account extends HttpApiGroup.make("account")
  .add(HttpApiEndpoint.get("me", "/me", { success: Me, error: HttpApiError.Unauthorized }))
  .add(HttpApiEndpoint.post("login", "/login", { payload: Schema.Struct({ name: Schema.String }), success: Me }))
  .add(HttpApiEndpoint.post("logout", "/logout", { success: HttpApiSchema.NoContent }))
  .middleware(SessionApi.SessionMiddleware)
{}

class AccountApi extends HttpApi.make("demo").add(Account) {}

const User = SessionKey.make("user", Schema.String)

const AccountLive = HttpApiBuilder.group(AccountApi, "account", (handlers) =>
  handlers
    .handle("me", () =>
      Effect.gen(function*() {
        const name = yield* Session.getOption(User)
        if (Option.isNone(name)) return yield* new HttpApiError.Unauthorized()
        const visits = yield* Session.increment("visits")
        return new Me({ name: name.value, visits })
      }).pipe(SessionApi.mapStoreErrors, Effect.catchTag("SessionValueError", Effect.die)))
    .handle("login", ({ payload }) =>
      Effect.gen(function*() {
        yield* Session.regenerate // a new ID at the moment privileges change
        yield* Session.put(User, payload.name.trim())
        return new Me({ name: payload.name.trim(), visits: 0 })
      }).pipe(SessionApi.mapStoreErrors, Effect.catchTag("SessionValueError", Effect.die)))
    .handle("logout", () => SessionApi.mapStoreErrors(Session.destroy)))

const AccountApp = HttpApiBuilder.layer(AccountApi).pipe(
  Layer.provide(AccountLive),
  Layer.provide(SessionApi.layer({ ttl: "2 hours", insecure: true }))
)

describe("SessionApi: a login flow", () => {
  it.effect("401 before login; login sets a new ID; visits count; logout expires the cookie; then 401 again", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      const anonymous = yield* request("GET", "/me", { jar })
      expect(anonymous.status).toBe(401)
      expect(sessionCookies(anonymous)).toStrictEqual([])
      const login = yield* request("POST", "/login", { jar, json: { name: " Ada " } })
      expect(login.status).toBe(200)
      expect(JSON.parse(login.body)).toStrictEqual({ name: "Ada", visits: 0 })
      const first = jar.cookies.get(COOKIE)
      expect(first).toMatch(ID_SHAPE)
      expect(JSON.parse((yield* request("GET", "/me", { jar })).body)).toStrictEqual({ name: "Ada", visits: 1 })
      expect(JSON.parse((yield* request("GET", "/me", { jar })).body)).toStrictEqual({ name: "Ada", visits: 2 })
      // logging in again, as someone else, moves the session to a new ID: the old one is dead
      const again = yield* request("POST", "/login", { jar, json: { name: "Grace" } })
      expect(JSON.parse(again.body)).toStrictEqual({ name: "Grace", visits: 0 })
      const second = jar.cookies.get(COOKIE)!
      expect(second).toMatch(ID_SHAPE)
      expect(second).not.toBe(first)
      expect(yield* peek(first!)).toBeUndefined()
      expect(JSON.parse((yield* request("GET", "/me", { jar })).body)).toStrictEqual({ name: "Grace", visits: 3 })
      const logout = yield* request("POST", "/logout", { jar })
      expect(logout.status).toBe(204)
      expect(sessionCookies(logout)[0]?.attributes["max-age"]).toBe("0")
      expect(jar.cookies.has(COOKIE)).toBe(false)
      expect((yield* request("GET", "/me", { jar })).status).toBe(401)
      expect((yield* request("GET", "/me", { cookie: `${COOKIE}=${second}` })).status).toBe(401)
    }).pipe(Effect.provide(serveWith(AccountApp, SessionTest.layerRecording({ memory: { sweepInterval: "1 day" } })))))
})

// -----------------------------------------------------------------------------
// The API mounted beside plain HttpRouter routes behind Session.middleware
// -----------------------------------------------------------------------------

describe("SessionApi beside Session.middleware on one router", () => {
  const plain = HttpRouter.add(
    "GET",
    "/plain/n",
    Effect.map(Session.getOption("n"), (n) => HttpServerResponse.jsonUnsafe({ n: Option.getOrNull(n) }))
  ).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

  const mixed = Layer.mergeAll(app({ insecure: true }), plain)

  it.effect("both read and write one session through one cookie, and a failed save is a 503 on the API", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("GET", "/inc", { jar })).body).toBe("1")
      expect((yield* request("GET", "/inc", { jar })).body).toBe("2")
      expect(JSON.parse((yield* request("GET", "/plain/n", { jar })).body)).toStrictEqual({ n: 2 })
      expect((yield* request("GET", "/health", { jar })).body).toBe("\"ok\"")
      yield* Effect.flatMap(recorder, (store) => store.fail({ on: "write" }))
      const failed = yield* request("GET", "/inc", { jar })
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toStrictEqual([])
      yield* Effect.flatMap(recorder, (store) => store.recover)
      expect(JSON.parse((yield* request("GET", "/plain/n", { jar })).body)).toStrictEqual({ n: 2 })
    }).pipe(Effect.provide(serveWith(mixed, SessionTest.layerRecording({ memory: { sweepInterval: "1 day" } })))))
})

// -----------------------------------------------------------------------------
// Errors declared by another middleware of the endpoint (an auth guard)
// -----------------------------------------------------------------------------

class NotSignedIn extends Schema.TaggedError<NotSignedIn>()("NotSignedIn", {}, { httpApiStatus: 401 }) {}
class UpstreamDown extends Schema.TaggedError<UpstreamDown>()("UpstreamDown", {}, { httpApiStatus: 502 }) {}

// `HttpApi` encodes a handler's failure with the endpoint's errors and every middleware's together,
// so a handler may fail with the guard's errors too.
class Guard extends HttpApiMiddleware.Service<Guard>()("test/Guard", { error: [NotSignedIn, UpstreamDown] }) {}

class Guarded extends HttpApiGroup.make("guarded")
  .add(HttpApiEndpoint.post("intended", "/intended", { success: Schema.String }))
  .add(HttpApiEndpoint.post("upstream", "/upstream", { success: Schema.String }))
  .add(HttpApiEndpoint.post("busy", "/busy", { success: Schema.String }))
  .add(HttpApiEndpoint.get("read", "/read", { success: Schema.String }))
  .middleware(Guard)
  .middleware(SessionApi.SessionMiddleware)
{}

class GuardedApi extends HttpApi.make("guarded").add(Guarded) {}

const putThen = <E>(key: string, error: E) =>
  Session.put(key, "/dashboard").pipe(SessionApi.mapStoreErrors, Effect.orDie, Effect.andThen(Effect.fail(error)))

const GuardedLive = HttpApiBuilder.group(GuardedApi, "guarded", (handlers) =>
  handlers
    .handle("intended", () => putThen("intended", new NotSignedIn()))
    .handle("upstream", () => putThen("upstream", new UpstreamDown()))
    .handle("busy", () => putThen("busy", new SessionApi.SessionLocked()))
    .handle("read", () =>
      Session.all.pipe(Effect.map((all) => JSON.stringify(all)), SessionApi.mapStoreErrors, Effect.orDie)))

const GuardedApp = HttpApiBuilder.layer(GuardedApi).pipe(
  Layer.provide(GuardedLive),
  Layer.provide(Layer.succeed(Guard, (httpEffect) => httpEffect)),
  Layer.provide(SessionApi.layer({ insecure: true }))
)

describe("SessionApi: errors declared by the endpoint's other middlewares", () => {
  it.effect("a 4xx error of another middleware saves the session; its 5xx and the session's own 423 do not", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      const unauthorized = yield* request("POST", "/intended", { jar })
      expect(unauthorized.status).toBe(401)
      expect(JSON.parse(unauthorized.body)).toStrictEqual({ _tag: "NotSignedIn" })
      expect(sessionCookies(unauthorized)[0]?.value).toMatch(ID_SHAPE)
      const read = JSON.stringify({ intended: "/dashboard" })
      expect(JSON.parse((yield* request("GET", "/read", { jar })).body)).toBe(read)
      const upstream = yield* request("POST", "/upstream", { jar })
      expect(upstream.status).toBe(502)
      expect(sessionCookies(upstream)).toStrictEqual([])
      const busy = yield* request("POST", "/busy", { jar })
      expect(busy.status).toBe(423)
      expect(sessionCookies(busy)).toStrictEqual([])
      expect(JSON.parse((yield* request("GET", "/read", { jar })).body)).toBe(read)
    }).pipe(Effect.provide(serveWith(GuardedApp, SessionTest.layerRecording({ memory: { sweepInterval: "1 day" } })))))
})
