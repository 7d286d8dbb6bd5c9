/**
 * The in-process store: for a single replica and for tests.
 *
 * @since 0.1.0
 */
import { MemoryTable } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { checkObject, decodeDuration } from "./internal/options.js"
import { expiryAt, positiveInteger, positiveMillis, storeError } from "./internal/storeCommon.js"
import { type SessionConfigError, SessionLockTimeout, type SessionStoreError } from "./SessionError.js"
import { type SessionData, type SessionPatch, SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * Memory store options. Every field is optional.
 *
 * @example
 * ```ts
 * import type { MemoryStore } from "effect-session-v4"
 *
 * const options: MemoryStore.Options = { ttl: "30 minutes", sweepInterval: "1 minute", maxEntries: 100_000 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.Input | undefined
  /** How often the sweeper removes expired entries. Default 1 minute. */
  readonly sweepInterval?: Duration.Input | undefined
  /**
   * Entries the sweeper checks before it yields to the event loop. Default 10,000; a slice also
   * ends after 2 ms of wall time, so a sweep never holds the event loop for longer than that.
   */
  readonly sweepChunk?: number | undefined
  /**
   * The most entries kept. When a write of a new session would exceed it, the session written
   * least recently is evicted (its user is logged out): memory stays bounded under a flood of
   * anonymous sessions. Default: unbounded.
   */
  readonly maxEntries?: number | undefined
}

/**
 * The memory store's own operations, beyond the `SessionStore` contract: every optional
 * capability (`patch`, `lock`, `rotate`), plus `size` and `sweep`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemoryStore } from "effect-session-v4"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* MemoryStore.make({ ttl: "1 hour" })
 *   const removed = yield* store.sweep
 *   const live = yield* store.size
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryStore extends SessionStoreService {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly lock: NonNullable<SessionStoreService["lock"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
  /** Entries currently held, expired-but-not-yet-swept ones included. */
  readonly size: Effect.Effect<number>
  /** Removes every expired entry now, in chunks; returns how many it removed. */
  readonly sweep: Effect.Effect<number>
}

/** The longest the sweeper holds the event loop in one slice. */
const SLICE_MILLIS = 2

/** Gives the event loop a turn: independent of `Clock`, so `TestClock` never stalls a sweep. */
const yieldToEventLoop: Effect.Effect<void> = Effect.callback<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** A table operation's outcome as an Effect: a record that is not JSON, or a value that is not, fails. */
const outcome = <A>(result: MemoryTable.Outcome<A>): Effect.Effect<A, SessionStoreError> => {
  switch (result._tag) {
    case "Done":
      return Effect.succeed(result.value)
    case "Corrupt":
      return Effect.fail(storeError("CorruptRecord", `memory read: ${result.message}`, result.cause))
    case "Unencodable":
      return Effect.fail(storeError("Unencodable", result.message))
  }
}

/**
 * Builds a memory store in the current scope, with its sweeper fiber running until the scope
 * closes. Expiry reads Effect's `Clock`: an entry is gone exactly `ttl` after its write, and
 * `TestClock.adjust` drives it in tests.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { MemoryStore } from "effect-session-v4"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const store = yield* MemoryStore.make({ ttl: "10 minutes" })
 *   yield* store.write("k", { n: 1 }, Duration.zero) // expires in 10 minutes
 *   return yield* store.read("k")
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<MemoryStore, SessionConfigError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* Effect.fromResult(checkObject(options))
    const defaultTtlMillis = yield* Effect.fromResult(decodeDuration("ttl", options.ttl ?? Duration.hours(2)))
    const intervalMillis = yield* Effect.fromResult(
      positiveMillis("sweepInterval", options.sweepInterval, Duration.minutes(1), decodeDuration)
    )
    const chunk = yield* Effect.fromResult(positiveInteger("sweepChunk", options.sweepChunk, 10_000))
    const maxEntries = yield* Effect.fromResult(
      positiveInteger("maxEntries", options.maxEntries, MemoryTable.UNBOUNDED)
    )

    // Every record operation is one synchronous call on the core's table (`Records`, the effect 3
    // package's too): that is what makes `patch` and `rotate` atomic. It also keeps each record
    // parsed after its first read, handing out copies, so no caller can change a stored session
    // without saving it.
    const records = new MemoryTable.Records(maxEntries)

    const read = (id: string) =>
      Clock.clockWith((clock) => {
        const found = records.read(id, clock.currentTimeMillisUnsafe())
        return found._tag === "Done" ? Effect.succeed(Option.fromNullishOr(found.value)) : outcome<never>(found)
      })

    const write = (id: string, data: SessionData, ttl: Duration.Duration) =>
      Clock.clockWith((clock) =>
        outcome(records.write(id, data, expiryAt(clock.currentTimeMillisUnsafe(), ttl, defaultTtlMillis)))
      )

    const destroy = (id: string) => Effect.sync(() => records.destroy(id))

    const patch = (id: string, changes: SessionPatch, ttl: Duration.Duration) =>
      Clock.clockWith((clock) => {
        const now = clock.currentTimeMillisUnsafe()
        return outcome(records.patch(id, changes, now, expiryAt(now, ttl, defaultTtlMillis)))
      })

    const rotate: MemoryStore["rotate"] = (from, to, rotation) =>
      Clock.clockWith((clock) => {
        const now = clock.currentTimeMillisUnsafe()
        const expiresAt = expiryAt(now, rotation.ttl, defaultTtlMillis)
        return outcome(records.rotate(from, to, rotation.data, now, expiresAt, Duration.toMillis(rotation.grace)))
      })

    // Per-ID locks with an expiry (a holder that never releases cannot block forever). Waiters
    // sleep until a release, the holder's expiry or their own deadline, whichever comes first.
    const locks = new Map<
      string,
      { token: number; expiresAt: number; readonly waiters: Array<Deferred.Deferred<void>> }
    >()
    let lockCounter = 0
    const release = (id: string, token: number) =>
      Effect.sync(() => {
        const held = locks.get(id)
        if (held === undefined || held.token !== token) return // expired and taken over: not ours
        const waiters = held.waiters.splice(0)
        locks.delete(id)
        for (const waiter of waiters) Deferred.doneUnsafe(waiter, Effect.void)
      })
    const lock: MemoryStore["lock"] = (id, lockOptions) =>
      Clock.clockWith((clock) => {
        const start = clock.currentTimeMillisUnsafe()
        const deadline = start + Duration.toMillis(lockOptions.wait)
        const ttlMillis = Math.max(1, Duration.toMillis(lockOptions.ttl))
        const attempt: Effect.Effect<Effect.Effect<void>, SessionLockTimeout> = Effect.suspend(() => {
          const now = clock.currentTimeMillisUnsafe()
          const held = locks.get(id)
          if (held === undefined || now >= held.expiresAt) {
            const token = ++lockCounter
            locks.set(id, { token, expiresAt: now + ttlMillis, waiters: held?.waiters ?? [] })
            return Effect.succeed(release(id, token))
          }
          if (now >= deadline) return Effect.fail(new SessionLockTimeout({ waitedMillis: now - start }))
          const waiter = Deferred.makeUnsafe<void>()
          held.waiters.push(waiter)
          // Interruptible even inside an uninterruptible HTTP handler, or the timeout could not win.
          return Effect.interruptible(Deferred.await(waiter)).pipe(
            Effect.timeoutOption(Duration.millis(Math.min(deadline, held.expiresAt) - now)),
            Effect.ensuring(Effect.sync(() => {
              const index = held.waiters.indexOf(waiter)
              if (index !== -1) held.waiters.splice(index, 1)
            })),
            Effect.andThen(attempt)
          )
        })
        return attempt
      })

    const sweep: Effect.Effect<number> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const next = records.table.sweeper(() => now)
      let removed = 0
      while (true) {
        // A slice ends after `chunk` entries or SLICE_MILLIS of wall time, whichever comes first,
        // so a slow or busy machine still gives the event loop a turn every few milliseconds.
        const sliceStart = performance.now()
        const slice = next((visited) =>
          visited >= chunk || ((visited & 255) === 0 && performance.now() - sliceStart >= SLICE_MILLIS)
        )
        removed += slice.removed
        if (slice.done) return removed
        yield* yieldToEventLoop
      }
    })

    yield* sweep.pipe(
      Effect.repeat(Schedule.spaced(Duration.millis(intervalMillis))),
      Effect.delay(Duration.millis(intervalMillis)),
      Effect.interruptible,
      Effect.forkScoped
    )

    return {
      read,
      write,
      destroy,
      patch,
      lock,
      rotate,
      size: Effect.sync(() => records.table.size),
      sweep
    } satisfies MemoryStore
  })

/**
 * A `SessionStore` layer backed by memory, with a sweeper that stops when the layer's scope
 * closes. Fails with `SessionConfigError` on invalid options.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "effect-session-v4"
 *
 * const StoreLive = MemoryStore.layer({ ttl: "30 minutes", maxEntries: 500_000 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<SessionStore, SessionConfigError> =>
  Layer.effect(SessionStore, make(options))

/**
 * The default memory store: TTL 2 hours, swept every minute, unbounded.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { HttpRouter } from "effect/http"
 * import { MemoryStoreLive, Session } from "effect-session-v4"
 *
 * const app = HttpRouter.serve(Layer.empty).pipe(Layer.provide(MemoryStoreLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const MemoryStoreLive: Layer.Layer<SessionStore> = Layer.orDie(layer())
