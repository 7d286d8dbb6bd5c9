/**
 * The longest event-loop stall while a store removes expired sessions:
 * `node --import tsx bench/stall.ts <store> [count]`. Prints one JSON line.
 *
 * The store is filled with `count` sessions that expire after 1 ms; after 5 ms of real time they
 * are all expired, and the cleanup runs while two probes watch the event loop:
 * `perf_hooks.monitorEventLoopDelay` (resolution 1 ms) and a `setImmediate` chain that records the
 * longest gap between two turns of the loop. The stall is the larger of the two maxima.
 *
 * - `effect-session`: `MemoryStore` `sweep` (which works in chunks and yields between them).
 * - `express-session`: its `MemoryStore` has no sweeper; `all()` is the call that visits (and
 *   deletes) expired sessions, in one synchronous pass.
 */
import { Duration, Effect } from "effect"
import { MemoryStore } from "effect-session"
import expressSession from "express-session"
import { createHash, randomBytes } from "node:crypto"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"

/** express-session's `Cookie` (its typings omit the constructor's options argument). */
const newCookie = (options: object): expressSession.Cookie =>
  new (expressSession.Cookie as unknown as new(options: object) => expressSession.Cookie)(options)

const store = process.argv[2] ?? "effect-session"
const count = Number(process.argv[3] ?? 1_000_000)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `cleanup` under both probes; resolves with the stall it caused. */
const measure = async (cleanup: () => Promise<number>) => {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  let last = performance.now()
  let maxGap = 0
  let running = true
  const tick = () => {
    const now = performance.now()
    if (now - last > maxGap) maxGap = now - last
    last = now
    if (running) setImmediate(tick)
  }
  histogram.enable()
  await sleep(20) // let the histogram take a few quiet samples first
  last = performance.now()
  setImmediate(tick)
  const start = performance.now()
  const removed = await cleanup()
  const elapsed = performance.now() - start
  await sleep(5)
  running = false
  histogram.disable()
  const monitorMax = histogram.max / 1e6
  return {
    store,
    count,
    removed,
    cleanupMillis: Math.round(elapsed * 10) / 10,
    monitorMaxMillis: Math.round(monitorMax * 10) / 10,
    immediateMaxGapMillis: Math.round(maxGap * 10) / 10,
    stallMillis: Math.round(Math.max(monitorMax, maxGap) * 10) / 10
  }
}

const print = (result: object) => process.stdout.write(`${JSON.stringify(result)}\n`)

if (store === "effect-session") {
  const key = () => createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url")
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const memory = yield* MemoryStore.make({ sweepInterval: "1 hour" })
    const ttl = Duration.millis(1)
    for (let i = 0; i < count; i++) {
      const now = Date.now()
      yield* memory.write(key(), { n: 1, __session: { c: now, r: now } }, ttl)
    }
    yield* Effect.promise(() => sleep(5))
    const result = yield* Effect.promise(() => measure(() => Effect.runPromise(memory.sweep)))
    print({ ...result, left: yield* memory.size })
  })))
} else if (store === "express-session") {
  const memory = new expressSession.MemoryStore()
  const cookieOptions = { httpOnly: true, secure: false, sameSite: "lax" as const, path: "/", maxAge: 1 }
  for (let i = 0; i < count; i++) {
    const session = { cookie: newCookie(cookieOptions), n: 1 }
    memory.set(randomBytes(24).toString("base64url"), session as unknown as expressSession.SessionData, () => {})
  }
  await sleep(5)
  const result = await measure(() =>
    new Promise<number>((resolve, reject) =>
      memory.all((error, sessions) => error ? reject(error) : resolve(count - Object.keys(sessions ?? {}).length))
    )
  )
  memory.length((_error, left) => print({ ...result, left }))
} else {
  throw new Error(`unknown store ${store}`)
}
