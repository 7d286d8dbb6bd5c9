/**
 * The request flow's edges, over real HTTP: fibers of one request that use the session at once
 * share its one load (and its failure); a lock the handler took is released however the handler
 * ends; `Session` is in the context of the app only, not of the failure handler after it.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Layer, Option } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as Metric from "effect/Metric"
import { makeJar, serveWith } from "./utils/http.js"

/**
 * The memory store, counting reads and lock releases; `failReads` makes every read fail,
 * `hangFirstRead` makes the first read never finish.
 */
const counting = (options: { readonly failReads?: boolean; readonly hangFirstRead?: boolean } = {}) => {
  const counts = { reads: 0, locks: 0, releases: 0 }
  const layer = Layer.effect(
    SessionStore,
    Effect.map(Effect.service(SessionStore), (store) => ({
      ...store,
      // A read that yields first: the request's other fibers run while it is in flight.
      read: (key: string) =>
        Effect.suspend(() => {
          const first = ++counts.reads === 1
          return Effect.andThen(
            Effect.yieldNow,
            options.hangFirstRead === true && first
              ? Effect.never
              : options.failReads === true
              ? Effect.fail(new SessionStoreError({ reason: "Unavailable", message: "down" }))
              : store.read(key)
          )
        }),
      lock: (key: string, lockOptions: { readonly ttl: Duration.Duration; readonly wait: Duration.Duration }) =>
        Effect.map(store.lock!(key, lockOptions), (release) => {
          counts.locks++
          return Effect.andThen(release, Effect.sync(() => counts.releases++))
        })
    }))
  ).pipe(Layer.provide(MemoryStore.layer()))
  return { counts, layer }
}

const text = (value: unknown) => HttpServerResponse.text(JSON.stringify(value))

/** How many session store reads have failed so far (the metric the middleware keeps). */
const readErrors = Effect.map(Metric.snapshot, (all) => {
  const series = all.find((s) =>
    s.id === "effect_session_store_errors_total" &&
    (s.attributes as Record<string, string> | undefined)?.operation === "read"
  )
  return series === undefined ? 0 : Number((series.state as { readonly count: number }).count)
})

const routes = (options: Session.Options = {}) =>
  Layer.mergeAll(
    HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), text)),
    HttpRouter.add(
      "GET",
      "/together",
      Effect.map(
        Effect.all([Session.getOption("views"), Session.getOption("views"), Session.getOption("views")], {
          concurrency: "unbounded"
        }),
        (views) => text(views.map(Option.getOrNull))
      )
    ),
    HttpRouter.add(
      "GET",
      "/retry",
      Effect.gen(function*() {
        // the first load is interrupted (its read never ends); the next use loads again
        const first = yield* Effect.timeoutOption(Session.getOption("views"), "20 millis")
        const second = yield* Session.getOption("views")
        return text([Option.isNone(first), Option.getOrNull(second)])
      })
    ),
    HttpRouter.add("GET", "/die", Session.blocking(Effect.die("boom"))),
    HttpRouter.add("GET", "/interrupt", Session.blocking(Effect.interrupt)),
    HttpRouter.add("GET", "/fail", Session.blocking(Effect.fail("teapot")))
  ).pipe(Layer.provide(Session.middleware({ insecure: true, ...options }).layer))

describe("the request flow", () => {
  it.effect("fibers of one request that use the session at once share one load", () => {
    const store = counting()
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1")
      const readsBefore = store.counts.reads
      expect(JSON.parse((yield* jar.get("/together")).body)).toEqual([1, 1, 1])
      expect(store.counts.reads - readsBefore).toBe(1)
      expect((yield* jar.get("/count")).body).toBe("2")
    }).pipe(Effect.provide(serveWith(routes(), store.layer)))
  })

  it.effect("a shared load that fails fails every fiber that waits for it: one read, one 503", () => {
    const store = counting({ failReads: true })
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1") // a new session reads nothing
      const reply = yield* jar.get("/together")
      expect(reply.status).toBe(503)
      expect(store.counts.reads).toBe(1)
    }).pipe(Effect.provide(serveWith(routes(), store.layer)))
  })

  it.live("a load interrupted while its read runs is not waited for: the next use reads again", () => {
    const store = counting({ hangFirstRead: true })
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1") // a new session reads nothing
      const failedReads = yield* readErrors
      expect(JSON.parse((yield* jar.get("/retry")).body)).toEqual([true, 1])
      expect(store.counts.reads).toBe(2)
      // the read cut short is timed and counted as failed, as any store operation that fails
      expect((yield* readErrors) - failedReads).toBe(1)
    }).pipe(Effect.provide(serveWith(routes(), store.layer)))
  })

  it.effect("a lock the handler took is released when it dies, is interrupted or fails", () => {
    const store = counting()
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1")
      expect((yield* jar.get("/die")).status).toBe(500)
      expect(store.counts).toMatchObject({ locks: 1, releases: 1 })
      yield* Effect.ignore(jar.get("/interrupt")) // no response to speak of
      expect(store.counts).toMatchObject({ locks: 2, releases: 2 })
      expect((yield* jar.get("/fail")).status).toBe(500)
      expect(store.counts).toMatchObject({ locks: 3, releases: 3 })
      expect((yield* jar.get("/count")).body).toBe("2")
    }).pipe(Effect.provide(serveWith(routes(), store.layer)))
  })

  it.effect("the lock option's lock is released after the save", () => {
    const store = counting()
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1")
      expect((yield* jar.get("/count")).body).toBe("2")
      expect(store.counts).toMatchObject({ locks: 1, releases: 1 })
    }).pipe(Effect.provide(serveWith(routes({ lock: { ttl: "10 seconds", wait: "10 seconds" } }), store.layer)))
  })

  it.effect("Session is in the app's context, not in the failure handler's after it", () => {
    const store = counting({ failReads: true })
    return Effect.gen(function*() {
      const jar = makeJar()
      expect((yield* jar.get("/count")).body).toBe("1")
      const reply = yield* jar.get("/count")
      expect(reply.status).toBe(503)
      expect(reply.body).toBe("no session")
    }).pipe(Effect.provide(serveWith(
      routes({
        onError: () =>
          Effect.map(
            Effect.serviceOption(Session),
            (session) => HttpServerResponse.text(Option.isSome(session) ? "session" : "no session", { status: 503 })
          )
      }),
      store.layer
    )))
  })
})
