import {
  HttpClient,
  HttpClientRequest,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse,
  Multipart,
  UrlParams
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema, Stream, TestClock } from "effect"
import { Csrf, MemoryStore, Session, SessionStore } from "effect-session"
import { Jar, setCookies } from "./utils/http.js"

// -----------------------------------------------------------------------------
// The app under test
// -----------------------------------------------------------------------------

const Named = Schema.Struct({ name: Schema.String })

/** Handlers behind the check read the body again, each in its own way. */
const routes = HttpRouter.empty.pipe(
  HttpRouter.get("/form", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
  HttpRouter.get("/login", Effect.as(Session.put("user", "ada"), HttpServerResponse.text("in"))),
  HttpRouter.get("/state", Effect.map(Session.all, (all) => HttpServerResponse.unsafeJson(all))),
  HttpRouter.post(
    "/submit",
    Effect.gen(function*() {
      const form = yield* HttpServerRequest.schemaBodyUrlParams(Named)
      yield* Session.put("submitted", form.name)
      return HttpServerResponse.text(`hello ${form.name}`)
    })
  ),
  HttpRouter.post(
    "/json",
    Effect.map(HttpServerRequest.schemaBodyJson(Named), (body) => HttpServerResponse.text(`json ${body.name}`))
  ),
  HttpRouter.post(
    "/upload",
    Effect.gen(function*() {
      const form = yield* HttpServerRequest.schemaBodyForm(
        Schema.Struct({ name: Schema.String, file: Multipart.FilesSchema })
      )
      return HttpServerResponse.text(`upload ${form.name} ${form.file[0]!.name}`)
    })
  ),
  // reads the body as a stream of bytes, all of them
  HttpRouter.post(
    "/stream",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const text = yield* request.stream.pipe(Stream.decodeText(), Stream.mkString)
      return HttpServerResponse.text(`stream ${text}`)
    })
  ),
  // streams a multipart body part by part: the keys, or why it cannot
  HttpRouter.post(
    "/parts",
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* request.multipartStream.pipe(
        Stream.map((part) => part.key),
        Stream.runCollect,
        Effect.map((keys) => HttpServerResponse.text(`parts ${Array.from(keys).join(",")}`)),
        Effect.catchTag(
          "MultipartError",
          (error) => Effect.succeed(HttpServerResponse.text(`${error.reason}: ${String(error.cause)}`, { status: 500 }))
        )
      )
    })
  ),
  HttpRouter.post("/rotate", Effect.map(Session.regenerateToken, (token) => HttpServerResponse.text(token))),
  HttpRouter.post("/regenerate", Effect.as(Session.regenerate, HttpServerResponse.text("regenerated"))),
  HttpRouter.all("/any", Effect.map(HttpServerRequest.HttpServerRequest, (r) => HttpServerResponse.text(r.method))),
  HttpRouter.post("/webhooks/stripe", HttpServerResponse.text("hooked")),
  HttpRouter.mount(
    "/sub",
    HttpRouter.empty.pipe(
      HttpRouter.post(
        "/echo",
        Effect.map(HttpServerRequest.HttpServerRequest, (r) => r).pipe(
          Effect.flatMap((r) => r.urlParamsBody),
          Effect.map((params) =>
            HttpServerResponse.text(`sub ${Option.getOrElse(UrlParams.getFirst(params, "name"), () => "?")}`)
          )
        )
      )
    )
  )
)

/** Tells the reason apart in the body, so tests can assert which check refused. */
const reasonAsBody: Csrf.Options = {
  except: (request) => request.url.startsWith("/webhooks/"),
  onMismatch: (error) => Effect.succeed(HttpServerResponse.text(error.reason, { status: 419 }))
}

const serveWith = (middleware: Csrf.Middleware) =>
  Effect.gen(function*() {
    const store = yield* MemoryStore.make()
    const app = Session.middleware({ ttl: "30 minutes" })(middleware(routes))
    const server = HttpServer.serve()(app).pipe(
      Layer.provideMerge(NodeHttpServer.layerTest),
      Layer.provide(Layer.succeed(SessionStore, store))
    )
    const context = yield* Layer.build(server)
    return { store, client: Effect.provide(HttpClient.HttpClient, context) }
  })

interface Sent {
  readonly status: number
  readonly body: string
  readonly setCookie: ReadonlyArray<string>
  readonly cacheControl: string | undefined
}

