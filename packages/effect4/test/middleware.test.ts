/**
 * The middleware as a browser sees it: real HTTP on a loopback port, a cookie jar, and a store
 * that records every call (`SessionTest.layerRecording`). Time is `TestClock`, which the server's
 * handler fibers share. Also: the router integration (route-level and global middleware) and the
 * middleware run on a fiber with no server (`HttpRouter.toHttpEffect`).
 */
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Logger, Option, Scope } from "effect"
import { type MemoryStore, MemoryStore as Memory, Session, SessionStoreError, SessionTest } from "effect-session-v4"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { serveWith } from "./utils/http.js"
import { Jar, type Reply, request, type SetCookie } from "./utils/wire.js"

const COOKIE = "lagodev_session"
const TWO_HOURS = Duration.toMillis(Duration.hours(2))
const ONE_MINUTE = 60_000
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/

// -----------------------------------------------------------------------------
// HTTP helpers: every Set-Cookie of a response, parsed, and a jar of several cookies
// -----------------------------------------------------------------------------

const sessionCookies = (reply: Reply, name = COOKIE): Array<SetCookie> =>
  reply.setCookies.filter((c) => c.name === name)

/** The one session cookie a reply sets (fails the test if there are several). */
const sessionCookie = (reply: Reply, name = COOKIE): SetCookie | undefined => {
  const cookies = sessionCookies(reply, name)
  expect(cookies.length).toBeLessThanOrEqual(1)
  return cookies[0]
}

const json = (reply: Reply) => JSON.parse(reply.body) as Record<string, unknown>

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
const ops = (tag: SessionTest.StoreCall["_tag"]) => Effect.map(calls, (all) => all.filter((c) => c._tag === tag))
const reset = Effect.flatMap(recorder, (store) => store.clear)
/** The record under a storage key, read past the recording (undefined when there is none). */
const peek = (key: string) =>
  Effect.flatMap(recorder, (store) => Effect.map(store.underlying.read(key), Option.getOrUndefined))

// -----------------------------------------------------------------------------
// The app
// -----------------------------------------------------------------------------

const routeList = Layer.mergeAll(
  HttpRouter.add("GET", "/none", HttpServerResponse.text("no session here")),
  HttpRouter.add(
    "*",
    "/read",
    Effect.gen(function*() {
      const n = yield* Session.getOption("n")
      const isNew = yield* Session.isNew
      return HttpServerResponse.jsonUnsafe({ n: Option.getOrNull(n), isNew })
    })
  ),
  HttpRouter.add("*", "/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.jsonUnsafe({ n }))),
  HttpRouter.add("GET", "/id", Effect.map(Session.id, (id) => HttpServerResponse.text(id))),
  HttpRouter.add("POST", "/regenerate", Effect.as(Session.regenerate, HttpServerResponse.text("regenerated"))),
  HttpRouter.add("POST", "/destroy", Effect.as(Session.destroy, HttpServerResponse.text("destroyed"))),
  HttpRouter.add(
    "POST",
    "/destroy-then-put",
    Effect.gen(function*() {
      yield* Session.destroy
      yield* Session.put("fresh", true)
      return HttpServerResponse.text("restarted")
    })
  ),
  HttpRouter.add(
    "POST",
    "/with-own-headers",
    Effect.as(
      Session.increment("n"),
      HttpServerResponse.text("ok").pipe(
        HttpServerResponse.setCookieUnsafe("theme", "dark", { path: "/" }),
        HttpServerResponse.setHeader("cache-control", "public, max-age=60")
      )
    )
  )
)

// The sweeper is tested with MemoryStore; here a daily sweep keeps long TestClock jumps cheap
// (expiry itself is exact on read).
const server = (options: Session.Options<any, any> = {}, store?: MemoryStore.Options) =>
  serveWith(
    routeList.pipe(Layer.provide(Session.middleware(options).layer)),
    SessionTest.layerRecording({ memory: { sweepInterval: "1 day", ...store } })
  )

/** Records log lines from every fiber, the server's handler fibers included. */
const captureLogs = () => {
  const lines: Array<{ level: string; message: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    lines.push({ level: String(logLevel), message: parts.map(String).join(" ") })
  })
  return { lines, layer: Logger.layer([logger]) }
}

