/**
 * Csrf over real HTTP, beyond test/Csrf.test.ts (ported from the effect 3 package's
 * test/Csrf.test.ts): the reasons, every method, every token carrier (headers, form, multipart
 * with files, not a JSON body), which carrier is checked first, tokens that are nearly right,
 * sessions that are missing, expired or never issued a token (and are not created by the check),
 * a mounted route reading the body again, and `Csrf.verify` leaving the body readable.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema, Stream } from "effect"
import { Csrf, MemoryStore, Session, SessionStore } from "effect-session-v4"
import {
  Cookies,
  HttpClient,
  HttpClientRequest,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse,
  UrlParams
} from "effect/http"
import { TestClock } from "effect/testing"
import { request as httpRequest } from "node:http"
import { serveWith } from "./utils/http.js"

const Named = Schema.Struct({ name: Schema.String })
const COOKIE = "lagodev_session"

/** Handlers behind the check read the body again, each in its own way. */
const handlers = Layer.mergeAll(
  HttpRouter.add("GET", "/form", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
  HttpRouter.add("GET", "/login", Effect.as(Session.put("user", "ada"), HttpServerResponse.text("in"))),
  HttpRouter.add("GET", "/state", Effect.map(Session.all, (all) => HttpServerResponse.jsonUnsafe(all))),
  HttpRouter.add(
    "POST",
    "/submit",
    Effect.gen(function*() {
      const form = yield* HttpServerRequest.schemaBodyUrlParams(Named)
      yield* Session.put("submitted", form.name)
      return HttpServerResponse.text(`hello ${form.name}`)
    })
  ),
  HttpRouter.add(
    "POST",
    "/json",
    Effect.map(HttpServerRequest.schemaBodyJson(Named), (body) => HttpServerResponse.text(`json ${body.name}`))
  ),
  HttpRouter.add(
    "POST",
    "/upload",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const form = yield* request.multipart
      const file = form.file
      const files = Array.isArray(file) ? file : []
      const name = typeof form.name === "string" ? form.name : "?"
      const first = files[0] as { readonly name: string } | undefined
      return HttpServerResponse.text(`upload ${name} ${first?.name ?? "no file"}`)
    })
  ),
  HttpRouter.add(
    "*",
    "/any",
    Effect.map(HttpServerRequest.HttpServerRequest, (r) => HttpServerResponse.text(r.method))
  ),
  // reads the body as a stream of bytes, all of them
  HttpRouter.add(
    "POST",
    "/stream",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const text = yield* request.stream.pipe(Stream.decodeText, Stream.mkString)
      return HttpServerResponse.text(`stream ${text}`)
    })
  ),
  // reads the body in every way, one after the other
  HttpRouter.add(
    "POST",
    "/readers",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const streamed = yield* request.stream.pipe(Stream.decodeText, Stream.mkString)
      const again = yield* request.stream.pipe(Stream.decodeText, Stream.mkString)
      const text = yield* request.text
      const bytes = new Uint8Array(yield* request.arrayBuffer).length
      const name = Option.getOrElse(UrlParams.getFirst(yield* request.urlParamsBody, "name"), () => "?")
      const json = yield* Effect.flip(request.json)
      return HttpServerResponse.jsonUnsafe({ same: streamed === again && again === text, bytes, name, json: json._tag })
    })
  ),
  // streams a multipart body part by part: the keys, or why it cannot
  HttpRouter.add(
    "POST",
    "/parts",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* request.multipartStream.pipe(
        Stream.map((part) => part.key),
        Stream.runCollect,
        Effect.map((keys) => HttpServerResponse.text(`parts ${Array.from(keys).join(",")}`)),
        Effect.catchTag("MultipartError", (error) =>
          Effect.succeed(
            HttpServerResponse.text(`${error.reason._tag}: ${String(error.reason.cause)}`, { status: 500 })
          ))
      )
    })
  ),
  HttpRouter.add("POST", "/rotate", Effect.map(Session.regenerateToken, (token) => HttpServerResponse.text(token))),
  HttpRouter.add("POST", "/webhooks/stripe", HttpServerResponse.text("hooked")),
  // a route mounted under a prefix: the handler sees the URL without it, and reads the form again
  HttpRouter.addAll([
    HttpRouter.prefixRoute(
      HttpRouter.route(
        "POST",
        "/echo",
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const params = yield* request.urlParamsBody
          const name = Option.getOrElse(UrlParams.getFirst(params, "name"), () => "?")
          return HttpServerResponse.text(`sub ${name} at ${request.url}`)
        })
      ),
      "/sub"
    )
  ])
)

