/**
 * An app run without a SessionStore layer (possible only where nothing type-checks it, as under
 * tsx) fails to start with an error that names the fix, as on the effect 3 package.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { Session } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"

describe("an app run without a store layer", () => {
  it.effect("fails to start with an error that names the fix", () =>
    Effect.gen(function*() {
      const routes = HttpRouter.add("GET", "/", Effect.as(Session.put("a", 1), HttpServerResponse.text("ok")))
        .pipe(Layer.provide(Session.middleware({ insecure: true }).layer))
      const noStore = HttpRouter.serve(routes, { disableListenLog: true, disableLogger: true }).pipe(
        Layer.provideMerge(NodeHttpServer.layerTest)
      ) as unknown as Layer.Layer<never>
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(noStore)))
      expect(Exit.isFailure(exit)).toBe(true)
      const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(message).toContain("SessionStore")
      expect(message).toContain("MemoryStoreLive")
    }))
})
