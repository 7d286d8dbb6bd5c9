import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type { SessionStoreError } from "../SessionError.js"

/** Sessions written to the store for the first time. */
export const created = Metric.counter("effect_session_created_total", {
  description: "Sessions created (first written to the store)",
  incremental: true
})

/** Sessions destroyed by `Session.destroy`. */
export const destroyed = Metric.counter("effect_session_destroyed_total", {
  description: "Sessions destroyed",
  incremental: true
})

/** Cookies that named a session the store no longer had (expired, destroyed or unknown). */
export const expired = Metric.counter("effect_session_expired_total", {
  description: "Requests whose session cookie named an expired or unknown session",
  incremental: true
})

/** Store operations that failed, tagged with `operation`. */
export const storeErrors = Metric.counter("effect_session_store_errors_total", {
  description: "Session store operations that failed",
  incremental: true
})

/** Store latency in milliseconds, tagged with `operation`. */
export const storeLatency = Metric.timerWithBoundaries(
  "effect_session_store_latency_ms",
  Array.from({ length: 14 }, (_, i) => 0.25 * 2 ** i), // 0.25 ms … 2 s
  "Session store operation latency in milliseconds"
)

const latencyByOperation = {
  read: Metric.tagged(storeLatency, "operation", "read"),
  write: Metric.tagged(storeLatency, "operation", "write"),
  patch: Metric.tagged(storeLatency, "operation", "patch"),
  destroy: Metric.tagged(storeLatency, "operation", "destroy"),
  lock: Metric.tagged(storeLatency, "operation", "lock")
}
const errorsByOperation = {
  read: Metric.tagged(storeErrors, "operation", "read"),
  write: Metric.tagged(storeErrors, "operation", "write"),
  patch: Metric.tagged(storeErrors, "operation", "patch"),
  destroy: Metric.tagged(storeErrors, "operation", "destroy"),
  lock: Metric.tagged(storeErrors, "operation", "lock")
}

export type Operation = keyof typeof latencyByOperation

/** Records latency and failures of one store operation. */
export const track = <A, E extends SessionStoreError | unknown>(
  operation: Operation,
  effect: Effect.Effect<A, E>
): Effect.Effect<A, E> =>
  effect.pipe(
    Metric.trackDuration(latencyByOperation[operation]),
    Effect.tapError(() => Metric.increment(errorsByOperation[operation]))
  )
