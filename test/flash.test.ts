/**
 * Flash data through real HTTP, as a browser sees it. Our rule, precisely: flash data is aged at
 * the end of every request that *loads* the session (Laravel ages on every request); a request
 * that never touches its session (an asset, a health check) leaves it alone.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Session } from "effect-session"
import { Jar, request, serve } from "./utils/http.js"
import * as Recording from "./utils/recording-store.js"

const show = (key: string) =>
  Effect.map(Session.getOption(key), (value) => Option.match(value, { onNone: () => "none", onSome: String }))

const seeOther = (location: string) => HttpServerResponse.empty({ status: 303, headers: { location } })

const routes = HttpRouter.empty.pipe(
  // the classic: a form post flashes a status and redirects (Post/Redirect/Get)
  HttpRouter.post("/profile", Effect.as(Session.flash("status", "Profile saved"), seeOther("/profile"))),
  HttpRouter.get("/profile", Effect.map(show("status"), (status) => HttpServerResponse.text(status))),
  HttpRouter.post(
    "/two",
    Effect.as(Effect.zipRight(Session.flash("a", "A"), Session.flash("b", "B")), seeOther("/both"))
  ),
  HttpRouter.get(
    "/both",
    Effect.map(Effect.all([show("a"), show("b")]), ([a, b]) => HttpServerResponse.text(`${a} ${b}`))
  ),
  HttpRouter.get(
    "/both-keep-a",
    Effect.map(
      Effect.all([show("a"), show("b"), Session.keep(["a"])]),
      ([a, b]) => HttpServerResponse.text(`${a} ${b}`)
    )
  ),
  HttpRouter.get(
    "/profile-reflash",
    Effect.map(Effect.zipLeft(show("status"), Session.reflash), (status) => HttpServerResponse.text(status))
  ),
  // `now`: for this request only, visible to code later in the same request
  HttpRouter.post(
    "/inline",
    Effect.map(
      Effect.zipRight(Session.now("notice", "Saved inline"), show("notice")),
      (n) => HttpServerResponse.text(n)
    )
  ),
  HttpRouter.get("/notice", Effect.map(show("notice"), (n) => HttpServerResponse.text(n))),
  // a request that loads the session but does not read the flash
  HttpRouter.get("/count", Effect.map(Session.increment("views"), (n) => HttpServerResponse.text(String(n)))),
  // a request that never touches its session
  HttpRouter.get("/app.css", HttpServerResponse.text("body{}"))
)

const ServerTest = serve(routes, { ttl: "2 hours" }).pipe(Layer.provideMerge(Recording.layer()))

describe("flash data through HTTP", () => {
  it.effect("POST flashes and 303-redirects; the GET shows the message once; a reload does not", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      const posted = yield* request("POST", "/profile", { jar, body: "name=ada" })
      expect(posted.status).toBe(303)
      expect(posted.headers.location).toBe("/profile")
      expect(jar.cookies.size).toBe(1)
      expect((yield* request("GET", "/profile", { jar })).body).toBe("Profile saved")
      expect((yield* request("GET", "/profile", { jar })).body).toBe("none")
      expect((yield* request("GET", "/profile", { jar })).body).toBe("none")
    }).pipe(Effect.provide(ServerTest)))

  it.effect("now: visible in its own request only", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("POST", "/inline", { jar })).body).toBe("Saved inline")
      expect((yield* request("GET", "/notice", { jar })).body).toBe("none")
    }).pipe(Effect.provide(ServerTest)))

  it.effect("reflash keeps every flash key for exactly one more request", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("POST", "/profile", { jar })
      expect((yield* request("GET", "/profile-reflash", { jar })).body).toBe("Profile saved")
      expect((yield* request("GET", "/profile", { jar })).body).toBe("Profile saved")
      expect((yield* request("GET", "/profile", { jar })).body).toBe("none")
    }).pipe(Effect.provide(ServerTest)))

  it.effect("keep keeps only the named keys for one more request", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("POST", "/two", { jar })).status).toBe(303)
      expect((yield* request("GET", "/both-keep-a", { jar })).body).toBe("A B")
      expect((yield* request("GET", "/both", { jar })).body).toBe("A none")
      expect((yield* request("GET", "/both", { jar })).body).toBe("none none")
    }).pipe(Effect.provide(ServerTest)))

  it.effect("a request that never touches the session (an asset) does not age flash data, and costs no I/O", () =>
    Effect.gen(function*() {
      const recorder = yield* Recording.Recording
      const jar = new Jar()
      yield* request("POST", "/profile", { jar })
      recorder.reset()
      for (let i = 0; i < 3; i++) {
        const asset = yield* request("GET", "/app.css", { jar })
        expect(asset.status).toBe(200)
        expect(asset.setCookies).toEqual([])
      }
      expect(recorder.calls).toEqual([])
      expect((yield* request("GET", "/profile", { jar })).body).toBe("Profile saved")
      yield* request("GET", "/app.css", { jar })
      expect((yield* request("GET", "/profile", { jar })).body).toBe("none")
    }).pipe(Effect.provide(ServerTest)))

  it.effect("a request that loads the session ages flash data even if it never reads it (Laravel's rule)", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("POST", "/profile", { jar })
      expect((yield* request("GET", "/count", { jar })).body).toBe("1")
      expect((yield* request("GET", "/profile", { jar })).body).toBe("none")
    }).pipe(Effect.provide(ServerTest)))

  it.effect("a redirect chain: each hop that loads the session spends one request of flash life", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("POST", "/profile", { jar })
      // the browser follows the 303 and also fetches an asset in between: only the page counts
      yield* request("GET", "/app.css", { jar })
      expect((yield* request("GET", "/profile-reflash", { jar })).body).toBe("Profile saved")
      yield* request("GET", "/app.css", { jar })
      expect((yield* request("GET", "/count", { jar })).body).toBe("1")
      expect((yield* request("GET", "/profile", { jar })).body).toBe("none")
    }).pipe(Effect.provide(ServerTest)))
})
