/**
 * docs/observability.md, checked over real HTTP (effect 4; test/observability.test.ts is the twin): each counter
 * moves exactly when the page says, store operations are timed and their failures counted once
 * under the right `operation`, spans nest as documented, and logs have the documented levels.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Option, References, Tracer } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError, type SessionStoreService } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as Metric from "effect/Metric"
import { TestClock } from "effect/testing"
import { makeJar, serveWith } from "./utils/http.js"

const text = (s: string) => HttpServerResponse.text(s)

const routes = (options: Session.Options<any, any> = {}) =>
  Layer.mergeAll(
    HttpRouter.add("GET", "/inc", Effect.map(Session.increment("n"), (n) => text(String(n)))),
    HttpRouter.add("GET", "/read", Effect.map(Session.getOption("n"), (n) => text(String(Option.getOrNull(n))))),
    HttpRouter.add("GET", "/regen", Effect.as(Session.regenerate, text("regen"))),
    HttpRouter.add("GET", "/invalidate", Effect.as(Session.invalidate, text("inv"))),
    HttpRouter.add("GET", "/destroy", Effect.as(Session.destroy, text("destroyed"))),
    HttpRouter.add(
      "GET",
      "/read-then-block",
      Effect.andThen(Session.getOption("n"), Session.blocking(Effect.succeed(text("blocked"))))
    ),
    HttpRouter.add("GET", "/block", Session.blocking(Effect.map(Session.getOption("n"), () => text("blocked"))))
  ).pipe(Layer.provide(Session.middleware({ insecure: true, ...options }).layer))

const series = (id: string) => Effect.map(Metric.snapshot, (all) => all.filter((s) => s.id === id))
const attr = (s: { readonly attributes: unknown }, key: string) =>
  (s.attributes as Record<string, string> | undefined)?.[key]
const counter = (id: string, operation?: string) =>
  Effect.map(
    series(id),
    (all) =>
      all.filter((s) => operation === undefined || attr(s, "operation") === operation)
        .reduce((n, s) => n + ((s.state as { count?: number }).count ?? 0), 0)
  )
const latencyCount = (operation: string) =>
  Effect.map(
    Metric.snapshot,
    (all) =>
      all.filter((s) =>
        s.type === "Histogram" && s.id.startsWith("effect_session_") && attr(s, "operation") === operation
      )
        .reduce((n, s) => n + ((s.state as { count?: number }).count ?? 0), 0)
  )

/** counters and per-op latency counts, to compute deltas around a request */
const snap = Effect.gen(function*() {
  return {
    created: yield* counter("effect_session_created_total"),
    destroyed: yield* counter("effect_session_destroyed_total"),
    expired: yield* counter("effect_session_expired_total"),
    read: yield* latencyCount("read"),
    write: yield* latencyCount("write"),
    patch: yield* latencyCount("patch"),
    rotate: yield* latencyCount("rotate"),
    destroy: yield* latencyCount("destroy"),
    lock: yield* latencyCount("lock"),
    errDestroy: yield* counter("effect_session_store_errors_total", "destroy"),
    errLock: yield* counter("effect_session_store_errors_total", "lock")
  }
})
type Snap = Effect.Success<typeof snap>
const delta = (a: Snap, b: Snap) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof Snap]])) as Snap

const memory = () => MemoryStore.layer()

/** the memory store with some members replaced */
const decorated = (f: (store: SessionStoreService) => Partial<SessionStoreService>) =>
  Layer.effect(
    SessionStore,
    Effect.map(Effect.service(SessionStore), (store) => ({ ...store, ...f(store) }))
  ).pipe(Layer.provide(MemoryStore.layer()))

