/**
 * Metrics: store operation latency and errors, and session lifecycle counts. No session ID or
 * storage key is ever an attribute.
 */
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"

/** Sessions written for the first time. */
export const created = Metric.counter("effect_session_created_total", {
  description: "sessions created (first write)",
  incremental: true
})

/** Sessions ended with `Session.destroy`. */
export const destroyed = Metric.counter("effect_session_destroyed_total", {
  description: "sessions destroyed",
  incremental: true
})

/** Sessions found past their absolute lifetime when loaded. */
export const expired = Metric.counter("effect_session_expired_total", {
  description: "sessions found past their absolute lifetime",
  incremental: true
})

/** The store operations the middleware makes. */
export type Operation = "read" | "write" | "patch" | "rotate" | "destroy" | "lock"

/** Adds one to `counter`. */
export const count = (counter: Metric.Counter<number>): Effect.Effect<void> => Metric.update(counter, 1)

const operations: ReadonlyArray<Operation> = ["read", "write", "patch", "rotate", "destroy", "lock"]

/**
 * Each operation's latency timer and error counter, with its `operation` attribute set when the
 * metric is made. (`Metric.withAttributes` would merge the attribute into the fiber's context on
 * every update, and the registry would recompute the series key each time.)
 */
const byOperation = Object.fromEntries(operations.map((operation) => [operation, {
  latency: Metric.timer("effect_session_store_duration", {
    description: "session store operation latency",
    attributes: { operation }
  }),
  errors: Metric.counter("effect_session_store_errors_total", {
    description: "session store operations that failed",
    incremental: true,
    attributes: { operation }
  })
}])) as Record<
  Operation,
  { readonly latency: Metric.Metric<Duration.Duration, unknown>; readonly errors: Metric.Counter<number> }
>

/**
 * Runs a store operation with its latency (real time: latency is a wall-clock fact even under
 * `TestClock`) and its failures recorded under `operation`, in the step that sees its exit.
 */
export const track = <A, E, R>(operation: Operation, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const metrics = byOperation[operation]
  return Effect.contextWith((context: Context.Context<never>) => {
    const start = performance.now()
    return Effect.onExit(effect, (exit) => {
      metrics.latency.updateUnsafe(Duration.millis(performance.now() - start), context)
      if (Exit.isFailure(exit)) metrics.errors.updateUnsafe(1, context)
      return Effect.void
    })
  })
}
