/**
 * Metrics over real HTTP: every store operation the middleware makes is timed under its
 * `operation` attribute, a failed one is counted, and lifecycle counters move. No attribute ever
 * holds a session ID or a storage key.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Tracer } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as Metric from "effect/Metric"
import { makeJar, serveWith } from "./utils/http.js"

const Count = HttpRouter.add(
  "GET",
  "/count",
  Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n)))
).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

/** A histogram series' bucket boundaries. */
const boundariesOf = (s: { readonly state: unknown }) =>
  (s.state as { readonly buckets: ReadonlyArray<readonly [number, number]> }).buckets.map(([boundary]) => boundary)

const seriesOf = (id: string) => Effect.map(Metric.snapshot, (all) => all.filter((s) => s.id === id))

const attribute = (s: { readonly attributes: Metric.Metric.AttributeSet | undefined }, key: string) =>
  (s.attributes as Record<string, string> | undefined)?.[key]

describe("metrics", () => {
  it.effect("store operations are timed by operation, and sessions created are counted", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1") // new session: a write
      expect((yield* jar.get("/count")).body).toBe("2") // returning: a read, then a patch
      const timers = yield* seriesOf("effect_session_store_latency_ms")
      const operations = timers.map((s) => attribute(s, "operation"))
      expect(operations).toEqual(expect.arrayContaining(["read", "write", "patch"]))
      // The effect 3 package's series (docs/observability.md): one dashboard serves both lines.
      for (const s of timers) {
        expect(s.type).toBe("Histogram")
        expect(Object.keys((s.attributes ?? {}) as Record<string, string>)).toStrictEqual(["operation"])
        expect(boundariesOf(s).filter(Number.isFinite)).toStrictEqual(
          Array.from({ length: 13 }, (_, i) => 0.25 * 2 ** i) // 0.25 ms … 1,024 ms, then +Inf
        )
      }
      const created = yield* seriesOf("effect_session_created_total")
      expect(created.map((s) => s.state)).toEqual([expect.objectContaining({ count: 1 })])
      for (const s of [...timers, ...created]) {
        for (const value of Object.values((s.attributes ?? {}) as Record<string, string>)) {
          expect(value).not.toMatch(/^[A-Za-z0-9_-]{43}$/) // never an ID or a storage key
        }
      }
    }).pipe(Effect.provide(serveWith(Count, MemoryStore.layer()))))

  it.effect("a failed store operation is counted under its operation", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).status).toBe(200)
      expect((yield* jar.get("/count")).status).toBe(503) // the read fails
      const errors = yield* seriesOf("effect_session_store_errors_total")
      const read = errors.find((s) => attribute(s, "operation") === "read")
      expect(read?.state).toEqual(expect.objectContaining({ count: 1 }))
    }).pipe(Effect.provide(serveWith(
      Count,
      Layer.effect(
        SessionStore,
        Effect.map(Effect.service(SessionStore), (store) => ({
          ...store,
          // the first request (no cookie) never reads; the second one's read fails
          read: () => Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
        }))
      ).pipe(Layer.provide(MemoryStore.layer()))
    ))))

  it.effect("with a tracer installed, every load and save makes its span, the save's with its plan", () => {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({
      span: (options) => {
        const span = new Tracer.NativeSpan(options)
        spans.push(span)
        return span
      }
    })
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1")
      expect((yield* jar.get("/count")).body).toBe("2")
      const ours = spans.filter((s) => s.name.startsWith("effect-session."))
      // the new session's request has no record to load: no load span
      expect(ours.map((s) => s.name)).toEqual([
        "effect-session.save",
        "effect-session.load",
        "effect-session.save"
      ])
      expect(ours.filter((s) => s.name === "effect-session.save").map((s) => s.attributes.get("session.plan")))
        .toEqual(["Create", "Update"])
      for (const span of ours) {
        expect(span.status._tag).toBe("Ended")
        // children of the request's span, which the installed tracer made too
        const parent = Option.getOrUndefined(span.parent)
        expect(parent !== undefined && spans.includes(parent as Tracer.NativeSpan)).toBe(true)
      }
    }).pipe(Effect.provide(
      serveWith(Count, MemoryStore.layer()).pipe(
        Layer.provide(Layer.succeed(Tracer.Tracer, tracer))
      )
    ))
  })
})
