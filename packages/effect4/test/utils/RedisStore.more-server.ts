/**
 * A private, throw-away `redis-server` for the tests that must break Redis (kill it, pause it)
 * without touching the shared one on 6379 (the effect 4 form of the effect 3 package's
 * test/fixtures/redis-server.ts). No persistence: its data lives only while it runs.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { connect, createServer } from "node:net"

/** Whether `redis-server` is installed. */
export const redisServerInstalled: boolean = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0

/** A loopback port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject(address))
    })
  })

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
  })

const waitUntil = async (port: number, up: boolean, withinMillis: number): Promise<void> => {
  const deadline = Date.now() + withinMillis
  while (Date.now() < deadline) {
    if (await answers(port) === up) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`redis-server on ${port} did not ${up ? "start" : "stop"} within ${withinMillis} ms`)
}

export interface PrivateRedis {
  readonly port: number
  readonly url: string
  /** Starts the server (again) on the same port. */
  readonly start: () => Promise<void>
  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits until the port is closed. */
  readonly kill: () => Promise<void>
}

/** Starts a private redis-server on a free port; it is killed when the scope closes. */
export const privateRedis: Effect.Effect<PrivateRedis, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(async () => {
    const port = await freePort()
    let child: ChildProcess | undefined
    const redis: PrivateRedis = {
      port,
      url: `redis://127.0.0.1:${port}`,
      start: async () => {
        child = spawn(
          "redis-server",
          ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
          { stdio: "ignore" }
        )
        await waitUntil(port, true, 10_000)
      },
      kill: async () => {
        child?.kill("SIGKILL")
        child = undefined
        await waitUntil(port, false, 10_000)
      }
    }
    await redis.start()
    return [redis, () => child] as const
  }),
  ([, current]) => Effect.sync(() => current()?.kill("SIGKILL"))
).pipe(Effect.map(([redis]) => redis))