/** Tells the reason apart in the body, so tests can assert which check refused. */
const reasonAsBody: Csrf.Options = {
  except: (request) => request.url.startsWith("/webhooks/"),
  onMismatch: (error) => Effect.succeed(HttpServerResponse.text(error.reason, { status: 419 }))
}

/** The app with `csrf` in front of the routes, behind the session middleware, over a memory store the test can see. */
const server = (csrf: Csrf.Options | "default") =>
  Effect.gen(function*() {
    const store = yield* MemoryStore.make()
    const check = csrf === "default" ? Csrf.middleware : Csrf.make(csrf)
    const routes = handlers.pipe(
      Layer.provide(check.combine(Session.middleware({ insecure: true, ttl: "30 minutes" })).layer)
    )
    const context = yield* Layer.build(serveWith(routes, Layer.succeed(SessionStore, store)))
    return { store, context }
  })

type Body =
  | { readonly form: Record<string, string> }
  | { readonly json: unknown }
  | { readonly multipart: FormData }

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "TRACE"

/** A TRACE request (which fetch refuses to send) to the test server, with the session cookie. */
const trace = (path: string, cookie: string | undefined) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const { port } = server.address as { readonly port: number }
    return yield* Effect.callback<
      { status: number; body: string; setCookie: string | Array<string> | undefined; cacheControl: string | undefined }
    >((resume) => {
      const request = httpRequest({
        host: "127.0.0.1",
        port,
        method: "TRACE",
        path,
        headers: cookie === undefined ? {} : { cookie: `${COOKIE}=${cookie}` }
      }, (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => body += chunk)
        response.on("end", () =>
          resume(Effect.succeed({
            status: response.statusCode ?? 0,
            body,
            setCookie: response.headers["set-cookie"],
            cacheControl: response.headers["cache-control"]
          })))
      })
      request.on("error", (error) => resume(Effect.die(error)))
      request.end()
    })
  })

/** A browser: holds the session cookie it was given, sends it back. */
const browser = () => {
  let value: string | undefined
  const send = (
    method: Method,
    path: string,
    options: { readonly headers?: Record<string, string>; readonly body?: Body } = {}
  ) =>
    Effect.gen(function*() {
      // fetch refuses TRACE: that one goes through node:http
      if (method === "TRACE") return yield* trace(path, value)
      const client = yield* HttpClient.HttpClient
      let request = HttpClientRequest.make(method as "GET")(path)
      if (value !== undefined) request = HttpClientRequest.setHeader(request, "cookie", `${COOKIE}=${value}`)
      for (const [k, v] of Object.entries(options.headers ?? {})) request = HttpClientRequest.setHeader(request, k, v)
      const body = options.body
      if (body !== undefined) {
        request = "form" in body
          ? HttpClientRequest.bodyUrlParams(request, body.form)
          : "json" in body
          ? HttpClientRequest.bodyJsonUnsafe(request, body.json)
          : HttpClientRequest.bodyFormData(request, body.multipart)
      }
      const response = yield* client.execute(request)
      const text = method === "HEAD" ? "" : yield* response.text
      const cookie = Cookies.get(response.cookies, COOKIE)
      // a deleted cookie (Max-Age=0) comes with an empty value
      if (Option.isSome(cookie)) value = cookie.value.value === "" ? undefined : cookie.value.value
      return {
        status: response.status,
        body: text,
        setCookie: response.headers["set-cookie"],
        cacheControl: response.headers["cache-control"]
      }
    })
  return {
    send,
    get cookie() {
      return value
    }
  }
}

/** A browser that opened the form: it holds the session cookie, and the token the page rendered. */
const openForm = Effect.gen(function*() {
  const b = browser()
  const page = yield* b.send("GET", "/form")
  expect(page.status).toBe(200)
  expect(page.body).toMatch(/^[A-Za-z0-9_-]{43}$/)
  return { b, token: page.body }
})

