/**
 * Flash data through real HTTP, as a browser sees it (ported from the effect 3 package's
 * test/flash.test.ts). The rule: flash data is aged at the end of every request that *loads* the
 * session (Laravel ages on every request); a request that never touches its session (an asset, a
 * health check) leaves it alone.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Session, SessionTest } from "effect-session-v4"
import { FetchHttpClient, HttpRouter, HttpServerResponse } from "effect/http"
import { makeJar, serve } from "./utils/http.js"

const show = (key: string) =>
  Effect.map(Session.getOption(key), (value) => Option.match(value, { onNone: () => "none", onSome: String }))

const seeOther = (location: string) => HttpServerResponse.empty({ status: 303, headers: { location } })

const Routes = Layer.mergeAll(
  // the classic: a form post flashes a status and redirects (Post/Redirect/Get)
  HttpRouter.add("POST", "/profile", Effect.as(Session.flash("status", "Profile saved"), seeOther("/profile"))),
  HttpRouter.add("GET", "/profile", Effect.map(show("status"), (status) => HttpServerResponse.text(status))),
  HttpRouter.add(
    "POST",
    "/two",
    Effect.as(Effect.andThen(Session.flash("a", "A"), Session.flash("b", "B")), seeOther("/both"))
  ),
  HttpRouter.add(
    "GET",
    "/both",
    Effect.map(Effect.all([show("a"), show("b")]), ([a, b]) => HttpServerResponse.text(`${a} ${b}`))
  ),
  HttpRouter.add(
    "GET",
    "/both-keep-a",
    Effect.map(
      Effect.all([show("a"), show("b"), Session.keep(["a"])]),
      ([a, b]) => HttpServerResponse.text(`${a} ${b}`)
    )
  ),
  HttpRouter.add(
    "GET",
    "/profile-reflash",
    Effect.map(Effect.tap(show("status"), () => Session.reflash), (status) => HttpServerResponse.text(status))
  ),
  // `now`: for this request only, visible to code later in the same request
  HttpRouter.add(
    "POST",
    "/inline",
    Effect.map(Effect.andThen(Session.now("notice", "Saved inline"), show("notice")), (n) => HttpServerResponse.text(n))
  ),
  HttpRouter.add("GET", "/notice", Effect.map(show("notice"), (n) => HttpServerResponse.text(n))),
  // a request that loads the session but does not read the flash
  HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), (n) => HttpServerResponse.text(String(n)))),
  // a request that never touches its session
  HttpRouter.add("GET", "/app.css", HttpServerResponse.text("body{}"))
).pipe(Layer.provide(Session.middleware({ insecure: true, ttl: "2 hours" }).layer))

/** The test's browser does not follow redirects by itself: each hop is a request of its own. */
const withServer = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provideService(FetchHttpClient.RequestInit, { keepalive: false, redirect: "manual" }),
    Effect.provide(serve(Routes))
  )

const calls = SessionTest.RecordingStore.use((store) => store.calls)
const clearCalls = SessionTest.RecordingStore.use((store) => store.clear)

describe("flash data through HTTP", () => {
  it.effect("POST flashes and 303-redirects; the GET shows the message once; a reload does not", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      const posted = yield* jar.post("/profile", { name: "ada" })
      expect(posted.status).toBe(303)
      expect(posted.headers.location).toBe("/profile")
      expect(jar.value).toBeDefined()
      expect((yield* jar.get("/profile")).body).toBe("Profile saved")
      expect((yield* jar.get("/profile")).body).toBe("none")
      expect((yield* jar.get("/profile")).body).toBe("none")
    })))

  it.effect("now: visible in its own request only", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.post("/inline")).body).toBe("Saved inline")
      expect((yield* jar.get("/notice")).body).toBe("none")
    })))

  it.effect("reflash keeps every flash key for exactly one more request", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/profile")
      expect((yield* jar.get("/profile-reflash")).body).toBe("Profile saved")
      expect((yield* jar.get("/profile")).body).toBe("Profile saved")
      expect((yield* jar.get("/profile")).body).toBe("none")
    })))

  it.effect("keep keeps only the named keys for one more request", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.post("/two")).status).toBe(303)
      expect((yield* jar.get("/both-keep-a")).body).toBe("A B")
      expect((yield* jar.get("/both")).body).toBe("A none")
      expect((yield* jar.get("/both")).body).toBe("none none")
    })))

  it.effect("a request that never touches the session (an asset) does not age flash data, and costs no I/O", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/profile")
      yield* clearCalls
      for (let i = 0; i < 3; i++) {
        const asset = yield* jar.get("/app.css")
        expect(asset.status).toBe(200)
        expect(asset.headers["set-cookie"]).toBeUndefined()
      }
      expect(yield* calls).toEqual([])
      expect((yield* jar.get("/profile")).body).toBe("Profile saved")
      yield* jar.get("/app.css")
      expect((yield* jar.get("/profile")).body).toBe("none")
    })))

  it.effect("a request that loads the session ages flash data even if it never reads it (Laravel's rule)", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/profile")
      expect((yield* jar.get("/count")).body).toBe("1")
      expect((yield* jar.get("/profile")).body).toBe("none")
    })))

  it.effect("a redirect chain: each hop that loads the session spends one request of flash life", () =>
    withServer(Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/profile")
      // the browser follows the 303 and also fetches an asset in between: only the page counts
      yield* jar.get("/app.css")
      expect((yield* jar.get("/profile-reflash")).body).toBe("Profile saved")
      yield* jar.get("/app.css")
      expect((yield* jar.get("/count")).body).toBe("1")
      expect((yield* jar.get("/profile")).body).toBe("none")
    })))
})
