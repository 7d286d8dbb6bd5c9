/**
 * The required floor's route (bench/servers/effect4-floor-required.ts serves it over HTTP, and
 * bench/plumbing.ts runs it in process). A reference row, not a peer: the least a session can cost on effect 4 that does the work
 * DESIGN.md requires of every store-backed session, and nothing more. On top of the `Map` floor
 * (effect4-floor-memory.ts: a `Context` service an `HttpRouter.middleware` provides per request):
 *
 * - the cookie's value is checked to be a well-formed ID before it reaches the store;
 * - the store is keyed by the ID's SHA-256, never by the ID;
 * - the store is a service of its own, reached only through its Effect operations (read, patch,
 *   write), so that a decorator around it would see every call;
 * - expiry is read from Effect's `Clock`; a read hands out a copy; a returning session's save
 *   patches only the key the request changed.
 *
 * It leaves out what effect-session adds beyond that: change tracking of any number of keys and
 * increments, metadata (creation time, absolute lifetime), flash data, value checks, metrics,
 * spans, locking, the lifecycle's race rules, typed store failures and their responses.
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { hash, randomBytes } from "node:crypto"
import { COOKIE_NAME, ROUTE, TTL_MILLIS } from "../../../../bench/lib/config.js"

type Data = Record<string, unknown>

class FloorStore extends Context.Service<FloorStore, {
  readonly read: (key: string) => Effect.Effect<Data | undefined>
  readonly patch: (key: string, name: string, value: unknown) => Effect.Effect<boolean>
  readonly write: (key: string, data: Data) => Effect.Effect<void>
}>()("bench/FloorStore") {}

class FloorSession extends Context.Service<FloorSession, {
  readonly get: (name: string) => Effect.Effect<unknown>
  readonly put: (name: string, value: unknown) => Effect.Effect<void>
}>()("bench/FloorSession") {}

interface Entry {
  data: Data
  expiresAt: number
}

/** A shallow copy: the benchmark's values are numbers. */
const copy = (data: Data): Data => ({ ...data })

const FloorStoreLive = Layer.sync(FloorStore, () => {
  const table = new Map<string, Entry>()
  return {
    read: (key) =>
      Clock.clockWith((clock) => {
        const entry = table.get(key)
        return Effect.succeed(
          entry === undefined || clock.currentTimeMillisUnsafe() >= entry.expiresAt ? undefined : copy(entry.data)
        )
      }),
    patch: (key, name, value) =>
      Clock.clockWith((clock) => {
        const entry = table.get(key)
        if (entry === undefined) return Effect.succeed(false)
        entry.data = { ...entry.data, [name]: value }
        entry.expiresAt = clock.currentTimeMillisUnsafe() + TTL_MILLIS
        return Effect.succeed(true)
      }),
    write: (key, data) =>
      Clock.clockWith((clock) => {
        table.set(key, { data: copy(data), expiresAt: clock.currentTimeMillisUnsafe() + TTL_MILLIS })
        return Effect.void
      })
  }
})

/** 256 random bits in base64url, as effect-session's IDs (the last character carries 4 bits). */
const WELL_FORMED = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
const storageKey = (id: string) => hash("sha256", id, "base64url")
const cookieOptions = { httpOnly: true, sameSite: "lax", path: "/", maxAge: Duration.millis(TTL_MILLIS) } as const

const FloorMiddleware = HttpRouter.middleware<{ provides: FloorSession }>()(
  Effect.map(
    Effect.service(FloorStore),
    (store) => (httpEffect) =>
      Effect.flatMap(Effect.service(HttpServerRequest.HttpServerRequest), (request) => {
        const sent = request.cookies[COOKIE_NAME]
        const id = sent !== undefined && WELL_FORMED.test(sent) ? sent : undefined
        let key: string | undefined
        let data: Data | undefined
        let changed: [string, unknown] | undefined
        const load: Effect.Effect<Data> = Effect.suspend(() => {
          if (data !== undefined) return Effect.succeed(data)
          if (id === undefined) return Effect.succeed(data = {})
          const k = storageKey(id)
          return Effect.map(store.read(k), (found) => {
            if (found !== undefined) key = k
            return data = found ?? {}
          })
        })
        const served = Effect.provideService(httpEffect, FloorSession, {
          get: (name) => Effect.map(load, (d) => d[name]),
          put: (name, value) =>
            Effect.map(load, (d) => {
              d[name] = value
              changed = [name, value]
            })
        })
        return Effect.flatMap(served, (response) => {
          if (changed === undefined) return Effect.succeed(response)
          if (key !== undefined) return Effect.as(store.patch(key, changed[0], changed[1]), response)
          const fresh = randomBytes(32).toString("base64url")
          return Effect.as(
            store.write(storageKey(fresh), data!),
            HttpServerResponse.setCookieUnsafe(response, COOKIE_NAME, fresh, cookieOptions)
          )
        })
      })
  )
)

const count = Effect.gen(function*() {
  const session = yield* FloorSession
  const current = yield* session.get("n")
  const n = typeof current === "number" ? current : 0
  yield* session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

/** The `/count` route behind the floor's middleware, with its own store. */
export const Routes = HttpRouter.add("GET", ROUTE, count).pipe(
  Layer.provide(FloorMiddleware.layer),
  Layer.provide(FloorStoreLive)
)