describe("Csrf.tokensMatch", () => {
  it("is true only for the same string", () => {
    expect(Csrf.tokensMatch("abc", "abc")).toBe(true)
    expect(Csrf.tokensMatch("abc", "abd")).toBe(false)
    expect(Csrf.tokensMatch("abc", "ab")).toBe(false)
    expect(Csrf.tokensMatch("abc", "abcd")).toBe(false)
    expect(Csrf.tokensMatch("abc", "")).toBe(false)
    expect(Csrf.tokensMatch("é", "e\u0301")).toBe(false)
    expect(Csrf.tokensMatch("x".repeat(10_000), "x".repeat(10_000))).toBe(true)
  })
})

describe("Csrf.middleware (default 419 response)", () => {
  it.effect("a POST without a token is 419 Page Expired, not cached, and the handler never runs", () =>
    Effect.gen(function*() {
      const { context } = yield* server("default")
      yield* Effect.gen(function*() {
        const { b } = yield* openForm
        const refused = yield* b.send("POST", "/submit", { body: { form: { name: "mallory" } } })
        expect(refused.status).toBe(419)
        expect(refused.body).toContain("CSRF token mismatch")
        expect(refused.cacheControl).toBe("no-store")
        // the handler never ran: "submitted" was never written
        expect(JSON.parse((yield* b.send("GET", "/state")).body)).toEqual({})
      }).pipe(Effect.provideContext(context))
    }).pipe(Effect.scoped))

  it.effect("a wrong, truncated, extended, re-cased, empty or padded token is 419; the right one still works", () =>
    Effect.gen(function*() {
      const { context } = yield* server("default")
      yield* Effect.gen(function*() {
        const { b, token } = yield* openForm
        const other = yield* openForm
        expect(other.token).not.toBe(token)
        for (
          const candidate of [other.token, token.slice(0, -1), `${token}A`, token.toLowerCase(), "", ` ${token}`]
        ) {
          const refused = yield* b.send("POST", "/submit", { body: { form: { _token: candidate, name: "x" } } })
          expect(refused.status, JSON.stringify(candidate)).toBe(419)
        }
        const ok = yield* b.send("POST", "/submit", { body: { form: { _token: token, name: "ok" } } })
        expect([ok.status, ok.body]).toEqual([200, "hello ok"])
      }).pipe(Effect.provideContext(context))
    }).pipe(Effect.scoped))

  it.effect("a POST with no session at all is 419 and creates no session", () =>
    Effect.gen(function*() {
      const { context, store } = yield* server("default")
      yield* Effect.gen(function*() {
        const refused = yield* browser().send("POST", "/submit", {
          body: { form: { _token: "A".repeat(43), name: "x" } },
          headers: { "x-csrf-token": "A".repeat(43) }
        })
        expect(refused.status).toBe(419)
        expect(refused.setCookie).toBeUndefined()
        expect(yield* store.size).toBe(0)
      }).pipe(Effect.provideContext(context))
    }).pipe(Effect.scoped))
})

