/**
 * The complete floor's route (bench/servers/effect4-floor-complete.ts serves it over HTTP, and
 * bench/plumbing.ts runs it in process). A reference row, not a peer: the required floor
 * (floor.ts) plus the rest of the per-request work that DESIGN.md and the effect 4 issue ask of
 * every session on a returning user's request, each part done the cheapest way this author could
 * write it, with the core's own rules where one exists (so the rules are the library's):
 *
 * - a stored record carries the library's metadata (creation and renewal time), read and checked
 *   at the load (`Meta.read`: a corrupt record is not adopted), with the absolute lifetime
 *   (`Lifetime.isExpired`) and a retired record's grace (`StoredRecord.retiredUntil`);
 * - a read hands out deep copies (`copyJson`), a `put` refuses a reserved key and a value that
 *   cannot round-trip (`Value.check`: DESIGN.md's "a typed error at put") and stores a copy;
 * - change tracking of any number of keys; the save patches exactly the keys changed (the core's
 *   `Patch.apply` in the store), ages flash data when there is any, renews the expiry and the
 *   cookie when `touchAfter` has passed (`Lifetime.renewalDue`);
 * - each store operation's latency goes to a histogram (the issue asks for metrics), and a store
 *   failure is typed and becomes a 503.
 *
 * It leaves out what no returning request of the benchmark reaches: regenerate, invalidate,
 * destroy, flash writes, locking, CSRF, schemas, spans (not made under the built-in tracer by the
 * library either), concurrent loads within one request, the lifecycle's race rules.
 */
import { Clock, Context, Data, Duration, Effect, Fiber, Layer, Metric } from "effect"
import { Flash, Id, Lifetime, Meta, Patch, StoredRecord, Value } from "effect-session-core"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { COOKIE_NAME, ROUTE, TTL_MILLIS } from "../../../../bench/lib/config.js"

type Record_ = Readonly<Record<string, unknown>>

/**
 * Parts to leave out, to price each (`FLOOR_COMPLETE_SKIP=metrics,check,meta,copies`; in process
 * with plumbing.ts): the store metrics, the value check at `put`, the metadata read at the load,
 * the deep copies (a shallow one instead, as the required floor's).
 */
const skip = new Set((globalThis.process?.env.FLOOR_COMPLETE_SKIP ?? "").split(","))
const copyOf: (value: unknown) => unknown = skip.has("copies")
  ? (value) => typeof value === "object" && value !== null ? { ...value } : value
  : StoredRecord.copyJson

class StoreFailure extends Data.TaggedError("StoreFailure")<{ readonly message: string }> {}
class ValueRefused extends Data.TaggedError("ValueRefused")<{ readonly key: string; readonly message: string }> {}

class CompleteStore extends Context.Service<CompleteStore, {
  readonly read: (key: string) => Effect.Effect<Record_ | undefined, StoreFailure>
  readonly patch: (key: string, patch: Patch.SessionPatch, ttlMillis: number) => Effect.Effect<boolean, StoreFailure>
  readonly write: (key: string, record: Record_, ttlMillis: number) => Effect.Effect<void, StoreFailure>
}>()("bench/CompleteStore") {}

class CompleteSession extends Context.Service<CompleteSession, {
  readonly get: (name: string) => Effect.Effect<unknown, StoreFailure>
  readonly put: (name: string, value: unknown) => Effect.Effect<void, StoreFailure | ValueRefused>
}>()("bench/CompleteSession") {}

interface Entry {
  record: Record_
  expiresAt: number
}

const CompleteStoreLive = Layer.sync(CompleteStore, () => {
  const table = new Map<string, Entry>()
  return {
    read: (key) =>
      Clock.clockWith((clock) => {
        const entry = table.get(key)
        return Effect.succeed(
          entry === undefined || clock.currentTimeMillisUnsafe() >= entry.expiresAt
            ? undefined
            : copyOf(entry.record) as Record_
        )
      }),
    patch: (key, patch, ttlMillis) =>
      Clock.clockWith((clock) => {
        const now = clock.currentTimeMillisUnsafe()
        const entry = table.get(key)
        if (entry === undefined || now >= entry.expiresAt || Patch.refuses(entry.record)) return Effect.succeed(false)
        entry.record = Patch.apply(entry.record, patch)
        entry.expiresAt = now + ttlMillis
        return Effect.succeed(true)
      }),
    write: (key, record, ttlMillis) =>
      Clock.clockWith((clock) => {
        table.set(key, {
          record: copyOf(record) as Record_,
          expiresAt: clock.currentTimeMillisUnsafe() + ttlMillis
        })
        return Effect.void
      })
  }
})

const latency = Metric.histogram("bench_complete_floor_latency_ms", {
  attributes: { operation: "store" },
  boundaries: Metric.exponentialBoundaries({ start: 0.25, factor: 2, count: 14 })
})

/**
 * `effect` with its latency recorded as it exits, then `then` (or `orElse` on a failure), in one
 * continuation.
 */
const timed = <A, B, E, E2, E3 = E>(
  effect: Effect.Effect<A, E>,
  then: (a: A) => Effect.Effect<B, E2>,
  orElse?: (e: E) => Effect.Effect<B, E3>
): Effect.Effect<B, E2 | E3> => {
  if (skip.has("metrics")) {
    return Effect.matchEffect(effect, {
      onSuccess: then,
      onFailure: (e) => orElse === undefined ? Effect.fail(e as unknown as E3) : orElse(e)
    })
  }
  const context = Fiber.getCurrent()!.context
  const start = performance.now()
  return Effect.matchEffect(effect, {
    onSuccess: (a) => {
      latency.updateUnsafe(performance.now() - start, context)
      return then(a)
    },
    onFailure: (e) => {
      latency.updateUnsafe(performance.now() - start, context)
      return orElse === undefined ? Effect.fail(e as unknown as E3) : orElse(e)
    }
  })
}

