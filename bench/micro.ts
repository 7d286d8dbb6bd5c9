/**
 * The middleware's own cost per request, in process and without sockets, for quick A/B checks
 * while changing the library: `npx tsx bench/lib/build.ts && node build/bench/dev/bench/micro.js
 * [variant-src-dir]`. Prints one JSON line with µs per request.
 *
 * Each case serves `GET /count` through `HttpApp.toWebHandlerRuntime` (the same Request/Response
 * conversion for all, so differences are the session's cost), 64 requests in flight at a time,
 * measured in process CPU time per request. The optional argument is
 * a directory holding a compiled `index.js` of the library (e.g. a patched copy) to measure
 * instead of build/bench/dev/src. MICRO_CASES=session/returning,bare/returning picks cases (for
 * `node --cpu-prof`), MICRO_REQUESTS and MICRO_ROUNDS size the run, MICRO_STORE=redis (with
 * REDIS_URL) measures the Redis store instead of the memory store.
 */
import { HttpApp, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Layer, ManagedRuntime, Option } from "effect"
import { randomBytes } from "node:crypto"
import { pathToFileURL } from "node:url"
import { COOKIE_NAME, ROUTE, TTL_MILLIS } from "./lib/config.js"
import { type Library, loadLibrary } from "./lib/library.js"
import { median } from "./lib/stats.js"

const srcDir = process.argv[2]
const lib = await loadLibrary(srcDir)
const { MemoryStore, Session, SessionStore } = lib

const BATCH = 64
const REQUESTS = Number(process.env.MICRO_REQUESTS ?? 2_000)
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 25)
const USERS = 1000

const count = Effect.gen(function*() {
  const current = yield* Session.getOption("n")
  const n = current._tag === "Some" && typeof current.value === "number" ? current.value : 0
  yield* Session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

// the hand-written Map session, as in servers/effect-map.ts
const sessions = new Map<string, { n: number; expiresAt: number }>()
const mapCount = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const now = Date.now()
  const sent = request.cookies[COOKIE_NAME]
  let entry = sent === undefined ? undefined : sessions.get(sent)
  let id: string | undefined
  if (entry === undefined || entry.expiresAt <= now) {
    id = randomBytes(32).toString("base64url")
    entry = { n: 0, expiresAt: 0 }
    sessions.set(id, entry)
  }
  entry.n += 1
  entry.expiresAt = now + TTL_MILLIS
  const response = HttpServerResponse.text(String(entry.n))
  return id === undefined ? response : HttpServerResponse.unsafeSetCookie(response, COOKIE_NAME, id, {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    maxAge: Duration.millis(TTL_MILLIS)
  })
})

// The bare route builds its response per request, as every handler here (and a real one) does.
let served = 0
const apps = {
  bare: HttpRouter.empty.pipe(HttpRouter.get(ROUTE, Effect.sync(() => HttpServerResponse.text(String(++served))))),
  map: HttpRouter.empty.pipe(HttpRouter.get(ROUTE, mapCount)),
  session: HttpRouter.empty.pipe(HttpRouter.get(ROUTE, count)).pipe(
    Session.middleware({ cookieName: COOKIE_NAME, ttl: Duration.millis(TTL_MILLIS), insecure: true })
  )
}

// MICRO_STORE=redis (with REDIS_URL): the Redis store instead of the memory store
const storeLayer = process.env.MICRO_STORE === "redis"
  ? (await import(pathToFileURL(`${srcDir ?? new URL("../../src", import.meta.url).pathname}/RedisStore.js`).href))
    .layer({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix: `micro:${process.pid}:` })
  : MemoryStore.layer({ sweepInterval: "1 hour" })
const runtime = ManagedRuntime.make(storeLayer as ReturnType<Library["MemoryStore"]["layer"]>)
const rt = await runtime.runtime()
// "nullstore": the same middleware over a store that does no work (a constant record, writes
// dropped): what the middleware and the Effect plumbing cost without any store
const nullRecord = { n: 1, __session: { c: Date.now(), r: Date.now() } }
const nullRuntime = ManagedRuntime.make(Layer.succeed(SessionStore, {
  read: () => Effect.succeed(Option.some(nullRecord)),
  write: () => Effect.void,
  destroy: () => Effect.void,
  patch: () => Effect.succeed(true)
}))
const nullRt = await nullRuntime.runtime()
const handlers = {
  ...Object.fromEntries(
    Object.entries(apps).map(([name, app]) => [name, HttpApp.toWebHandlerRuntime(rt)(app as any)])
  ),
  nullstore: HttpApp.toWebHandlerRuntime(nullRt)(apps.session as any)
} as Record<keyof typeof apps | "nullstore", (request: Request) => Promise<Response>>

const url = `http://127.0.0.1${ROUTE}`
const jars = new Map<string, Array<string>>()
const prime = async (name: keyof typeof handlers) => {
  const cookies: Array<string> = []
  for (let i = 0; i < USERS; i++) {
    const response = await handlers[name](new Request(url))
    await response.text()
    const pair = (response.headers.get("set-cookie") ?? "").split(";", 1)[0]!
    cookies.push(pair.startsWith(`${COOKIE_NAME}=`) ? pair : `${COOKIE_NAME}=${randomBytes(32).toString("base64url")}`)
  }
  jars.set(name, cookies)
}

const run = async (name: keyof typeof handlers, returning: boolean): Promise<number> => {
  const cookies = jars.get(name)!
  const handler = handlers[name]
  let next = 0
  const one = async () => {
    const headers: Record<string, string> = returning ? { cookie: cookies[next++ % cookies.length]! } : {}
    const response = await handler(new Request(url, { headers }))
    await response.text()
  }
  const start = process.cpuUsage()
  for (let done = 0; done < REQUESTS; done += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, REQUESTS - done) }, one))
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / REQUESTS
}

for (const name of Object.keys(handlers) as Array<keyof typeof handlers>) await prime(name)
const only = process.env.MICRO_CASES?.split(",")
const cases = (["bare", "map", "session", "nullstore"] as const).flatMap((name) =>
  [true, false].map((returning) => ({ name, returning, key: `${name}/${returning ? "returning" : "new"}` }))
).filter((c) => only === undefined || only.includes(c.key))
// Cases alternate in short slices, so a burst of other work on the machine hits them alike; each
// round's session/bare ratio is taken within the round, and the median round is reported.
const perRound = new Map<string, Array<number>>()
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const c of cases) {
    const micros = await run(c.name, c.returning)
    if (round > 0) perRound.set(c.key, [...(perRound.get(c.key) ?? []), micros]) // round 0 warms up
  }
}
const round1 = (x: number) => Math.round(x * 10) / 10
const result: Record<string, number> = {}
for (const [key, rounds] of perRound) {
  result[`${key} µs`] = round1(median(rounds))
  const bare = perRound.get(`bare/${key.split("/")[1]}`)
  if (bare !== undefined && !key.startsWith("bare/")) {
    result[`${key} ×bare`] = Math.round(median(rounds.map((x, i) => x / bare[i]!)) * 100) / 100
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`)
await runtime.dispose()
await nullRuntime.dispose()