describe("Csrf.make: reasons, methods and token carriers", () => {
  /** Runs `f` against the app with `csrf` (default: the reason as the body), given the sessions stored. */
  const withApp = <A, E>(
    f: (stored: Effect.Effect<number>) => Effect.Effect<A, E, HttpClient.HttpClient | HttpServer.HttpServer>,
    csrf: Csrf.Options = reasonAsBody
  ) =>
    Effect.gen(function*() {
      const { context, store } = yield* server(csrf)
      return yield* f(store.size).pipe(Effect.provideContext(context))
    }).pipe(Effect.scoped)

  it.effect("the three reasons: NoSession, TokenMissing, TokenMismatch", () =>
    withApp((stored) =>
      Effect.gen(function*() {
        const noSession = yield* browser().send("POST", "/any", { headers: { "x-csrf-token": "x" } })
        expect([noSession.status, noSession.body]).toEqual([419, "NoSession"])
        const { b, token } = yield* openForm
        const missing = yield* b.send("POST", "/any")
        expect([missing.status, missing.body]).toEqual([419, "TokenMissing"])
        const wrong = yield* b.send("POST", "/any", { headers: { "x-csrf-token": `${token}x` } })
        expect([wrong.status, wrong.body]).toEqual([419, "TokenMismatch"])
        expect(yield* stored).toBe(1)
      })
    ))

  it.effect("a session that exists but never issued a token refuses everything", () =>
    withApp(() =>
      Effect.gen(function*() {
        const b = browser()
        expect((yield* b.send("GET", "/login")).status).toBe(200)
        expect(b.cookie).toBeDefined()
        const refused = yield* b.send("POST", "/any", { headers: { "x-csrf-token": "A".repeat(43) } })
        expect([refused.status, refused.body]).toEqual([419, "TokenMismatch"])
      })
    ))

  it.effect("GET, HEAD, OPTIONS and TRACE pass; POST, PUT, PATCH and DELETE need the token", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        for (const method of ["GET", "HEAD", "OPTIONS", "TRACE"] as const) {
          const passed = yield* b.send(method, "/any")
          expect(passed.status, method).toBe(200)
          if (method !== "HEAD") expect(passed.body, method).toBe(method)
        }
        for (const method of ["POST", "PUT", "PATCH", "DELETE"] as const) {
          const refused = yield* b.send(method, "/any")
          expect([refused.status, refused.body], method).toEqual([419, "TokenMissing"])
          const passed = yield* b.send(method, "/any", { headers: { "X-CSRF-Token": token } })
          expect([passed.status, passed.body], method).toEqual([200, method])
        }
      })
    ))

  it.effect("X-CSRF-Token and X-XSRF-TOKEN headers carry the token; a JSON body's _token does not", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        for (const header of ["X-CSRF-Token", "x-csrf-token", "X-XSRF-TOKEN"]) {
          const ok = yield* b.send("POST", "/json", { headers: { [header]: token }, body: { json: { name: "h" } } })
          expect([ok.status, ok.body], header).toEqual([200, "json h"])
        }
        const noHeader = yield* b.send("POST", "/json", { body: { json: { _token: token, name: "h" } } })
        expect([noHeader.status, noHeader.body]).toEqual([419, "TokenMissing"])
      })
    ))

  it.effect("a header is checked first: a wrong header is refused even with a right _token field", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        const refused = yield* b.send("POST", "/submit", {
          headers: { "x-csrf-token": "wrong" },
          body: { form: { _token: token, name: "x" } }
        })
        expect([refused.status, refused.body]).toEqual([419, "TokenMismatch"])
      })
    ))

  it.effect("a multipart form carries _token, and the handler still gets its fields and files", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        const form = () => {
          const data = new FormData()
          data.append("name", "ada")
          data.append("file", new Blob(["hello"], { type: "text/plain" }), "hello.txt")
          return data
        }
        const withToken = form()
        withToken.append("_token", token)
        const ok = yield* b.send("POST", "/upload", { body: { multipart: withToken } })
        expect([ok.status, ok.body]).toEqual([200, "upload ada hello.txt"])
        const refused = yield* b.send("POST", "/upload", { body: { multipart: form() } })
        expect([refused.status, refused.body]).toEqual([419, "TokenMissing"])
      })
    ))

  it.effect("after a urlencoded _token check the handler streams the whole body again", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        const body = `_token=${token}&name=ada`
        const ok = yield* b.send("POST", "/stream", { body: { form: { _token: token, name: "ada" } } })
        expect([ok.status, ok.body]).toEqual([200, `stream ${body}`])
        const readers = yield* b.send("POST", "/readers", { body: { form: { _token: token, name: "ada" } } })
        expect(readers.status).toBe(200)
        expect(JSON.parse(readers.body)).toStrictEqual({
          same: true,
          bytes: body.length,
          name: "ada",
          json: "HttpServerError"
        })
        // with the header the check reads no body: the stream is the request's own
        const header = yield* b.send("POST", "/stream", {
          headers: { "x-csrf-token": token },
          body: { form: { name: "ada" } }
        })
        expect([header.status, header.body]).toEqual([200, "stream name=ada"])
      })
    ))

  it.effect("after a multipart _token check request.multipartStream says why it cannot stream; the header way streams", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        const form = (withToken: boolean) => {
          const data = new FormData()
          if (withToken) data.append("_token", token)
          data.append("name", "ada")
          return data
        }
        const parsed = yield* b.send("POST", "/parts", { body: { multipart: form(true) } })
        expect([parsed.status, parsed.body]).toEqual([
          500,
          "InternalError: the body was already parsed for the CSRF check: use request.multipart, or send the token in a header"
        ])
        const streamed = yield* b.send("POST", "/parts", {
          headers: { "x-csrf-token": token },
          body: { multipart: form(false) }
        })
        expect([streamed.status, streamed.body]).toEqual([200, "parts name"])
      })
    ))

  it.effect("a route mounted under a prefix behind the check can read the form body again (no hang)", () =>
    withApp(() =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        const ok = yield* b.send("POST", "/sub/echo", { body: { form: { _token: token, name: "deep" } } })
        expect([ok.status, ok.body]).toEqual([200, "sub deep at /echo"])
        const refused = yield* b.send("POST", "/sub/echo", { body: { form: { name: "deep" } } })
        expect([refused.status, refused.body]).toEqual([419, "TokenMissing"])
      })
    ))

  it.effect("regenerateToken rotates: the old token is refused, the new one passes, and the form renders it", () =>
    withApp((stored) =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        const rotated = yield* b.send("POST", "/rotate", { headers: { "x-csrf-token": token } })
        expect(rotated.status).toBe(200)
        const fresh = rotated.body
        expect(fresh).not.toBe(token)
        const stale = yield* b.send("POST", "/any", { headers: { "x-csrf-token": token } })
        expect([stale.status, stale.body]).toEqual([419, "TokenMismatch"])
        const ok = yield* b.send("POST", "/any", { headers: { "x-csrf-token": fresh } })
        expect(ok.status).toBe(200)
        // a token is not single-use
        expect((yield* b.send("POST", "/any", { headers: { "x-csrf-token": fresh } })).status).toBe(200)
        expect((yield* b.send("GET", "/form")).body).toBe(fresh)
        expect(yield* stored).toBe(1)
      })
    ))

  it.effect("an expired session is no session: 419, and no new session is created", () =>
    withApp((stored) =>
      Effect.gen(function*() {
        const { b, token } = yield* openForm
        yield* TestClock.adjust("30 minutes")
        const refused = yield* b.send("POST", "/any", { headers: { "x-csrf-token": token } })
        expect([refused.status, refused.body]).toEqual([419, "NoSession"])
        expect(refused.setCookie).toBeUndefined()
        expect(yield* stored).toBe(0)
      })
    ))

  it.effect("onMismatch decides the response even without a session (here: 403)", () =>
    withApp(
      () =>
        Effect.gen(function*() {
          const refused = yield* browser().send("POST", "/any")
          expect([refused.status, refused.body]).toEqual([403, "forbidden"])
        }),
      { onMismatch: () => Effect.succeed(HttpServerResponse.text("forbidden", { status: 403 })) }
    ))
})

describe("Csrf.verify inside a handler", () => {
  const guarded = Layer.mergeAll(
    HttpRouter.add("GET", "/form", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
    HttpRouter.add(
      "POST",
      "/save",
      Effect.gen(function*() {
        yield* Csrf.verify
        const form = yield* HttpServerRequest.schemaBodyUrlParams(Named)
        return HttpServerResponse.text(`saved ${form.name}`)
      }).pipe(
        Effect.catchTag("CsrfTokenMismatch", (e) => Effect.succeed(HttpServerResponse.text(e.reason, { status: 419 })))
      )
    )
  ).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

  it.effect("passes with the token (the body stays readable) and fails with CsrfTokenMismatch without it", () =>
    Effect.gen(function*() {
      const { b, token } = yield* openForm
      const ok = yield* b.send("POST", "/save", { body: { form: { _token: token, name: "v" } } })
      expect([ok.status, ok.body]).toEqual([200, "saved v"])
      const refused = yield* b.send("POST", "/save", { body: { form: { name: "v" } } })
      expect([refused.status, refused.body]).toEqual([419, "TokenMissing"])
    }).pipe(Effect.provide(serveWith(guarded, MemoryStore.layer()))))
})
