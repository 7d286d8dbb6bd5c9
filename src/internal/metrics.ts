import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

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
export const storeLatency = Metric.histogram(
  "effect_session_store_latency_ms",
  MetricBoundaries.exponential({ start: 0.25, factor: 2, count: 14 }), // 0.25 ms … 1,024 ms, then +Inf
  "Session store operation latency in milliseconds"
)

// One constant label array per operation: the metric registry caches hooks by the array's
// identity, so a fresh array per update (as `Metric.tagged` makes) would rebuild the key each time.
const labelsByOperation = {
  read: [MetricLabel.make("operation", "read")],
  write: [MetricLabel.make("operation", "write")],
  patch: [MetricLabel.make("operation", "patch")],
  destroy: [MetricLabel.make("operation", "destroy")],
  lock: [MetricLabel.make("operation", "lock")],
  rotate: [MetricLabel.make("operation", "rotate")]
}

export type Operation = keyof typeof labelsByOperation

const noLabels: ReadonlyArray<never> = []

/** Adds one to a counter, synchronously (the caller is already inside a step of its own). */
export const count = (counter: Metric.Metric.Counter<number>): void => counter.unsafeUpdate(1, noLabels)

/** A span for a store operation: its name and attributes. */
export interface SpanOf {
  readonly name: string
  readonly attributes?: Record<string, unknown>
}

/**
 * Records the latency (real time: latency is a wall-clock fact even under `TestClock`) and the
 * failures of one store operation, and runs it in `span` when a tracer that exports spans is
 * installed (see `traced`), with one Effect step of its own.
 */
export const track = <A, E>(operation: Operation, effect: Effect.Effect<A, E>, span?: SpanOf): Effect.Effect<A, E> =>
  Effect.withFiberRuntime((fiber) => {
    const start = performance.now()
    return Effect.matchCauseEffect(
      span === undefined ? effect : spanned(fiber.currentTracer, effect, span),
      {
        onFailure: (cause) => {
          record(operation, start, true)
          return Exit.failCause(cause)
        },
        onSuccess: (value) => {
          record(operation, start, false)
          return Exit.succeed(value)
        }
      }
    )
  })

/**
 * Records one store operation that began at `start` (`performance.now()`) and has just ended, and
 * whether it failed: for callers that see the outcome themselves (no Effect step of its own).
 */
export const record = (operation: Operation, start: number, failed: boolean): void => {
  const labels = labelsByOperation[operation]
  storeLatency.unsafeUpdate(performance.now() - start, labels)
  if (failed) storeErrors.unsafeUpdate(1, labels)
}

/** Effect's built-in tracer, the one every fiber has until a tracer layer replaces it. */
let builtIn: Tracer.Tracer | undefined

/**
 * Whether `tracer` exports spans: any tracer a layer installed (such as `@effect/opentelemetry`'s),
 * not Effect's built-in one, which keeps spans in memory and hands them to nobody. On effect 3 a
 * span costs a few microseconds (its IDs, its clock reads and a change of the fiber's context), so
 * with the built-in tracer the session makes none.
 */
const exports = (tracer: Tracer.Tracer): boolean =>
  tracer !== (builtIn ??= Context.get(DefaultServices.liveServices, Tracer.Tracer))

/**
 * `effect` in `span` when the running fiber's tracer exports spans (as `track` decides), else
 * `effect` itself. Called while running (in a step of the caller's): it reads the current fiber,
 * and takes no step of its own.
 */
export const inSpan = <A, E, R>(effect: Effect.Effect<A, E, R>, span: SpanOf): Effect.Effect<A, E, R> => {
  const fiber = Option.getOrUndefined(Fiber.getCurrentFiber())
  return fiber === undefined ? effect : spanned(fiber.currentTracer, effect, span)
}

/** `effect` in `span` when `tracer` exports spans, else `effect` itself (`track` and `inSpan`). */
const spanned = <A, E, R>(
  tracer: Tracer.Tracer,
  effect: Effect.Effect<A, E, R>,
  span: SpanOf
): Effect.Effect<A, E, R> =>
  exports(tracer)
    ? Effect.withSpan(effect, span.name, { captureStackTrace: false, attributes: span.attributes })
    : effect
