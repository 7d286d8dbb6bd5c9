/**
 * The in-process store: for a single replica and for tests.
 *
 * @since 0.1.0
 */
import { Patch, StoredRecord } from "effect-session-core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Entries, type Entry } from "./internal/entries.js"
import { durationOr, positiveDurationOr } from "./internal/options.js"
import { copyJson } from "./internal/record.js"
import { unencodableValue } from "./internal/storedValue.js"
import * as SessionCodec from "./SessionCodec.js"
import { SessionConfigError, SessionLockTimeout } from "./SessionError.js"
import { type SessionPatch, SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * Memory store options. Every field is optional.
 *
 * @example
 * ```ts
 * import type { MemoryStore } from "effect-session"
 *
 * const options: MemoryStore.Options = { ttl: "30 minutes", sweepInterval: "1 minute", maxEntries: 100_000 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.DurationInput
  /** How often the sweeper removes expired entries. Default 1 minute. */
  readonly sweepInterval?: Duration.DurationInput
  /**
   * Entries the sweeper checks before it yields to the event loop. Default 10,000; a slice also
   * ends after 2 ms of wall time, so a sweep never holds the event loop for longer than that.
   */
  readonly sweepChunk?: number
  /**
   * The most entries kept. When a write of a new session would exceed it, the session written
   * least recently is evicted (its user is logged out): memory stays bounded under a flood of
   * anonymous sessions. Default: unbounded.
   */
  readonly maxEntries?: number
}

/**
 * The memory store's own operations, beyond the `SessionStore` contract.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemoryStore } from "effect-session"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* MemoryStore.make({ ttl: "1 hour" })
 *   const removed = yield* store.sweep
 *   const live = yield* store.size
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryStore extends SessionStoreService {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
  readonly lock: NonNullable<SessionStoreService["lock"]>
  /** Entries currently held, expired-but-not-yet-swept ones included. */
  readonly size: Effect.Effect<number>
  /** Removes every expired entry now, in chunks; returns how many it removed. */
  readonly sweep: Effect.Effect<number>
}

/** The longest the sweeper holds the event loop in one slice. */
const SLICE_MILLIS = 2

/** Gives the event loop a turn: independent of `Clock`, so `TestClock` never stalls a sweep. */
const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const positiveInteger = (option: string, value: number | undefined, fallback: number) =>
  value === undefined
    ? Either.right(fallback)
    : Number.isSafeInteger(value) && value > 0
    ? Either.right(value)
    : Either.left(new SessionConfigError({ option, message: `${option} must be a positive integer, got ${value}` }))

/**
 * Builds a memory store in the current scope, with its sweeper fiber running until the scope
 * closes. Expiry reads Effect's `Clock`: an entry is gone exactly `ttl` after its write.
 *
 * @example
 * ```ts
 * import { Duration, Effect, Option } from "effect"
 * import { MemoryStore } from "effect-session"
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
    const ttl = yield* durationOr("ttl", options.ttl, Duration.hours(2))
    const interval = yield* positiveDurationOr("sweepInterval", options.sweepInterval, Duration.minutes(1))
    const chunk = yield* positiveInteger("sweepChunk", options.sweepChunk, 10_000)
    const maxEntries = yield* positiveInteger("maxEntries", options.maxEntries, Number.MAX_SAFE_INTEGER)
    const defaultTtlMillis = Duration.toMillis(ttl)

    // Every operation is one synchronous step on this table, so none can interleave with another
    // (JavaScript runs one at a time): that is what makes `patch` and `rotate` atomic.
    //
    // A record is kept as the JSON text its write encoded until it is first read; from then on the
    // entry holds the parsed record instead. That object is the store's own: it is never handed
    // out (a read gets a deep copy, so no caller can change a stored session without saving it)
    // and never changed (a patch makes a new one). It is also smaller than its text, and copying
    // it costs less than parsing.
    const entries = new Entries<SessionCodec.SessionData>()

    /** The entry's record, parsed once: a record that is not JSON stays text and fails every read. */
    const parsed = (entry: Entry<SessionCodec.SessionData>) => {
      const value = entry.value
      if (typeof value !== "string") return Either.right(value)
      const record = SessionCodec.decode(value)
      if (Either.isRight(record)) entry.value = record.right
      return record
    }

    const expiryFor = (now: number, ttl: Duration.Duration): number => {
      const ttlMillis = Duration.toMillis(ttl)
      const effectiveTtl = ttlMillis > 0 ? ttlMillis : defaultTtlMillis
      return effectiveTtl > 0 ? now + effectiveTtl : Infinity
    }

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

    /** Stores `record` (text or the store's own object) under `id`. */
    const put = (id: string, record: string | SessionCodec.SessionData, expiresAt: number) =>
      entries.set(id, record, expiresAt, maxEntries)

    const read = (id: string) =>
      Effect.clockWith((clock) => {
        const entry = live(id, clock.unsafeCurrentTimeMillis())
        if (entry === undefined) return Effect.succeedNone
        return Effect.map(parsed(entry), (record) => Option.some(copyJson(record) as SessionCodec.SessionData))
      })

    const write = (id: string, data: SessionCodec.SessionData, ttl: Duration.Duration) =>
      Effect.clockWith((clock) =>
        Effect.map(SessionCodec.encode(data), (text) => put(id, text, expiryFor(clock.unsafeCurrentTimeMillis(), ttl)))
      )

    // Apply and store in one synchronous step: no other fiber can interleave. The stored record
    // was checked when it was written, so only what the patch put in needs checking.
    const patch = (id: string, changes: SessionPatch, ttl: Duration.Duration) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const entry = live(id, now)
        if (entry === undefined) return Effect.succeed(false)
        return Effect.flatMap(parsed(entry), (record) => {
          if (Patch.refuses(record)) return Effect.succeed(false)
          const next = Patch.apply(record, changes)
          for (const [key] of [...changes.set, ...changes.add]) {
            const error = unencodableValue(key, next[key])
            if (error !== undefined) return Effect.fail(error)
          }
          // Encoded: the stored record then shares no object with the caller.
          put(id, JSON.stringify(next), expiryFor(now, ttl))
          return Effect.succeed(true)
        })
      })

    // Check, write and retire in one synchronous step.
    const rotate = (
      from: string,
      to: string,
      data: SessionCodec.SessionData,
      ttl: Duration.Duration,
      grace: Duration.Duration
    ) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const entry = live(from, now)
        if (entry === undefined) return Effect.succeed(false)
        return Effect.flatMap(parsed(entry), (old) => {
          if (StoredRecord.isRetired(old)) return Effect.succeed(false)
          return Effect.map(SessionCodec.encode(data), (text) => {
            put(to, text, expiryFor(now, ttl))
            const graceMillis = Duration.toMillis(grace)
            if (graceMillis > 0) {
              const until = now + graceMillis
              put(from, StoredRecord.retire(old, until), Math.min(entry.expiresAt, until))
            } else {
              entries.delete(from)
            }
            return true
          })
        })
      })

    const destroy = (id: string) =>
      Effect.sync(() => {
        entries.delete(id)
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
        for (const waiter of waiters) Deferred.unsafeDone(waiter, Exit.void)
      })
    const lock = (id: string, options: { readonly ttl: Duration.Duration; readonly wait: Duration.Duration }) =>
      Effect.clockWith((clock) => {
        const start = clock.unsafeCurrentTimeMillis()
        const deadline = start + Duration.toMillis(options.wait)
        const ttlMillis = Math.max(1, Duration.toMillis(options.ttl))
        const attempt: Effect.Effect<Effect.Effect<void>, SessionLockTimeout> = Effect.suspend(() => {
          const now = clock.unsafeCurrentTimeMillis()
          const held = locks.get(id)
          if (held === undefined || now >= held.expiresAt) {
            const token = ++lockCounter
            locks.set(id, { token, expiresAt: now + ttlMillis, waiters: held?.waiters ?? [] })
            return Effect.succeed(release(id, token))
          }
          if (now >= deadline) return Effect.fail(new SessionLockTimeout({ waitedMillis: now - start }))
          const waiter = Deferred.unsafeMake<void>(FiberId.none)
          held.waiters.push(waiter)
          // Interruptible even inside an uninterruptible HTTP handler, or the timeout could not win.
          return Effect.interruptible(Deferred.await(waiter)).pipe(
            Effect.timeoutOption(Duration.millis(Math.min(deadline, held.expiresAt) - now)),
            Effect.ensuring(Effect.sync(() => {
              const index = held.waiters.indexOf(waiter)
              if (index !== -1) held.waiters.splice(index, 1)
            })),
            Effect.zipRight(attempt)
          )
        })
        return attempt
      })

    const sweep: Effect.Effect<number> = Effect.gen(function*() {
      const clock = yield* Effect.clock
      const now = clock.unsafeCurrentTimeMillis()
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
      Effect.repeat(Schedule.spaced(interval)),
      Effect.delay(interval),
      Effect.interruptible,
      Effect.forkScoped
    )

    return {
      read,
      write,
      destroy,
      patch,
      rotate,
      lock,
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
 * import { MemoryStore } from "effect-session"
 *
 * const StoreLive = MemoryStore.layer({ ttl: "30 minutes", maxEntries: 500_000 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<SessionStore, SessionConfigError> =>
  Layer.scoped(SessionStore, make(options))

/**
 * The default memory store: TTL 2 hours, swept every minute, unbounded.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServer } from "@effect/platform"
 * import { Layer } from "effect"
 * import { MemoryStoreLive, Session } from "effect-session"
 *
 * const app = HttpRouter.empty.pipe(Session.middleware(), HttpServer.serve(), Layer.provide(MemoryStoreLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const MemoryStoreLive: Layer.Layer<SessionStore> = Layer.orDie(layer())