type Body =
  | { readonly form: Record<string, string> }
  | { readonly json: unknown }
  | { readonly multipart: FormData }

const send = (
  client: Effect.Effect<HttpClient.HttpClient>,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "TRACE",
  path: string,
  options: { readonly jar?: Jar; readonly headers?: Record<string, string>; readonly body?: Body } = {}
) =>
  Effect.gen(function*() {
    let request = HttpClientRequest.make(method as "GET")(path)
    const cookie = options.jar?.header()
    if (cookie !== undefined) request = HttpClientRequest.setHeader(request, "cookie", cookie)
    if (options.headers) request = HttpClientRequest.setHeaders(request, options.headers)
    const body = options.body
    if (body !== undefined) {
      request = "form" in body
        ? HttpClientRequest.bodyUrlParams(request, body.form)
        : "json" in body
        ? HttpClientRequest.bodyUnsafeJson(request, body.json)
        : HttpClientRequest.bodyFormData(request, body.multipart)
    }
    const response = yield* (yield* client).execute(request)
    const text = method === "HEAD" ? "" : yield* response.text
    options.jar?.update(response)
    return {
      status: response.status,
      body: text,
      setCookie: setCookies(response).map((c) => c.raw),
      cacheControl: response.headers["cache-control"]
    } satisfies Sent
  }).pipe(Effect.scoped, Effect.orDie)

/** A browser that opened the form: its jar holds the session cookie, and the token it rendered. */
const openForm = (client: Effect.Effect<HttpClient.HttpClient>) =>
  Effect.gen(function*() {
    const jar = new Jar()
    const page = yield* send(client, "GET", "/form", { jar })
    expect(page.status).toBe(200)
    expect(page.body).toMatch(/^[A-Za-z0-9_-]{43}$/)
    return { jar, token: page.body }
  })

// -----------------------------------------------------------------------------

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
  it.scoped("a GET renders a token; a POST echoing it in _token passes, and the handler reads the form again", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.middleware)
      const { jar, token } = yield* openForm(client)
      const ok = yield* send(client, "POST", "/submit", { jar, body: { form: { _token: token, name: "ada" } } })
      expect(ok.status).toBe(200)
      expect(ok.body).toBe("hello ada")
    }))

  it.scoped("a POST without a token is 419 Page Expired, not cached, and the handler never runs", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.middleware)
      const { jar } = yield* openForm(client)
      const refused = yield* send(client, "POST", "/submit", { jar, body: { form: { name: "mallory" } } })
      expect(refused.status).toBe(419)
      expect(refused.body).toContain("CSRF token mismatch")
      expect(refused.cacheControl).toBe("no-store")
      // the handler never ran: "submitted" was never written
      expect(JSON.parse((yield* send(client, "GET", "/state", { jar })).body)).toEqual({})
    }))

  it.scoped("a wrong, truncated, extended or empty token is 419", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.middleware)
      const { jar, token } = yield* openForm(client)
      const other = yield* openForm(client)
      expect(other.token).not.toBe(token)
      for (
        const candidate of [other.token, token.slice(0, -1), `${token}A`, token.toLowerCase(), "", ` ${token}`]
      ) {
        const refused = yield* send(client, "POST", "/submit", {
          jar,
          body: { form: { _token: candidate, name: "x" } }
        })
        expect(refused.status, JSON.stringify(candidate)).toBe(419)
      }
      // and the right one still works afterwards
      const ok = yield* send(client, "POST", "/submit", { jar, body: { form: { _token: token, name: "ok" } } })
      expect(ok.status).toBe(200)
    }))

  it.scoped("a POST with no session at all is 419 and creates no session", () =>
    Effect.gen(function*() {
      const { client, store } = yield* serveWith(Csrf.middleware)
      const refused = yield* send(client, "POST", "/submit", {
        body: { form: { _token: "A".repeat(43), name: "x" } },
        headers: { "x-csrf-token": "A".repeat(43) }
      })
      expect(refused.status).toBe(419)
      expect(refused.setCookie).toEqual([])
      expect(yield* store.size).toBe(0)
    }))
})

