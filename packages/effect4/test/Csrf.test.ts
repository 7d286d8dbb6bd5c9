/**
 * Csrf over real HTTP with a cookie jar: route-level (combined with the session middleware) and
 * global, the token from a header or a form field, 419 when missing or wrong, the body still
 * readable by the handler, `except`, `onMismatch`, `Csrf.verify`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { Csrf, MemoryStore, Session } from "effect-session-v4"
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { makeJar, serveWith } from "./utils/http.js"

const Named = Schema.Struct({ name: Schema.String })

const handlers = Layer.mergeAll(
  HttpRouter.add("GET", "/form", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
  HttpRouter.add(
    "POST",
    "/submit",
    Effect.gen(function*() {
      // the body is still readable after the check read the token from it
      const form = yield* HttpServerRequest.schemaBodyUrlParams(Named)
      yield* Session.put("submitted", form.name)
      return HttpServerResponse.text(`hello ${form.name}`)
    })
  ),
  HttpRouter.add("POST", "/rotate", Effect.map(Session.regenerateToken, (token) => HttpServerResponse.text(token))),
  HttpRouter.add("POST", "/regenerate", Effect.as(Session.regenerate, HttpServerResponse.text("regenerated"))),
  HttpRouter.add("DELETE", "/thing", HttpServerResponse.text("deleted")),
  HttpRouter.add(
    "POST",
    "/upload",
    Effect.gen(function*() {
      // the multipart form the check parsed is parsed once, and the handler reads it again
      const form = yield* HttpServerRequest.schemaBodyForm(Schema.Struct({ name: Schema.String }))
      return HttpServerResponse.text(`upload ${form.name}`)
    })
  ),
  HttpRouter.add("POST", "/webhooks/stripe", HttpServerResponse.text("hooked"))
)

const options = { except: (request: HttpServerRequest.HttpServerRequest) => request.url.startsWith("/webhooks/") }

const RouteLevel = handlers.pipe(
  Layer.provide(Csrf.make(options).combine(Session.middleware({ insecure: true })).layer)
)

const Global = handlers.pipe(
  Layer.provide(Csrf.make(options, { global: true })),
  Layer.provide(Session.middleware({ insecure: true }, { global: true }))
)

const suite = (
  name: string,
  withServer: (effect: Effect.Effect<void, unknown, HttpClient.HttpClient>) => Effect.Effect<void, unknown>
) =>
  describe(`Csrf, ${name}, over HTTP`, () => {
    it.effect("a form post with the session's token passes, and the handler reads the body", () =>
      withServer(Effect.gen(function*() {
        const jar = makeJar()
        const token = (yield* jar.get("/form")).body
        const reply = yield* jar.post("/submit", { _token: token, name: "ada" })
        expect([reply.status, reply.body]).toEqual([200, "hello ada"])
      })))

    it.effect("the X-CSRF-Token header passes too (the body is not read)", () =>
      withServer(Effect.gen(function*() {
        const jar = makeJar()
        const token = (yield* jar.get("/form")).body
        const reply = yield* jar.post("/submit", { name: "grace" }, { "x-csrf-token": token })
        expect([reply.status, reply.body]).toEqual([200, "hello grace"])
        const deleted = yield* jar.send("DELETE", "/thing", { headers: { "x-xsrf-token": token } })
        expect(deleted.status).toBe(200)
      })))

    it.effect("a missing or wrong token is 419 Page Expired, and the handler never runs", () =>
      withServer(Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/form")
        const missing = yield* jar.post("/submit", { name: "mallory" })
        expect(missing.status).toBe(419)
        expect(missing.headers["cache-control"]).toBe("no-store")
        const wrong = yield* jar.post("/submit", { _token: "A".repeat(43), name: "mallory" })
        expect(wrong.status).toBe(419)
        const header = yield* jar.post("/submit", { name: "mallory" }, { "x-csrf-token": "nope" })
        expect(header.status).toBe(419)
      })))

    it.effect("no session: 419, and the check creates none", () =>
      withServer(Effect.gen(function*() {
        const jar = makeJar()
        const reply = yield* jar.post("/submit", { _token: "x", name: "mallory" })
        expect(reply.status).toBe(419)
        expect(reply.setCookie).toBeUndefined()
        expect(jar.value).toBeUndefined()
      })))

    it.effect("a rotated token (regenerateToken, regenerate) refuses the old one", () =>
      withServer(Effect.gen(function*() {
        const jar = makeJar()
        const first = (yield* jar.get("/form")).body
        const second = (yield* jar.post("/rotate", { _token: first })).body
        expect(second).not.toBe(first)
        expect((yield* jar.post("/submit", { _token: first, name: "a" })).status).toBe(419)
        expect((yield* jar.post("/submit", { _token: second, name: "a" })).status).toBe(200)
        expect((yield* jar.post("/regenerate", { _token: second })).status).toBe(200)
        expect((yield* jar.post("/submit", { _token: second, name: "a" })).status).toBe(419)
        const third = (yield* jar.get("/form")).body
        expect((yield* jar.post("/submit", { _token: third, name: "a" })).status).toBe(200)
      })))

    it.effect("a multipart form's _token field passes too, and the handler reads the form", () =>
      withServer(Effect.gen(function*() {
        const jar = makeJar()
        const token = (yield* jar.get("/form")).body
        const client = yield* HttpClient.HttpClient
        const send = (fields: Record<string, string>) => {
          const form = new FormData()
          for (const [k, v] of Object.entries(fields)) form.append(k, v)
          return client.execute(
            HttpClientRequest.post("/upload").pipe(
              HttpClientRequest.setHeader("cookie", `lagodev_session=${jar.value}`),
              HttpClientRequest.bodyFormData(form)
            )
          ).pipe(Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)))
        }
        expect(yield* send({ _token: token, name: "ada" })).toEqual([200, "upload ada"])
        expect((yield* send({ _token: "forged", name: "ada" }))[0]).toBe(419)
        expect((yield* send({ name: "ada" }))[0]).toBe(419)
      })))

    it.effect("except skips the check", () =>
      withServer(Effect.gen(function*() {
        const reply = yield* makeJar().post("/webhooks/stripe")
        expect([reply.status, reply.body]).toEqual([200, "hooked"])
      })))
  })

suite(
  "route-level (Csrf.make(…).combine(Session.middleware()))",
  (effect) => effect.pipe(Effect.provide(serveWith(RouteLevel, MemoryStore.layer())))
)
suite(
  "global (Csrf.make(…, { global: true }))",
  (effect) => effect.pipe(Effect.provide(serveWith(Global, MemoryStore.layer())))
)

describe("Csrf options and helpers", () => {
  it.effect("onMismatch decides the response (here: 403)", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/form")
      const refused = yield* jar.post("/submit", { name: "x" })
      expect([refused.status, refused.body]).toEqual([403, "forbidden"])
    }).pipe(
      Effect.provide(
        serveWith(
          handlers.pipe(
            Layer.provide(
              Csrf.make({ onMismatch: () => Effect.succeed(HttpServerResponse.text("forbidden", { status: 403 })) })
                .combine(Session.middleware({ insecure: true })).layer
            )
          ),
          MemoryStore.layer()
        )
      )
    ))

  it.effect("Csrf.verify inside a handler", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      const token = (yield* jar.get("/form")).body
      expect((yield* jar.post("/verified", { _token: token })).body).toBe("ok")
      expect((yield* jar.post("/verified", { _token: "bad" })).body).toBe("TokenMismatch")
    }).pipe(
      Effect.provide(
        serveWith(
          Layer.mergeAll(
            HttpRouter.add("GET", "/form", Effect.map(Session.token, (token) => HttpServerResponse.text(token))),
            HttpRouter.add(
              "POST",
              "/verified",
              Csrf.verify.pipe(
                Effect.as(HttpServerResponse.text("ok")),
                Effect.catchTag("CsrfTokenMismatch", (e) => Effect.succeed(HttpServerResponse.text(e.reason)))
              )
            )
          ).pipe(Layer.provide(Session.middleware({ insecure: true }).layer)),
          MemoryStore.layer()
        )
      )
    ))

  it("tokensMatch compares in constant time and exactly", () => {
    expect(Csrf.tokensMatch("abc", "abc")).toBe(true)
    expect(Csrf.tokensMatch("abc", "abd")).toBe(false)
    expect(Csrf.tokensMatch("abc", "ab")).toBe(false)
  })
})
