/**
 * What opt-in session locking costs (docs/concurrency.md): the same session request with and
 * without `lock: true`, in process (no sockets, so the lock's share of the work is not hidden by
 * network time), on the memory store and — when Redis answers on 127.0.0.1:6379 — on Redis.
 *
 *   npx tsx --tsconfig tsconfig.test.json bench/lock-cost.ts
 */
import { HttpApp, HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect, Layer, ManagedRuntime } from "effect"
import { MemoryStore, Session, type SessionStore } from "effect-session"
import { connect } from "node:net"

const N = Number(process.env.LOCK_BENCH_REQUESTS ?? 20_000)
const CONCURRENT = 50

const router = HttpRouter.empty.pipe(
  HttpRouter.get("/count", Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n))))
)

const measure = async (name: string, storeLayer: Layer.Layer<SessionStore, unknown>, lock: boolean) => {
  const runtime = ManagedRuntime.make(storeLayer as Layer.Layer<SessionStore>)
  const handler = HttpApp.toWebHandlerRuntime(await runtime.runtime())(
    router.pipe(Session.middleware({ insecure: true, ...(lock ? { lock: true } : {}) })) as any
  )
  const first = await handler(new Request("http://127.0.0.1/count"))
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!
  const get = () => handler(new Request("http://127.0.0.1/count", { headers: { cookie } })).then((r) => r.text())
  for (let i = 0; i < 2_000; i++) await get() // warm-up
  let start = performance.now()
  for (let i = 0; i < N; i++) await get()
  const sequentialMicros = ((performance.now() - start) * 1000) / N
  start = performance.now()
  const rounds = Math.floor(N / CONCURRENT)
  for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: CONCURRENT }, get))
  const concurrentMicros = ((performance.now() - start) * 1000) / (rounds * CONCURRENT)
  const final = Number(await get())
  await runtime.dispose()
  return { name, lock, sequentialMicros, concurrentMicros, final }
}

const redisUp = () =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: 6379 })
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => resolve(false))
  })

const main = async () => {
  const rows = []
  const memory = MemoryStore.layer()
  rows.push(await measure("memory", memory, false), await measure("memory", memory, true))
  if (await redisUp()) {
    try {
      const RedisStore = await import("effect-session/RedisStore" as string)
      const redis = RedisStore.layer({ url: "redis://127.0.0.1:6379", prefix: `bench-lock:${process.pid}:` })
      rows.push(await measure("redis", redis, false), await measure("redis", redis, true))
    } catch (e) {
      console.log(`(redis rows skipped: ${String(e)})`)
    }
  }
  console.log(
    `| store | lock | µs/request, sequential | µs/request, ${CONCURRENT} concurrent on one session | ratio vs no lock (seq / conc) |`
  )
  console.log("| --- | --- | --- | --- | --- |")
  for (const row of rows) {
    const base = rows.find((r) => r.name === row.name && !r.lock)!
    console.log(
      `| ${row.name} | ${row.lock ? "on" : "off"} | ${row.sequentialMicros.toFixed(1)} | ${
        row.concurrentMicros.toFixed(1)
      } | ${(row.sequentialMicros / base.sequentialMicros).toFixed(2)} / ${
        (row.concurrentMicros / base.concurrentMicros).toFixed(2)
      } |`
    )
  }
}

main()
