/**
 * Effect steps per request, counted (not timed): the run loop reports every step it takes to a
 * `Supervisor` when the `OpSupervision` runtime flag is on. Deterministic, so it compares two
 * revisions exactly on a busy machine where CPU timings are noisy.
 * `npx tsx bench/lib/build.ts && node build/bench/dev/bench/steps.js [variant-src-dir]`.
 * Prints steps per request for each case and the difference to the bare route; with a variant
 * directory, the variant's line is printed second. `STEPS_STORE=redis` counts them on the Redis store
 * (the Redis at REDIS_URL, default 127.0.0.1:6379) instead of the memory store.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Layer, ManagedRuntime, Option, RuntimeFlags, RuntimeFlagsPatch, Supervisor } from "effect"
import { pathToFileURL } from "node:url"
import { COOKIE_NAME, redisUrl, ROUTE, TTL_MILLIS } from "./lib/config.js"
import { loadLibrary } from "./lib/library.js"
import { removeKeysAt } from "./lib/redis.js"

const REQUESTS = 1000

class StepCounter extends Supervisor.AbstractSupervisor<void> {
  steps = 0
  get value() {
    return Effect.void
  }
  override onEffect(): void {
    this.steps++
  }
}

const count = async (srcDir: string | undefined) => {
  const { MemoryStore, Session } = await loadLibrary(srcDir)
  const options = { cookieName: COOKIE_NAME, ttl: Duration.millis(TTL_MILLIS), insecure: true }
  const answer = Effect.sync(() => HttpServerResponse.text("ok"))
  const counter = Effect.gen(function*() {
    const current = yield* Session.getOption("n")
    const n = Option.isSome(current) && typeof current.value === "number" ? current.value : 0
    yield* Session.put("n", n + 1)
    return HttpServerResponse.text(String(n + 1))
  })
  const apps = {
    bare: HttpRouter.empty.pipe(HttpRouter.get(ROUTE, answer)),
    frame: HttpRouter.empty.pipe(HttpRouter.get(ROUTE, answer), Session.middleware(options)),
    read: HttpRouter.empty.pipe(
      HttpRouter.get(ROUTE, Effect.zipRight(Session.getOption("n"), answer)),
      Session.middleware(options)
    ),
    session: HttpRouter.empty.pipe(HttpRouter.get(ROUTE, counter), Session.middleware(options))
  }
  const prefix = `steps:${process.pid}:`
  const RedisStore: typeof import("effect-session/RedisStore") = srcDir === undefined
    ? await import("effect-session/RedisStore")
    : await import(pathToFileURL(`${srcDir}/RedisStore.js`).href)
  const runtime = ManagedRuntime.make(
    (process.env.STEPS_STORE === "redis"
      ? RedisStore.layer({ url: redisUrl(), prefix })
      : MemoryStore.layer({ sweepInterval: "1 hour" })) as Layer.Layer<any>
  )
  const request = (cookie?: string) =>
    HttpServerRequest.fromWeb(
      new Request(`http://127.0.0.1${ROUTE}`, cookie === undefined ? {} : { headers: { cookie } })
    )
  const serve = (app: typeof apps.session, req: HttpServerRequest.HttpServerRequest) =>
    Effect.uninterruptible(Effect.provideService(app, HttpServerRequest.HttpServerRequest, req)) as Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      unknown,
      never
    >
  const first = await runtime.runPromise(serve(apps.session, request()))
  const cookie = `${COOKIE_NAME}=${first.cookies.cookies[COOKIE_NAME]!.value}`
  const measure = async (app: typeof apps.session, cookie: string | undefined) => {
    const supervisor = new StepCounter()
    await runtime.runPromise(
      Effect.forEach(Array.from({ length: REQUESTS }), () => serve(app, request(cookie)), { discard: true }).pipe(
        Effect.supervised(supervisor),
        Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
      )
    )
    return supervisor.steps / REQUESTS
  }
  const result: Record<string, number> = {}
  const bare = await measure(apps.bare, cookie)
  result["bare"] = bare
  for (const [name, app] of Object.entries(apps)) {
    if (name === "bare") continue
    result[`${name}/returning +steps`] = Math.round((await measure(app, cookie)) - bare)
  }
  result["session/new +steps"] = Math.round((await measure(apps.session, undefined)) - bare)
  await runtime.dispose()
  if (process.env.STEPS_STORE === "redis") await removeKeysAt(redisUrl(), prefix)
  return result
}

process.stdout.write(`${JSON.stringify(await count(undefined))}\n`)
if (process.argv[2] !== undefined) process.stdout.write(`${JSON.stringify(await count(process.argv[2]))}\n`)
