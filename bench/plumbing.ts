/**
 * The session middleware's own CPU cost per request, with no HTTP at all: the app (router +
 * middleware + handler) runs as an Effect against prebuilt requests, one after another in one
 * fiber, so what differs between cases is only the session's work and the Effect steps it adds.
 * The cases split a returning request's cost: `frame` (the middleware around a handler that never
 * touches the session), `read` (plus the load and one read), `session` (plus the write and save).
 * `npx tsx bench/lib/build.ts && node build/bench/dev/bench/plumbing.js [variant-src-dir]`.
 * Prints µs per request and the difference to the bare route (no session).
 *
 * With a variant directory, both libraries are measured in the same process, their rounds
 * interleaved (this one, the variant, this one...), so that a busy machine weighs on both alike;
 * the variant's line is printed second.
 *
 * PLUMBING_REQUESTS (20,000) and PLUMBING_ROUNDS (15) size the run; PLUMBING_CONCURRENCY (1) runs that
 * many fibers over the requests at once, as concurrent connections do; PLUMBING_CASES picks cases
 * (`redis/returning` and `redis/new` use the Redis at REDIS_URL, default 127.0.0.1:6379).
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Layer, ManagedRuntime, Option } from "effect"
import { pathToFileURL } from "node:url"
import { COOKIE_NAME, redisUrl, ROUTE, TTL_MILLIS } from "./lib/config.js"
import { loadLibrary } from "./lib/library.js"
import { removeKeysAt } from "./lib/redis.js"
import { median } from "./lib/stats.js"

const REQUESTS = Number(process.env.PLUMBING_REQUESTS ?? 20_000)
const ROUNDS = Number(process.env.PLUMBING_ROUNDS ?? 15)
const USERS = 1000
const CONCURRENCY = Number(process.env.PLUMBING_CONCURRENCY ?? 1)
const PREFIX = `plumbing:${process.pid}:`

/** One library's apps, stores, cookie jars and cases. */
const setup = async (srcDir: string | undefined) => {
  const lib = await loadLibrary(srcDir)
  const { MemoryStore, Session, SessionStore } = lib
  const RedisStore: typeof import("effect-session/RedisStore") = srcDir === undefined
    ? await import("effect-session/RedisStore")
    : await import(pathToFileURL(`${srcDir}/RedisStore.js`).href)

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
  const bareApp = HttpRouter.empty.pipe(HttpRouter.get(ROUTE, answer))
  const sessionApp = HttpRouter.empty.pipe(HttpRouter.get(ROUTE, count), Session.middleware(options))
  // The middleware around a handler that never touches the session: the per-request frame alone.
  const frameApp = HttpRouter.empty.pipe(HttpRouter.get(ROUTE, answer), Session.middleware(options))
  // A handler that only reads: the frame, the load and one accessor, but no save.
  const readApp = HttpRouter.empty.pipe(
    HttpRouter.get(ROUTE, Effect.zipRight(Session.getOption("n"), answer)),
    Session.middleware(options)
  )

  const nullRecord = { n: 1, __session: { c: Date.now(), r: Date.now() } }
  const stores = {
    memory: MemoryStore.layer({ sweepInterval: "1 hour" }),
    // a real Redis (REDIS_URL, default 127.0.0.1:6379): the client's CPU counts too, the wait does not
    redis: RedisStore.layer({ url: redisUrl(), prefix: PREFIX }),
    // a store that does no work: a constant record, writes dropped
    nullstore: Layer.succeed(SessionStore, {
      read: () => Effect.succeed(Option.some(nullRecord)),
      write: () => Effect.void,
      destroy: () => Effect.void,
      patch: () => Effect.succeed(true)
    })
  }

  const url = `http://127.0.0.1${ROUTE}`
  const requestFor = (cookie: string | undefined) =>
    HttpServerRequest.fromWeb(new Request(url, cookie === undefined ? {} : { headers: { cookie } }))

  type App = typeof sessionApp
  // Uninterruptible, as an HTTP server runs its app: the middleware then skips the interruption
  // mask it needs on interruptible fibers, and so does a real request.
  const serve = (app: App, request: HttpServerRequest.HttpServerRequest) =>
    Effect.uninterruptible(Effect.provideService(app, HttpServerRequest.HttpServerRequest, request)) as Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      unknown,
      never
    >

  const cases = [
    { key: "bare/returning", store: "memory", app: bareApp as App, returning: true },
    { key: "bare/new", store: "memory", app: bareApp as App, returning: false },
    { key: "frame/returning", store: "memory", app: frameApp as App, returning: true },
    { key: "read/returning", store: "memory", app: readApp as App, returning: true },
    { key: "session/returning", store: "memory", app: sessionApp, returning: true },
    { key: "session/new", store: "memory", app: sessionApp, returning: false },
    { key: "redis/returning", store: "redis", app: sessionApp, returning: true },
    { key: "redis/new", store: "redis", app: sessionApp, returning: false },
    { key: "nullstore/returning", store: "nullstore", app: sessionApp, returning: true },
    { key: "nullstore/new", store: "nullstore", app: sessionApp, returning: false }
  ] as const
  const only = process.env.PLUMBING_CASES?.split(",")
  const selected = cases.filter((c) => only === undefined || only.includes(c.key))

  const needed = new Set(selected.map((c) => c.store))
  const runtimes = {
    memory: ManagedRuntime.make(stores.memory as Layer.Layer<any>),
    redis: ManagedRuntime.make((needed.has("redis") ? stores.redis : stores.memory) as Layer.Layer<any>),
    nullstore: ManagedRuntime.make(stores.nullstore as Layer.Layer<any>)
  }

  // One request per user, each with the cookie its first (cookie-less) request was given.

  const jar = async (runtime: ManagedRuntime.ManagedRuntime<any, any>) => {
    const requests: Array<HttpServerRequest.HttpServerRequest> = []
    for (let i = 0; i < USERS; i++) {
      const response = await runtime.runPromise(serve(sessionApp, requestFor(undefined)))
      const value = response.cookies.cookies[COOKIE_NAME]?.value
      if (value === undefined) throw new Error("priming: no session cookie")
      requests.push(requestFor(`${COOKIE_NAME}=${value}`))
    }
    return requests
  }

  const jars = {
    memory: await jar(runtimes.memory),
    redis: needed.has("redis") ? await jar(runtimes.redis) : [],
    nullstore: await jar(runtimes.nullstore)
  }
  const fresh = requestFor(undefined)

  const loop = (app: App, requests: ReadonlyArray<HttpServerRequest.HttpServerRequest> | undefined) =>
    Effect.suspend(() => {
      let i = 0
      const one = Effect.whileLoop({
        while: () => i < REQUESTS,
        // The index moves as a request starts, not when it ends, so concurrent fibers take turns.
        body: () => {
          const n = i++
          return serve(app, requests === undefined ? fresh : requests[n % requests.length]!)
        },
        step: () => {}
      })
      // PLUMBING_CONCURRENCY > 1: that many fibers share the requests, as concurrent connections
      // do (a Redis client then pipelines their commands).
      return CONCURRENCY === 1 ? one : Effect.asVoid(Effect.all(Array.from({ length: CONCURRENCY }, () => one), {
        concurrency: "unbounded"
      }))
    })

  return { selected, runtimes, jars, loop }
}

