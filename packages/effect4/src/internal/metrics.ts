/**
 * Metrics: store operation latency and errors, and session lifecycle counts. No session ID or
 * storage key is ever an attribute.
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Tracer from "effect/Tracer"

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
  // The effect 3 package's series (docs/observability.md): the same name, attribute and buckets,
  // so one dashboard serves both lines. Updated with the milliseconds: no `Duration` per update.
  latency: Metric.histogram("effect_session_store_latency_ms", {
    description: "Session store operation latency in milliseconds",
    attributes: { operation },
    boundaries: Metric.exponentialBoundaries({ start: 0.25, factor: 2, count: 14 }) // 0.25 ms … 1,024 ms, then +Inf
  }),
  errors: Metric.counter("effect_session_store_errors_total", {
    description: "session store operations that failed",
    incremental: true,
    attributes: { operation }
  })
}])) as Record<
  Operation,
  { readonly latency: Metric.Metric<number, unknown>; readonly errors: Metric.Counter<number> }
>

/** Records the end of `operation` started at `start`: its latency, and a failure when it `failed`. */
const recordEnd = (operation: Operation, start: number, context: Context.Context<never>, failed: boolean): void => {
  const metrics = byOperation[operation]
  metrics.latency.updateUnsafe(performance.now() - start, context)
  if (failed) metrics.errors.updateUnsafe(1, context)
}

/** `effect`, timed from `start`, with its latency and failure recorded in `context` when it exits. */
const timed = <A, E, R>(
  operation: Operation,
  effect: Effect.Effect<A, E, R>,
  context: Context.Context<never>,
  start: number
): Effect.Effect<A, E, R> =>
  Effect.onExit(effect, (exit) => {
    recordEnd(operation, start, context, Exit.isFailure(exit))
    return Effect.void
  })

/**
 * Runs a store operation with its latency (real time: latency is a wall-clock fact even under
 * `TestClock`) and its failures recorded under `operation`, in the step that sees its exit. The
 * clock starts when the operation starts running.
 */
export const track = <A, E, R>(operation: Operation, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.contextWith((context: Context.Context<never>) => timed(operation, effect, context, performance.now()))

/**
 * `track` for an operation that starts running right away: called while running (as the load
 * and the save call it, for the operation they run next), it reads the fiber's context at once
 * instead of in a step of its own. An operation built to run later (after another) needs `track`.
 */
export const trackNow = <A, E, R>(operation: Operation, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const fiber = Fiber.getCurrent()
  return fiber === undefined ? track(operation, effect) : timed(operation, effect, fiber.context, performance.now())
}

/**
 * `trackNow`, and what follows the operation, in one continuation (as `Effect.matchCauseEffect`):
 * the latency (and a failure) are recorded as the operation exits, then `onSuccess` or
 * `onFailure` runs (by default, the failure goes on as it is). Only where the fiber is uninterruptible: an interruption of an interruptible
 * fiber skips recovery continuations, and with them the recording (`trackNow`'s finalizer runs).
 */
export const trackUninterruptibleNow = <A, E, R, B, E2, R2, E3 = never>(
  operation: Operation,
  effect: Effect.Effect<A, E, R>,
  onSuccess: (value: A) => Effect.Effect<B, E2, R2>,
  onFailure?: (cause: Cause.Cause<E>) => Effect.Effect<B, E3, R2>
): Effect.Effect<B, E | E2 | E3, R | R2> => {
  // Each continuation runs at most once, and only one of them: the end is recorded once.
  const context = Fiber.getCurrent()?.context ?? Context.empty()
  const start = performance.now()
  return Effect.matchCauseEffect(effect, {
    onSuccess: (value) => {
      recordEnd(operation, start, context, false)
      return onSuccess(value)
    },
    onFailure: (cause): Effect.Effect<B, E | E3, R2> => {
      recordEnd(operation, start, context, true)
      return onFailure === undefined ? Effect.failCause(cause) : onFailure(cause)
    }
  })
}

/** Adds one to `counter` at once: called while running (as `trackNow`). */
export const countNow = (counter: Metric.Counter<number>): void => {
  const fiber = Fiber.getCurrent()
  if (fiber !== undefined) counter.updateUnsafe(1, fiber.context)
}

/**
 * Whether the running fiber's tracer is Effect's built-in one (`Tracer.nativeTracer`, which every
 * fiber has until a layer installs another): it keeps spans in memory and hands them to nobody.
 * `Fiber.Cache.tracer` holds only a tracer that was installed explicitly.
 */
const nativeTracing = (): boolean => {
  const fiber = Fiber.getCurrent()
  if (fiber === undefined) return false
  const tracer = fiber.cache.tracer
  return tracer === undefined || tracer === Tracer.nativeTracer
}

/**
 * Whether `span` makes spans in the running fiber: its tracer is one that exports them. Called
 * while running, as `span`.
 */
export const spansExported = (): boolean => !nativeTracing()

/**
 * `effect` in a span named `name` when the running fiber's tracer is one that exports spans (any
 * tracer a layer installed, such as `@effect/opentelemetry`'s). Under Effect's built-in tracer
 * nobody can observe the span, and making one is a span object, clock reads and two changes of
 * the fiber's context per load and per save: then the session makes none (effect's own
 * `HttpEffect.toHandled` skips its request span the same way). Call it while the effect is being
 * run (inside `Effect.suspend`, a continuation), not when it is built: it reads the running fiber.
 * The span's one attribute comes as a key and a value, not an object: an object would be made on
 * every request, span or not.
 */
export const span = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributeKey?: string,
  attributeValue?: unknown
): Effect.Effect<A, E, R> =>
  nativeTracing()
    ? effect
    : Effect.withSpan(effect, name, {
      captureStackTrace: false,
      ...(attributeKey === undefined ? {} : { attributes: { [attributeKey]: attributeValue } })
    })
