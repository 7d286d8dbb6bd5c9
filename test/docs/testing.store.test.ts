// #region store
import { HttpClient, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Session, SessionStoreError, SessionTest } from "effect-session"

// The app under test, with its own failure page.
const app = HttpRouter.empty.pipe(
  HttpRouter.post("/cart", Effect.as(Session.push("cart", "A-1"), HttpServerResponse.text("added"))),
  Session.middleware({
    onError: (error, context) => {
      const why = error._tag === "SessionStoreError" ? error.reason : "busy"
      return Effect.succeed(
        HttpServerResponse.text(`Sorry, try again (${why} during ${context.phase})`, { status: 503 })
      )
    }
  })
)

// The real middleware over loopback HTTP, with a recording store in place of the real one.
const AppTest = app.pipe(
  HttpServer.serve(),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provideMerge(SessionTest.layerRecording())
)

describe("the cart when the session store fails", () => {
  it.effect("a failed save shows the failure page, sets no cookie, and was attempted once", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.RecordingStore
      yield* store.fail({ on: "write", error: new SessionStoreError({ reason: "Timeout" }) })

      const response = yield* (yield* HttpClient.HttpClient).post("/cart")
      expect(response.status).toBe(503)
      expect(yield* response.text).toBe("Sorry, try again (Timeout during save)")
      expect(response.headers["set-cookie"]).toBeUndefined()
      expect(yield* store.operations).toEqual(["write"])
    }).pipe(Effect.provide(AppTest)))

  it.scoped("without HTTP: a store that fails once, then recovers", () =>
    Effect.gen(function*() {
      const store = yield* SessionTest.recordingStore({ fail: { on: "read", times: 1 } })
      const client = yield* SessionTest.make({ store, data: { cart: [] } })

      const error = yield* Effect.flip(client.run(Session.push("cart", "A-1")))
      expect(error).toBeInstanceOf(SessionStoreError)

      const retried = yield* client.run(Session.push("cart", "A-1"))
      expect(retried.data).toEqual({ cart: ["A-1"] })
      expect((yield* store.calls).map((call) => [call._tag, call.injected])).toEqual([
        ["read", true],
        ["read", false],
        ["patch", false]
      ])
    }))
})
// #endregion