describe("Csrf.make: reasons, methods and token carriers", () => {
  it.scoped("the three reasons: NoSession, TokenMissing, TokenMismatch", () =>
    Effect.gen(function*() {
      const { client, store } = yield* serveWith(Csrf.make(reasonAsBody))
      const noSession = yield* send(client, "POST", "/any", { headers: { "x-csrf-token": "x" } })
      expect([noSession.status, noSession.body]).toEqual([419, "NoSession"])
      const { jar, token } = yield* openForm(client)
      const missing = yield* send(client, "POST", "/any", { jar })
      expect([missing.status, missing.body]).toEqual([419, "TokenMissing"])
      const wrong = yield* send(client, "POST", "/any", { jar, headers: { "x-csrf-token": `${token}x` } })
      expect([wrong.status, wrong.body]).toEqual([419, "TokenMismatch"])
      expect(yield* store.size).toBe(1)
    }))

  it.scoped("a session that exists but never issued a token refuses everything", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const jar = new Jar()
      expect((yield* send(client, "GET", "/login", { jar })).status).toBe(200)
      expect(jar.cookies.size).toBe(1)
      const refused = yield* send(client, "POST", "/any", { jar, headers: { "x-csrf-token": "A".repeat(43) } })
      expect([refused.status, refused.body]).toEqual([419, "TokenMismatch"])
    }))

  it.scoped("GET, HEAD, OPTIONS and TRACE pass; POST, PUT, PATCH and DELETE need the token", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      for (const method of ["GET", "HEAD", "OPTIONS", "TRACE"] as const) {
        const passed = yield* send(client, method, "/any", { jar })
        expect(passed.status, method).toBe(200)
      }
      for (const method of ["POST", "PUT", "PATCH", "DELETE"] as const) {
        const refused = yield* send(client, method, "/any", { jar })
        expect([refused.status, refused.body], method).toEqual([419, "TokenMissing"])
        const passed = yield* send(client, method, "/any", { jar, headers: { "X-CSRF-Token": token } })
        expect([passed.status, passed.body], method).toEqual([200, method])
      }
    }))

  it.scoped("X-CSRF-Token and X-XSRF-TOKEN headers carry the token (JSON bodies stay untouched)", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      for (const header of ["X-CSRF-Token", "x-csrf-token", "X-XSRF-TOKEN"]) {
        const ok = yield* send(client, "POST", "/json", {
          jar,
          headers: { [header]: token },
          body: { json: { name: "h" } }
        })
        expect([ok.status, ok.body], header).toEqual([200, "json h"])
      }
      const noHeader = yield* send(client, "POST", "/json", { jar, body: { json: { _token: token, name: "h" } } })
      expect([noHeader.status, noHeader.body]).toEqual([419, "TokenMissing"])
    }))

  it.scoped("a header is checked first: a wrong header is refused even with a right _token field", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      const refused = yield* send(client, "POST", "/submit", {
        jar,
        headers: { "x-csrf-token": "wrong" },
        body: { form: { _token: token, name: "x" } }
      })
      expect([refused.status, refused.body]).toEqual([419, "TokenMismatch"])
    }))

  it.scoped("a multipart form carries _token, and the handler still gets its fields and files", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      const form = () => {
        const data = new FormData()
        data.append("name", "ada")
        data.append("file", new Blob(["hello"], { type: "text/plain" }), "hello.txt")
        return data
      }
      const withToken = form()
      withToken.append("_token", token)
      const ok = yield* send(client, "POST", "/upload", { jar, body: { multipart: withToken } })
      expect([ok.status, ok.body]).toEqual([200, "upload ada hello.txt"])
      const refused = yield* send(client, "POST", "/upload", { jar, body: { multipart: form() } })
      expect([refused.status, refused.body]).toEqual([419, "TokenMissing"])
    }))

  it.scoped("after a urlencoded _token check the handler streams the whole body again", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      const ok = yield* send(client, "POST", "/stream", { jar, body: { form: { _token: token, name: "ada" } } })
      expect([ok.status, ok.body]).toEqual([200, `stream _token=${token}&name=ada`])
    }))

  it.scoped("after a multipart _token check request.multipartStream says why it cannot stream; the header way streams", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      const form = (withToken: boolean) => {
        const data = new FormData()
        if (withToken) data.append("_token", token)
        data.append("name", "ada")
        return data
      }
      const parsed = yield* send(client, "POST", "/parts", { jar, body: { multipart: form(true) } })
      expect([parsed.status, parsed.body]).toEqual([
        500,
        "InternalError: the body was already parsed for the CSRF check: use request.multipart, or send the token in a header"
      ])
      const streamed = yield* send(client, "POST", "/parts", {
        jar,
        headers: { "x-csrf-token": token },
        body: { multipart: form(false) }
      })
      expect([streamed.status, streamed.body]).toEqual([200, "parts name"])
    }))

  it.scoped("a mounted router behind the check can read the form body again (no hang)", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      const ok = yield* send(client, "POST", "/sub/echo", { jar, body: { form: { _token: token, name: "deep" } } })
      expect([ok.status, ok.body]).toEqual([200, "sub deep"])
    }), 10_000)

  it.scoped("regenerateToken rotates: the old token is refused, the new one passes", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      const rotated = yield* send(client, "POST", "/rotate", { jar, headers: { "x-csrf-token": token } })
      expect(rotated.status).toBe(200)
      const fresh = rotated.body
      expect(fresh).not.toBe(token)
      const stale = yield* send(client, "POST", "/any", { jar, headers: { "x-csrf-token": token } })
      expect([stale.status, stale.body]).toEqual([419, "TokenMismatch"])
      const ok = yield* send(client, "POST", "/any", { jar, headers: { "x-csrf-token": fresh } })
      expect(ok.status).toBe(200)
      // the form now renders the new token
      expect((yield* send(client, "GET", "/form", { jar })).body).toBe(fresh)
    }))

  it.scoped("Session.regenerate (login) also invalidates the token seen before it", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      expect((yield* send(client, "POST", "/regenerate", { jar, headers: { "x-csrf-token": token } })).status).toBe(200)
      const stale = yield* send(client, "POST", "/any", { jar, headers: { "x-csrf-token": token } })
      expect([stale.status, stale.body]).toEqual([419, "TokenMismatch"])
    }))

  it.effect("an expired session is no session: 419, and no new session is created", () =>
    Effect.gen(function*() {
      const { client, store } = yield* serveWith(Csrf.make(reasonAsBody))
      const { jar, token } = yield* openForm(client)
      yield* TestClock.adjust("30 minutes")
      const refused = yield* send(client, "POST", "/any", { jar, headers: { "x-csrf-token": token } })
      expect([refused.status, refused.body]).toEqual([419, "NoSession"])
      expect(refused.setCookie).toEqual([])
      expect(yield* store.size).toBe(0)
    }).pipe(Effect.scoped))

  it.scoped("except: matching requests skip the check", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(Csrf.make(reasonAsBody))
      expect((yield* send(client, "POST", "/webhooks/stripe")).status).toBe(200)
    }))

  it.scoped("onMismatch decides the response (here: 403)", () =>
    Effect.gen(function*() {
      const { client } = yield* serveWith(
        Csrf.make({ onMismatch: () => Effect.succeed(HttpServerResponse.text("forbidden", { status: 403 })) })
      )
      const refused = yield* send(client, "POST", "/any")
      expect([refused.status, refused.body]).toEqual([403, "forbidden"])
    }))
})

