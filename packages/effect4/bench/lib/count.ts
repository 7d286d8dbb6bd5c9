/** The `/count` route for the effect-session-v4 servers, and their middleware. */
import { Effect, Layer, Option } from "effect"
import { Session } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { COOKIE_NAME, ROUTE, TTL_MILLIS } from "../../../../bench/lib/config.js"

/** Reads `n` (0 when absent), stores `n + 1`, answers it: the same route as every other server. */
const count = Effect.gen(function*() {
  const current = yield* Session.getOption("n")
  const n = Option.isSome(current) && typeof current.value === "number" ? current.value : 0
  yield* Session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

/** The route behind the session middleware (route-level), with the benchmark's cookie settings. */
export const Routes = HttpRouter.add("GET", ROUTE, count).pipe(
  Layer.provide(Session.middleware({ cookieName: COOKIE_NAME, ttl: `${TTL_MILLIS} millis`, insecure: true }).layer)
)
