/**
 * Testing kit: give a handler a `Session` with no HTTP at all, and a store that records every
 * call and fails on demand.
 *
 * @since 0.1.0
 */
import { Changes, Id, Patch, StoredRecord } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as options_ from "./internal/options.js"
import * as internal from "./internal/state.js"
import { type Options as SessionOptions, type SaveResult, Session } from "./Session.js"
import { type SessionLockTimeout, SessionStoreError } from "./SessionError.js"
import { type SessionData, SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * The store operations a recording store sees.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session-v4"
 * const op: SessionTest.Operation = "patch"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = "read" | "write" | "destroy" | "patch" | "rotate" | "lock"

/**
 * One call a recording store saw: the operation and the storage key (never a session ID).
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session-v4"
 * const call: SessionTest.StoreCall = { _tag: "read", key: "…" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreCall {
  readonly _tag: Operation
  readonly key: string
}

/**
 * Which calls fail: operations `on` (default: all), for `times` calls (default: until `recover`).
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session-v4"
 * const plan: SessionTest.FailurePlan = { on: "write", times: 1 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FailurePlan {
  readonly on?: Operation | ReadonlyArray<Operation> | undefined
  readonly times?: number | undefined
  readonly error?: SessionStoreError | undefined
}

/**
 * A store that records calls and injects failures, over an in-memory map (expiry from `Clock`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionTest } from "effect-session-v4"
 *
 * const ops = SessionTest.RecordingStore.use((store) => store.operations)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordingStoreService extends SessionStoreService {
  readonly calls: Effect.Effect<ReadonlyArray<StoreCall>>
  readonly operations: Effect.Effect<ReadonlyArray<Operation>>
  readonly clear: Effect.Effect<void>
  readonly fail: (plan?: FailurePlan) => Effect.Effect<void>
  readonly recover: Effect.Effect<void>
  /** the records as stored now (by storage key) */
  readonly records: Effect.Effect<ReadonlyMap<string, SessionData>>
}

/**
 * The recording store, as a service of its own (the same object is the `SessionStore`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionTest } from "effect-session-v4"
 *
 * const reset = SessionTest.RecordingStore.use((store) => store.clear)
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class RecordingStore extends Context.Service<RecordingStore, RecordingStoreService>()(
  "effect-session/SessionTest/RecordingStore"
) {}

/**
 * Makes a recording store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SessionTest } from "effect-session-v4"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* SessionTest.makeRecordingStore
 *   yield* store.fail({ on: "read", times: 1 })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRecordingStore: Effect.Effect<RecordingStoreService> = Effect.clockWith((clock) =>
  Effect.sync(() => {
    const log: Array<StoreCall> = []
    const table = new Map<string, { readonly data: SessionData; readonly expires: number }>()
    let plan: { readonly on: ReadonlyArray<Operation> | undefined; times: number; error: SessionStoreError } | undefined
    const live = (key: string): SessionData | undefined => {
      const entry = table.get(key)
      if (entry === undefined) return undefined
      if (clock.currentTimeMillisUnsafe() >= entry.expires) {
        table.delete(key)
        return undefined
      }
      return entry.data
    }
    const expiry = (ttl: Duration.Duration) => {
      const millis = Duration.toMillis(ttl)
      return millis === 0 ? Infinity : clock.currentTimeMillisUnsafe() + millis
    }
    const call = <A>(operation: Operation, key: string, run: () => A): Effect.Effect<A, SessionStoreError> =>
      Effect.suspend(() => {
        log.push({ _tag: operation, key })
        if (plan !== undefined && (plan.on === undefined || plan.on.includes(operation)) && plan.times > 0) {
          plan.times--
          return Effect.fail(plan.error)
        }
        return Effect.sync(run)
      })
    const store: RecordingStoreService = {
      read: (key) => call("read", key, () => Option.fromUndefinedOr(live(key))),
      write: (key, data, ttl) =>
        call("write", key, () => {
          table.set(key, { data, expires: expiry(ttl) })
        }),
      destroy: (key) =>
        call("destroy", key, () => {
          table.delete(key)
        }),
      patch: (key, patch, ttl) =>
        call("patch", key, () => {
          const current = live(key)
          if (current === undefined || Patch.refuses(current)) return false
          table.set(key, { data: Patch.apply(current, patch), expires: expiry(ttl) })
          return true
        }),
      calls: Effect.sync(() => [...log]),
      operations: Effect.sync(() => log.map((c) => c._tag)),
      clear: Effect.sync(() => {
        log.length = 0
      }),
      fail: (options) =>
        Effect.sync(() => {
          const on = options?.on
          plan = {
            on: on === undefined ? undefined : typeof on === "string" ? [on] : on,
            times: options?.times ?? Infinity,
            error: options?.error ?? new SessionStoreError({ reason: "Unavailable", message: "injected failure" })
          }
        }),
      recover: Effect.sync(() => {
        plan = undefined
      }),
      records: Effect.sync(() => {
        const out = new Map<string, SessionData>()
        for (const key of table.keys()) {
          const data = live(key)
          if (data !== undefined) out.set(key, data)
        }
        return out
      })
    }
    return store
  })
)

/**
 * A fresh recording store as both `SessionStore` and `RecordingStore`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { SessionTest } from "effect-session-v4"
 *
 * const TestStore: Layer.Layer<SessionTest.RecordingStore | import("effect-session-v4").SessionStore> =
 *   SessionTest.layerRecording
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRecording: Layer.Layer<RecordingStore | SessionStore> = Layer.effectContext(
  Effect.map(makeRecordingStore, (store) => Context.make(RecordingStore, store).pipe(Context.add(SessionStore, store)))
)

/**
 * Options for `SessionTest.run`.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session-v4"
 * const options: SessionTest.Options = { data: { userId: 1 } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the session the handler finds (stored first, as an existing session); omitted: a new session */
  readonly data?: Readonly<Record<string, unknown>> | undefined
  /** middleware options (lifetimes, cookie name, …) */
  readonly middleware?: SessionOptions<unknown, unknown> | undefined
  /** the request method (default `GET`) */
  readonly method?: string | undefined
}

