/**
 * The middleware as a browser sees it: real HTTP on a loopback port, a cookie jar, and a store
 * that records every call. Time is `TestClock`, which the server's handler fibers share.
 */
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Option, TestClock } from "effect"
import type { MemoryStore } from "effect-session"
import { Session } from "effect-session"
import { Jar, type Reply, request, serve, type SetCookie } from "./utils/http.js"
import * as Recording from "./utils/recording-store.js"

const COOKIE = "lagodev_session"
const TWO_HOURS = Duration.toMillis("2 hours")
const ONE_MINUTE = 60_000

const routes = HttpRouter.empty.pipe(
  HttpRouter.get("/none", HttpServerResponse.text("no session here")),
  HttpRouter.all(
    "/read",
    Effect.gen(function*() {
      const n = yield* Session.getOption("n")
      const isNew = yield* Session.isNew
      return yield* HttpServerResponse.json({ n: Option.getOrNull(n), isNew })
    })
  ),
  HttpRouter.all(
    "/inc",
    Effect.gen(function*() {
      const n = yield* Session.increment("n")
      return yield* HttpServerResponse.json({ n })
    })
  ),
  HttpRouter.get("/id", Effect.map(Session.id, (id) => HttpServerResponse.text(id))),
  HttpRouter.post("/regenerate", Effect.as(Session.regenerate, HttpServerResponse.text("regenerated"))),
  HttpRouter.post("/destroy", Effect.as(Session.destroy, HttpServerResponse.text("destroyed"))),
  HttpRouter.post(
    "/destroy-then-put",
    Effect.gen(function*() {
      yield* Session.destroy
      yield* Session.put("fresh", true)
      return HttpServerResponse.text("restarted")
    })
  ),
  HttpRouter.put("/big", Effect.as(Session.put("big", "x".repeat(8 * 1024)), HttpServerResponse.text("ok"))),
  HttpRouter.post(
    "/with-own-headers",
    Effect.as(
      Session.increment("n"),
      HttpServerResponse.text("ok").pipe(
        HttpServerResponse.unsafeSetCookie("theme", "dark", { path: "/" }),
        HttpServerResponse.setHeader("cache-control", "public, max-age=60")
      )
    )
  ),
  HttpRouter.get(
    "/many",
    Effect.gen(function*() {
      const [n, has, all, isNew] = yield* Effect.all(
        [Session.getOption("n"), Session.has("n"), Session.all, Session.isNew, Session.getString("n")],
        { concurrency: "unbounded" }
      )
      return yield* HttpServerResponse.json({ n: Option.getOrNull(n), has, all, isNew })
    })
  )
)

// The sweeper is tested with MemoryStore; here a daily sweep keeps long TestClock jumps cheap
// (expiry itself is exact on read).
const server = (options?: Session.Options<any, any>, store?: MemoryStore.Options) =>
  serve(routes, options).pipe(Layer.provideMerge(Recording.layer({ sweepInterval: "1 day", ...store })))