/** Starts a session with n = 1 and returns its cookie value and storage key. */
const startSession = (jar: Jar) =>
  Effect.gen(function*() {
    const before = (yield* writes).length
    const reply = yield* request("POST", "/inc", { jar })
    expect(reply.status).toBe(200)
    expect(json(reply)).toStrictEqual({ n: 1 })
    const cookie = sessionCookie(reply)
    expect(cookie).toBeDefined()
    const written = (yield* writes).slice(before)
    expect(written.length).toBe(1)
    return { id: cookie!.value, key: written[0]!.id }
  })

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
        expect((yield* writes).map((w) => Duration.toMillis(w.ttl))).toStrictEqual([0])
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

    it.effect("a __Host- cookie: Secure, Path=/, no Domain, and it is read back", () =>
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

    it.effect("sameSite none: SameSite=None on a Secure cookie", () =>
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
      }).pipe(Effect.provide(server({ ttl: "500 millis", touchAfter: "100 millis" }))))

    it.effect("the handler's own cookies stay; a shared-cache header is overridden when the session cookie is set", () =>
      Effect.gen(function*() {
        const first = yield* request("POST", "/with-own-headers")
        expect(first.setCookies.map((c) => c.name).sort()).toStrictEqual([COOKIE, "theme"])
        expect(first.headers["cache-control"]).toBe("no-store")
        const id = sessionCookie(first)!.value
        const second = yield* request("POST", "/with-own-headers", { cookie: `${COOKIE}=${id}` })
        expect(second.status).toBe(200)
        expect(second.setCookies.map((c) => c.name)).toStrictEqual(["theme"])
        expect(second.headers["cache-control"]).toBe("public, max-age=60")
      }).pipe(Effect.provide(server())))

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
    it.effect("a request that never touches its session, with a cookie due for renewal: no store I/O, no Set-Cookie", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        yield* startSession(jar)
        yield* reset
        yield* TestClock.adjust("1 hour") // the session is due for renewal
        const existing = yield* request("GET", "/none", { jar })
        expect(existing.body).toBe("no session here")
        expect(existing.setCookies).toStrictEqual([])
        expect(yield* calls).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("a read-only request on a new session creates nothing, and neither does asking for its ID", () =>
      Effect.gen(function*() {
        const reply = yield* request("GET", "/read")
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect(reply.setCookies).toStrictEqual([])
        const id = yield* request("GET", "/id")
        expect(id.body).toMatch(ID_SHAPE)
        expect(id.setCookies).toStrictEqual([])
        expect(yield* calls).toStrictEqual([])
        // the ID it was shown was never stored
        expect(yield* peek(Session.storageKey(id.body))).toBeUndefined()
      }).pipe(Effect.provide(server())))

    it.effect("HEAD creates no session even when the handler writes to it: nothing reaches the store", () =>
      Effect.gen(function*() {
        const reply = yield* request("HEAD", "/inc")
        expect(reply.status).toBe(200)
        expect(reply.setCookies).toStrictEqual([])
        expect(yield* writes).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("an unchanged session is not rewritten until touchAfter (default 1 minute), then renewed once", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        yield* reset

        yield* TestClock.adjust(ONE_MINUTE - 1)
        const early = yield* request("GET", "/read", { jar })
        expect(json(early)).toStrictEqual({ n: 1, isNew: false })
        expect(early.setCookies).toStrictEqual([])
        expect(yield* writes).toStrictEqual([])
        expect((yield* ops("read")).length).toBe(1)

        yield* TestClock.adjust(1)
        const due = yield* request("GET", "/read", { jar })
        expect(json(due)).toStrictEqual({ n: 1, isNew: false })
        expect((yield* writes).map((w) => w.id)).toStrictEqual([key])
        const renewed = sessionCookie(due)!
        expect(renewed.value).toBe(id)
        expect(renewed.attributes["max-age"]).toBe("7200")

        // renewed just now: the next read does not write again
        const again = yield* request("GET", "/read", { jar })
        expect(again.setCookies).toStrictEqual([])
        expect((yield* writes).length).toBe(1)
      }).pipe(Effect.provide(server())))

    it.effect("touchAfter is configurable", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        yield* startSession(jar)
        yield* reset
        yield* TestClock.adjust(Duration.toMillis(Duration.minutes(5)) - 1)
        yield* request("GET", "/read", { jar })
        expect(yield* writes).toStrictEqual([])
        yield* TestClock.adjust(1)
        const due = yield* request("GET", "/read", { jar })
        expect((yield* writes).length).toBe(1)
        expect(sessionCookie(due)!.attributes["max-age"]).toBe("3600")
      }).pipe(Effect.provide(server({ ttl: "1 hour", touchAfter: "5 minutes" }))))

    it.effect("the store is keyed by a hash of the ID, never the ID itself", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        expect(key).not.toBe(id)
        expect(key).not.toContain(id)
        expect(key).toBe(Session.storageKey(id))
        expect(yield* peek(id)).toBeUndefined()
        expect(yield* peek(key)).toBeDefined()
        yield* request("POST", "/inc", { jar })
        expect((yield* calls).every((c) => !c.id.includes(id))).toBe(true)
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
    it.effect("a session is still there at TTL - 1 ms, and renewed: same ID, a full Max-Age again", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* TestClock.adjust(TWO_HOURS - 1)
        const reply = yield* request("POST", "/inc", { jar })
        expect(json(reply)).toStrictEqual({ n: 2 })
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
        yield* TestClock.adjust(Duration.toMillis(Duration.minutes(10)) - 1)
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
        const jar = new Jar()
        yield* startSession(jar)
        yield* reset
        yield* TestClock.adjust("30 days")
        const reply = yield* request("GET", "/read", { jar })
        expect(json(reply)).toStrictEqual({ n: 1, isNew: false })
        // a browser-session cookie has no Max-Age to refresh
        expect(reply.setCookies).toStrictEqual([])
        // one renewal, with TTL zero ("the store's default"), then nothing until touchAfter again
        expect((yield* writes).map((c) => Duration.toMillis(c.ttl))).toStrictEqual([0])
        yield* reset
        yield* request("GET", "/read", { jar })
        expect(yield* writes).toStrictEqual([])
      }).pipe(Effect.provide(server({ ttl: 0 }, { ttl: 0 }))))

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
        yield* TestClock.adjust(Duration.toMillis(Duration.minutes(30)) - 1)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 2, isNew: false })
        yield* TestClock.adjust(1)
        expect(json(yield* request("GET", "/read", { cookie: `${COOKIE}=${id}` }))).toStrictEqual({
          n: null,
          isNew: true
        })
      }).pipe(Effect.provide(server({ ttl: "2 hours", absoluteTimeout: "1 hour" }))))
  })

  describe("regenerate and destroy", () => {
    it.effect("regenerate: new ID with a full Max-Age, the old record moved away, the old cookie replays as a fresh session", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id: oldId, key: oldKey } = yield* startSession(jar)
        yield* reset

        const reply = yield* request("POST", "/regenerate", { jar })
        expect(reply.status).toBe(200)
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.value).not.toBe(oldId)
        expect(cookie.attributes["max-age"]).toBe("7200")
        expect(yield* peek(oldKey)).toBeUndefined()
        const newKey = Session.storageKey(cookie.value)
        expect(newKey).not.toBe(oldKey)
        expect(yield* peek(newKey)).toMatchObject({ n: 1 })

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

    it.effect("destroy writes nothing, and the old cookie then starts a new session with a new ID", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        yield* reset
        const reply = yield* request("POST", "/destroy", { jar })
        expect(sessionCookie(reply)!.attributes["max-age"]).toBe("0")
        expect((yield* ops("destroy")).map((c) => c.id)).toStrictEqual([key])
        expect(yield* writes).toStrictEqual([])
        expect(yield* peek(key)).toBeUndefined()
        expect(jar.cookies.size).toBe(0)

        const write = yield* request("POST", "/inc", { cookie: `${COOKIE}=${id}` })
        expect(json(write)).toStrictEqual({ n: 1 })
        expect(sessionCookie(write)!.value).not.toBe(id)
      }).pipe(Effect.provide(server())))

    it.effect("writing after destroy in the same request starts a new session with a new ID", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        yield* reset
        const reply = yield* request("POST", "/destroy-then-put", { jar })
        const cookie = sessionCookie(reply)!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.value).not.toBe(id)
        expect(cookie.attributes["max-age"]).toBe("7200")
        expect(yield* peek(key)).toBeUndefined()
        const newKey = (yield* writes)[0]!.id
        expect(newKey).not.toBe(key)
        expect(yield* peek(newKey)).toMatchObject({ fresh: true })
        expect(yield* peek(newKey)).not.toHaveProperty("n")
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
          expect(yield* ops("read")).toStrictEqual([])
        }).pipe(Effect.provide(server())))
    }

    it.effect("control: a well-formed cookie does reach the store", () =>
      Effect.gen(function*() {
        yield* request("GET", "/read", { cookie: `${COOKIE}=${valid}` })
        expect((yield* ops("read")).length).toBe(1)
      }).pipe(Effect.provide(server())))

    it.effect("an unknown well-formed ID is looked up once and never adopted; the issued ID works", () =>
      Effect.gen(function*() {
        const unknown = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
        const reply = yield* request("POST", "/inc", { cookie: `${COOKIE}=${unknown}` })
        expect(json(reply)).toStrictEqual({ n: 1 })
        const issued = sessionCookie(reply)!.value
        expect(issued).toMatch(ID_SHAPE)
        expect(issued).not.toBe(unknown)
        expect((yield* ops("read")).length).toBe(1)
        const read = yield* request("GET", "/read", { cookie: `${COOKIE}=${issued}` })
        expect(json(read)).toStrictEqual({ n: 1, isNew: false })
      }).pipe(Effect.provide(server())))

    it.effect("look-alike cookie names carrying a live ID are ignored and never reach the store", () =>
      Effect.gen(function*() {
        const { id } = yield* startSession(new Jar())
        yield* reset
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
        expect(yield* ops("read")).toStrictEqual([])
      }).pipe(Effect.provide(server())))

    it.effect("the session cookie is found among others, with RFC 6265 whitespace", () =>
      Effect.gen(function*() {
        const { id } = yield* startSession(new Jar())
        const big = "y".repeat(8 * 1024)
        for (const cookie of [`a=1; ${COOKIE}=${id}; b=2`, `other=${big};${COOKIE}=${id}`, ` \t${COOKIE} = ${id} `]) {
          const reply = yield* request("GET", "/read", { cookie })
          expect(json(reply), cookie.slice(0, 40)).toStrictEqual({ n: 1, isNew: false })
        }
      }).pipe(Effect.provide(server())))

    it.effect("duplicate cookies: malformed duplicates give a fresh session without store reads", () =>
      Effect.gen(function*() {
        const reply = yield* request("GET", "/read", { cookie: `${COOKIE}=x; ${COOKIE}=${valid}=; ${COOKIE}=` })
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect(yield* ops("read")).toStrictEqual([])
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
        const { id } = yield* startSession(new Jar())
        yield* reset
        const reply = yield* request("GET", "/read", { cookie: `${COOKIE}=garbage; ${COOKIE}=${id}` })
        expect(json(reply)).toStrictEqual({ n: 1, isNew: false })
        expect((yield* ops("read")).length).toBe(1)
      }).pipe(Effect.provide(server())))
  })

  describe("a failing store", () => {
    const failOn = (on: "read" | "write" | "destroy", reason: SessionStoreError["reason"] = "Unavailable") =>
      Effect.flatMap(recorder, (store) => store.fail({ on, error: new SessionStoreError({ reason }) }))
    const recover = Effect.flatMap(recorder, (store) => store.recover)

    it.effect("read fails on load: 503, no Set-Cookie, no-store, and the error log does not carry the ID", () => {
      const logs = captureLogs()
      return Effect.gen(function*() {
        const jar = new Jar()
        const { id } = yield* startSession(jar)
        yield* failOn("read")
        const reply = yield* request("POST", "/inc", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
        expect(reply.headers["cache-control"]).toBe("no-store")
        expect((yield* writes).length).toBe(1) // only startSession's
        expect(logs.lines.some((l) => l.level === "Error")).toBe(true)
        expect(logs.lines.every((l) => !l.message.includes(id))).toBe(true)
      }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
    })

    it.effect("write fails on save of an existing session due for renewal: 503, no Set-Cookie, stored data unchanged", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const { key } = yield* startSession(jar)
        yield* failOn("write")
        yield* TestClock.adjust("1 hour") // a renewal would also set the cookie
        const reply = yield* request("POST", "/inc", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
        yield* recover
        expect(yield* peek(key)).toMatchObject({ n: 1 })
      }).pipe(Effect.provide(server()), Effect.provide(captureLogs().layer)))

    const seen: Array<{ phase: string; hasResponse: boolean; reason: string }> = []
    const onError: Session.FailureHandler = (error, context) => {
      seen.push({
        phase: context.phase,
        hasResponse: Option.isSome(context.response),
        reason: error._tag === "SessionStoreError" ? error.reason : error._tag
      })
      return Option.match(context.response, {
        onNone: () => Effect.succeed(HttpServerResponse.text(`custom ${context.phase}`, { status: 500 })),
        // "continue": serve the handler's response anyway
        onSome: Effect.succeed
      })
    }

    it.effect("a custom onError decides the response on load failure, told the phase and that there is no response", () =>
      Effect.gen(function*() {
        seen.length = 0
        const jar = new Jar()
        yield* startSession(jar)
        yield* failOn("read")
        const reply = yield* request("GET", "/read", { jar })
        expect(reply.status).toBe(500)
        expect(reply.body).toBe("custom load")
        expect(reply.setCookies).toStrictEqual([])
        expect(seen).toStrictEqual([{ phase: "load", hasResponse: false, reason: "Unavailable" }])
      }).pipe(Effect.provide(server({ onError }))))

    it.effect("a custom onError can continue on save failure: the handler's response, without a cookie", () =>
      Effect.gen(function*() {
        seen.length = 0
        yield* failOn("write")
        const reply = yield* request("POST", "/inc")
        expect(reply.status).toBe(200)
        expect(json(reply)).toStrictEqual({ n: 1 })
        expect(reply.setCookies).toStrictEqual([])
        expect(seen).toStrictEqual([{ phase: "save", hasResponse: true, reason: "Unavailable" }])
        const written = yield* writes
        expect(written.length).toBe(1)
        expect(yield* peek(written[0]!.id)).toBeUndefined()
      }).pipe(Effect.provide(server({ onError }))))

    it.effect("a CorruptRecord read: fresh session, record deleted, a warning without the ID, no 500", () => {
      const logs = captureLogs()
      return Effect.gen(function*() {
        const jar = new Jar()
        const { id, key } = yield* startSession(jar)
        yield* reset
        yield* failOn("read", "CorruptRecord")
        const reply = yield* request("GET", "/read", { jar })
        expect(reply.status).toBe(200)
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect((yield* ops("destroy")).map((c) => c.id)).toStrictEqual([key])
        yield* recover
        expect(yield* peek(key)).toBeUndefined()
        const warnings = logs.lines.filter((l) => l.level === "Warn")
        expect(warnings.length).toBe(1)
        expect(warnings[0]!.message).not.toContain(id)
        // the old cookie is not adopted afterwards either
        const write = yield* request("POST", "/inc", { jar })
        expect(json(write)).toStrictEqual({ n: 1 })
        expect(sessionCookie(write)!.value).not.toBe(id)
      }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
    })

    it.effect("a record without the library's metadata is discarded the same way: deleted, one warning", () => {
      const logs = captureLogs()
      return Effect.gen(function*() {
        const jar = new Jar()
        const { key } = yield* startSession(jar)
        // someone else's data under the same key: no metadata
        const store = yield* recorder
        yield* store.underlying.write(key, { n: 41 }, Duration.zero)
        yield* reset
        const reply = yield* request("GET", "/read", { jar })
        expect(json(reply)).toStrictEqual({ n: null, isNew: true })
        expect((yield* ops("destroy")).map((c) => c.id)).toStrictEqual([key])
        expect(yield* peek(key)).toBeUndefined()
        expect(logs.lines.filter((l) => l.level === "Warn").length).toBe(1)
      }).pipe(Effect.provide(server()), Effect.provide(logs.layer))
    })
  })
})

