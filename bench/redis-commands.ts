/**
 * Redis traffic per request for effect-session on `RedisStore`: `node bench/redis-commands.js`
 * with REDIS_URL (and REDIS_PREFIX) set. Prints one JSON line.
 *
 * An effect-session server runs in this process with its Redis client pointed at a small TCP proxy
 * in front of Redis. The proxy decodes the client's RESP commands (names, and how many separate
 * writes the client made: its round trips); `INFO commandstats` deltas count what Redis executed,
 * commands run inside Lua scripts included. Kinds of request, each sent 200 times with one
 * returning user's cookie:
 *
 * - `untouched`: the handler never uses the session;
 * - `read`: the handler reads `n`;
 * - `unchanged`: the handler reads `n` and puts the same value back;
 * - `changed`: the handler increments `n` (the benchmark's workload).
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { Session } from "effect-session"
import * as RedisStore from "effect-session/RedisStore"
import { Redis } from "ioredis"
import * as http from "node:http"
import * as net from "node:net"
import { COOKIE_NAME, redisPrefix, redisUrl } from "./lib/config.js"
import { count, sessionOptions } from "./lib/effect-count.js"

const REQUESTS = 200
const WRITES = new Set(["set", "del", "hset", "hdel", "hincrbyfloat", "pexpire", "expire", "evalsha", "eval", "unlink"])

/** Commands the client sent through the proxy, and in how many separate writes (round trips). */
class Proxy {
  commands = new Map<string, number>()
  roundTrips = 0
  reset() {
    this.commands = new Map()
    this.roundTrips = 0
  }
  listen(target: URL): Promise<net.Server> {
    const server = net.createServer((client) => {
      const upstream = net.connect({ host: target.hostname, port: Number(target.port || 6379) })
      let pending: Buffer = Buffer.alloc(0)
      client.on("data", (chunk: Buffer) => {
        this.roundTrips++
        pending = Buffer.concat([pending, chunk])
        pending = this.parse(pending)
        upstream.write(chunk)
      })
      upstream.on("data", (chunk: Buffer) => client.write(chunk))
      client.on("close", () => upstream.destroy())
      upstream.on("close", () => client.destroy())
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
    })
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)))
  }
  /** Consumes every complete RESP command array in `buffer`; returns the incomplete rest. */
  private parse(buffer: Buffer): Buffer {
    let at = 0
    while (at < buffer.length) {
      const start = at
      const line = (from: number) => {
        const end = buffer.indexOf("\r\n", from)
        return end === -1 ? undefined : { text: buffer.toString("latin1", from, end), next: end + 2 }
      }
      const header = line(at)
      if (header === undefined || header.text[0] !== "*") return buffer.subarray(start)
      const count = Number(header.text.slice(1))
      at = header.next
      let name: string | undefined
      for (let i = 0; i < count; i++) {
        const size = line(at)
        if (size === undefined) return buffer.subarray(start)
        const length = Number(size.text.slice(1))
        if (size.next + length + 2 > buffer.length) return buffer.subarray(start)
        if (i === 0) name = buffer.toString("latin1", size.next, size.next + length).toLowerCase()
        at = size.next + length + 2
      }
      if (name !== undefined) this.commands.set(name, (this.commands.get(name) ?? 0) + 1)
    }
    return Buffer.alloc(0)
  }
}

const commandStats = async (admin: Redis) => {
  const stats = new Map<string, number>()
  for (const line of (await admin.info("commandstats")).split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match !== null) stats.set(match[1]!.toLowerCase(), Number(match[2]))
  }
  return stats
}

const get = (port: number, path: string, cookie: string | undefined) =>
  new Promise<{ body: string; setCookie: Array<string> }>((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, headers: cookie === undefined ? {} : { cookie } },
      (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => body += chunk)
        response.on("end", () => resolve({ body, setCookie: response.headers["set-cookie"] ?? [] }))
      }
    )
    request.on("error", reject)
    request.end()
  })