describe("observability", () => {
  it.effect("the latency histogram is named effect_session_store_latency_ms, buckets 0.25 ms .. 1,024 ms", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      yield* jar.get("/inc")
      const all = yield* Metric.snapshot
      const names = [...new Set(all.filter((s) => s.id.startsWith("effect_session_")).map((s) => s.id))].sort()
      const hist = all.find((s) => s.type === "Histogram" && s.id.startsWith("effect_session_"))
      const buckets = (hist!.state as { buckets: ReadonlyArray<readonly [number, number]> }).buckets.map(([b]) => b)
      expect(names).toContain("effect_session_store_latency_ms")
      // the same buckets as on effect 3: 0.25 ms, doubling, to 1,024 ms, then +Inf
      expect(buckets.filter(Number.isFinite)).toStrictEqual(Array.from({ length: 13 }, (_, i) => 0.25 * 2 ** i))
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("regenerate: created +1 (a record written under a new ID)", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      const reply = yield* jar.get("/regen")
      expect(reply.setCookie).toBeDefined()
      const d = delta(before, yield* snap)
      expect(d.rotate).toBe(1)
      expect(d.created).toBe(1)
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("invalidate: created +1, destroyed +0", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      yield* jar.get("/invalidate")
      const d = delta(before, yield* snap)
      expect(d.created).toBe(1)
      expect(d.destroyed).toBe(0)
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("destroy: destroyed +1, destroy latency +1", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      yield* jar.get("/destroy")
      const d = delta(before, yield* snap)
      expect(d.destroyed).toBe(1)
      expect(d.destroy).toBe(1)
      expect(d.created).toBe(0)
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("a failed destroy (503) is not counted as a session destroyed", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      const reply = yield* jar.get("/destroy")
      expect(reply.status).toBe(503)
      const d = delta(before, yield* snap)
      expect(d.errDestroy).toBe(1)
      expect(d.destroyed).toBe(0)
    }).pipe(Effect.provide(serveWith(
      routes(),
      decorated(() => ({
        destroy: () => Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
      }))
    ))))

  it.effect("unknown cookie: expired +1 once, even when the handler then takes the lock", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      jar.set("A".repeat(42) + "A")
      const before = yield* snap
      const reply = yield* jar.get("/read-then-block")
      expect(reply.status).toBe(200)
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("unknown cookie, plain read: expired +1", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      jar.set("B".repeat(42) + "A")
      const before = yield* snap
      yield* jar.get("/read")
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
      expect(d.read).toBe(1)
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("lock: store lock latency is recorded under operation=lock", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      expect((yield* jar.get("/block")).status).toBe(200)
      const d = delta(before, yield* snap)
      expect(d.lock).toBe(1)
    }).pipe(Effect.provide(serveWith(routes(), memory()))))

  it.effect("lock: a failing lock is counted in store errors under operation=lock", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      expect((yield* jar.get("/block")).status).toBe(503)
      const d = delta(before, yield* snap)
      expect(d.errLock).toBe(1)
    }).pipe(Effect.provide(serveWith(
      routes(),
      decorated(() => ({
        lock: () => Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "lock down" }))
      }))
    ))))

  it.effect("absolute lifetime: expired +1, and the deletion is a timed destroy", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      yield* TestClock.adjust("61 minutes")
      const before = yield* snap
      expect((yield* jar.get("/read")).body).toBe("null")
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
      expect(d.destroy).toBe(1)
    }).pipe(Effect.provide(serveWith(
      routes({ absoluteTimeout: "1 hour" }),
      decorated((store) => ({
        // a store that keeps records longer than asked (its own TTL): the absolute check is the library's
        write: (key, data) => store.write(key, data, Duration.days(1))
      }))
    ))))

  it.effect("a failed deletion of an unusable record is counted under operation=destroy", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const before = yield* snap
      expect((yield* jar.get("/read")).status).toBe(200)
      const d = delta(before, yield* snap)
      expect(d.destroy).toBe(1)
      expect(d.errDestroy).toBe(1)
    }).pipe(Effect.provide(serveWith(
      routes(),
      decorated(() => ({
        read: () => Effect.succeed(Option.some({ not: "a session" } as any)),
        destroy: () => Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
      }))
    ))))

  it.effect("regenerateGrace over: expired +1", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      yield* jar.get("/inc")
      const old = jar.value!
      yield* jar.get("/regen")
      yield* TestClock.adjust("11 seconds")
      const before = yield* snap
      jar.set(old)
      expect((yield* jar.get("/read")).body).toBe("null")
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
    }).pipe(Effect.provide(serveWith(routes({ regenerateGrace: "10 seconds" }), memory()))))

  describe("errors counted once, with or without a tracer", () => {
    const failing = (op: "patch" | "read" | "write") =>
      decorated((store) => ({
        [op]: (key: string, ...rest: Array<any>) =>
          (globalThis as any).__fail === op
            ? Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
            : (store as any)[op](key, ...rest)
      }))
    const tracerLayer = Layer.succeed(
      Tracer.Tracer,
      Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })
    )
    for (const traced of [false, true]) {
      for (const op of ["patch", "read"] as const) {
        it.effect(`failing ${op}${traced ? " (tracer)" : ""}: one error, one latency sample`, () =>
          Effect.gen(function*() {
            const jar = makeJar()
            yield* jar.get("/inc")
            ;(globalThis as any).__fail = op
            const lat0 = yield* latencyCount(op)
            const err0 = yield* counter("effect_session_store_errors_total", op)
            expect((yield* jar.get("/inc")).status).toBe(503)
            ;(globalThis as any).__fail = undefined
            const lat = (yield* latencyCount(op)) - lat0
            const err = (yield* counter("effect_session_store_errors_total", op)) - err0
            expect([lat, err]).toEqual([1, 1])
          }).pipe(Effect.provide(
            traced
              ? serveWith(routes(), failing(op)).pipe(Layer.provide(tracerLayer))
              : serveWith(routes(), failing(op))
          )))
      }
    }
  })

  describe("spans", () => {
    const recording = () => {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({
        span: (options) => {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      return { spans, layer: Layer.succeed(Tracer.Tracer, tracer) }
    }

    it.effect("plan attributes and parents; the discard's deletion runs inside the load span", () => {
      const { layer, spans } = recording()
      const destroySpans: Array<string> = []
      let corrupt = false
      return Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/inc") // Create
        yield* jar.get("/inc") // load + Update
        yield* jar.get("/regen") // load + Rotate
        corrupt = true
        yield* jar.get("/read") // load of an unusable record: its deletion inside the load span
        corrupt = false
        const ours = spans.filter((s) => s.name.startsWith("effect-session."))
        expect(ours.filter((s) => s.name === "effect-session.save").map((s) => s.attributes.get("session.plan")))
          .toEqual(["Create", "Update", "Rotate"])
        for (const s of ours) expect((Option.getOrUndefined(s.parent) as any)?.kind).toBe("server")
        expect(destroySpans).toEqual(["effect-session.load"])
      }).pipe(Effect.provide(
        serveWith(
          routes(),
          decorated((store) => ({
            read: (key) => corrupt ? Effect.succeed(Option.some([1, 2] as any)) : store.read(key),
            destroy: (key) =>
              Effect.flatMap(Effect.currentSpan.pipe(Effect.option), (span) => {
                destroySpans.push(
                  Option.match(span, { onNone: () => "none", onSome: (s) => s._tag === "Span" ? s.name : "external" })
                )
                return store.destroy(key)
              })
          }))
        ).pipe(Layer.provide(layer))
      ))
    })

    it.effect("under the built-in tracer the store sees no effect-session span", () => {
      const seen: Array<string> = []
      return Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/inc")
        yield* jar.get("/inc")
        expect(seen.some((s) => s.startsWith("effect-session."))).toBe(false)
      }).pipe(Effect.provide(serveWith(
        routes(),
        decorated((store) => ({
          read: (key) =>
            Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
              seen.push(
                Option.match(span, { onNone: () => "none", onSome: (s) => s._tag === "Span" ? s.name : "external" })
              )
              return store.read(key)
            }),
          write: (key, data, ttl) =>
            Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
              seen.push(
                Option.match(span, { onNone: () => "none", onSome: (s) => s._tag === "Span" ? s.name : "external" })
              )
              return store.write(key, data, ttl)
            }),
          patch: (key, p, ttl) =>
            Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
              seen.push(
                Option.match(span, { onNone: () => "none", onSome: (s) => s._tag === "Span" ? s.name : "external" })
              )
              return store.patch!(key, p, ttl)
            })
        }))
      )))
    })
  })

  describe("logs", () => {
    const capture = () => {
      const lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }> = []
      const logger = Logger.make(({ fiber, logLevel, message }) => {
        const parts = Array.isArray(message) ? message : [message]
        lines.push({
          level: logLevel,
          message: parts.map(String).join(" "),
          annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
        })
      })
      return { lines, layer: Layer.merge(Logger.layer([logger]), Layer.succeed(References.MinimumLogLevel, "All")) }
    }

    it.effect("discard: one Warn; store failure: Error with effect-session and reason annotations", () => {
      const logs = capture()
      let mode: "ok" | "corrupt" | "fail" = "ok"
      return Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/inc")
        mode = "corrupt"
        yield* jar.get("/read")
        mode = "ok"
        yield* jar.get("/inc")
        mode = "fail"
        expect((yield* jar.get("/read")).status).toBe(503)
        const ours = logs.lines.filter((l) => l.message.includes("effect-session"))
        expect(ours.filter((l) => l.level === "Warn").length).toBe(1)
        const err = ours.find((l) => l.level === "Error")!
        expect(err.message).toContain("session store failed during load")
        expect(err.annotations["effect-session"]).toBe("load")
        expect(err.annotations["reason"]).toBe("Unavailable")
      }).pipe(
        Effect.provide(serveWith(
          routes(),
          decorated((store) => ({
            read: (key) =>
              mode === "corrupt"
                ? Effect.succeed(Option.some(42 as any))
                : mode === "fail"
                ? Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
                : store.read(key)
          }))
        )),
        Effect.provide(logs.layer)
      )
    })
  })
})
