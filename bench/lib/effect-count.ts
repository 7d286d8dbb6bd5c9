/** The `/count` route for the effect-session servers, and their middleware options. */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect, Option } from "effect"
import { Session } from "effect-session"
import { COOKIE_NAME, ROUTE, TTL_MILLIS } from "./config.js"

/** Reads `n` (0 when absent), stores `n + 1`, answers it. */
export const count = Effect.gen(function*() {
  const current = yield* Session.getOption("n")
  const n = Option.isSome(current) && typeof current.value === "number" ? current.value : 0
  yield* Session.put("n", n + 1)
  return HttpServerResponse.text(String(n + 1))
})

export const router = HttpRouter.empty.pipe(HttpRouter.get(ROUTE, count))

export const sessionOptions: Session.Options = { cookieName: COOKIE_NAME, ttl: TTL_MILLIS, insecure: true }
