/**
 * The session middleware's own CPU cost per request on effect 4, with no HTTP at all (the effect 4
 * analogue of the root's bench/plumbing.ts): the app (router + middleware + handler, built by
 * `HttpRouter.toHttpEffect` and wrapped by `HttpEffect.toHandled` as a server wraps it) runs as an
 * Effect against prebuilt requests, one after another in one fiber, so what differs between cases
 * is only the session's work and the Effect steps it adds. The cases split a returning request's
 * cost: `frame` (the middleware around a handler that never touches the session), `read` (plus
 * the load and one read), `session` (plus the write and save); `new` is a request without a cookie.
 * `nullstore` runs `session` on a store that does no work (the lifecycle alone); `floor` is the
 * required floor's route (bench/lib/floor.ts: what DESIGN.md requires of any session, and nothing
 * more), on its own store, for reference.
 *
 * From packages/effect4:
 *   node scripts/node22.mjs tsx bench/lib/build.ts             # this tree → build/bench/dev
 *   node scripts/node22.mjs tsx bench/lib/build.ts <src> base  # another revision's src → variants/base
 *   node scripts/node22.mjs node build/bench/dev/bench/plumbing.js [build/bench/variants/base]
 * Prints µs per request and the difference to the bare route (no session), for the library in
 * build/bench/dev or the variant directory given. Run the two alternately to compare revisions.
 *
 * PLUMBING_REQUESTS (20,000) and PLUMBING_ROUNDS (15) size the run; PLUMBING_CASES picks cases.
 * PLUMBING_STEPS=1 counts instead of timing: the Effect steps one request takes in each case (its
 * fiber's `currentOpCount` once it has run to the end; a count, so the same on any machine).
 */