// -----------------------------------------------------------------------------
// The router integration: route-level and global middleware (effect 3's HttpLayerRouter cases)
// -----------------------------------------------------------------------------

const modes = {
  "route-level (Session.middleware(options).layer)": <EH, RH>(options: Session.Options<EH, RH>) =>
    routeList.pipe(Layer.provide(Session.middleware(options).layer)),
  "global (Session.middleware(options, { global: true }))": <EH, RH>(options: Session.Options<EH, RH>) =>
    routeList.pipe(Layer.provide(Session.middleware(options, { global: true })))
} as const

class Brand extends Context.Service<Brand, string>()("test/middleware/Brand") {}

describe("the router integration", () => {
  for (const [mode, attach] of Object.entries(modes)) {
    const serveMode = (options: Session.Options<any, any> = {}) =>
      serveWith(attach(options), SessionTest.layerRecording({ memory: { sweepInterval: "1 day" } }))

    describe(mode, () => {
      it.effect("a counter persists across requests, per client", () =>
        Effect.gen(function*() {
          const alice = new Jar()
          const bob = new Jar()
          expect(json(yield* request("GET", "/inc", { jar: alice }))).toStrictEqual({ n: 1 })
          expect(json(yield* request("GET", "/inc", { jar: alice }))).toStrictEqual({ n: 2 })
          expect(json(yield* request("GET", "/inc", { jar: bob }))).toStrictEqual({ n: 1 })
          expect(json(yield* request("GET", "/inc", { jar: alice }))).toStrictEqual({ n: 3 })
          expect(alice.cookies.get(COOKIE)).not.toBe(bob.cookies.get(COOKIE))
        }).pipe(Effect.provide(serveMode())))

      it.effect("honours the options: cookie name, ttl, insecure, strict", () =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("GET", "/inc", { jar })
          const cookie = jar.last.find((c) => c.name === "sid")!
          expect(cookie.value).toMatch(ID_SHAPE)
          expect(cookie.attributes).toStrictEqual({ httponly: "", samesite: "Strict", path: "/", "max-age": "1800" })
          expect(json(yield* request("GET", "/inc", { jar }))).toStrictEqual({ n: 2 })
        }).pipe(
          Effect.provide(serveMode({ cookieName: "sid", ttl: "30 minutes", insecure: true, sameSite: "strict" }))
        ))

      it.effect("a route that never touches its session costs no store I/O and sets no cookie", () =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("GET", "/inc", { jar })
          yield* reset
          const reply = yield* request("GET", "/none", { jar })
          expect(reply.body).toBe("no session here")
          expect(reply.setCookies).toStrictEqual([])
          expect(yield* calls).toStrictEqual([])
        }).pipe(Effect.provide(serveMode())))

      it.effect("a store failure on save is a 503 with no cookie, and the lost change is not kept", () =>
        Effect.gen(function*() {
          const jar = new Jar()
          yield* request("GET", "/inc", { jar })
          const store = yield* recorder
          yield* store.fail({ on: "write" })
          const failed = yield* request("GET", "/inc", { jar })
          expect(failed.status).toBe(503)
          expect(failed.headers["cache-control"]).toBe("no-store")
          expect(failed.setCookies).toStrictEqual([])
          yield* store.recover
          // the failed increment was not kept, and the client was told so
          expect(json(yield* request("GET", "/inc", { jar }))).toStrictEqual({ n: 2 })
        }).pipe(Effect.provide(serveMode()), Effect.provide(captureLogs().layer)))
    })
  }

  it.effect("route-level: onError runs with services from where the middleware layer is built", () =>
    Effect.gen(function*() {
      const store = yield* recorder
      yield* store.fail({ on: "write" })
      const reply = yield* request("GET", "/inc")
      expect(reply.status).toBe(500)
      expect(reply.body).toBe("acme: save SessionStoreError")
    }).pipe(Effect.provide(serveWith(
      routeList.pipe(Layer.provide(
        Session.middleware({
          onError: (error, context) =>
            Effect.map(
              Effect.service(Brand),
              (brand) => HttpServerResponse.text(`${brand}: ${context.phase} ${error._tag}`, { status: 500 })
            )
        }).layer.pipe(Layer.provide(Layer.succeed(Brand, "acme")))
      )),
      SessionTest.layerRecording()
    ))))

  it.effect("global: onError runs with services from where the middleware layer is built", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const store = yield* recorder
      yield* store.fail({ on: "read" })
      const reply = yield* request("GET", "/inc", { jar })
      expect(reply.status).toBe(500)
      expect(reply.body).toBe("acme: load SessionStoreError")
    }).pipe(Effect.provide(serveWith(
      routeList.pipe(Layer.provide(
        Session.middleware({
          onError: (error, context) =>
            Effect.map(
              Effect.service(Brand),
              (brand) => HttpServerResponse.text(`${brand}: ${context.phase} ${error._tag}`, { status: 500 })
            )
        }, { global: true }).pipe(Layer.provide(Layer.succeed(Brand, "acme")))
      )),
      SessionTest.layerRecording()
    ))))

  it.effect("route-level middleware serves only the routes it is provided to: another route never reads the store", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect(json(yield* request("GET", "/inc", { jar }))).toStrictEqual({ n: 1 })
      yield* TestClock.adjust("1 hour") // even with the session due for renewal
      yield* reset
      const plain = yield* request("GET", "/plain", { jar })
      expect(plain.body).toBe("plain")
      expect(plain.setCookies).toStrictEqual([])
      expect(plain.headers["cache-control"]).toBeUndefined()
      expect(yield* calls).toStrictEqual([])
      expect(json(yield* request("GET", "/inc", { jar }))).toStrictEqual({ n: 2 })
    }).pipe(Effect.provide(serveWith(
      Layer.mergeAll(
        routeList.pipe(Layer.provide(Session.middleware().layer)),
        HttpRouter.add("GET", "/plain", Effect.succeed(HttpServerResponse.text("plain")))
      ),
      SessionTest.layerRecording()
    ))))

  it.effect("two route groups with their own middleware options keep their own cookies and sessions", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      const a = yield* request("GET", "/a/inc", { jar })
      expect(json(a)).toStrictEqual({ n: 1 })
      expect(a.setCookies.map((c) => c.name)).toStrictEqual(["a_session"])
      expect(a.setCookies[0]!.attributes.path).toBe("/a")
      const b = yield* request("GET", "/b/inc", { jar })
      expect(json(b)).toStrictEqual({ n: 1 })
      expect(b.setCookies.map((c) => c.name)).toStrictEqual(["b_session"])
      expect(b.setCookies[0]!.attributes["max-age"]).toBe("600")
      expect(json(yield* request("GET", "/a/inc", { jar }))).toStrictEqual({ n: 2 })
      expect(json(yield* request("GET", "/b/inc", { jar }))).toStrictEqual({ n: 2 })
      expect(jar.cookies.get("a_session")).not.toBe(jar.cookies.get("b_session"))
    }).pipe(Effect.provide(serveWith(
      Layer.mergeAll(
        HttpRouter.add("GET", "/a/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.jsonUnsafe({ n })))
          .pipe(Layer.provide(Session.middleware({ cookieName: "a_session", path: "/a" }).layer)),
        HttpRouter.add("GET", "/b/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.jsonUnsafe({ n })))
          .pipe(Layer.provide(Session.middleware({ cookieName: "b_session", ttl: "10 minutes" }).layer))
      ),
      SessionTest.layerRecording()
    ))))

  it.effect("an app run without a store layer (no type-check) fails to start, naming the missing SessionStore and the fix", () =>
    Effect.gen(function*() {
      const routes = HttpRouter.add("GET", "/", Effect.as(Session.put("a", 1), HttpServerResponse.text("ok")))
        .pipe(Layer.provide(Session.middleware({ insecure: true }).layer))
      // The cast stands for what tsx allows: running a program the type-checker would reject.
      const noStore = HttpRouter.serve(routes, { disableListenLog: true, disableLogger: true }).pipe(
        Layer.provideMerge(NodeHttpServer.layerTest)
      ) as unknown as Layer.Layer<never>
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(noStore)))
      expect(Exit.isFailure(exit)).toBe(true)
      const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(message).toMatch(/SessionStore/)
      expect(message).toContain("Layer.provide(MemoryStoreLive)")
    }))
})

