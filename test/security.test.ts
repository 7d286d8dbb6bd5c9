/**
 * The OWASP Session Management Cheat Sheet and ASVS 5.0 V7 requirements that a session library
 * owns, each proven through real HTTP (a loopback server, a cookie jar, a store that records every
 * call) with `TestClock` driving time. `docs/security.md` maps each requirement to the test here
 * that proves it: keep the test names in step with that table.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Duration,
  Effect,
  Exit,
  HashMap,
  Iterable,
  Layer,
  List,
  Logger,
  LogLevel,
  Option,
  Random,
  TestClock,
  Tracer
} from "effect"
import {
  type MemoryStore,
  MemoryStoreLive,
  Session,
  SessionCodec,
  SessionConfigError,
  SessionStore,
  SessionStoreError,
  type SessionStoreService
} from "effect-session"
import { Id } from "effect-session-core"
import { createHash } from "node:crypto"
import { inspect } from "node:util"
import { Jar, type Reply, request, serve, type SetCookie } from "./utils/http.js"
import * as Recording from "./utils/recording-store.js"

const COOKIE = "lagodev_session"
/** A handler's caching headers: shared caches, and CDNs through their own headers (which they obey first). */
const CACHEABLE = {
  "cache-control": "public, max-age=600",
  "cdn-cache-control": "public, max-age=600",
  "surrogate-control": "max-age=600"
}
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** What a session ID issued by this library looks like: 256 bits, unpadded base64url. */
const ID_SHAPE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

// -----------------------------------------------------------------------------
// The app under test
// -----------------------------------------------------------------------------

const routes = HttpRouter.empty.pipe(
  HttpRouter.get("/none", HttpServerResponse.text("no session here")),
  HttpRouter.all(
    "/read",
    Effect.gen(function*() {
      const n = yield* Session.getOption("n")
      const user = yield* Session.getOption("user")
      const isNew = yield* Session.isNew
      return yield* HttpServerResponse.json({ n: Option.getOrNull(n), user: Option.getOrNull(user), isNew })
    })
  ),
  HttpRouter.all("/inc", Effect.flatMap(Session.increment("n"), (n) => HttpServerResponse.json({ n }))),
  HttpRouter.all("/id", Effect.map(Session.id, (id) => HttpServerResponse.text(id))),
  HttpRouter.all("/token", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
  // login: a privilege change, so a new ID first (against fixation), then the user
  HttpRouter.post(
    "/login",
    Effect.gen(function*() {
      yield* Session.regenerate
      yield* Session.put("user", "ada")
      return HttpServerResponse.text("logged in")
    })
  ),
  HttpRouter.post(
    "/login-remember",
    Effect.gen(function*() {
      yield* Session.regenerate
      yield* Session.put("user", "ada")
      yield* Session.setLifetime({ ttl: "30 days", absoluteTimeout: "90 days" })
      return HttpServerResponse.text("remembered")
    })
  ),
  HttpRouter.post(
    "/shorten",
    Effect.as(Session.setLifetime({ ttl: "5 minutes" }), HttpServerResponse.text("short-lived"))
  ),
  HttpRouter.post(
    "/bad-lifetime",
    Session.setLifetime({ ttl: -1 }).pipe(
      Effect.as(HttpServerResponse.text("accepted")),
      Effect.catchTag("SessionConfigError", (e) => Effect.succeed(HttpServerResponse.text(e.option, { status: 400 })))
    )
  ),
  HttpRouter.post("/logout", Effect.as(Session.destroy, HttpServerResponse.text("logged out"))),
  HttpRouter.post("/invalidate", Effect.as(Session.invalidate, HttpServerResponse.text("invalidated"))),
  // a handler that asks shared caches to keep its response
  HttpRouter.all(
    "/cacheable",
    Effect.gen(function*() {
      const n = yield* Session.getOption("n")
      return HttpServerResponse.text(`n=${Option.getOrElse(n, () => 0)}`, {
        headers: CACHEABLE
      })
    })
  ),
  HttpRouter.post(
    "/cacheable-write",
    Effect.as(
      Session.increment("n"),
      HttpServerResponse.text("written", { headers: CACHEABLE })
    )
  ),
  // every way a handler might print its session handle
  HttpRouter.get(
    "/inspect",
    Effect.gen(function*() {
      const session = yield* Session
      yield* Session.put("seen", true)
      yield* Effect.logInfo("handler sees", session)
      return yield* HttpServerResponse.json({
        id: yield* Session.id,
        string: String(session),
        template: `${session}`,
        inspect: inspect(session, { depth: 5 }),
        json: JSON.stringify(session)
      })
    })
  )
)

/**
 * What an application keeps to end a user's sessions from elsewhere (account disabled, password
 * changed, "log out everywhere"): the storage key of each session, never the ID itself.
 */
const sessionsByUser = new Map<string, Set<string>>()

const adminRoutes = routes.pipe(
  HttpRouter.post(
    "/login-tracked",
    Effect.gen(function*() {
      yield* Session.regenerate
      yield* Session.put("user", "ada")
      const key = storageKey(yield* Session.id)
      sessionsByUser.set("ada", (sessionsByUser.get("ada") ?? new Set()).add(key))
      return HttpServerResponse.text("logged in")
    })
  ),
  HttpRouter.post(
    "/admin/revoke-ada",
    Effect.gen(function*() {
      const store = yield* SessionStore
      const keys = sessionsByUser.get("ada") ?? new Set<string>()
      yield* Effect.forEach(keys, (key) => store.destroy(key), { discard: true })
      sessionsByUser.delete("ada")
      return HttpServerResponse.text(`revoked ${keys.size}`)
    })
  )
)

const server = (options?: Session.Options<any, any>, store?: MemoryStore.Options) =>
  serve(routes, options).pipe(Layer.provideMerge(Recording.layer({ sweepInterval: "30 days", ...store })))

// -----------------------------------------------------------------------------
// Helpers
// -----------------------------------------------------------------------------

const sessionCookie = (reply: Reply, name = COOKIE): SetCookie | undefined => {
  const cookies = reply.setCookies.filter((c) => c.name === name)
  expect(cookies.length).toBeLessThanOrEqual(1)
  return cookies[0]
}

const maxAge = (reply: Reply, name = COOKIE): number | undefined => {
  const value = sessionCookie(reply, name)?.attributes["max-age"]
  return value === undefined ? undefined : Number(value)
}

const json = (reply: Reply) => JSON.parse(reply.body) as Record<string, unknown>

const storageKey = (id: string) => createHash("sha256").update(id).digest("base64url")

/** Starts a session with n = 1; returns its ID (the cookie value) and its storage key. */
const startSession = (jar = new Jar()) =>
  Effect.gen(function*() {
    const reply = yield* request("POST", "/inc", { jar })
    expect(json(reply)).toStrictEqual({ n: 1 })
    const id = sessionCookie(reply)!.value
    expect(id).toMatch(ID_SHAPE)
    return { jar, id, key: storageKey(id) }
  })

const withCookie = (id: string, name = COOKIE) => ({ cookie: `${name}=${id}` })

const anonymous = { n: null, user: null, isNew: true }

interface Captured {
  readonly level: string
  /** message, annotations, log spans and cause, flattened to one searchable string */
  readonly text: string
}

/** Captures every log line (all levels) from every fiber, the server's included. */
const captureLogs = () => {
  const lines: Array<Captured> = []
  const logger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
    const parts = Array.isArray(message) ? message : [message]
    const text = [
      ...parts.map((p) => typeof p === "string" ? p : inspect(p, { depth: 10 })),
      ...[...HashMap.toEntries(annotations)].map(([k, v]) => `${k}=${inspect(v, { depth: 10 })}`),
      ...List.toArray(spans).map((s) => s.label),
      Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true })
    ].join(" | ")
    lines.push({ level: logLevel.label, text })
  })
  return {
    lines,
    layer: Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))
  }
}