const toUnavailable = () => Effect.succeed(unavailable)

const settings: Lifetime.Settings = { ttlMillis: TTL_MILLIS, absoluteMillis: Infinity, touchAfterMillis: 60_000 }
const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", maxAge: Duration.millis(TTL_MILLIS) } as const
const unavailable = HttpServerResponse.text("Service Unavailable", { status: 503 })

const CompleteMiddleware = HttpRouter.middleware<{ provides: CompleteSession; handles: StoreFailure }>()(
  Effect.map(
    Effect.service(CompleteStore),
    (store) => (httpEffect) =>
      Effect.flatMap(Effect.service(HttpServerRequest.HttpServerRequest), (request) => {
        const sent = request.cookies[COOKIE_NAME]
        const id = sent !== undefined && Id.isWellFormed(sent) ? sent : undefined
        const clock = Fiber.getCurrent()!.getRef(Clock.Clock)
        let key: string | undefined
        let data: Record<string, unknown> | undefined
        let meta: Meta.Meta | undefined
        let renewed = false
        const touched = new Set<string>()
        const fresh = (now: number) => {
          data = {}
          meta = Meta.fresh(now)
          return data
        }
        const load: Effect.Effect<Record<string, unknown>, StoreFailure> = Effect.suspend(() => {
          if (data !== undefined) return Effect.succeed(data)
          const now = clock.currentTimeMillisUnsafe()
          if (id === undefined) return Effect.succeed(fresh(now))
          const k = Id.storageKey(id)
          return timed(store.read(k), (found) => {
            if (found === undefined || !StoredRecord.isRecord(found)) return Effect.succeed(fresh(now))
            const read: Meta.ReadResult = skip.has("meta")
              ? { _tag: "Meta", meta: found[StoredRecord.META_KEY] as Meta.Meta }
              : Meta.read(found, now)
            if (read._tag === "Corrupt" || StoredRecord.retiredUntil(found) !== undefined) {
              return Effect.succeed(fresh(now))
            }
            if (Lifetime.isExpired(read.meta, settings, now)) return Effect.succeed(fresh(now))
            key = k
            meta = read.meta
            const user: Record<string, unknown> = {}
            for (const name in found) if (!StoredRecord.isReserved(name)) StoredRecord.setOwn(user, name, found[name])
            return Effect.succeed(data = user)
          })
        })
        const served = Effect.provideService(httpEffect, CompleteSession, {
          get: (name) => Effect.map(load, (d) => StoredRecord.isReserved(name) ? undefined : copyOf(d[name])),
          put: (name, value) => {
            const problem = StoredRecord.isReserved(name)
              ? "reserved"
              : skip.has("check")
              ? undefined
              : Value.check(value)
            if (problem !== undefined) return Effect.fail(new ValueRefused({ key: name, message: problem }))
            return Effect.map(load, (d) => {
              StoredRecord.setOwn(d, name, copyOf(value))
              touched.add(name)
            })
          }
        })
        const save = (response: HttpServerResponse.HttpServerResponse) => {
          if (data === undefined) return Effect.succeed(response)
          const now = clock.currentTimeMillisUnsafe()
          const m = meta!
          if (Meta.hasFlash(m)) {
            for (const name of Flash.age(m)) {
              if (StoredRecord.hasOwn(data, name)) {
                delete data[name]
                touched.add(name)
              }
            }
          }
          if (Lifetime.renewalDue(m, settings, now)) {
            m.r = now
            renewed = true
          }
          if (touched.size === 0 && !renewed) return Effect.succeed(response)
          const ttlMillis = Lifetime.recordTtl(m, settings, now)
          if (key !== undefined) {
            const set: Array<[string, unknown]> = []
            const remove: Array<string> = []
            for (const name of touched) {
              if (StoredRecord.hasOwn(data, name)) set.push([name, data[name]])
              else remove.push(name)
            }
            if (renewed) set.push([StoredRecord.META_KEY, Meta.coreOf(m)])
            return timed(
              store.patch(key, { clear: false, remove, set, add: [] }, ttlMillis),
              (applied) =>
                Effect.succeed(
                  applied && renewed
                    ? HttpServerResponse.setCookieUnsafe(response, COOKIE_NAME, id!, cookieOptions)
                    : response
                ),
              toUnavailable
            )
          }
          const fresh = Id.generate()
          const record: Record<string, unknown> = { ...data }
          for (const [name, value] of Meta.entries(m)) record[name] = value
          return timed(
            store.write(Id.storageKey(fresh), record, ttlMillis),
            () => Effect.succeed(HttpServerResponse.setCookieUnsafe(response, COOKIE_NAME, fresh, cookieOptions)),
            toUnavailable
          )
        }
        return Effect.matchEffect(served, {
          onSuccess: save,
          onFailure: (error) =>
            typeof error === "object" && error !== null && "_tag" in error && error._tag === "StoreFailure"
              ? Effect.succeed(unavailable)
              : Effect.fail(error)
        })
      })
  )
)

const count = Effect.gen(function*() {
  const session = yield* CompleteSession
  const current = yield* session.get("n")
  const n = typeof current === "number" ? current : 0
  yield* session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

/**
 * The `/count` route behind the complete floor's middleware, with its own store. Typed as the
 * other floors' routes: the middleware answers a `StoreFailure` with a 503, and the handler's
 * `put` of a number is never refused.
 */
export const Routes = HttpRouter.add("GET", ROUTE, count).pipe(
  Layer.provide(CompleteMiddleware.layer),
  Layer.provide(CompleteStoreLive)
) as Layer.Layer<never, never, HttpRouter.HttpRouter>