// -----------------------------------------------------------------------------
// The middleware on a fiber, with no server (HttpRouter.toHttpEffect): where `Session` is visible,
// and what happens when the request's fiber is interruptible or is interrupted.
// -----------------------------------------------------------------------------

const FIBER_COOKIE = "sid"

const webRequest = (path: string, cookie?: string) =>
  HttpServerRequest.fromWeb(
    new Request(`http://127.0.0.1${path}`, cookie === undefined ? {} : { headers: { cookie } })
  )

/** The session cookie's `name=value` pair from a response, if it sets one. */
const cookieOf = (response: HttpServerResponse.HttpServerResponse): string | undefined => {
  const cookie = response.cookies.cookies[FIBER_COOKIE]
  return cookie === undefined || cookie.value === "" ? undefined : `${FIBER_COOKIE}=${cookie.value}`
}

const bodyText = (response: HttpServerResponse.HttpServerResponse): string =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : `<${response.body._tag}>`

/** Runs the router's app for one request on the current fiber. */
const runOn = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  path: string,
  cookie?: string
) =>
  app.pipe(
    Effect.provideService(HttpServerRequest.HttpServerRequest, webRequest(path, cookie)),
    Effect.scoped
  ) as Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    E,
    Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>
  >

describe("the middleware on a fiber (HttpRouter.toHttpEffect, no server)", () => {
  const StoreLive = Memory.layer({ sweepInterval: "1 hour" })

  it.effect("Session is in the context while the app runs, and gone after it, whether the app succeeds or fails", () =>
    Effect.gen(function*() {
      const seenInside: Array<boolean> = []
      const app = yield* HttpRouter.toHttpEffect(
        Layer.mergeAll(
          HttpRouter.add(
            "GET",
            "/ok",
            Effect.map(Effect.serviceOption(Session), (s) => {
              seenInside.push(Option.isSome(s))
              return HttpServerResponse.text("ok")
            })
          ),
          HttpRouter.add(
            "GET",
            "/fail",
            Effect.flatMap(Effect.serviceOption(Session), (s) => {
              seenInside.push(Option.isSome(s))
              return Effect.fail("handler failed" as const)
            })
          )
        ).pipe(Layer.provide(Session.middleware({ cookieName: FIBER_COOKIE, insecure: true }).layer))
      )
      const ok = yield* runOn(app, "/ok")
      expect(ok.status).toBe(200)
      const afterOk = yield* Effect.serviceOption(Session)
      yield* Effect.exit(runOn(app, "/fail"))
      const afterFail = yield* Effect.serviceOption(Session)
      expect(seenInside).toStrictEqual([true, true])
      expect(afterOk).toStrictEqual(Option.none())
      expect(afterFail).toStrictEqual(Option.none())
    }).pipe(Effect.scoped, Effect.provide(StoreLive)))

  it.effect("on an interruptible fiber the session is still saved, and read back by the next request", () =>
    Effect.gen(function*() {
      const app = yield* HttpRouter.toHttpEffect(
        HttpRouter.add(
          "GET",
          "/count",
          Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n)))
        ).pipe(Layer.provide(Session.middleware({ cookieName: FIBER_COOKIE, insecure: true }).layer))
      )
      const first = yield* Effect.interruptible(runOn(app, "/count"))
      const cookie = cookieOf(first)
      expect(cookie).toBeDefined()
      const second = yield* Effect.interruptible(runOn(app, "/count", cookie))
      const third = yield* Effect.interruptible(runOn(app, "/count", cookie))
      expect([first, second, third].map(bodyText)).toStrictEqual(["1", "2", "3"])
    }).pipe(Effect.scoped, Effect.provide(StoreLive)))

  it.effect("interrupting a request that holds the session lock releases the lock at once, and saves nothing", () =>
    Effect.gen(function*() {
      const entered = yield* Deferred.make<void>()
      const app = yield* HttpRouter.toHttpEffect(
        Layer.mergeAll(
          HttpRouter.add("GET", "/start", Effect.as(Session.put("n", 0), HttpServerResponse.text("started"))),
          HttpRouter.add(
            "GET",
            "/hold",
            Effect.gen(function*() {
              yield* Session.put("n", 1)
              yield* Deferred.succeed(entered, undefined)
              return yield* Effect.never // until interrupted
            })
          ),
          HttpRouter.add(
            "GET",
            "/read",
            Effect.map(
              Session.getOption("n"),
              (n) => HttpServerResponse.text(Option.isSome(n) ? `n=${n.value}` : "none")
            )
          )
        ).pipe(Layer.provide(
          // a lock held for a minute unless released; a waiter gives up after 2 s
          Session.middleware({ cookieName: FIBER_COOKIE, insecure: true, lock: { ttl: "1 minute", wait: "2 seconds" } })
            .layer
        ))
      )
      const cookie = cookieOf(yield* runOn(app, "/start"))
      expect(cookie).toBeDefined()
      const holder = yield* Effect.forkChild(Effect.interruptible(runOn(app, "/hold", cookie)))
      yield* Deferred.await(entered)
      yield* Fiber.interrupt(holder)
      const holderExit = yield* Fiber.await(holder)
      expect(Exit.hasInterrupts(holderExit)).toBe(true)
      // The lock is free again: the next request gets it at once. Were it still held, moving the
      // clock past the 2 s wait would make this request a 423.
      const next = yield* Effect.forkChild(runOn(app, "/read", cookie))
      yield* TestClock.adjust("3 seconds")
      const reply = yield* Fiber.join(next)
      expect(reply.status).toBe(200)
      // the interrupted request's change was not saved
      expect(bodyText(reply)).toBe("n=0")
    }).pipe(Effect.scoped, Effect.provide(StoreLive)))
})
