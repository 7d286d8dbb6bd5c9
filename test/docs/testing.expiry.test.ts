// #region expiry
import { Cookies, HttpClient, HttpClientRequest, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Ref, Schema, TestClock } from "effect"
import { MemoryStoreLive, Session } from "effect-session"

const app = HttpRouter.empty.pipe(
  HttpRouter.post("/login", Effect.as(Session.put("user", "ada"), HttpServerResponse.text("welcome"))),
  HttpRouter.get(
    "/me",
    Effect.map(
      Session.getOption("user", Schema.String),
      (user) => HttpServerResponse.text(Option.getOrElse(user, () => "guest"))
    )
  ),
  Session.middleware({ ttl: "30 minutes", absoluteTimeout: "2 hours" })
)

const AppTest = app.pipe(
  HttpServer.serve(),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provide(MemoryStoreLive)
)

// An HTTP client that keeps cookies like a browser, and a page visit.
const browser = Effect.gen(function*() {
  const client = HttpClient.withCookiesRef(yield* HttpClient.HttpClient, yield* Ref.make(Cookies.empty))
  const visit = (method: "GET" | "POST", path: string) =>
    Effect.flatMap(client.execute(HttpClientRequest.make(method)(path)), (response) => response.text)
  return { visit }
})

describe("session expiry, driven by TestClock", () => {
  it.effect("30 idle minutes log the user out; activity keeps the session alive", () =>
    Effect.gen(function*() {
      const { visit } = yield* browser
      yield* visit("POST", "/login")
      yield* TestClock.adjust("29 minutes")
      expect(yield* visit("GET", "/me")).toBe("ada") // this visit renews the idle timeout
      yield* TestClock.adjust("29 minutes")
      expect(yield* visit("GET", "/me")).toBe("ada")
      yield* TestClock.adjust("30 minutes")
      expect(yield* visit("GET", "/me")).toBe("guest")
    }).pipe(Effect.provide(AppTest)))

  it.effect("even an active session ends at the 2-hour absolute timeout", () =>
    Effect.gen(function*() {
      const { visit } = yield* browser
      yield* visit("POST", "/login")
      // busy all day: a visit every 20 minutes, so the idle timeout never fires
      for (let visits = 0; visits < 5; visits++) {
        yield* TestClock.adjust("20 minutes")
        expect(yield* visit("GET", "/me")).toBe("ada")
      }
      yield* TestClock.adjust("19 minutes") // 1 h 59 min after login
      expect(yield* visit("GET", "/me")).toBe("ada")
      yield* TestClock.adjust("1 minute") // 2 h: expired exactly at the absolute timeout
      expect(yield* visit("GET", "/me")).toBe("guest")
    }).pipe(Effect.provide(AppTest)))
})
// #endregion
