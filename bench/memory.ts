/**
 * Heap bytes per stored session: `node --expose-gc --import tsx bench/memory.ts <store> [count]`.
 *
 * Each store is driven directly (no HTTP) with what its own middleware would store for a session
 * holding `{ n: 1 }`, under IDs of the shape that library issues, and the heap is compared after a
 * forced GC before and after the fill. Prints one JSON line.
 *
 * - `effect-session`: `MemoryStore.make()`; the record the middleware writes, `{ n: 1, __session:
 *   { c, r } }`, under a 43-character SHA-256 storage key.
 * - `express-session`: its `MemoryStore`; `{ cookie, n: 1 }` with a real `Cookie`, 32-character ID.
 * - `@fastify/session`: its default store (a `Map` of live `Session` objects) with real `Session`
 *   objects. They also point at their request; here all share one stub request, so the number is
 *   a lower bound: a real server's sessions each keep their own request alive.
 */
import fastifyCookie from "@fastify/cookie"
import fastifySession from "@fastify/session"
import { Duration, Effect } from "effect"
import { MemoryStore } from "effect-session"
import expressSession from "express-session"
import { createHash, randomBytes } from "node:crypto"
import { createRequire } from "node:module"
import { TTL_MILLIS } from "./lib/config.js"

/** express-session's `Cookie` (its typings omit the constructor's options argument). */
const newCookie = (options: object): expressSession.Cookie =>
  new (expressSession.Cookie as unknown as new(options: object) => expressSession.Cookie)(options)

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

const settle = () => {
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}

const store = process.argv[2] ?? "effect-session"
const count = Number(process.argv[3] ?? 100_000)

const report = (before: number, after: number, size: number) => {
  process.stdout.write(
    `${
      JSON.stringify({
        store,
        count,
        size,
        bytesPerSession: Math.round((after - before) / count),
        heapDelta: after - before
      })
    }\n`
  )
}

const storageKey = () => createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url")

if (store === "effect-session") {
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const memory = yield* MemoryStore.make({ sweepInterval: "1 hour" })
    const ttl = Duration.millis(TTL_MILLIS)
    const before = settle()
    for (let i = 0; i < count; i++) {
      const now = Date.now()
      yield* memory.write(storageKey(), { n: 1, __session: { c: now, r: now } }, ttl)
    }
    const after = settle()
    report(before, after, yield* memory.size)
  })))
} else if (store === "express-session") {
  const memory = new expressSession.MemoryStore()
  const cookieOptions = { httpOnly: true, secure: false, sameSite: "lax" as const, path: "/", maxAge: TTL_MILLIS }
  const before = settle()
  for (let i = 0; i < count; i++) {
    const session = { cookie: newCookie(cookieOptions), n: 1 }
    memory.set(randomBytes(24).toString("base64url"), session as unknown as expressSession.SessionData, () => {})
  }
  await new Promise((resolve) => setImmediate(resolve))
  const after = settle()
  memory.length((_error, length) => report(before, after, length ?? -1))
} else if (store === "fastify-session") {
  // The plugin's Session class is not exported; it is what the default store holds.
  const require = createRequire(import.meta.url)
  const Session = require("@fastify/session/lib/session.js")
  const idGenerator = require("@fastify/session/lib/idGenerator.js")()
  const memory = new fastifySession.MemoryStore()
  const signer = new fastifyCookie.Signer(["benchmark-secret-benchmark-secret-0123456789"])
  const cookieOptions = { httpOnly: true, secure: false, sameSite: "lax", path: "/", maxAge: TTL_MILLIS }
  const request = {}
  const before = settle()
  for (let i = 0; i < count; i++) {
    const session = new Session(memory, request, idGenerator, cookieOptions, signer)
    session.set("n", 1)
    memory.set(session.sessionId, session, () => {})
  }
  const after = settle()
  report(before, after, (memory as unknown as { store: Map<string, unknown> }).store.size)
} else {
  throw new Error(`unknown store ${store}`)
}
