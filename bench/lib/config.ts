/**
 * Settings every benchmark server shares, so that the servers differ only in their session
 * library: the same route, cookie name and cookie attributes (HttpOnly, SameSite=Lax, Path=/,
 * Max-Age 2 h, no Secure because the benchmark speaks plain HTTP on loopback).
 */

/** The one route every server answers. */
export const ROUTE = "/count"

/** Session cookie name, the same for every library. */
export const COOKIE_NAME = "sid"

/** Session lifetime: the cookie's Max-Age and the record's TTL. */
export const TTL_MILLIS = 2 * 60 * 60 * 1000

/** Signing secret for the libraries that sign their cookie (express-session, @fastify/session). */
export const SECRET = "benchmark-secret-benchmark-secret-0123456789"

/** The port the orchestrator chose for this server process. */
export const port = (): number => {
  const value = Number(process.env.PORT)
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error("PORT must be set to a free port")
  return value
}

/** The Redis URL for the Redis-backed servers, and the key prefix that keeps runs apart. */
export const redisUrl = (): string => process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
export const redisPrefix = (): string => process.env.REDIS_PREFIX ?? "bench:"

/** Ends the process cleanly on SIGTERM/SIGINT (so `--cpu-prof` can write its profile). */
export const exitOnSignal = (close: (done: () => void) => void): void => {
  const stop = () => close(() => process.exit(0))
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
}