/** Records log lines from every fiber, the server's handler fibers included. */
const captureLogs = () => {
  const lines: Array<{ level: string; message: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    lines.push({ level: logLevel.label, message: parts.map(String).join(" ") })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

const sessionCookies = (reply: Reply, name = COOKIE): Array<SetCookie> =>
  reply.setCookies.filter((c) => c.name === name)

/** The one session cookie a reply sets (fails the test if there are several). */
const sessionCookie = (reply: Reply, name = COOKIE): SetCookie | undefined => {
  const cookies = sessionCookies(reply, name)
  expect(cookies.length).toBeLessThanOrEqual(1)
  return cookies[0]
}

const json = (reply: Reply) => JSON.parse(reply.body) as Record<string, unknown>

/** Starts a session with n = 1 and returns its cookie value and storage key. */
const startSession = (jar: Jar) =>
  Effect.gen(function*() {
    const recorder = yield* Recording.Recording
    const before = recorder.writes().length
    const reply = yield* request("POST", "/inc", { jar })
    expect(reply.status).toBe(200)
    expect(json(reply)).toStrictEqual({ n: 1 })
    const cookie = sessionCookie(reply)
    expect(cookie).toBeDefined()
    const writes = recorder.writes().slice(before)
    expect(writes.length).toBe(1)
    return { id: cookie!.value, key: writes[0]!.id }
  })

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/

describe("Session.middleware over HTTP", () => {
  describe("cookie attributes", () => {
    it.effect("default: HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age=7200, and nothing else", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        const cookie = sessionCookie(reply)!
        expect(cookie.name).toBe(COOKIE)
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.attributes).toStrictEqual({
          "max-age": "7200",
          path: "/",
          httponly: "",
          secure: "",
          samesite: "Lax"
        })
        expect(reply.headers["cache-control"]).toBe("no-store")
      }).pipe(Effect.provide(server())))

    it.effect("Max-Age is the TTL in seconds", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        expect(sessionCookie(reply)!.attributes["max-age"]).toBe("1800")
      }).pipe(Effect.provide(server({ ttl: "30 minutes" }))))

    it.effect("ttl 0: no Max-Age at all (a browser-session cookie), and the record is written with TTL zero", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.attributes).toStrictEqual({ path: "/", httponly: "", secure: "", samesite: "Lax" })
        expect(cookie.raw).not.toMatch(/max-age|expires/i)
        const recorder = yield* Recording.Recording
        expect(recorder.writes().map((w) => Duration.toMillis(w.ttl!))).toStrictEqual([0])
      }).pipe(Effect.provide(server({ ttl: 0 }))))

    it.effect("insecure: true drops Secure and nothing else", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        expect(sessionCookie(reply)!.attributes).toStrictEqual({
          "max-age": "7200",
          path: "/",
          httponly: "",
          samesite: "Lax"
        })
      }).pipe(Effect.provide(server({ insecure: true }))))

    it.effect("cookieName, domain, path, sameSite, partitioned and priority appear", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        expect(sessionCookies(reply)).toStrictEqual([])
        const cookie = sessionCookie(reply, "sid")!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.attributes).toStrictEqual({
          "max-age": "7200",
          domain: "example.com",
          path: "/app",
          httponly: "",
          secure: "",
          samesite: "Strict",
          partitioned: "",
          priority: "High"
        })
      }).pipe(Effect.provide(server({
        cookieName: "sid",
        domain: "example.com",
        path: "/app",
        sameSite: "strict",
        partitioned: true,
        priority: "high"
      }))))

    it.effect("a __Host- cookie: Secure, Path=/, no Domain", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const reply = yield* request("POST", "/inc", { jar })
        const cookie = sessionCookie(reply, "__Host-sid")!
        expect(cookie.attributes).toStrictEqual({
          "max-age": "7200",
          path: "/",
          httponly: "",
          secure: "",
          samesite: "Lax"
        })
        expect(json(yield* request("POST", "/inc", { jar }))).toStrictEqual({ n: 2 })
      }).pipe(Effect.provide(server({ cookieName: "__Host-sid" }))))

    it.effect("sameSite none", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        expect(sessionCookie(reply)!.attributes.samesite).toBe("None")
        expect(sessionCookie(reply)!.attributes.secure).toBe("")
      }).pipe(Effect.provide(server({ sameSite: "none" }))))

    it.effect("a sub-second TTL never gives Max-Age=0 (which would delete the cookie at once)", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.attributes["max-age"]).not.toBe("0")
      }).pipe(Effect.provide(server({ ttl: 500, touchAfter: 100 }))))

    // Read through HttpClient directly: test/utils/http.ts's Reply.setCookies cannot split a
    // response that sets several cookies (the client joins them into one header; see the report).
    it.effect("the handler's own cookies stay; a shared-cache header is overridden when the session cookie is set", () =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const first = yield* client.post("/with-own-headers")
        expect(Object.keys(first.cookies.cookies).sort()).toStrictEqual([COOKIE, "theme"])
        expect(first.headers["cache-control"]).toBe("no-store")
        const id = first.cookies.cookies[COOKIE]!.value
        const second = yield* client.execute(
          HttpClientRequest.post("/with-own-headers").pipe(HttpClientRequest.setHeader("cookie", `${COOKIE}=${id}`))
        )
        expect(second.status).toBe(200)
        expect(Object.keys(second.cookies.cookies)).toStrictEqual(["theme"])
        expect(second.headers["cache-control"]).toBe("public, max-age=60")
      }).pipe(Effect.scoped, Effect.provide(server())))

    it.effect("destroy sends a deletion cookie: same name, empty, Max-Age=0, same attributes", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        yield* startSession(jar)
        const reply = yield* request("POST", "/destroy", { jar })
        expect(reply.status).toBe(200)
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toBe("")
        expect(cookie.attributes).toStrictEqual({
          "max-age": "0",
          path: "/",
          httponly: "",
          secure: "",
          samesite: "Lax"
        })
        expect(reply.headers["cache-control"]).toBe("no-store")
      }).pipe(Effect.provide(server())))

    it.effect("the deletion cookie keeps the configured name, domain and path", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const first = yield* request("POST", "/inc", { jar })
        expect(sessionCookie(first, "sid")).toBeDefined()
        const reply = yield* request("POST", "/destroy", { jar })
        const cookie = sessionCookie(reply, "sid")!
        expect(cookie.value).toBe("")
        expect(cookie.attributes["max-age"]).toBe("0")
        expect(cookie.attributes.domain).toBe("example.com")
        expect(cookie.attributes.path).toBe("/app")
        expect(jar.cookies.size).toBe(0)
      }).pipe(Effect.provide(server({ cookieName: "sid", domain: "example.com", path: "/app" }))))

    it.effect("responses that set no cookie get no Cache-Control from the middleware", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        yield* startSession(jar)
        const none = yield* request("GET", "/none", { jar })
        expect(none.setCookies).toStrictEqual([])
        expect(none.headers["cache-control"]).toBeUndefined()
        const read = yield* request("GET", "/read", { jar })
        expect(read.setCookies).toStrictEqual([])
        expect(read.headers["cache-control"]).toBeUndefined()
      }).pipe(Effect.provide(server())))
  })

  describe("no needless store I/O or cookies", () => {
    it.effect("a request that never touches its session: no store I/O, no Set-Cookie (with or without a cookie)", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const fresh = yield* request("GET", "/none")
        expect(fresh.body).toBe("no session here")
        expect(fresh.setCookies).toStrictEqual([])

        const jar = new Jar()
        yield* startSession(jar)
        recorder.reset()
        yield* TestClock.adjust("1 hour") // even with the session due for renewal
        const existing = yield* request("GET", "/none", { jar })
        expect(existing.setCookies).toStrictEqual([])
        expect(recorder.calls).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("a read-only request on a new session creates nothing", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const reply = yield* request("GET", "/read")
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect(reply.setCookies).toStrictEqual([])
        // asking for the ID of an empty new session creates nothing either
        const id = yield* request("GET", "/id")
        expect(id.body).toMatch(ID_SHAPE)
        expect(id.setCookies).toStrictEqual([])
        expect(recorder.calls).toStrictEqual([])
        expect(yield* recorder.inner.size).toBe(0)
      }).pipe(Effect.provide(server())))

    it.effect("HEAD creates no session even when the handler writes to it", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const reply = yield* request("HEAD", "/inc")
        expect(reply.status).toBe(200)
        expect(reply.setCookies).toStrictEqual([])
        expect(recorder.writes()).toStrictEqual([])
        expect(yield* recorder.inner.size).toBe(0)
      }).pipe(Effect.provide(server())))

    it.effect("an unchanged session is not rewritten until touchAfter (default 1 minute), then renewed once", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        recorder.reset()

        yield* TestClock.adjust(ONE_MINUTE - 1)
        const early = yield* request("GET", "/read", { jar })
        expect(json(early)).toStrictEqual({ n: 1, isNew: false })
        expect(early.setCookies).toStrictEqual([])
        expect(recorder.writes()).toStrictEqual([])
        expect(recorder.ops("read").length).toBe(1)

        yield* TestClock.adjust(1)
        const due = yield* request("GET", "/read", { jar })
        expect(json(due)).toStrictEqual({ n: 1, isNew: false })
        expect(recorder.writes().map((w) => w.id)).toStrictEqual([key])
        const renewed = sessionCookie(due)!
        expect(renewed.value).toBe(id)
        expect(renewed.attributes["max-age"]).toBe("7200")

        // renewed just now: the next read does not write again
        const again = yield* request("GET", "/read", { jar })
        expect(again.setCookies).toStrictEqual([])
        expect(recorder.writes().length).toBe(1)
      }).pipe(Effect.provide(server())))

    it.effect("touchAfter is configurable", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.reset()
        yield* TestClock.adjust(Duration.toMillis("5 minutes") - 1)
        yield* request("GET", "/read", { jar })
        expect(recorder.writes()).toStrictEqual([])
        yield* TestClock.adjust(1)
        const due = yield* request("GET", "/read", { jar })
        expect(recorder.writes().length).toBe(1)
        expect(sessionCookie(due)!.attributes["max-age"]).toBe("3600")
      }).pipe(Effect.provide(server({ ttl: "1 hour", touchAfter: "5 minutes" }))))

    it.effect("a changed session is written once, at the end of the request", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.reset()
        const reply = yield* request("POST", "/inc", { jar })
        expect(json(reply)).toStrictEqual({ n: 2 })
        expect(recorder.calls.map((c) => c.op)).toStrictEqual(["read", recorder.writes()[0]?.op ?? "write"])
        // the cookie is not re-sent for an ordinary change (its Max-Age was just set)
        expect(reply.setCookies).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("concurrent first uses within one request share one load", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.reset()
        // a slow store, so that every accessor starts while the first load is still pending
        recorder.readDelayMillis = 25
        const reply = yield* request("GET", "/many", { jar })
        expect(json(reply)).toStrictEqual({ n: 1, has: true, all: { n: 1 }, isNew: false })
        expect(recorder.ops("read").length).toBe(1)
      }).pipe(Effect.provide(server())))

    it.effect("the store is keyed by a hash of the ID, never the ID itself", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        expect(key).not.toBe(id)
        expect(key).not.toContain(id)
        expect(yield* Recording.peek(id)).toBeUndefined()
        expect(yield* Recording.peek(key)).toBeDefined()
        yield* request("GET", "/read", { jar })
        expect(recorder.calls.every((c) => !c.id.includes(id))).toBe(true)
      }).pipe(Effect.provide(server())))

    it.effect("every new session gets its own 256-bit base64url ID", () =>
      Effect.gen(function*() {
        const ids = new Set<string>()
        for (let i = 0; i < 20; i++) {
          const reply = yield* request("POST", "/inc")
          const id = sessionCookie(reply)!.value
          expect(id).toMatch(ID_SHAPE)
          expect(Buffer.from(id, "base64url").length).toBe(32)
          ids.add(id)
        }
        expect(ids.size).toBe(20)
      }).pipe(Effect.provide(server())))
  })

  describe("TTL expiry through the middleware (TestClock)", () => {
    it.effect("a session is still there at TTL - 1 ms", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* TestClock.adjust(TWO_HOURS - 1)
        const reply = yield* request("POST", "/inc", { jar })
        expect(json(reply)).toStrictEqual({ n: 2 })
        // renewed (touchAfter has long passed): same ID, a full Max-Age again
        expect(sessionCookie(reply)).toMatchObject({ value: id, attributes: { "max-age": "7200" } })
      }).pipe(Effect.provide(server())))

    it.effect("at TTL the session is gone: a fresh session with a new cookie", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* TestClock.adjust(TWO_HOURS)
        const read = yield* request("GET", "/read", { jar })
        expect(json(read)).toStrictEqual({ n: null, isNew: true })
        const reply = yield* request("POST", "/inc", { jar })
        expect(json(reply)).toStrictEqual({ n: 1 })
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.value).not.toBe(id)
      }).pipe(Effect.provide(server())))

    it.effect("a renewal extends the expiry: alive at renewal + TTL - 1 ms", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* TestClock.adjust(TWO_HOURS - 1)
        const renewal = yield* request("GET", "/read", { jar })
        expect(json(renewal)).toStrictEqual({ n: 1, isNew: false })
        yield* TestClock.adjust(TWO_HOURS - 1)
        const stillThere = yield* request("GET", "/read", { cookie: `${COOKIE}=${id}` })
        expect(json(stillThere)).toStrictEqual({ n: 1, isNew: false })
      }).pipe(Effect.provide(server())))

    it.effect("a renewal extends the expiry: gone at renewal + TTL", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* TestClock.adjust(TWO_HOURS - 1)
        yield* request("GET", "/read", { jar })
        yield* TestClock.adjust(TWO_HOURS)
        const gone = yield* request("GET", "/read", { cookie: `${COOKIE}=${id}` })
        expect(json(gone)).toStrictEqual({ n: null, isNew: true })
      }).pipe(Effect.provide(server())))

    it.effect("a configured TTL: alive at TTL - 1 ms", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        yield* startSession(jar)
        yield* TestClock.adjust(Duration.toMillis("10 minutes") - 1)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 1, isNew: false })
      }).pipe(Effect.provide(server({ ttl: "10 minutes" }))))

    it.effect("a configured TTL: gone at TTL", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* TestClock.adjust("10 minutes")
        const reply = yield* request("POST", "/inc", { jar })
        expect(json(reply)).toStrictEqual({ n: 1 })
        expect(sessionCookie(reply)!.value).not.toBe(id)
      }).pipe(Effect.provide(server({ ttl: "10 minutes" }))))

    it.effect("ttl 0 with a store that never expires: the session lives on; a read renews it (TTL zero) without a cookie", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.reset()
        yield* TestClock.adjust("30 days")
        const reply = yield* request("GET", "/read", { jar })
        expect(json(reply)).toStrictEqual({ n: 1, isNew: false })
        // a browser-session cookie has no Max-Age to refresh
        expect(reply.setCookies).toStrictEqual([])
        // one renewal, with TTL zero ("the store's default"), then nothing until touchAfter again
        expect(recorder.writes().map((c) => c.ttl && Duration.toMillis(c.ttl))).toStrictEqual([0])
        recorder.reset()
        yield* request("GET", "/read", { jar })
        expect(recorder.writes()).toStrictEqual([])
      }).pipe(Effect.provide(server({ ttl: 0 }, { ttl: 0, sweepInterval: "1 day" }))))

    // With `ttl: 0` an unchanged session is still renewed every `touchAfter` (writing with TTL
    // zero, "the store's default"), so over a store whose default TTL is finite an active reader
    // is not logged out that long after the last *change*.
    it.effect("ttl 0 over a store with a finite default: an active reader keeps the session", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        yield* startSession(jar)
        for (let minute = 5; minute <= 20; minute += 5) {
          yield* TestClock.adjust("5 minutes")
          expect(json(yield* request("GET", "/read", { jar })), `after ${minute} minutes`).toStrictEqual({
            n: 1,
            isNew: false
          })
        }
      }).pipe(Effect.provide(server({ ttl: 0 }, { ttl: "10 minutes" }))))

    it.effect("absoluteTimeout: Max-Age never outlives it, and activity does not extend it", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const first = yield* request("POST", "/inc", { jar })
        expect(sessionCookie(first)!.attributes["max-age"]).toBe("3600")
        const id = sessionCookie(first)!.value
        yield* TestClock.adjust("30 minutes")
        const renewal = yield* request("POST", "/inc", { jar })
        expect(json(renewal)).toStrictEqual({ n: 2 })
        expect(sessionCookie(renewal)).toMatchObject({ value: id, attributes: { "max-age": "1800" } })
        yield* TestClock.adjust(Duration.toMillis("30 minutes") - 1)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 2, isNew: false })
        yield* TestClock.adjust(1)
        expect(json(yield* request("GET", "/read", { cookie: `${COOKIE}=${id}` }))).toStrictEqual({
          n: null,
          isNew: true
        })
      }).pipe(Effect.provide(server({ ttl: "2 hours", absoluteTimeout: "1 hour" }))))
  })

  describe("regenerate and destroy", () => {
    it.effect("regenerate: new ID, data kept, old record deleted, old cookie replays as a fresh session", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id: oldId, key: oldKey } = yield* startSession(jar)
        recorder.reset()

        const reply = yield* request("POST", "/regenerate", { jar })
        expect(reply.status).toBe(200)
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.value).not.toBe(oldId)
        expect(cookie.attributes["max-age"]).toBe("7200")
        expect(recorder.ops("destroy").map((c) => c.id)).toStrictEqual([oldKey])
        expect(yield* Recording.peek(oldKey)).toBeUndefined()
        const newKey = recorder.writes()[0]!.id
        expect(newKey).not.toBe(oldKey)
        expect(yield* Recording.peek(newKey)).toMatchObject({ n: 1 })

        // the data moved with the new ID
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 1, isNew: false })

        // the old cookie is worthless: a fresh, anonymous session, and a new ID once it writes
        const replay = yield* request("GET", "/read", { cookie: `${COOKIE}=${oldId}` })
        expect(json(replay)).toStrictEqual({ n: null, isNew: true })
        expect(replay.setCookies).toStrictEqual([])
        const write = yield* request("POST", "/inc", { cookie: `${COOKIE}=${oldId}` })
        expect(json(write)).toStrictEqual({ n: 1 })
        const replacement = sessionCookie(write)!.value
        expect(replacement).not.toBe(oldId)
        expect(replacement).not.toBe(cookie.value)
      }).pipe(Effect.provide(server())))

    it.effect("destroy: record deleted, cookie expired, later requests with the old cookie are new sessions", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        recorder.reset()
        const reply = yield* request("POST", "/destroy", { jar })
        expect(sessionCookie(reply)!.attributes["max-age"]).toBe("0")
        expect(recorder.ops("destroy").map((c) => c.id)).toStrictEqual([key])
        expect(recorder.writes()).toStrictEqual([])
        expect(yield* Recording.peek(key)).toBeUndefined()
        expect(jar.cookies.size).toBe(0)

        const replay = yield* request("GET", "/read", { cookie: `${COOKIE}=${id}` })
        expect(json(replay)).toStrictEqual({ n: null, isNew: true })
        const write = yield* request("POST", "/inc", { cookie: `${COOKIE}=${id}` })
        expect(json(write)).toStrictEqual({ n: 1 })
        expect(sessionCookie(write)!.value).not.toBe(id)
      }).pipe(Effect.provide(server())))

    it.effect("writing after destroy in the same request starts a new session with a new ID", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        recorder.reset()
        const reply = yield* request("POST", "/destroy-then-put", { jar })
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.value).not.toBe(id)
        expect(cookie.attributes["max-age"]).toBe("7200")
        expect(yield* Recording.peek(key)).toBeUndefined()
        const newKey = recorder.writes()[0]!.id
        expect(newKey).not.toBe(key)
        expect(yield* Recording.peek(newKey)).toMatchObject({ fresh: true })
        expect(yield* Recording.peek(newKey)).not.toHaveProperty("n")
        const read = yield* request("GET", "/read", { jar })
        expect(json(read)).toStrictEqual({ n: null, isNew: false })
      }).pipe(Effect.provide(server())))
  })

  describe("cookies that are not a live session's ID give a fresh session", () => {
    const valid = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    const malformed: Array<[string, string]> = [
      ["one character short", valid.slice(1)],
      ["one character long", valid + "A"],
      ["empty", ""],
      ["bad alphabet (\".\")", "." + valid.slice(1)],
      ["bad alphabet (\"%\")", valid.slice(0, 20) + "%" + valid.slice(21)],
      ["padded", valid + "="],
      ["padded base64 of 32 bytes", Buffer.alloc(32, 7).toString("base64")],
      ["standard base64 (\"+\")", "+" + valid.slice(1)],
      ["standard base64 (\"/\")", valid.slice(0, 10) + "/" + valid.slice(11)],
      ["wrong final character", valid.slice(0, 42) + "B"],
      ["a space inside", valid.slice(0, 20) + " " + valid.slice(21)],
      ["quoted", `"${valid.slice(2)}"`],
      ["non-ASCII", valid.slice(0, 42) + "\u00e9"],
      ["oversized (8 KB)", "A".repeat(8 * 1024)]
    ]
    for (const [name, value] of malformed) {
      it.effect(`malformed: ${name} — never reaches the store`, () =>
        Effect.gen(function*() {
          const recorder = yield* Recording.Recording
          const cookie = `${COOKIE}=${value}`
          const read = yield* request("GET", "/read", { cookie })
          expect(read.status).toBe(200)
          expect(json(read)).toStrictEqual({ n: null, isNew: true })
          expect(read.setCookies).toStrictEqual([])
          const write = yield* request("POST", "/inc", { cookie })
          expect(json(write)).toStrictEqual({ n: 1 })
          const issued = sessionCookie(write)!.value
          expect(issued).toMatch(ID_SHAPE)
          expect(issued).not.toBe(value)
          expect(recorder.ops("read")).toStrictEqual([])
        }).pipe(Effect.provide(server())))
    }

    it.effect("control: a well-formed cookie does reach the store", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        yield* request("GET", "/read", { cookie: `${COOKIE}=${valid}` })
        expect(recorder.ops("read").length).toBe(1)
      }).pipe(Effect.provide(server())))

    it.effect("an unknown well-formed ID is looked up once and never adopted", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const unknown = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
        const reply = yield* request("POST", "/inc", { cookie: `${COOKIE}=${unknown}` })
        expect(json(reply)).toStrictEqual({ n: 1 })
        const issued = sessionCookie(reply)!.value
        expect(issued).toMatch(ID_SHAPE)
        expect(issued).not.toBe(unknown)
        expect(recorder.ops("read").length).toBe(1)
        // and the issued ID works
        const read = yield* request("GET", "/read", { cookie: `${COOKIE}=${issued}` })
        expect(json(read)).toStrictEqual({ n: 1, isNew: false })
      }).pipe(Effect.provide(server())))

    it.effect("look-alike cookie names carrying a live ID are ignored and never reach the store", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id } = yield* startSession(new Jar())
        recorder.reset()
        const lookAlikes = [
          `\u00a0${COOKIE}=${id}`,
          `${COOKIE}\u00a0=${id}`,
          `Lagodev_session=${id}`,
          `LAGODEV_SESSION=${id}`,
          `x${COOKIE}=${id}`,
          `${COOKIE}_x=${id}`,
          `${COOKIE}.=${id}`
        ]
        for (const cookie of lookAlikes) {
          const reply = yield* request("GET", "/read", { cookie })
          expect(json(reply), cookie).toStrictEqual({ n: null, isNew: true })
        }
        expect(recorder.ops("read")).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("the session cookie is found among others, with RFC 6265 whitespace", () =>
      Effect.gen(function*() {
        const { id } = yield* startSession(new Jar())
        const big = "y".repeat(8 * 1024)
        for (const cookie of [`a=1; ${COOKIE}=${id}; b=2`, `other=${big};${COOKIE}=${id}`, ` \t${COOKIE} = ${id} `]) {
          const reply = yield* request("GET", "/read", { cookie })
          expect(json(reply)).toStrictEqual({ n: 1, isNew: false })
        }
      }).pipe(Effect.provide(server())))

    it.effect("duplicate cookies: malformed duplicates give a fresh session without store reads", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const reply = yield* request("GET", "/read", { cookie: `${COOKIE}=x; ${COOKIE}=${valid}=; ${COOKIE}=` })
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect(recorder.ops("read")).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("duplicate cookies: two unknown well-formed IDs give a fresh session", () =>
      Effect.gen(function*() {
        const other = "B".repeat(42) + "A"
        const reply = yield* request("POST", "/inc", { cookie: `${COOKIE}=${valid}; ${COOKIE}=${other}` })
        expect(json(reply)).toStrictEqual({ n: 1 })
        const issued = sessionCookie(reply)!.value
        expect([valid, other]).not.toContain(issued)
      }).pipe(Effect.provide(server())))

    it.effect("duplicate cookies: the first well-formed one is used (the documented rule), malformed ones skipped", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id } = yield* startSession(new Jar())
        recorder.reset()
        const reply = yield* request("GET", "/read", { cookie: `${COOKIE}=garbage; ${COOKIE}=${id}` })
        expect(json(reply)).toStrictEqual({ n: 1, isNew: false })
        expect(recorder.ops("read").length).toBe(1)
      }).pipe(Effect.provide(server())))
  })

  describe("a failing store", () => {
    const logs = captureLogs()
    const corruptLogs = captureLogs()
    const metaLogs = captureLogs()

    it.effect("read fails on load: 503, no Set-Cookie, no-store, and the error log does not carry the ID", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        recorder.failing.add("read")
        const reply = yield* request("POST", "/inc", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
        expect(reply.headers["cache-control"]).toBe("no-store")
        expect(recorder.writes().length).toBe(1) // only startSession's
        expect(logs.lines.some((l) => l.level === "ERROR")).toBe(true)
        expect(logs.lines.every((l) => !l.message.includes(id))).toBe(true)
      }).pipe(Effect.provide(server()), Effect.provide(logs.layer)))

    it.effect("write fails on save of a new session: 503, no Set-Cookie", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        recorder.failing.add("write")
        const reply = yield* request("POST", "/inc")
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
        expect(yield* recorder.inner.size).toBe(0)
      }).pipe(Effect.provide(server()), Effect.provide(captureLogs().layer)))

    it.effect("write fails on save of an existing session: 503, no Set-Cookie, stored data unchanged", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { key } = yield* startSession(jar)
        recorder.failing.add("write")
        yield* TestClock.adjust("1 hour") // a renewal would also set the cookie
        const reply = yield* request("POST", "/inc", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
        recorder.failing.delete("write")
        expect(yield* Recording.peek(key)).toMatchObject({ n: 1 })
      }).pipe(Effect.provide(server()), Effect.provide(captureLogs().layer)))

    it.effect("destroy fails: 503 and no deletion cookie", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.failing.add("destroy")
        const reply = yield* request("POST", "/destroy", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
      }).pipe(Effect.provide(server()), Effect.provide(captureLogs().layer)))

    it.effect("regenerate's write fails: 503 and no new cookie", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.failing.add("write")
        const reply = yield* request("POST", "/regenerate", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
      }).pipe(Effect.provide(server()), Effect.provide(captureLogs().layer)))

    const seen: Array<{ phase: string; hasResponse: boolean; reason: string }> = []
    const onError: Session.FailureHandler = (error, context) => {
      seen.push({
        phase: context.phase,
        hasResponse: Option.isSome(context.response),
        reason: error._tag === "SessionStoreError" ? error.reason : error._tag
      })
      return Option.match(context.response, {
        onNone: () => HttpServerResponse.text(`custom ${context.phase}`, { status: 500 }).pipe(Effect.succeed),
        // "continue": serve the handler's response anyway
        onSome: Effect.succeed
      })
    }

    it.effect("a custom onError decides the response on load failure", () =>
      Effect.gen(function*() {
        seen.length = 0
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        yield* startSession(jar)
        recorder.failing.add("read")
        const reply = yield* request("GET", "/read", { jar })
        expect(reply.status).toBe(500)
        expect(reply.body).toBe("custom load")
        expect(reply.setCookies).toStrictEqual([])
        expect(seen).toStrictEqual([{ phase: "load", hasResponse: false, reason: "Unavailable" }])
      }).pipe(Effect.provide(server({ onError }))))

    it.effect("a custom onError can continue on save failure: the handler's response, without a cookie", () =>
      Effect.gen(function*() {
        seen.length = 0
        const recorder = yield* Recording.Recording
        recorder.failing.add("write")
        const reply = yield* request("POST", "/inc")
        expect(reply.status).toBe(200)
        expect(json(reply)).toStrictEqual({ n: 1 })
        expect(reply.setCookies).toStrictEqual([])
        expect(seen).toStrictEqual([{ phase: "save", hasResponse: true, reason: "Unavailable" }])
        expect(yield* recorder.inner.size).toBe(0)
      }).pipe(Effect.provide(server({ onError }))))

    it.effect("a CorruptRecord read: fresh session, record deleted, warning logged, no 500", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        recorder.reset()
        recorder.corruptReads = true
        const reply = yield* request("GET", "/read", { jar })
        expect(reply.status).toBe(200)
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect(recorder.ops("destroy").map((c) => c.id)).toStrictEqual([key])
        recorder.corruptReads = false
        expect(yield* Recording.peek(key)).toBeUndefined()
        const warnings = corruptLogs.lines.filter((l) => l.level === "WARN")
        expect(warnings.length).toBe(1)
        expect(warnings[0]!.message).not.toContain(id)
        // the old cookie is not adopted afterwards either
        const write = yield* request("POST", "/inc", { jar })
        expect(json(write)).toStrictEqual({ n: 1 })
        expect(sessionCookie(write)!.value).not.toBe(id)
      }).pipe(Effect.provide(server()), Effect.provide(corruptLogs.layer)))

    it.effect("a record without the library's metadata is discarded the same way", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const jar = new Jar()
        const { key } = yield* startSession(jar)
        // someone else's data under the same key: no metadata
        yield* recorder.inner.write(key, { n: 41 }, Duration.zero)
        recorder.reset()
        const reply = yield* request("GET", "/read", { jar })
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect(recorder.ops("destroy").map((c) => c.id)).toStrictEqual([key])
        expect(yield* Recording.peek(key)).toBeUndefined()
        expect(metaLogs.lines.filter((l) => l.level === "WARN").length).toBe(1)
      }).pipe(Effect.provide(server()), Effect.provide(metaLogs.layer)))
  })
})

describe("an app run without a store layer (no type-check, as under tsx)", () => {
  it.effect("answers 500 and logs an error that names the fix", () => {
    const logs = captureLogs()
    const routes = HttpRouter.empty.pipe(
      HttpRouter.get("/", Effect.as(Session.put("a", 1), HttpServerResponse.text("ok")))
    )
    // The cast stands for what tsx allows: running a program the type-checker would reject.
    const noStore = serve(routes, { insecure: true }) as unknown as Layer.Layer<HttpClient.HttpClient>
    return Effect.gen(function*() {
      const reply = yield* request("GET", "/")
      expect(reply.status).toBe(500)
      expect(reply.setCookies).toEqual([])
      const errors = logs.lines.filter((line) => line.level === "ERROR").map((line) => line.message)
      expect(
        errors.some((message) =>
          message.includes("no SessionStore") && message.includes("provide a SessionStore layer") &&
          message.includes("MemoryStoreLive")
        )
      ).toBe(true)
    }).pipe(Effect.provide(noStore), Effect.provide(logs.layer))
  })
})