const variants = [await setup(undefined), ...(process.argv[2] === undefined ? [] : [await setup(process.argv[2])])]
const perRound = variants.map(() => new Map<string, Array<number>>())
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [v, { jars, loop, runtimes, selected }] of variants.entries()) {
    for (const c of selected) {
      const runtime = runtimes[c.store]
      const effect = loop(c.app, c.returning ? jars[c.store] : undefined)
      const start = process.cpuUsage()
      await runtime.runPromise(effect)
      const used = process.cpuUsage(start)
      if (round > 0) perRound[v]!.set(c.key, [...(perRound[v]!.get(c.key) ?? []), (used.user + used.system) / REQUESTS])
    }
  }
}
for (const rounds of perRound) {
  const result: Record<string, number> = {}
  for (const [key, times] of rounds) {
    result[`${key} µs`] = Math.round(median(times) * 10) / 10
    const bare = rounds.get(`bare/${key.split("/")[1]}`)
    if (bare !== undefined && !key.startsWith("bare/")) {
      result[`${key} +µs`] = Math.round(median(times.map((x, i) => x - bare[i]!)) * 10) / 10
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
for (const { runtimes } of variants) {
  await runtimes.memory.dispose()
  await runtimes.redis.dispose()
  await runtimes.nullstore.dispose()
}
// The sessions this run wrote to Redis (a new-session case writes one per request) are removed.
if (variants.some(({ selected }) => selected.some((c) => c.store === "redis"))) await removeKeysAt(redisUrl(), PREFIX)