const target = new URL(redisUrl())
const proxy = new Proxy()
const proxyServer = await proxy.listen(target)
const proxyPort = (proxyServer.address() as net.AddressInfo).port
const admin = new Redis({ host: target.hostname, port: Number(target.port || 6379) })

const readN = Effect.map(Session.getOption("n"), (n) => HttpServerResponse.text(String(Option.getOrElse(n, () => 0))))
const sameN = Effect.gen(function*() {
  const n = yield* Session.getOption("n")
  if (Option.isSome(n)) yield* Session.put("n", n.value)
  return HttpServerResponse.text(String(Option.getOrElse(n, () => 0)))
})
const routes = {
  untouched: { path: "/none", description: "handler never uses the session" },
  read: { path: "/read", description: "handler reads n" },
  unchanged: { path: "/same", description: "handler puts back the value it read" },
  changed: { path: "/count", description: "handler increments n" }
} as const

const app = HttpRouter.empty.pipe(
  HttpRouter.get("/none", HttpServerResponse.text("ok")),
  HttpRouter.get("/read", readN),
  HttpRouter.get("/same", sameN),
  HttpRouter.get("/count", count),
  Session.middleware(sessionOptions)
)

const program = Effect.gen(function*() {
  const address = yield* HttpServer.addressWith((a) => Effect.succeed(a))
  const port = address._tag === "TcpAddress" ? address.port : 0
  // prime: a session, and the Lua scripts loaded (the first EVALSHA of each falls back to EVAL)
  const first = yield* Effect.promise(() => get(port, "/count", undefined))
  const cookie = first.setCookie.map((c) => c.split(";", 1)[0]!).find((c) => c.startsWith(`${COOKIE_NAME}=`))
  if (cookie === undefined) return yield* Effect.dieMessage("no session cookie")
  yield* Effect.promise(() => get(port, "/count", cookie))
  const kinds = []
  for (const [kind, route] of Object.entries(routes)) {
    const before = yield* Effect.promise(() => commandStats(admin))
    proxy.reset()
    for (let i = 0; i < REQUESTS; i++) yield* Effect.promise(() => get(port, route.path, cookie))
    const after = yield* Effect.promise(() => commandStats(admin))
    const executed: Record<string, number> = {}
    let executedTotal = 0
    for (const [name, calls] of after) {
      const delta = calls - (before.get(name) ?? 0) - (name === "info" ? 1 : 0)
      if (delta > 0) {
        executed[name] = Math.round((delta / REQUESTS) * 100) / 100
        executedTotal += delta
      }
    }
    const sent: Record<string, number> = {}
    let sentTotal = 0
    let writes = 0
    for (const [name, calls] of proxy.commands) {
      sent[name] = Math.round((calls / REQUESTS) * 100) / 100
      sentTotal += calls
      if (WRITES.has(name)) writes += calls
    }
    kinds.push({
      kind,
      description: route.description,
      requests: REQUESTS,
      commandsPerRequest: Math.round((sentTotal / REQUESTS) * 100) / 100,
      writesPerRequest: Math.round((writes / REQUESTS) * 100) / 100,
      roundTripsPerRequest: Math.round((proxy.roundTrips / REQUESTS) * 100) / 100,
      commands: sent,
      executedPerRequest: Math.round((executedTotal / REQUESTS) * 100) / 100,
      executed
    })
  }
  return { kinds }
})

const result = await Effect.runPromise(
  program.pipe(
    Effect.provide(
      HttpServer.serve(app).pipe(
        Layer.provideMerge(NodeHttpServer.layer(http.createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provide(RedisStore.layer({ url: `redis://127.0.0.1:${proxyPort}`, prefix: `${redisPrefix()}commands:` }))
      )
    ),
    Effect.scoped
  )
)
process.stdout.write(`${JSON.stringify(result)}\n`)
admin.disconnect()
proxyServer.close()
process.exit(0)
