/**
 * A private, throw-away `redis-server` in a test's scope (effect 4): the Effect-free fixture both
 * lines share (the root's test/fixtures/redis-process.ts), started when the effect runs and killed
 * when the scope closes.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type PrivateRedis, startPrivateRedis } from "../../../../test/fixtures/redis-process.js"

export {
  freePort,
  type PrivateRedis,
  redisServerInstalled,
  startPrivateRedis
} from "../../../../test/fixtures/redis-process.js"

/** Starts a private redis-server on a free port; it is killed when the scope closes. */
export const privateRedis: Effect.Effect<PrivateRedis, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(startPrivateRedis),
  ({ stop }) => Effect.sync(stop)
).pipe(Effect.map(({ redis }) => redis))
