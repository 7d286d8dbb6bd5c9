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
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { decodeDuration } from "./internal/options.js"
import {
  decodeRecord,
  encodeRecord,
  expiryAt,
  positiveInteger,
  positiveMillis,
  storeError
} from "./internal/storeCommon.js"
import { applyPatch, graceEnd, isRetired, refuses, retire, unstorable } from "./internal/storeRecord.js"
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
    const defaultTtlMillis = yield* Effect.fromResult(decodeDuration("ttl", options.ttl ?? Duration.hours(2)))
    const intervalMillis = yield* Effect.fromResult(
      positiveMillis("sweepInterval", options.sweepInterval, Duration.minutes(1), decodeDuration)
    )
    const chunk = yield* Effect.fromResult(positiveInteger("sweepChunk", options.sweepChunk, 10_000))
    const maxEntries = yield* Effect.fromResult(
      positiveInteger("maxEntries", options.maxEntries, Number.MAX_SAFE_INTEGER)
    )

    // Every operation is one synchronous step on this table, so none can interleave with another
    // (JavaScript runs one at a time): that is what makes `patch` and `rotate` atomic. A record is
    // kept as the JSON text its write encoded: a read parses a fresh copy, so no caller can change
    // a stored session without saving it.
    const entries = new MemoryTable.Entries<never>()

    /** The live entry under `id` at `now`; an expired one is removed on the way. */
    const live = (id: string, now: number) => {
      const entry = entries.get(id)
      if (entry === undefined) return undefined
      if (now >= entry.expiresAt) {
        entries.delete(id)
        return undefined
      }
      return entry
    }

    /** The live record under `id`, parsed; `undefined` when there is none. */
    const current = (id: string, now: number): Result.Result<SessionData | undefined, SessionStoreError> => {
      const entry = live(id, now)
      return entry === undefined ? Result.succeed(undefined) : decodeRecord("memory", entry.value)
    }

    const read = (id: string) =>
      Clock.clockWith((clock) =>
        Effect.fromResult(
          Result.map(
            current(id, clock.currentTimeMillisUnsafe()),
            (record) => record === undefined ? Option.none() : Option.some(record)
          )
        )
      )

    const write = (id: string, data: SessionData, ttl: Duration.Duration) =>
      Clock.clockWith((clock) =>
        Effect.fromResult(Result.map(encodeRecord(data), (text) => {
          entries.set(id, text, expiryAt(clock.currentTimeMillisUnsafe(), ttl, defaultTtlMillis), maxEntries)
        }))
      )

    const destroy = (id: string) =>
      Effect.sync(() => {
        entries.delete(id)
      })

    // Apply and store in one synchronous step: no other fiber can interleave. The stored record
    // was checked when it was written, so only what the patch put in needs checking.
    const patch = (id: string, changes: SessionPatch, ttl: Duration.Duration) =>
      Clock.clockWith((clock) =>
        Effect.fromResult(Result.flatMap(current(id, clock.currentTimeMillisUnsafe()), (record) => {
          if (record === undefined || refuses(record)) return Result.succeed(false)
          const next = applyPatch(record, changes)
          for (const [key] of [...changes.set, ...changes.add]) {
            const problem = unstorable(key, next[key])
            if (problem !== undefined) return Result.fail(storeError("Unencodable", problem))
          }
          const now = clock.currentTimeMillisUnsafe()
          entries.set(id, JSON.stringify(next), expiryAt(now, ttl, defaultTtlMillis), maxEntries)
          return Result.succeed(true)
        }))
      )

    const rotate: MemoryStore["rotate"] = (from, to, rotation) =>
      Clock.clockWith((clock) =>
        Effect.fromResult(Result.flatMap(encodeRecord(rotation.data), (text) => {
          const now = clock.currentTimeMillisUnsafe()
          const entry = live(from, now)
          if (entry === undefined) return Result.succeed(false)
          return Result.map(decodeRecord("memory", entry.value), (record) => {
            if (isRetired(record)) return false
            const until = graceEnd(now, Duration.toMillis(rotation.grace), entry.expiresAt)
            entries.set(to, text, expiryAt(now, rotation.ttl, defaultTtlMillis), maxEntries)
            if (until !== undefined) {
              entries.set(from, JSON.stringify(retire(record, until)), until, maxEntries)
            } else {
              entries.delete(from)
            }
            return true
          })
        }))
      )

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
      const next = entries.sweeper(() => now)
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
      size: Effect.sync(() => entries.size),
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