import { Duration, Effect, Layer, Option } from "effect"
import * as EffectSession from "effect-session-v4"
import { Cookies, HttpEffect, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { COOKIE_NAME, ROUTE, TTL_MILLIS } from "../../../bench/lib/config.js"
import { Routes as FloorRoutes } from "./lib/floor.js"
import { Routes as CompleteRoutes } from "./lib/floorComplete.js"

type Library = typeof EffectSession

const variant = process.argv[2]
const lib: Library = variant === undefined
  ? EffectSession
  : await import(pathToFileURL(resolve(variant, "src", "index.js")).href)
const { MemoryStore, Session, SessionStore } = lib

const REQUESTS = Number(process.env.PLUMBING_REQUESTS ?? 20_000)
const STEPS = process.env.PLUMBING_STEPS === "1"
const ROUNDS = Number(process.env.PLUMBING_ROUNDS ?? 15)
const USERS = 1000

const count = Effect.gen(function*() {
  const current = yield* Session.getOption("n")
  const n = Option.isSome(current) && typeof current.value === "number" ? current.value : 0
  yield* Session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

// Every handler builds its response per request, as a real one does (and as the bare server of
// `npm run bench` does): only the session's work differs between cases.
let served = 0
const answer = Effect.sync(() => HttpServerResponse.text(String(++served)))
const options = { cookieName: COOKIE_NAME, ttl: Duration.millis(TTL_MILLIS), insecure: true }
const withSession = <E, R>(route: Layer.Layer<never, E, R>) =>
  route.pipe(Layer.provide(Session.middleware(options).layer))

const apps = {
  bare: HttpRouter.add("GET", ROUTE, answer),
  // the middleware around a handler that never touches the session: the per-request frame alone
  frame: withSession(HttpRouter.add("GET", ROUTE, answer)),
  // the frame, the load and one accessor, but no save
  read: withSession(HttpRouter.add("GET", ROUTE, Effect.andThen(Session.getOption("n"), answer))),
  session: withSession(HttpRouter.add("GET", ROUTE, count)),
  // the required floor, with its own middleware and store (the store layer below goes unused)
  floor: FloorRoutes,
  // the complete floor (bench/lib/floorComplete.ts): the required floor plus the rest of what a
  // returning request must do, as cheaply as it can be written
  complete: CompleteRoutes
}

const nullRecord = { n: 1, __session: { c: Date.now(), r: Date.now() } }
const stores = {
  memory: MemoryStore.layer({ sweepInterval: "1 hour" }),
  // a store that does no work: a constant record, writes dropped
  nullstore: Layer.succeed(SessionStore, {
    read: () => Effect.succeed(Option.some(nullRecord)),
    write: () => Effect.void,
    destroy: () => Effect.void,
    patch: () => Effect.succeed(true)
  }),
  // for the floor's cases: its users are primed through the floor's own route
  floor: MemoryStore.layer({ sweepInterval: "1 hour" }),
  complete: MemoryStore.layer({ sweepInterval: "1 hour" })
}

const url = `http://127.0.0.1${ROUTE}`
const requestFor = (cookie: string | undefined) =>
  HttpServerRequest.fromWeb(new Request(url, cookie === undefined ? {} : { headers: { cookie } }))

type Handled = Effect.Effect<void, never, HttpServerRequest.HttpServerRequest>
type AppName = keyof typeof apps
type StoreName = keyof typeof stores

const cases: ReadonlyArray<{ key: string; store: StoreName; app: AppName; returning: boolean }> = [
  { key: "bare/returning", store: "memory", app: "bare", returning: true },
  { key: "bare/new", store: "memory", app: "bare", returning: false },
  { key: "frame/returning", store: "memory", app: "frame", returning: true },
  { key: "read/returning", store: "memory", app: "read", returning: true },
  { key: "session/returning", store: "memory", app: "session", returning: true },
  { key: "session/new", store: "memory", app: "session", returning: false },
  { key: "nullstore/returning", store: "nullstore", app: "session", returning: true },
  { key: "nullstore/new", store: "nullstore", app: "session", returning: false },
  { key: "floor/returning", store: "floor", app: "floor", returning: true },
  { key: "floor/new", store: "floor", app: "floor", returning: false },
  { key: "complete/returning", store: "complete", app: "complete", returning: true },
  { key: "complete/new", store: "complete", app: "complete", returning: false }
]
const only = process.env.PLUMBING_CASES?.split(",")
const selected = cases.filter((c) => only === undefined || only.includes(c.key))

/** The last response a handled app produced (a server would send it). */
let lastResponse: HttpServerResponse.HttpServerResponse | undefined
const takeResponse = () => {
  const response = lastResponse
  lastResponse = undefined
  return response
}

/** Each app built once per store, wrapped as a server wraps it (request scope, response handling). */
const build = (store: StoreName, app: AppName) =>
  Effect.map(
    HttpRouter.toHttpEffect(apps[app]).pipe(Effect.provide(stores[store])),
    (httpEffect): Handled =>
      HttpEffect.toHandled(httpEffect, (_, response) =>
        Effect.sync(() => {
          lastResponse = response
        })) as Handled
  )

const serveOnce = (handled: Handled, request: HttpServerRequest.HttpServerRequest) =>
  Effect.provideService(handled, HttpServerRequest.HttpServerRequest, request)

const program = Effect.gen(function*() {
  const built = new Map<string, Handled>()
  for (const store of Object.keys(stores) as Array<StoreName>) {
    for (const app of Object.keys(apps) as Array<AppName>) built.set(`${store}/${app}`, yield* build(store, app))
  }
  // One request per user, each with the cookie its first (cookie-less) request was given.
  const jars = new Map<StoreName, Array<HttpServerRequest.HttpServerRequest>>()
  for (const store of Object.keys(stores) as Array<StoreName>) {
    const requests: Array<HttpServerRequest.HttpServerRequest> = []
    // the floor's users are primed through its own route, the others through the library's
    const priming = built.get(
      store === "floor" ? "floor/floor" : store === "complete" ? "complete/complete" : `${store}/session`
    )!
    for (let i = 0; i < USERS; i++) {
      yield* serveOnce(priming, requestFor(undefined))
      const value = Option.flatMap(
        Option.fromNullishOr(takeResponse()),
        (response) => Cookies.getValue(response.cookies, COOKIE_NAME)
      )
      if (Option.isNone(value)) return yield* Effect.die(new Error("priming: no session cookie"))
      requests.push(requestFor(`${COOKIE_NAME}=${value.value}`))
    }
    jars.set(store, requests)
  }
  const fresh = requestFor(undefined)

  if (STEPS) {
    // Each request in a fiber of its own, which runs synchronously to its end (no store here
    // waits for I/O): the fiber's step count is then the request's.
    const steps = new Map<string, Array<number>>()
    for (const c of selected) {
      const requests = c.returning ? jars.get(c.store)! : [fresh]
      const counts: Array<number> = []
      for (let i = 0; i < 20; i++) {
        const fiber = Effect.runFork(serveOnce(built.get(`${c.store}/${c.app}`)!, requests[i % requests.length]!))
        if (fiber.pollUnsafe() === undefined) {
          return yield* Effect.die(new Error(`${c.key}: the request did not end at once`))
        }
        counts.push(fiber.currentOpCount)
      }
      steps.set(c.key, counts)
    }
    return steps
  }

  const loop = (handled: Handled, requests: ReadonlyArray<HttpServerRequest.HttpServerRequest> | undefined) =>
    Effect.suspend(() => {
      let i = 0
      return Effect.whileLoop({
        while: () => i < REQUESTS,
        body: () => serveOnce(handled, requests === undefined ? fresh : requests[i % requests.length]!),
        step: () => {
          i++
        }
      })
    })

  const perRound = new Map<string, Array<number>>()
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const c of selected) {
      const effect = loop(built.get(`${c.store}/${c.app}`)!, c.returning ? jars.get(c.store) : undefined)
      const start = process.cpuUsage()
      yield* effect
      const used = process.cpuUsage(start)
      if (round > 0) perRound.set(c.key, [...(perRound.get(c.key) ?? []), (used.user + used.system) / REQUESTS])
    }
    // Let timers and I/O run between rounds, as a server's event loop would.
    yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
  }
  return perRound
})

const perRound = await Effect.runPromise(Effect.scoped(program) as Effect.Effect<Map<string, Array<number>>>)
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const result: Record<string, number | string> = { library: variant ?? "dev" }
if (STEPS) {
  for (const [key, counts] of perRound) {
    result[`${key} steps`] = median(counts)
    const bare = perRound.get(`bare/${key.split("/")[1]}`)
    if (bare !== undefined && !key.startsWith("bare/")) result[`${key} +steps`] = median(counts) - median(bare)
  }
}
for (const [key, rounds] of STEPS ? [] : perRound) {
  result[`${key} µs`] = Math.round(median(rounds) * 10) / 10
  const bare = perRound.get(`bare/${key.split("/")[1]}`)
  if (bare !== undefined && !key.startsWith("bare/")) {
    result[`${key} +µs`] = Math.round(median(rounds.map((x, i) => x - bare[i]!)) * 10) / 10
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`)
