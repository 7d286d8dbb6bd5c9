/**
 * docs/observability.md, checked over real HTTP (effect 3; packages/effect4/test/observability.test.ts is the twin): each counter
 * moves exactly when the page says, store operations are timed and their failures counted once
 * under the right `operation`, spans nest as documented, and logs have the documented levels.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, HashMap, Layer, Logger, LogLevel, Metric, Option, TestClock, Tracer } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError, type SessionStoreService } from "effect-session"
import { Jar, request, serve } from "./utils/http.js"

const text = (s: string) => HttpServerResponse.text(s)

const router = HttpRouter.empty.pipe(
  HttpRouter.get("/inc", Effect.map(Session.increment("n"), (n) => text(String(n)))),
  HttpRouter.get("/read", Effect.map(Session.getOption("n"), (n) => text(String(Option.getOrNull(n))))),
  HttpRouter.get("/regen", Effect.as(Session.regenerate, text("regen"))),
  HttpRouter.get("/invalidate", Effect.as(Session.invalidate, text("inv"))),
  HttpRouter.get("/destroy", Effect.as(Session.destroy, text("destroyed"))),
  HttpRouter.get(
    "/read-then-block",
    Effect.andThen(Session.getOption("n"), Session.blocking(Effect.succeed(text("blocked"))))
  ),
  HttpRouter.get("/block", Session.blocking(Effect.map(Session.getOption("n"), () => text("blocked"))))
)

const server = (store: Layer.Layer<SessionStore, any>, options: Session.Options<any, any> = {}) =>
  serve(router, { insecure: true, ...options }).pipe(Layer.provideMerge(store))

const memory = () => MemoryStore.layer({ sweepInterval: "30 days" })
const decorated = (f: (store: SessionStoreService) => Partial<SessionStoreService>) =>
  Layer.effect(SessionStore, Effect.map(SessionStore, (store) => ({ ...store, ...f(store) }) as SessionStoreService))
    .pipe(Layer.provide(memory()))

const tag = (p: { metricKey: { tags: ReadonlyArray<{ key: string; value: string }> } }, key: string) =>
  p.metricKey.tags.find((t) => t.key === key)?.value
const counter = (name: string, operation?: string) =>
  Effect.map(
    Metric.snapshot,
    (pairs) =>
      pairs.filter((p) =>
        p.metricKey.name === name && (operation === undefined || tag(p as any, "operation") === operation)
      )
        .reduce((n, p) => n + ((p.metricState as any).count ?? 0), 0)
  )
const latencyCount = (operation: string) =>
  Effect.map(
    Metric.snapshot,
    (pairs) =>
      pairs.filter((p) =>
        p.metricKey.name === "effect_session_store_latency_ms" && tag(p as any, "operation") === operation
      )
        .reduce((n, p) => n + ((p.metricState as any).count ?? 0), 0)
  )

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
type Snap = Effect.Effect.Success<typeof snap>
const delta = (a: Snap, b: Snap) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof Snap]])) as Snap

describe("observability", () => {
  it.effect("the latency histogram is named effect_session_store_latency_ms, buckets 0.25 ms .. 1,024 ms", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      yield* request("GET", "/inc", { jar })
      const pairs = yield* Metric.snapshot
      const hist = pairs.find((p) => p.metricKey.name === "effect_session_store_latency_ms")!
      const buckets = (hist.metricState as any).buckets.map(([b]: [number, number]) => b)
      expect(buckets.filter(Number.isFinite)).toStrictEqual(Array.from({ length: 13 }, (_, i) => 0.25 * 2 ** i))
    }).pipe(Effect.provide(server(memory()))))

  it.effect("regenerate: created +1 (a record written under a new ID)", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const before = yield* snap
      yield* request("GET", "/regen", { jar })
      const d = delta(before, yield* snap)
      expect(d.rotate).toBe(1)
      expect(d.created).toBe(1)
    }).pipe(Effect.provide(server(memory()))))

  it.effect("invalidate: created +1, destroyed +0", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const before = yield* snap
      yield* request("GET", "/invalidate", { jar })
      const d = delta(before, yield* snap)
      expect(d.created).toBe(1)
      expect(d.destroyed).toBe(0)
    }).pipe(Effect.provide(server(memory()))))

  it.effect("destroy: destroyed +1", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const before = yield* snap
      yield* request("GET", "/destroy", { jar })
      const d = delta(before, yield* snap)
      expect(d.destroyed).toBe(1)
      expect(d.destroy).toBe(1)
    }).pipe(Effect.provide(server(memory()))))

  it.effect("a failed destroy (503) is not counted as a session destroyed", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const before = yield* snap
      const reply = yield* request("GET", "/destroy", { jar })
      expect(reply.status).toBe(503)
      const d = delta(before, yield* snap)
      expect(d.errDestroy).toBe(1)
      expect(d.destroyed).toBe(0)
    }).pipe(Effect.provide(server(decorated(() => ({
      destroy: () => Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
    }))))))

  it.effect("unknown cookie: expired +1 once, even when the handler then takes the lock", () =>
    Effect.gen(function*() {
      const before = yield* snap
      const reply = yield* request("GET", "/read-then-block", { cookie: `lagodev_session=${"A".repeat(43)}` })
      expect(reply.status).toBe(200)
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
    }).pipe(Effect.provide(server(memory()))))

  it.effect("lock latency recorded", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const before = yield* snap
      expect((yield* request("GET", "/block", { jar })).status).toBe(200)
      const d = delta(before, yield* snap)
      expect(d.lock).toBe(1)
    }).pipe(Effect.provide(server(memory()))))

  it.effect("absolute lifetime: expired +1, the deletion timed as destroy", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      yield* TestClock.adjust("61 minutes")
      const before = yield* snap
      expect((yield* request("GET", "/read", { jar })).body).toBe("null")
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
      expect(d.destroy).toBe(1)
    }).pipe(Effect.provide(server(
      decorated((store) => ({
        // a store that keeps records longer than asked (its own TTL): the absolute check is the library's
        write: (key, data) => store.write(key, data, Duration.days(1))
      })),
      { absoluteTimeout: "1 hour" }
    ))))

  it.effect("regenerateGrace over: expired +1", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const old = jar.cookies.get("lagodev_session")!
      yield* request("GET", "/regen", { jar })
      yield* TestClock.adjust("11 seconds")
      const before = yield* snap
      expect((yield* request("GET", "/read", { cookie: `lagodev_session=${old}` })).body).toBe("null")
      const d = delta(before, yield* snap)
      expect(d.expired).toBe(1)
    }).pipe(Effect.provide(server(memory(), { regenerateGrace: "10 seconds" }))))

  describe("errors counted once, with or without a tracer", () => {
    const failing = (op: "patch" | "read") =>
      decorated((store) => ({
        [op]: (key: string, ...rest: Array<any>) =>
          (globalThis as any).__fail === op
            ? Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
            : (store as any)[op](key, ...rest)
      }))
    const tracer = Tracer.make({
      span: (name, parent, context, links, startTime, kind) =>
        ({
          _tag: "Span",
          name,
          spanId: Math.random().toString(36).slice(2),
          traceId: "t",
          parent,
          context,
          status: { _tag: "Started", startTime },
          attributes: new Map(),
          links,
          sampled: true,
          kind,
          end: () => {},
          attribute: () => {},
          event: () => {},
          addLinks: () => {}
        }) as any,
      context: (f) => f()
    })
    for (const traced of [false, true]) {
      for (const op of ["patch", "read"] as const) {
        it.effect(`failing ${op}${traced ? " (tracer)" : ""}: one error, one latency sample`, () => {
          const body = Effect.gen(function*() {
            const jar = new Jar()
            yield* request("GET", "/inc", { jar })
            ;(globalThis as any).__fail = op
            const lat0 = yield* latencyCount(op)
            const err0 = yield* counter("effect_session_store_errors_total", op)
            expect((yield* request("GET", "/inc", { jar })).status).toBe(503)
            ;(globalThis as any).__fail = undefined
            const lat = (yield* latencyCount(op)) - lat0
            const err = (yield* counter("effect_session_store_errors_total", op)) - err0
            expect([lat, err]).toEqual([1, 1])
          }).pipe(Effect.provide(server(failing(op))))
          return traced ? Effect.withTracer(body, tracer) : body
        })
      }
    }
  })

  it.effect("a failed deletion of an unusable record is counted under operation=destroy", () =>
    Effect.gen(function*() {
      const jar = new Jar()
      yield* request("GET", "/inc", { jar })
      const before = yield* snap
      expect((yield* request("GET", "/read", { jar })).status).toBe(200)
      const d = delta(before, yield* snap)
      expect(d.destroy).toBe(1)
      expect(d.errDestroy).toBe(1)
    }).pipe(Effect.provide(server(decorated(() => ({
      read: () => Effect.succeed(Option.some({ not: "a session" } as any)),
      destroy: () => Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
    }))))))

  describe("spans", () => {
    const recording = () => {
      const spans: Array<{ name: string; attributes: Map<string, unknown>; parent: Option.Option<Tracer.AnySpan> }> = []
      const tracer = Tracer.make({
        span: (name, parent, context, links, startTime, kind) => {
          const attributes = new Map<string, unknown>()
          const s: Tracer.Span = {
            _tag: "Span",
            name,
            spanId: Math.random().toString(36).slice(2),
            traceId: Option.match(parent, { onNone: () => "t", onSome: (p) => p.traceId }),
            parent,
            context,
            status: { _tag: "Started", startTime },
            attributes,
            links,
            sampled: true,
            kind,
            end: () => {},
            attribute: (k: string, v: unknown) => void attributes.set(k, v),
            event: () => {},
            addLinks: () => {}
          } as any
          spans.push(s as any)
          return s
        },
        context: (f) => f()
      })
      return { spans, tracer }
    }

    it.effect("plan attributes and parents; the discard's deletion runs inside the load span", () => {
      const { spans, tracer } = recording()
      const destroySpans: Array<string> = []
      let corrupt = false
      return Effect.gen(function*() {
        const jar = new Jar()
        yield* request("GET", "/inc", { jar })
        yield* request("GET", "/inc", { jar })
        yield* request("GET", "/regen", { jar })
        corrupt = true
        yield* request("GET", "/read", { jar })
        corrupt = false
        const ours = spans.filter((s) => s.name.startsWith("effect-session."))
        expect(ours.filter((s) => s.name === "effect-session.save").map((s) => s.attributes.get("session.plan")))
          .toEqual(["Create", "Update", "Rotate"])
        for (const s of ours) expect((Option.getOrUndefined(s.parent) as any)?.name).toMatch(/^http\.server/)
        expect(destroySpans).toEqual(["effect-session.load"])
      }).pipe(
        Effect.provide(server(decorated((store) => ({
          read: (key) => corrupt ? Effect.succeed(Option.some([1, 2] as any)) : store.read(key),
          destroy: (key) =>
            Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
              destroySpans.push(
                Option.match(span, { onNone: () => "none", onSome: (s) => s._tag === "Span" ? s.name : "external" })
              )
              return store.destroy(key)
            })
        })))),
        Effect.withTracer(tracer)
      )
    })

    it.effect("under the built-in tracer the store sees no effect-session span", () => {
      const seen: Array<string> = []
      const spy = <A, E>(e: Effect.Effect<A, E>) =>
        Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
          seen.push(
            Option.match(span, { onNone: () => "none", onSome: (s) => s._tag === "Span" ? s.name : "external" })
          )
          return e
        })
      return Effect.gen(function*() {
        const jar = new Jar()
        yield* request("GET", "/inc", { jar })
        yield* request("GET", "/inc", { jar })
        expect(seen.some((s) => s.startsWith("effect-session."))).toBe(false)
      }).pipe(Effect.provide(server(decorated((store) => ({
        read: (key) => spy(store.read(key)),
        write: (key, data, ttl) => spy(store.write(key, data, ttl)),
        patch: (key, p, ttl) => spy(store.patch!(key, p, ttl))
      })))))
    })
  })

  describe("logs", () => {
    it.effect("discard: one Warn; store failure: Error with annotations", () => {
      const lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }> = []
      const logger = Logger.make(({ annotations, logLevel, message }) => {
        const parts = Array.isArray(message) ? message : [message]
        lines.push({
          level: logLevel.label,
          message: parts.map(String).join(" "),
          annotations: Object.fromEntries(HashMap.toEntries(annotations))
        })
      })
      let mode: "ok" | "corrupt" | "fail" = "ok"
      return Effect.gen(function*() {
        const jar = new Jar()
        yield* request("GET", "/inc", { jar })
        mode = "corrupt"
        yield* request("GET", "/read", { jar })
        mode = "ok"
        yield* request("GET", "/inc", { jar })
        mode = "fail"
        expect((yield* request("GET", "/read", { jar })).status).toBe(503)
        const ours = lines.filter((l) => l.message.includes("effect-session"))
        expect(ours.filter((l) => l.level === "WARN").length).toBe(1)
        const err = ours.find((l) => l.level === "ERROR")!
        expect(err.message).toContain("session store failed during load")
        expect(err.annotations["effect-session"]).toBe("load")
        expect(err.annotations["reason"]).toBe("Unavailable")
      }).pipe(
        Effect.provide(server(decorated((store) => ({
          read: (key) =>
            mode === "corrupt"
              ? Effect.succeed(Option.some(42 as any))
              : mode === "fail"
              ? Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
              : store.read(key)
        })))),
        Effect.provide(Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All)))
      )
    })
  })
})

void Context
