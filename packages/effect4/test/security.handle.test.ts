/**
 * Printing the session handle (`yield* Session`) never shows the session ID: `String`, a template
 * literal, `util.inspect`, `JSON.stringify` and `Effect.log` all give `Session(<redacted>)`, as on
 * the effect 3 package (docs/security.md).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, References } from "effect"
import { Session } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { inspect } from "node:util"
import { makeJar, serve } from "./utils/http.js"

const Routes = Layer.mergeAll(
  HttpRouter.add("POST", "/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.jsonUnsafe({ n }))),
  // every way a handler might print its session handle
  HttpRouter.add(
    "GET",
    "/inspect",
    Effect.gen(function*() {
      const session = yield* Session
      yield* Session.put("seen", true)
      yield* Effect.logInfo("handler sees", session)
      return HttpServerResponse.jsonUnsafe({
        id: yield* Session.id,
        string: String(session),
        template: `${session}`,
        inspect: inspect(session, { depth: 5 }),
        json: JSON.stringify(session)
      })
    })
  )
).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

describe("security: the session handle, printed", () => {
  it.effect("String, a template literal, util.inspect, JSON.stringify and Effect.log show no ID", () => {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) => {
      const parts = Array.isArray(message) ? message : [message]
      lines.push(parts.map((p) => typeof p === "string" ? p : inspect(p, { depth: 10 })).join(" | "))
    })
    return Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.post("/inc")
      const reply = yield* jar.get("/inspect")
      expect(reply.status).toBe(200)
      const printed = JSON.parse(reply.body) as Record<string, string>
      const id = printed.id!
      expect(id).toBe(jar.value)
      for (const way of ["string", "template", "inspect", "json"]) {
        expect(printed[way], way).toMatch(/redacted/)
        expect(printed[way], way).not.toContain(id)
      }
      const logged = lines.filter((l) => l.includes("handler sees"))
      expect(logged.length).toBe(1)
      expect(logged[0]).toMatch(/redacted/)
      expect(logged[0]).not.toContain(id)
    }).pipe(
      Effect.provide(serve(Routes)),
      Effect.provide(Layer.merge(Logger.layer([logger]), Layer.succeed(References.MinimumLogLevel, "All")))
    )
  })
})
