/**
 * Which external servers the tests can use. A suite that needs one runs when it answers on
 * loopback and is skipped, with a message saying so, when it does not — unless
 * `EFFECT_SESSION_REQUIRE_SERVICES=1` (set by `.ci/run`), which turns that skip into a failure.
 */
import { connect } from "node:net"
import { describe, it } from "vitest"

export const SERVICES = {
  redis: { host: "127.0.0.1", port: 6379, url: "redis://127.0.0.1:6379" },
  postgres: { host: "127.0.0.1", port: 5432, url: "postgres://postgres@127.0.0.1:5432/test" },
  mysql: { host: "127.0.0.1", port: 3306, url: "mysql://root@127.0.0.1:3306/test" }
} as const

export type ServiceName = keyof typeof SERVICES

export const required = process.env.EFFECT_SESSION_REQUIRE_SERVICES === "1"

const probe = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
  })

const cache = new Map<ServiceName, Promise<boolean>>()

/** Whether the service answers on loopback (cached per test file). */
export const reachable = (name: ServiceName): Promise<boolean> => {
  let p = cache.get(name)
  if (p === undefined) {
    p = probe(SERVICES[name].host, SERVICES[name].port)
    cache.set(name, p)
  }
  return p
}

/**
 * `describe` that runs only when `name` is reachable. Unreachable: skipped with a console note, or,
 * with EFFECT_SESSION_REQUIRE_SERVICES=1, a failing test that says which server is missing.
 */
export const describeWith = async (name: ServiceName, title: string, body: () => void): Promise<void> => {
  if (await reachable(name)) {
    describe(title, body)
    return
  }
  const where = `${SERVICES[name].host}:${SERVICES[name].port}`
  if (required) {
    describe(title, () => {
      it(`${name} must be reachable at ${where} (EFFECT_SESSION_REQUIRE_SERVICES=1)`, () => {
        throw new Error(`${name} is not reachable at ${where}, and .ci/run requires it`)
      })
    })
    return
  }
  console.warn(`[effect-session] SKIPPING "${title}": ${name} is not reachable at ${where}`)
  describe.skip(`${title} (skipped: ${name} not reachable at ${where})`, body)
}