/** A span that records what it is told; `Tracer.make` over it records every span of every fiber. */
class RecordedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(36).slice(2)
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<[string, Record<string, unknown> | undefined]> = []
  links: Array<Tracer.SpanLink>
  exit: Exit.Exit<unknown, unknown> | undefined
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.traceId = Option.match(parent, { onNone: () => this.spanId, onSome: (p) => p.traceId })
    this.status = { _tag: "Started", startTime }
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.exit = exit
  }
  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>): void {
    this.events.push([name, attributes])
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
  /** Everything the span carries, as one searchable string. */
  dump(): string {
    return [
      this.name,
      ...[...this.attributes].map(([k, v]) => `${k}=${String(v)}`),
      ...this.events.map(([name, attrs]) => `${name} ${inspect(attrs)}`),
      this.exit === undefined || Exit.isSuccess(this.exit) ? "" : Cause.pretty(this.exit.cause)
    ].join(" | ")
  }
}

const recordingTracer = () => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = new RecordedSpan(name, parent, context, links, startTime, kind)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return { spans, tracer }
}

/**
 * A store that keeps JSON text, as Redis or SQL do, decoded with `SessionCodec` on read: its
 * records can be corrupted the way a real one's can. Minimal contract only (no patch, no lock).
 */
const textStore = () => {
  const records = new Map<string, string>()
  const calls: Array<{ op: string; key: string }> = []
  const store: SessionStoreService = {
    read: (key) =>
      Effect.suspend(() => {
        calls.push({ op: "read", key })
        const text = records.get(key)
        return text === undefined ? Effect.succeedNone : Effect.map(SessionCodec.decode(text), Option.some)
      }),
    write: (key, data) =>
      Effect.suspend(() => {
        calls.push({ op: "write", key })
        return Effect.map(SessionCodec.encode(data), (text) => {
          records.set(key, text)
        })
      }),
    destroy: (key) =>
      Effect.sync(() => {
        calls.push({ op: "destroy", key })
        records.delete(key)
      })
  }
  return { records, calls, layer: Layer.succeed(SessionStore, store) }
}

// -----------------------------------------------------------------------------
// Tests
// -----------------------------------------------------------------------------

