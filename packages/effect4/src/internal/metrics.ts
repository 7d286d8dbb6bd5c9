/**
 * Metrics: store operation latency and errors, and session lifecycle counts. No session ID or
 * storage key is ever an attribute.
 */
import * as Effect from "effect/Effect"
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

/** Store operations that failed, by operation. */
export const storeErrors = Metric.counter("effect_session_store_errors_total", {
  description: "session store operations that failed",
  incremental: true
})

/** Store operation latency, by operation. */
export const storeLatency = Metric.timer("effect_session_store_duration", {
  description: "session store operation latency"
})

/** The store operations the middleware makes. */
export type Operation = "read" | "write" | "patch" | "rotate" | "destroy" | "lock"

/** Adds one to `counter`. */
export const count = (counter: Metric.Counter<number>): Effect.Effect<void> => Metric.update(counter, 1)

const operations: ReadonlyArray<Operation> = ["read", "write", "patch", "rotate", "destroy", "lock"]

/** The metrics of each operation, attributed once: per request, only the update remains. */
const byOperation = Object.fromEntries(operations.map((operation) => [operation, {
  latency: Metric.withAttributes(storeLatency, { operation }),
  errors: Metric.withAttributes(storeErrors, { operation })
}])) as Record<Operation, { readonly latency: typeof storeLatency; readonly errors: typeof storeErrors }>

/** Runs a store operation with its latency and its failures recorded under `operation`. */
export const track = <A, E, R>(operation: Operation, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const metrics = byOperation[operation]
  return effect.pipe(Effect.trackDuration(metrics.latency), Effect.trackErrors(metrics.errors, () => 1))
}
