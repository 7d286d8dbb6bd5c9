/**
 * Settings every benchmark server shares, so that the servers differ only in their session
 * library: the same route, cookie name and cookie attributes (HttpOnly, SameSite=Lax, Path=/,
 * Max-Age 2 h, no Secure because the benchmark speaks plain HTTP on loopback).
 */
/** The one route every server answers. */
export declare const ROUTE = "/count"
/** Session cookie name, the same for every library. */
export declare const COOKIE_NAME = "sid"
/** Session lifetime: the cookie's Max-Age and the record's TTL. */
export declare const TTL_MILLIS: number
/** Signing secret for the libraries that sign their cookie (express-session, @fastify/session). */
export declare const SECRET = "benchmark-secret-benchmark-secret-0123456789"
/** The port the orchestrator chose for this server process. */
export declare const port: () => number
/** The Redis URL for the Redis-backed servers, and the key prefix that keeps runs apart. */
export declare const redisUrl: () => string
export declare const redisPrefix: () => string
/** Ends the process cleanly on SIGTERM/SIGINT (so `--cpu-prof` can write its profile). */
export declare const exitOnSignal: (close: (done: () => void) => void) => void
// # sourceMappingURL=config.d.ts.map