describe("security (OWASP Session Management Cheat Sheet, ASVS 5.0 V7)", () => {
  describe("session ID generation", () => {
    it("1,000,000 generated IDs: 43 characters, base64url, canonical final character, no repeat", () => {
      const draws = 1_000_000
      const seen = new Set<string>()
      let malformed = 0
      for (let i = 0; i < draws; i++) {
        const id = Id.generate()
        // the library's own check (length 43, alphabet, canonical final character)…
        if (!Id.isWellFormed(id)) malformed++
        seen.add(id)
      }
      expect(malformed).toBe(0)
      expect(seen.size).toBe(draws)
      // …and an independent one on a sample; the 43rd character carries the last 4 bits: all 16
      // values occur, nothing else does
      const sample = [...Iterable.take(seen, 20_000)]
      expect(sample.every((id) => id.length === 43 && ID_SHAPE.test(id))).toBe(true)
      expect([...new Set(sample.map((id) => id[42]))].sort().join("")).toBe([..."AEIMQUYcgkosw048"].sort().join(""))
    })

    it("every bit of the 256 is unbiased over 100,000 IDs (within 6 standard deviations)", () => {
      const draws = 100_000
      const ones = new Array<number>(256).fill(0)
      let wrongLength = 0
      for (let i = 0; i < draws; i++) {
        const bytes = Buffer.from(Id.generate(), "base64url")
        if (bytes.length !== 32) wrongLength++
        for (let b = 0; b < 32; b++) {
          const byte = bytes[b]!
          for (let bit = 0; bit < 8; bit++) ones[b * 8 + bit]! += (byte >> bit) & 1
        }
      }
      expect(wrongLength).toBe(0)
      const sigma = Math.sqrt(draws * 0.25)
      const worst = Math.max(...ones.map((count) => Math.abs(count - draws / 2)))
      expect(worst).toBeLessThan(6 * sigma)
    })

    it.effect("IDs issued over HTTP decode to exactly 32 bytes and re-encode to themselves", () =>
      Effect.gen(function*() {
        for (let i = 0; i < 10; i++) {
          const { id } = yield* startSession()
          const bytes = Buffer.from(id, "base64url")
          expect(bytes.length).toBe(32)
          expect(bytes.toString("base64url")).toBe(id)
        }
      }).pipe(Effect.provide(server())))

    it.effect("IDs do not come from Effect's seedable Random: the same seed twice still gives different IDs", () =>
      Effect.gen(function*() {
        const issue = Effect.map(startSession(), ({ id }) => id).pipe(
          Effect.provide(server()),
          Effect.withRandom(Random.make("fixed seed"))
        )
        const first = yield* issue
        const second = yield* issue
        expect(first).not.toBe(second)
      }))

    it.effect("the ID carries no session content: 43 characters whatever is stored, unrelated for equal data", () =>
      Effect.gen(function*() {
        const a = yield* startSession()
        const b = yield* startSession()
        expect(a.id).not.toBe(b.id)
        const recorder = yield* Recording.Recording
        const record = yield* Recording.peek(a.key)
        expect(record).toMatchObject({ n: 1 })
        expect(JSON.stringify(record)).not.toContain(a.id)
        // the store holds only hashes of IDs as keys: a dump contains no live ID
        for (const call of recorder.calls) {
          expect(call.id).not.toBe(a.id)
          expect(call.id).not.toBe(b.id)
        }
        expect(recorder.writes().map((c) => c.id)).toStrictEqual([storageKey(a.id), storageKey(b.id)])
      }).pipe(Effect.provide(server())))
  })

  describe("tampered and near-miss IDs of a live session", () => {
    /** Variants of a live ID: [name, value, well-formed?]. Well-formed ones name another (unknown) session. */
    const variants = (id: string): Array<[string, string, boolean]> => {
      const swap = (i: number) => {
        const c = id[i]!
        const replacement = c === "Q" ? "R" : "Q"
        return id.slice(0, i) + replacement + id.slice(i + 1)
      }
      const flipCase = (() => {
        const i = [...id.slice(0, 42)].findIndex((c) => /[a-zA-Z]/.test(c))
        const c = id[i]!
        return id.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + id.slice(i + 1)
      })()
      const finals = "AEIMQUYcgkosw048"
      // same 32 bytes to a lenient base64 decoder, but not the canonical encoding
      const wrongFinal = id.slice(0, 42) + String.fromCharCode(id.charCodeAt(42) + 1)
      const otherFinal = id.slice(0, 42) + finals[(finals.indexOf(id[42]!) + 1) % 16]
      return [
        ["one character changed (first)", swap(0), true],
        ["one character changed (middle)", swap(21), true],
        ["one character changed (last data character)", swap(41), true],
        ["another canonical final character", otherFinal, true],
        ["upper/lower case flipped", flipCase, true],
        ["one character dropped (first)", id.slice(1), false],
        ["one character dropped (last)", id.slice(0, 42), false],
        ["one character added (front)", "A" + id, false],
        ["one character added (end)", id + "A", false],
        ["padded with \"=\"", id + "=", false],
        ["standard base64 \"+\"", "+" + id.slice(1), false],
        ["standard base64 \"/\"", id.slice(0, 21) + "/" + id.slice(22), false],
        ["standard base64 of the same bytes, padded", Buffer.from(id, "base64url").toString("base64"), false],
        ["a final character a lenient decoder accepts", wrongFinal, false],
        ["percent-encoded", encodeURIComponent(id.slice(0, 42)) + "%" + id.charCodeAt(42).toString(16), false],
        ["quoted", `"${id}"`, false],
        ["the storage key (hash) instead of the ID", storageKey(id), true],
        ["twice", id + id, false]
      ]
    }

    it.effect("never read the live record; malformed ones reach no store at all; each gives a fresh session", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id, key } = yield* startSession()
        for (const [name, value, wellFormed] of variants(id)) {
          expect(value, name).not.toBe(id)
          expect(Id.isWellFormed(value), name).toBe(wellFormed)
          recorder.reset()
          const read = yield* request("GET", "/read", withCookie(value))
          expect(read.status, name).toBe(200)
          expect(json(read), name).toStrictEqual(anonymous)
          expect(read.setCookies, name).toStrictEqual([])
          const write = yield* request("POST", "/inc", withCookie(value))
          expect(json(write), name).toStrictEqual({ n: 1 })
          const issued = sessionCookie(write)!.value
          expect(issued, name).toMatch(ID_SHAPE)
          expect([id, value], name).not.toContain(issued)
          // the live record was never touched
          expect(recorder.calls.filter((c) => c.id === key), name).toStrictEqual([])
          const reads = recorder.ops("read")
          if (wellFormed) {
            // an unknown ID is looked up under its own hash, found missing, and never adopted
            expect(reads.map((c) => c.id), name).toStrictEqual([storageKey(value), storageKey(value)])
          } else {
            expect(reads, name).toStrictEqual([])
          }
        }
        // the live session is intact after all that
        expect(json(yield* request("GET", "/read", withCookie(id)))).toStrictEqual({ n: 1, user: null, isNew: false })
      }).pipe(Effect.provide(server())))

    it.effect("the ID travels only in Set-Cookie: never in a body, a Location or another header", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const replies: Array<Reply> = []
        replies.push(yield* request("POST", "/inc", { jar }))
        yield* TestClock.adjust(HOUR)
        replies.push(yield* request("GET", "/read", { jar }))
        replies.push(yield* request("POST", "/login", { jar }))
        replies.push(yield* request("GET", "/token", { jar }))
        replies.push(yield* request("POST", "/logout", { jar }))
        const ids = replies.flatMap((r) => r.setCookies.map((c) => c.value)).filter((v) => v !== "")
        expect(new Set(ids).size).toBe(2)
        for (const reply of replies) {
          const elsewhere = [reply.body, ...Object.entries(reply.headers).filter(([k]) => k !== "set-cookie").flat()]
          for (const id of ids) expect(elsewhere.join("\n")).not.toContain(id)
        }
      }).pipe(Effect.provide(server())))

    it.effect("the ID is accepted only from the cookie: in the URL or another header it is ignored", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id } = yield* startSession()
        recorder.reset()
        const attempts = [
          request("GET", `/read?${COOKIE}=${id}`),
          request("GET", `/read?session=${id}&sid=${id}`),
          request("GET", `/read;${COOKIE}=${id}`),
          request("GET", "/read", { headers: { "x-session-id": id } }),
          request("GET", "/read", { headers: { authorization: `Bearer ${id}` } }),
          request("GET", "/read", { headers: { [COOKIE]: id } })
        ]
        for (const attempt of attempts) {
          const reply = yield* attempt
          if (reply.status === 200) expect(json(reply)).toStrictEqual(anonymous)
          else expect(reply.status).toBe(404)
        }
        expect(recorder.calls).toStrictEqual([])
      }).pipe(Effect.provide(server())))
  })

  describe("cookie attributes and prefixes", () => {
    it.effect("__Host- cookie: Secure, Path=/, no Domain, HttpOnly, and it round-trips", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const reply = yield* request("POST", "/inc", { jar })
        expect(sessionCookie(reply)).toBeUndefined()
        const cookie = sessionCookie(reply, "__Host-sid")!
        expect(cookie.value).toMatch(ID_SHAPE)
        expect(cookie.attributes).toStrictEqual({
          "max-age": "7200",
          path: "/",
          httponly: "",
          secure: "",
          samesite: "Strict",
          partitioned: "",
          priority: "High"
        })
        expect(json(yield* request("POST", "/inc", { jar }))).toStrictEqual({ n: 2 })
        const logout = yield* request("POST", "/logout", { jar })
        expect(sessionCookie(logout, "__Host-sid")!.attributes).toMatchObject({ "max-age": "0", path: "/", secure: "" })
      }).pipe(
        Effect.provide(server({ cookieName: "__Host-sid", sameSite: "strict", partitioned: true, priority: "high" }))
      ))

    it.effect("__Secure- cookie: Secure, with the configured Domain", () =>
      Effect.gen(function*() {
        const reply = yield* request("POST", "/inc")
        expect(sessionCookie(reply, "__Secure-sid")!.attributes).toStrictEqual({
          "max-age": "7200",
          domain: "example.com",
          path: "/",
          httponly: "",
          secure: "",
          samesite: "Lax"
        })
      }).pipe(Effect.provide(server({ cookieName: "__Secure-sid", domain: "example.com" }))))

    const impossible: Array<[string, Session.Options<any, any>, string]> = [
      ["SameSite=None without Secure", { sameSite: "none", insecure: true }, "sameSite"],
      ["Partitioned without Secure", { partitioned: true, insecure: true }, "partitioned"],
      ["__Host- without Secure", { cookieName: "__Host-sid", insecure: true }, "cookieName"],
      ["__Host- with a Domain", { cookieName: "__Host-sid", domain: "example.com" }, "domain"],
      ["__Host- with a Path other than /", { cookieName: "__Host-sid", path: "/app" }, "path"],
      ["__Secure- without Secure", { cookieName: "__Secure-sid", insecure: true }, "cookieName"]
    ]
    for (const [name, options, option] of impossible) {
      it.effect(`impossible combination fails the server layer's build with SessionConfigError: ${name}`, () =>
        Effect.gen(function*() {
          const app = Layer.unwrapEffect(
            Effect.map(Session.makeMiddleware(options), (middleware) =>
              HttpServer.serve()(middleware(routes)).pipe(
                Layer.provide(NodeHttpServer.layerTest),
                Layer.provide(MemoryStoreLive)
              ))
          )
          const exit = yield* Effect.exit(Layer.build(app).pipe(Effect.scoped))
          expect(Exit.isFailure(exit)).toBe(true)
          const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          expect(Option.getOrUndefined(error)).toBeInstanceOf(SessionConfigError)
          expect((Option.getOrThrow(error) as SessionConfigError).option).toBe(option)
          expect(() => Session.middleware(options)).toThrow(SessionConfigError)
        }))
    }
  })

  describe("duplicate and look-alike session cookies", () => {
    it.effect("the first well-formed cookie with the exact name wins; look-alikes and malformed values never shadow it", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const a = yield* startSession()
        const b = yield* startSession()
        yield* request("POST", "/inc", { jar: b.jar }) // b has n = 2
        const cases: Array<[string, number]> = [
          [`${COOKIE}=${a.id}; ${COOKIE}=${b.id}`, 1],
          [`${COOKIE}=${b.id}; ${COOKIE}=${a.id}`, 2],
          // a leading non-ASCII space makes a different name: it must not shadow the real cookie
          [`\u00a0${COOKIE}=${a.id}; ${COOKIE}=${b.id}`, 2],
          [`${COOKIE}\u00a0=${a.id}; ${COOKIE}=${b.id}`, 2],
          [`${COOKIE.toUpperCase()}=${a.id}; ${COOKIE}=${b.id}`, 2],
          [`${COOKIE}=garbage; ${COOKIE}=${b.id}`, 2],
          [`${COOKIE}=${a.id}=; ${COOKIE}=${b.id}`, 2],
          // ASCII space and tab around the name are trimmed (RFC 6265)
          [`x=1;\t${COOKIE} =${a.id}; ${COOKIE}=${b.id}`, 1]
        ]
        for (const [header, n] of cases) {
          recorder.reset()
          const reply = yield* request("GET", "/read", { cookie: header })
          expect(json(reply), header).toStrictEqual({ n, user: null, isNew: false })
          // exactly one store read: the winner's
          expect(recorder.ops("read").map((c) => c.id), header).toStrictEqual([n === 1 ? a.key : b.key])
        }
      }).pipe(Effect.provide(server())))
  })

  describe("idle timeout", () => {
    it.effect("activity keeps a session alive indefinitely; the renewal re-issues the cookie, other responses set none", () =>
      Effect.gen(function*() {
        const { id, jar } = yield* startSession()
        // 10 hours of activity, every 29 minutes (an idle timeout of 30)
        for (let i = 0; i < 20; i++) {
          yield* TestClock.adjust(29 * MINUTE)
          const renewal = yield* request("GET", "/read", { jar })
          expect(json(renewal)).toStrictEqual({ n: 1, user: null, isNew: false })
          expect(sessionCookie(renewal)).toMatchObject({ value: id, attributes: { "max-age": "1800" } })
          expect(renewal.headers["cache-control"]).toBe("no-store")
          // within touchAfter (default: a tenth of ttl, at most 1 minute): nothing re-issued
          const quiet = yield* request("GET", "/read", { jar })
          expect(quiet.setCookies).toStrictEqual([])
        }
        yield* TestClock.adjust(30 * MINUTE - 1)
        expect(json(yield* request("GET", "/read", withCookie(id))).isNew).toBe(false)
        yield* TestClock.adjust(30 * MINUTE)
        expect(json(yield* request("GET", "/read", withCookie(id)))).toStrictEqual(anonymous)
      }).pipe(Effect.provide(server({ ttl: "30 minutes" }))))

    it.effect("a session changed more often than touchAfter keeps its cookie: re-issued once per touchAfter", () =>
      Effect.gen(function*() {
        const { id, jar } = yield* startSession()
        // when the browser drops the cookie: Max-Age after the response that set it
        let cookieExpiresAt = 30 * MINUTE
        let reissued = 0
        // 90 minutes (three idle timeouts) of changes every 20 seconds; touchAfter is 1 minute
        for (let at = 20_000; at <= 90 * MINUTE; at += 20_000) {
          yield* TestClock.adjust(20_000)
          expect(at, "the browser still holds the cookie").toBeLessThan(cookieExpiresAt)
          const reply = yield* request("POST", "/inc", { jar })
          expect(json(reply)).toStrictEqual({ n: 1 + at / 20_000 })
          const cookie = sessionCookie(reply)
          if (cookie !== undefined) {
            expect(cookie).toMatchObject({ value: id, attributes: { "max-age": "1800" } })
            cookieExpiresAt = at + 30 * MINUTE
            reissued++
          }
        }
        // once a minute (since the last renewal), not on every response
        expect(reissued).toBe(90)
      }).pipe(Effect.provide(server({ ttl: "30 minutes" }))))

    it.effect("any mix of reads and saves, no gap as long as ttl − touchAfter: one session, its cookie never expired", () =>
      Effect.gen(function*() {
        const { id, jar } = yield* startSession()
        let n = 1
        let cookieExpiresAt = 30 * MINUTE
        let at = 0
        // a fixed pseudo-random sequence (a linear congruential generator), so a failure replays
        let seed = 20261207
        const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
        const between = (low: number, high: number) => low + Math.floor(random() * (high - low))
        const visit = (save: boolean, gap: number) =>
          Effect.gen(function*() {
            yield* TestClock.adjust(gap)
            at += gap
            expect(at, "the browser still holds the cookie").toBeLessThan(cookieExpiresAt)
            const reply = yield* request(save ? "POST" : "GET", save ? "/inc" : "/read", { jar })
            if (save) n++
            expect(json(reply), `at ${at} ms`).toMatchObject({ n })
            const cookie = sessionCookie(reply)
            if (cookie !== undefined) {
              expect(cookie).toMatchObject({ value: id, attributes: { "max-age": "1800" } })
              cookieExpiresAt = at + 30 * MINUTE
            }
          })
        // phases longer than ttl with gaps under touchAfter — saves only, mostly saves, reads only —
        // and sparse ones (a mix, gaps up to just under ttl − touchAfter)
        const saveShare = [1, 0.8, 0]
        for (let phase = 0; phase < 8; phase++) {
          const kind = phase % 4
          if (kind === 3) {
            for (let i = 0; i < 8; i++) yield* visit(random() < 0.5, between(1000, 29 * MINUTE))
          } else {
            const until = at + between(35 * MINUTE, 45 * MINUTE)
            while (at < until) yield* visit(random() < saveShare[kind]!, between(1000, 59_000))
          }
        }
      }).pipe(Effect.provide(server({ ttl: "30 minutes" }))))

    it.effect("idle for exactly ttl: the session is gone and its cookie is never adopted again", () =>
      Effect.gen(function*() {
        const { id } = yield* startSession()
        yield* TestClock.adjust(30 * MINUTE)
        const write = yield* request("POST", "/inc", withCookie(id))
        expect(json(write)).toStrictEqual({ n: 1 })
        expect(sessionCookie(write)!.value).not.toBe(id)
      }).pipe(Effect.provide(server({ ttl: "30 minutes" }))))
  })

  describe("absolute timeout", () => {
    it.effect("alive while active until the absolute limit, Max-Age shrinking towards it, then a new session", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id, jar } = yield* startSession()
        expect(recorder.writes().map((w) => Duration.toMillis(w.ttl!))).toStrictEqual([30 * MINUTE])
        const schedule = [20, 40, 60, 80, 100, 110, 115, 119]
        const ages: Array<number | undefined> = []
        let now = 0
        for (const at of schedule) {
          yield* TestClock.adjust((at - now) * MINUTE)
          now = at
          const reply = yield* request("POST", "/inc", { jar })
          expect(reply.status).toBe(200)
          expect(sessionCookie(reply)!.value).toBe(id)
          ages.push(maxAge(reply))
          // neither the cookie nor the record outlives the absolute limit
          expect(maxAge(reply)! * 1000 + at * MINUTE).toBeLessThanOrEqual(2 * HOUR)
          expect(Duration.toMillis(recorder.writes().at(-1)!.ttl!) + at * MINUTE).toBeLessThanOrEqual(2 * HOUR)
        }
        expect(ages).toStrictEqual([1800, 1800, 1800, 1800, 1200, 600, 300, 60])
        yield* TestClock.adjust(MINUTE - 1)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 9, user: null, isNew: false })
        yield* TestClock.adjust(1)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual(anonymous)
        const fresh = yield* request("POST", "/inc", { jar })
        expect(json(fresh)).toStrictEqual({ n: 1 })
        expect(sessionCookie(fresh)!.value).not.toBe(id)
        expect(maxAge(fresh)).toBe(1800)
      }).pipe(Effect.provide(server({ ttl: "30 minutes", absoluteTimeout: "2 hours" }))))

    it.effect("a record the store still holds past the absolute limit is not adopted, and is deleted", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id, key } = yield* startSession()
        // a store whose own expiry lags (a slow sweeper, a TTL set by hand): the record outlives the limit
        const record = (yield* Recording.peek(key))!
        yield* recorder.inner.write(key, record, Duration.days(1))
        yield* TestClock.adjust(HOUR)
        recorder.reset()
        expect(json(yield* request("GET", "/read", withCookie(id)))).toStrictEqual(anonymous)
        expect(recorder.ops("destroy").map((c) => c.id)).toStrictEqual([key])
        expect(yield* Recording.peek(key)).toBeUndefined()
      }).pipe(Effect.provide(server({ absoluteTimeout: "1 hour" }))))

    it.effect("ttl 0 (a browser-session cookie) with absoluteTimeout: the server still ends it at the limit", () =>
      Effect.gen(function*() {
        const { id, jar } = yield* startSession()
        yield* TestClock.adjust(HOUR - 1)
        expect(json(yield* request("GET", "/read", { jar })).n).toBe(1)
        yield* TestClock.adjust(1)
        expect(json(yield* request("GET", "/read", withCookie(id)))).toStrictEqual(anonymous)
      }).pipe(Effect.provide(server({ ttl: 0, absoluteTimeout: "1 hour" }, { ttl: 0 }))))

    it.effect("regenerate keeps counting the absolute lifetime from creation", () =>
      Effect.gen(function*() {
        const { jar } = yield* startSession()
        yield* TestClock.adjust(50 * MINUTE)
        const login = yield* request("POST", "/login", { jar })
        expect(maxAge(login)).toBe(600)
        yield* TestClock.adjust(10 * MINUTE)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual(anonymous)
      }).pipe(Effect.provide(server({ absoluteTimeout: "1 hour" }))))
  })

  describe("per-session lifetime (remember me)", () => {
    it.effect("setLifetime: Max-Age becomes the session's own ttl, which outlives the middleware's", () =>
      Effect.gen(function*() {
        const { jar } = yield* startSession()
        const login = yield* request("POST", "/login-remember", { jar })
        expect(maxAge(login)).toBe(30 * 24 * 3600)
        expect(login.headers["cache-control"]).toBe("no-store")
        // the middleware's ttl (2 hours) does not apply to this session any more
        yield* TestClock.adjust(3 * HOUR)
        const later = yield* request("GET", "/read", { jar })
        expect(json(later)).toStrictEqual({ n: 1, user: "ada", isNew: false })
        expect(maxAge(later)).toBe(30 * 24 * 3600)
        // a second login (regenerate) keeps the session's own lifetime
        const again = yield* request("POST", "/login", { jar })
        expect(maxAge(again)).toBe(30 * 24 * 3600)
      }).pipe(Effect.provide(server())))

    it.effect("setLifetime: the session's own absolute timeout caps it however active it is", () =>
      Effect.gen(function*() {
        const { jar } = yield* startSession()
        yield* request("POST", "/login-remember", { jar })
        let now = 0
        for (const at of [29 * DAY, 58 * DAY, 87 * DAY]) {
          yield* TestClock.adjust(at - now)
          now = at
          const reply = yield* request("GET", "/read", { jar })
          expect(json(reply).user).toBe("ada")
          expect(maxAge(reply)).toBe(Math.min(30 * DAY, 90 * DAY - at) / 1000)
        }
        yield* TestClock.adjust(90 * DAY - now - 1)
        expect(json(yield* request("GET", "/read", { jar })).user).toBe("ada")
        yield* TestClock.adjust(1)
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual(anonymous)
      }).pipe(Effect.provide(server())))

    it.effect("setLifetime: a shorter ttl for one session; other sessions keep the middleware's", () =>
      Effect.gen(function*() {
        const sensitive = yield* startSession()
        const ordinary = yield* startSession()
        const short = yield* request("POST", "/shorten", { jar: sensitive.jar })
        expect(maxAge(short)).toBe(300)
        yield* TestClock.adjust(5 * MINUTE)
        expect(json(yield* request("GET", "/read", withCookie(sensitive.id)))).toStrictEqual(anonymous)
        expect(json(yield* request("GET", "/read", withCookie(ordinary.id))).n).toBe(1)
      }).pipe(Effect.provide(server())))

    it.effect("setLifetime: an invalid lifetime is a SessionConfigError, and nothing changes", () =>
      Effect.gen(function*() {
        const { jar } = yield* startSession()
        const reply = yield* request("POST", "/bad-lifetime", { jar })
        expect(reply.status).toBe(400)
        expect(reply.body).toBe("ttl")
        expect(reply.setCookies).toStrictEqual([])
        yield* TestClock.adjust(MINUTE)
        const renewal = yield* request("GET", "/read", { jar })
        expect(json(renewal).n).toBe(1)
        expect(maxAge(renewal)).toBe(7200)
      }).pipe(Effect.provide(server())))
  })

  describe("renewal of the ID on privilege change (fixation)", () => {
    it.effect("login regenerates: new ID, data kept, the pre-login ID is dead at once", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id: before, jar, key } = yield* startSession()
        const login = yield* request("POST", "/login", { jar })
        const after = sessionCookie(login)!
        expect(after.value).toMatch(ID_SHAPE)
        expect(after.value).not.toBe(before)
        expect(login.headers["cache-control"]).toBe("no-store")
        expect(yield* Recording.peek(key)).toBeUndefined()
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 1, user: "ada", isNew: false })
        // whoever held the pre-login ID (an attacker who planted it) gets nothing
        expect(json(yield* request("GET", "/read", withCookie(before)))).toStrictEqual(anonymous)
        expect(recorder.ops("destroy").map((c) => c.id)).toStrictEqual([key])
      }).pipe(Effect.provide(server())))

    it.effect("a planted, well-formed but unknown ID is never adopted, before or after login", () =>
      Effect.gen(function*() {
        const planted = Id.generate()
        const jar = new Jar()
        jar.cookies.set(COOKIE, planted)
        const first = yield* request("POST", "/inc", { jar })
        expect(sessionCookie(first)!.value).not.toBe(planted)
        const login = yield* request("POST", "/login", { jar })
        expect(sessionCookie(login)!.value).not.toBe(planted)
        expect(yield* Recording.peek(storageKey(planted))).toBeUndefined()
        expect(json(yield* request("GET", "/read", withCookie(planted)))).toStrictEqual(anonymous)
      }).pipe(Effect.provide(server())))

    it.effect("the CSRF token rotates on regenerate and on invalidate", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const t1 = (yield* request("GET", "/token", { jar })).body
        expect(t1).toMatch(/^[A-Za-z0-9_-]{43}$/)
        expect((yield* request("GET", "/token", { jar })).body).toBe(t1)
        yield* request("POST", "/login", { jar })
        const t2 = (yield* request("GET", "/token", { jar })).body
        expect(t2).toMatch(/^[A-Za-z0-9_-]{43}$/)
        expect(t2).not.toBe(t1)
        yield* request("POST", "/invalidate", { jar })
        const t3 = (yield* request("GET", "/token", { jar })).body
        expect([t1, t2]).not.toContain(t3)
      }).pipe(Effect.provide(server())))

    it.effect("regenerateGrace: the old ID still reads its old data during the grace period, not after", () =>
      Effect.gen(function*() {
        const { id: old, jar } = yield* startSession()
        const login = yield* request("POST", "/login", { jar })
        const fresh = sessionCookie(login)!.value
        expect(fresh).not.toBe(old)
        // an in-flight request with the old cookie: the data as it was before the login
        yield* TestClock.adjust(10_000 - 1)
        expect(json(yield* request("GET", "/read", withCookie(old)))).toStrictEqual({ n: 1, user: null, isNew: false })
        yield* TestClock.adjust(1)
        expect(json(yield* request("GET", "/read", withCookie(old)))).toStrictEqual(anonymous)
        expect(json(yield* request("GET", "/read", withCookie(fresh)))).toStrictEqual({
          n: 1,
          user: "ada",
          isNew: false
        })
      }).pipe(Effect.provide(server({ regenerateGrace: "10 seconds" }))))

    it.effect("regenerateGrace: activity on the old ID during the grace period does not extend it", () =>
      Effect.gen(function*() {
        const { id: old, jar } = yield* startSession()
        yield* request("POST", "/login", { jar })
        yield* TestClock.adjust(5_000)
        // a write with the old cookie during the grace period
        const inFlight = yield* request("POST", "/inc", withCookie(old))
        expect(inFlight.status).toBe(200)
        expect(inFlight.setCookies.filter((c) => c.value === old && c.attributes["max-age"] !== "0")).toStrictEqual([])
        yield* TestClock.adjust(5_000)
        expect(json(yield* request("GET", "/read", withCookie(old)))).toStrictEqual(anonymous)
      }).pipe(Effect.provide(server({ regenerateGrace: "10 seconds" }))))
  })

  describe("logout and server-side invalidation", () => {
    it.effect("destroy: the record is deleted, the cookie cleared with no-store, the old ID is dead", () =>
      Effect.gen(function*() {
        const { id, jar, key } = yield* startSession()
        yield* request("POST", "/login", { jar })
        const loggedIn = jar.cookies.get(COOKIE)!
        const logout = yield* request("POST", "/logout", { jar })
        const cleared = sessionCookie(logout)!
        expect(cleared.value).toBe("")
        expect(cleared.attributes["max-age"]).toBe("0")
        expect(logout.headers["cache-control"]).toBe("no-store")
        expect(jar.cookies.size).toBe(0)
        // at once, although regenerateGrace is set: it applies to regenerate only
        expect(yield* Recording.peek(storageKey(loggedIn))).toBeUndefined()
        // replaying the cookie (a stolen copy, the back button) gives nothing
        expect(json(yield* request("GET", "/read", withCookie(loggedIn)))).toStrictEqual(anonymous)
        // and the pre-login ID, kept for the login's grace period, is gone once it ends
        yield* TestClock.adjust(10_000)
        expect(json(yield* request("GET", "/read", withCookie(id)))).toStrictEqual(anonymous)
        expect(yield* Recording.peek(key)).toBeUndefined()
      }).pipe(Effect.provide(server({ regenerateGrace: "10 seconds" }))))

    it.effect("invalidate (logout): the old ID is dead at once, even with regenerateGrace", () =>
      Effect.gen(function*() {
        const { jar } = yield* startSession()
        yield* request("POST", "/login", { jar })
        const loggedIn = jar.cookies.get(COOKIE)!
        const logout = yield* request("POST", "/invalidate", { jar })
        const next = sessionCookie(logout)!
        expect(next.value).toMatch(ID_SHAPE)
        expect(next.value).not.toBe(loggedIn)
        expect(logout.headers["cache-control"]).toBe("no-store")
        expect(json(yield* request("GET", "/read", withCookie(loggedIn)))).toStrictEqual(anonymous)
        expect(yield* Recording.peek(storageKey(loggedIn))).toBeUndefined()
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: null, user: null, isNew: false })
      }).pipe(Effect.provide(server({ regenerateGrace: "10 seconds" }))))
  })

  describe("terminating a user's other sessions (the application keeps the index)", () => {
    it.effect("every session of a user is ended server-side through its storage key; other users' stay", () =>
      Effect.gen(function*() {
        sessionsByUser.clear()
        const laptop = new Jar()
        const phone = new Jar()
        yield* request("POST", "/login-tracked", { jar: laptop })
        yield* request("POST", "/login-tracked", { jar: phone })
        const bystander = yield* startSession()
        const revoke = yield* request("POST", "/admin/revoke-ada")
        expect(revoke.body).toBe("revoked 2")
        expect(revoke.setCookies).toStrictEqual([])
        for (const jar of [laptop, phone]) {
          expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual(anonymous)
        }
        expect(json(yield* request("GET", "/read", { jar: bystander.jar })).n).toBe(1)
      }).pipe(
        Effect.provide(serve(adminRoutes).pipe(Layer.provideMerge(Recording.layer({ sweepInterval: "30 days" }))))
      ))
  })

  describe("Cache-Control on responses that carry the session cookie", () => {
    it.effect("every response that sets or clears the cookie says no-store, overriding the handler's caching (CDN headers too)", () =>
      Effect.gen(function*() {
        const jar = new Jar()
        const created = yield* request("POST", "/cacheable-write", { jar })
        expect(sessionCookie(created)).toBeDefined()
        yield* TestClock.adjust(MINUTE)
        const renewed = yield* request("GET", "/cacheable", { jar })
        expect(sessionCookie(renewed)).toBeDefined()
        const regenerated = yield* request("POST", "/login", { jar })
        const lifetime = yield* request("POST", "/shorten", { jar })
        const cleared = yield* request("POST", "/logout", { jar })
        expect(sessionCookie(cleared)!.attributes["max-age"]).toBe("0")
        for (const reply of [created, renewed, regenerated, lifetime, cleared]) {
          expect(sessionCookie(reply)).toBeDefined()
          expect(reply.headers["cache-control"]).toBe("no-store")
        }
        // what the handler asked of CDNs too, which they would obey before Cache-Control
        for (const reply of [created, renewed]) {
          expect(reply.headers["cdn-cache-control"]).toBe("no-store")
          expect(reply.headers["surrogate-control"]).toBe("no-store")
        }
      }).pipe(Effect.provide(server())))

    it.effect("a response without the cookie keeps the handler's own Cache-Control", () =>
      Effect.gen(function*() {
        const { jar } = yield* startSession()
        const reply = yield* request("GET", "/cacheable", { jar })
        expect(reply.setCookies).toStrictEqual([])
        expect(reply.headers["cache-control"]).toBe("public, max-age=600")
        expect(reply.headers["cdn-cache-control"]).toBe("public, max-age=600")
        expect(reply.headers["surrogate-control"]).toBe("max-age=600")
      }).pipe(Effect.provide(server())))

    it.effect("a store failure's 503 says no-store and sets no cookie", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { jar } = yield* startSession()
        recorder.failing.add("read")
        const reply = yield* request("GET", "/cacheable", { jar })
        expect(reply.status).toBe(503)
        expect(reply.setCookies).toStrictEqual([])
        expect(reply.headers["cache-control"]).toBe("no-store")
      }).pipe(Effect.provide(server()), Effect.provide(captureLogs().layer)))
  })

  describe("session IDs never appear in logs, errors or spans", () => {
    /** A store whose errors quote the key they were given, as a careless real one might. */
    const quotingFailures = (recorder: Recording.Recorder): Layer.Layer<SessionStore> => {
      const inner = recorder.inner
      const fail = (op: string, key: string) =>
        Effect.fail(new SessionStoreError({ reason: "Unavailable", message: `${op} failed for key ${key}` }))
      return Layer.succeed(SessionStore, {
        read: (key) =>
          recorder.failing.has("read")
            ? fail("read", key)
            : recorder.corruptReads
            ? Effect.fail(new SessionStoreError({ reason: "CorruptRecord", message: `cannot decode key ${key}` }))
            : inner.read(key),
        write: (key, data, ttl) => recorder.failing.has("write") ? fail("write", key) : inner.write(key, data, ttl),
        destroy: (key) => inner.destroy(key)
      })
    }

    it.effect("logs: creation, renewal, regenerate, store failures, a corrupt record, destroy, a logged handle", () => {
      const logs = captureLogs()
      return Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const issued: Array<string> = []
        const jar = new Jar()
        const remember = (reply: Reply) => {
          const value = sessionCookie(reply)?.value
          if (value !== undefined && value !== "") issued.push(value)
          return reply
        }
        remember(yield* request("POST", "/inc", { jar }))
        yield* TestClock.adjust(HOUR)
        remember(yield* request("GET", "/read", { jar }))
        remember(yield* request("POST", "/login", { jar }))
        const inspected = json(remember(yield* request("GET", "/inspect", { jar })))
        issued.push(inspected.id as string)
        for (const printed of [inspected.string, inspected.template, inspected.inspect, inspected.json]) {
          expect(printed).toMatch(/redacted/)
          expect(printed).not.toContain(inspected.id)
        }
        recorder.failing.add("read")
        expect((yield* request("GET", "/read", { jar })).status).toBe(503)
        recorder.failing.clear()
        recorder.failing.add("write")
        expect((yield* request("POST", "/inc", { jar })).status).toBe(503)
        recorder.failing.clear()
        recorder.corruptReads = true
        expect((yield* request("GET", "/read", { jar })).status).toBe(200)
        recorder.corruptReads = false
        remember(yield* request("POST", "/inc", { jar }))
        yield* request("POST", "/logout", { jar })

        expect(new Set(issued).size).toBeGreaterThanOrEqual(3)
        expect(logs.lines.some((l) => l.level === "ERROR" && l.text.includes("read failed for key"))).toBe(true)
        expect(logs.lines.some((l) => l.level === "ERROR" && l.text.includes("write failed for key"))).toBe(true)
        expect(logs.lines.filter((l) => l.level === "WARN").length).toBe(1)
        expect(logs.lines.some((l) => l.text.includes("handler sees") && l.text.includes("redacted"))).toBe(true)
        for (const line of logs.lines) {
          for (const id of issued) expect(line.text, line.text).not.toContain(id)
        }
      }).pipe(
        Effect.provide(
          serve(routes).pipe(
            Layer.provideMerge(
              Layer.unwrapEffect(Effect.map(Recording.Recording, quotingFailures)).pipe(
                Layer.provideMerge(Recording.layer({ sweepInterval: "30 days" }))
              )
            )
          )
        ),
        Effect.provide(logs.layer)
      )
    })

    it.effect("errors: what the failure handler receives names the storage key at most, never the ID", () => {
      const seen: Array<string> = []
      const onError: Session.FailureHandler = (error, context) => {
        seen.push(error.message, String(error), JSON.stringify(error), inspect(error, { depth: 10 }))
        return Effect.succeed(HttpServerResponse.text(`failed in ${context.phase}`, { status: 503 }))
      }
      return Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id, jar, key } = yield* startSession()
        recorder.failing.add("read")
        expect((yield* request("GET", "/read", { jar })).body).toBe("failed in load")
        recorder.failing.clear()
        recorder.failing.add("write")
        expect((yield* request("POST", "/inc", { jar })).body).toBe("failed in save")
        expect(seen.length).toBe(8)
        expect(seen.some((s) => s.includes(key))).toBe(true) // the store quoted its key…
        for (const s of seen) expect(s).not.toContain(id) // …which is a hash, not the ID
      }).pipe(
        Effect.provide(
          serve(routes, { onError }).pipe(
            Layer.provideMerge(
              Layer.unwrapEffect(Effect.map(Recording.Recording, quotingFailures)).pipe(
                Layer.provideMerge(Recording.layer({ sweepInterval: "30 days" }))
              )
            )
          )
        )
      )
    })

    it.effect("spans: effect-session.load and .save (and the HTTP spans) carry no ID", () => {
      const { spans, tracer } = recordingTracer()
      return Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { id, jar } = yield* startSession()
        yield* TestClock.adjust(HOUR)
        yield* request("GET", "/read", { jar })
        yield* request("POST", "/login", { jar })
        const loggedIn = jar.cookies.get(COOKIE)!
        recorder.failing.add("read")
        yield* request("GET", "/read", { jar })
        recorder.failing.clear()
        yield* request("POST", "/logout", { jar })

        const names = new Set(spans.map((s) => s.name))
        expect(names).toContain("effect-session.load")
        expect(names).toContain("effect-session.save")
        // the HTTP spans are there too, with the Cookie and Set-Cookie headers redacted by the platform
        expect(names).toContain("http.server GET")
        expect(names).toContain("http.client POST")
        expect(spans.some((s) => s.attributes.get("http.response.header.set-cookie") === "<redacted>")).toBe(true)
        // a failed load is recorded as such
        expect(spans.some((s) => s.name === "effect-session.load" && s.exit !== undefined && Exit.isFailure(s.exit)))
          .toBe(true)
        for (const span of spans) {
          const dump = span.dump()
          expect(dump).not.toContain(id)
          expect(dump).not.toContain(loggedIn)
        }
      }).pipe(
        Effect.provide(server()),
        Effect.provide(captureLogs().layer),
        Effect.withTracer(tracer)
      )
    })
  })

  describe("corrupt and foreign records", () => {
    const corrupt: Array<[string, string]> = [
      ["bad JSON", "{oops"],
      ["JSON that is not an object", "[1,2,3]"],
      ["JSON null", "null"],
      ["another application's record (no metadata)", JSON.stringify({ n: 41, user: "mallory" })],
      ["metadata that is not an object", JSON.stringify({ n: 41, __session: "admin" })],
      ["metadata of the wrong shape", JSON.stringify({ n: 41, __session: { c: "yesterday", r: 0 } })],
      ["a CSRF token that is not a string", JSON.stringify({ n: 41, __session: { c: 0, r: 0 }, "__session.token": 42 })]
    ]
    for (const [name, text] of corrupt) {
      it.effect(`${name}: no session, deleted, one warning without the ID, never a 500`, () => {
        const store = textStore()
        const logs = captureLogs()
        return Effect.gen(function*() {
          const { id, jar, key } = yield* startSession()
          store.records.set(key, text)
          store.calls.length = 0
          const read = yield* request("GET", "/read", { jar })
          expect(read.status).toBe(200)
          expect(json(read)).toStrictEqual(anonymous)
          expect(store.calls).toStrictEqual([{ op: "read", key }, { op: "destroy", key }])
          expect(store.records.has(key)).toBe(false)
          const warnings = () => logs.lines.filter((l) => l.level === "WARN")
          expect(warnings().length).toBe(1)
          expect(warnings()[0]!.text).not.toContain(id)
          expect(logs.lines.filter((l) => l.level === "ERROR")).toStrictEqual([])
          // the same cookie again: a plain new session, no second warning
          const again = yield* request("GET", "/read", { jar })
          expect(again.status).toBe(200)
          expect(json(again)).toStrictEqual(anonymous)
          const write = yield* request("POST", "/inc", { jar })
          expect(write.status).toBe(200)
          expect(json(write)).toStrictEqual({ n: 1 })
          expect(sessionCookie(write)!.value).not.toBe(id)
          expect(warnings().length).toBe(1)
          for (const line of logs.lines) expect(line.text).not.toContain(id)
        }).pipe(Effect.provide(serve(routes).pipe(Layer.provide(store.layer))), Effect.provide(logs.layer))
      })
    }

    it.effect("control: a well-formed record in the same text store is adopted", () => {
      const store = textStore()
      return Effect.gen(function*() {
        const { jar } = yield* startSession()
        expect(json(yield* request("GET", "/read", { jar }))).toStrictEqual({ n: 1, user: null, isNew: false })
      }).pipe(Effect.provide(serve(routes).pipe(Layer.provide(store.layer))))
    })
  })

  describe("HEAD requests and read-only routes", () => {
    it.effect("create no session, cost no store write and set no cookie", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        for (const path of ["/inc", "/token", "/id", "/read", "/login", "/inspect"]) {
          const reply = yield* request("HEAD", path)
          expect(reply.setCookies, `HEAD ${path}`).toStrictEqual([])
        }
        for (const path of ["/read", "/id", "/none", "/cacheable"]) {
          const reply = yield* request("GET", path)
          expect(reply.status, `GET ${path}`).toBe(200)
          expect(reply.setCookies, `GET ${path}`).toStrictEqual([])
        }
        expect(recorder.writes()).toStrictEqual([])
        expect(yield* recorder.inner.size).toBe(0)
      }).pipe(Effect.provide(server())))

    it.effect("HEAD on an existing session neither rewrites it nor sets a cookie before renewal is due", () =>
      Effect.gen(function*() {
        const recorder = yield* Recording.Recording
        const { jar } = yield* startSession()
        recorder.reset()
        const reply = yield* request("HEAD", "/read", { jar })
        expect(reply.setCookies).toStrictEqual([])
        expect(recorder.writes()).toStrictEqual([])
      }).pipe(Effect.provide(server())))
  })
})