describe("Csrf.verify inside a handler", () => {
  const guarded = HttpRouter.empty.pipe(
    HttpRouter.get("/form", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
    HttpRouter.post(
      "/save",
      Effect.gen(function*() {
        yield* Csrf.verify
        const form = yield* HttpServerRequest.schemaBodyUrlParams(Named)
        return HttpServerResponse.text(`saved ${form.name}`)
      }).pipe(
        Effect.catchTag("CsrfTokenMismatch", (e) => Effect.succeed(HttpServerResponse.text(e.reason, { status: 419 })))
      )
    )
  )

  it.scoped("passes with the token (the body stays readable) and fails with CsrfTokenMismatch without it", () =>
    Effect.gen(function*() {
      const store = yield* MemoryStore.make()
      const server = HttpServer.serve()(Session.middleware()(guarded)).pipe(
        Layer.provideMerge(NodeHttpServer.layerTest),
        Layer.provide(Layer.succeed(SessionStore, store))
      )
      const client = Effect.provide(HttpClient.HttpClient, yield* Layer.build(server))
      const { jar, token } = yield* openForm(client)
      const ok = yield* send(client, "POST", "/save", { jar, body: { form: { _token: token, name: "v" } } })
      expect([ok.status, ok.body]).toEqual([200, "saved v"])
      const refused = yield* send(client, "POST", "/save", { jar, body: { form: { name: "v" } } })
      expect([refused.status, refused.body]).toEqual([419, "TokenMissing"])
    }))
})