/**
 * What a test run did: the handler's value, the save's result, and the session after it.
 *
 * @example
 * ```ts
 * import type { SessionTest } from "effect-session-v4"
 * const saved = (result: SessionTest.RunResult<number>) => result.saved === "Written"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunResult<A> {
  readonly value: A
  readonly saved: SaveResult
  /** the session ID after the request (`undefined`: no session was created) */
  readonly id: string | undefined
  /** the stored user data after the request (`undefined`: none stored) */
  readonly stored: Readonly<Record<string, unknown>> | undefined
}

/**
 * Runs `effect` with a `Session` and no HTTP at all, over the `SessionStore` in context (use
 * `layerRecording`), through the middleware's own request flow: the lock when the options ask for
 * one, the handler, the save.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session, SessionTest } from "effect-session-v4"
 *
 * const result = SessionTest.run(Session.increment("views"), { data: { views: 1 } }).pipe(
 *   Effect.provide(SessionTest.layerRecording)
 * ) // Effect<RunResult<number>, …>
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const run = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options?: Options
): Effect.Effect<
  RunResult<A>,
  E | SessionStoreError | SessionLockTimeout,
  Exclude<R, Session> | SessionStore
> =>
  Effect.gen(function*() {
    const resolved = options_.resolve({ insecure: true, ...options?.middleware })
    if (Result.isFailure(resolved)) return yield* Effect.die(resolved.failure)
    const config = resolved.success
    const store = yield* SessionStore
    const clock = yield* Clock.Clock
    let cookie: string | undefined
    if (options?.data !== undefined) {
      const id = Id.generate()
      const seeded = Changes.fresh(clock.currentTimeMillisUnsafe())
      for (const [key, value] of Object.entries(options.data)) Changes.set(seeded, key, value)
      yield* store.write(Id.storageKey(id), Changes.toRecord(seeded), Duration.millis(config.ttlMillis))
      cookie = `${config.cookieName}=${id}`
    }
    const method = options?.method ?? "GET"
    const request = HttpServerRequest.fromWeb(
      new Request("http://localhost/", { method, headers: cookie === undefined ? {} : { cookie } })
    )
    const state = new internal.SessionState(config, store, clock, method, cookie)
    // The one request flow (lock, handler, save), with the handler's value kept beside the response.
    let value: { readonly value: A } | undefined
    const app = Effect.map(Effect.provideService(effect, Session, state), (a) => {
      value = { value: a }
      return HttpServerResponse.empty()
    })
    yield* internal.serve(state, request, app, (error) => Effect.fail(error))
    const id = state.snapshot().id
    const record = id === undefined ? Option.none() : yield* store.read(Id.storageKey(id))
    const stored = Option.isSome(record)
      ? StoredRecord.userData(record.value)
      : undefined
    return { value: value!.value, saved: state.lastSave, id: Option.isSome(record) ? id : undefined, stored }
  })
