/**
 * The concurrency workloads of issue 5, through real HTTP, for any store.
 *
 * Interleaving is forced, not hoped for: every request loads the session and makes its change,
 * then waits at a barrier until all of them have loaded, and only then returns (and saves). Every
 * request therefore saves on top of the same stale snapshot: the worst case for lost updates.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Deferred, Effect, Layer, Ref, Schema } from "effect"
import { Session, SessionStore } from "effect-session"
import { Jar, request, serve } from "./http.js"

/** A reusable gate: `arrive` blocks until `n` fibers have arrived. */
export const makeBarrier = (n: number) =>
  Effect.gen(function*() {
    const count = yield* Ref.make(0)
    const open = yield* Deferred.make<void>()
    const arrive = Effect.flatMap(Ref.updateAndGet(count, (c) => c + 1), (c) =>
      c >= n ? Deferred.succeed(open, undefined) : Effect.void).pipe(Effect.zipRight(Deferred.await(open)))
    return { arrive, open: Deferred.succeed(open, undefined) }
  })

/** The same store with only the minimal read/write/destroy contract: whole-record saves. */
export const withoutPatch = Layer.effect(
  SessionStore,
  Effect.map(SessionStore, (store) => SessionStore.of({ read: store.read, write: store.write, destroy: store.destroy }))
)

const keyParam = HttpRouter.schemaPathParams(Schema.Struct({ key: Schema.String }))

/**
 * The workload server. `barrier` gates `/inc/:key` and `/slow`: each handler changes the session,
 * then waits for the barrier before it returns.
 */
export const workloadRouter = (barrier: Effect.Effect<void>, slowLoaded: Effect.Effect<void> = Effect.void) =>
  HttpRouter.empty.pipe(
    HttpRouter.post("/login", Effect.as(Session.put("user", "ada"), HttpServerResponse.text("ok"))),
    HttpRouter.get(
      "/inc/:key",
      Effect.gen(function*() {
        const { key } = yield* keyParam
        const n = yield* Session.increment(key)
        yield* barrier
        return HttpServerResponse.text(String(n))
      })
    ),
    HttpRouter.get(
      "/slow",
      Effect.gen(function*() {
        yield* Session.put("touched-by-slow-request", true)
        yield* slowLoaded
        yield* barrier
        return HttpServerResponse.text("slow done")
      })
    ),
    HttpRouter.get(
      "/slow-read",
      Effect.gen(function*() {
        const user = yield* Session.getString("user")
        yield* slowLoaded
        yield* barrier
        return HttpServerResponse.text(user)
      })
    ),
    HttpRouter.post("/flash", Effect.as(Session.flash("status", "saved!"), HttpServerResponse.text("flashed"))),
    HttpRouter.get("/status", Effect.map(Session.getString("status"), (status) => HttpServerResponse.text(status))),
    HttpRouter.post("/logout", Effect.as(Session.destroy, HttpServerResponse.text("bye"))),
    HttpRouter.get(
      "/all",
      Effect.flatMap(Session.all, (all) => HttpServerResponse.json(all))
    ),
    HttpRouter.get("/me", Effect.map(Session.getString("user"), (user) => HttpServerResponse.text(user)))
  )

export const serveWorkload = (
  barrier: Effect.Effect<void>,
  options?: Session.Options<any, any>,
  slowLoaded?: Effect.Effect<void>
) => serve(workloadRouter(barrier, slowLoaded), { insecure: true, ...options })

/** Logs in (one session) and returns the jar holding its cookie. */
export const login = Effect.gen(function*() {
  const jar = new Jar()
  const reply = yield* request("POST", "/login", { jar })
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status}`)
  return jar
})

/** Fires `n` concurrent requests on one session, each incrementing `key(i)`. */
export const concurrentIncrements = (jar: Jar, n: number, key: (i: number) => string) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => request("GET", `/inc/${key(i)}`, { cookie: jar.header()! }),
    { concurrency: "unbounded" }
  )

export const readAll = (jar: Jar) =>
  Effect.map(
    request("GET", "/all", { cookie: jar.header()! }),
    (reply) => JSON.parse(reply.body) as Record<string, unknown>
  )
