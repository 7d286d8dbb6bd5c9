/**
 * One request's session, and the request flow top to bottom: cookie in → (lazy) load → handler →
 * save → cookie out. Every integration (router middleware, HttpApi middleware, testing kit) runs
 * `serve`; none assembles the flow again.
 */
import {
  Changes,
  Cookie,
  type CookieDecision,
  Flash,
  Id,
  Lifetime,
  Meta,
  Options as CoreOptions,
  Save,
  StoredRecord,
  Value
} from "effect-session-core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Cookies from "effect/http/Cookies"
import * as HttpEffect from "effect/http/HttpEffect"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { NodeInspectSymbol } from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { FailureContext, LockOptions, SaveResult, SessionService } from "../Session.js"
import {
  SessionConfigError,
  SessionKeyMissing,
  type SessionLockTimeout,
  SessionStoreError,
  SessionValueError
} from "../SessionError.js"
import * as SessionKey from "../SessionKey.js"
import type { SessionData, SessionStoreService } from "../SessionStore.js"
import * as Metrics from "./metrics.js"
import { decodeLifetime, type LockSettings, type Resolved, resolveLock } from "./options.js"

// `any`: a key or schema of any type, whose types the public overloads of `SessionService` carry.
type KeyInput = string | SessionKey.SessionKey<any, any, any, any>
type AnySchema = Schema.Codec<any, any, any, any>

/** Laravel's `block()` defaults: hold at most 10 s, wait at most 10 s. */
const DEFAULT_LOCK: LockSettings = { ttlMillis: 10_000, waitMillis: 10_000 }

const LEAVE: CookieDecision = { _tag: "Leave" }
const CLEAR: CookieDecision = { _tag: "Clear" }

// A save's two usual answers, made once (an Effect is an immutable description).
const written: Effect.Effect<SaveResult> = Effect.succeed("Written")
const unchanged: Effect.Effect<SaveResult> = Effect.succeed("Unchanged")

/**
 * The changes of a session that has not been loaded yet. Never written to: every write loads
 * first, and the load replaces it (`startFresh`, `settle`). Shared, so that a request that never
 * touches its session makes no change tracking of its own.
 */
const UNLOADED: Changes.Changes = Changes.fresh(0)

let lastTtl: Duration.Duration = Duration.zero
/**
 * `Duration.millis(millis)`, the same object as last time when `millis` is the same: a session's
 * TTL is the same on almost every save, and a `Duration` is an immutable value.
 */
const ttlDuration = (millis: number): Duration.Duration => {
  const last = lastTtl.value
  return last._tag === "Millis" && last.millis === millis ? lastTtl : (lastTtl = Duration.millis(millis))
}

const keyName = (key: KeyInput): string => typeof key === "string" ? key : key.key

const valueError = (key: string, reason: SessionValueError["reason"], message: string, cause?: unknown) =>
  new SessionValueError({ key, reason, message, ...(cause === undefined ? {} : { cause }) })

const reservedKey = (key: string) =>
  valueError(key, "ReservedKey", `session key ${JSON.stringify(key)} is reserved for the library's metadata`)

/**
 * A store operation of a save, timed, then `then`: in one continuation for the final save (which
 * runs uninterruptibly), else after `trackNow` (a save a handler asks for may be interrupted).
 */
const track = <A>(
  final: boolean,
  operation: Metrics.Operation,
  effect: Effect.Effect<A, SessionStoreError>,
  then: (value: A) => Effect.Effect<SaveResult>
): Effect.Effect<SaveResult, SessionStoreError> =>
  final
    ? Metrics.trackUninterruptibleNow(operation, effect, then)
    : Effect.flatMap(Metrics.trackNow(operation, effect), then)

/** What follows a save, as the two continuations of `Effect.matchEffect`. */
export interface Then<B, E, R> {
  readonly onSuccess: (result: SaveResult) => Effect.Effect<B, E, R>
  readonly onFailure: (error: SessionStoreError) => Effect.Effect<B, E, R>
}

/**
 * A save's outcome, followed by `then` when there is one: at once for the two outcomes made once
 * (`written`, `unchanged`), else as `Effect.matchEffect`.
 */
function followedBy(
  saved: Effect.Effect<SaveResult, SessionStoreError>,
  then: undefined
): Effect.Effect<SaveResult, SessionStoreError>
function followedBy<B, E, R>(
  saved: Effect.Effect<SaveResult, SessionStoreError>,
  then: Then<B, E, R> | undefined
): Effect.Effect<SaveResult | B, SessionStoreError | E, R>
function followedBy<B, E, R>(
  saved: Effect.Effect<SaveResult, SessionStoreError>,
  then: Then<B, E, R> | undefined
): Effect.Effect<SaveResult | B, SessionStoreError | E, R> {
  return then === undefined
    ? saved
    : saved === unchanged
    ? then.onSuccess("Unchanged")
    : saved === written
    ? then.onSuccess("Written")
    : Effect.matchEffect(saved, then)
}

/** Whether `u` is one of the failures the session middleware turns into a response. */
export const isSessionFailure = (u: unknown): u is SessionStoreError | SessionLockTimeout =>
  typeof u === "object" && u !== null && "_tag" in u &&
  (u._tag === "SessionStoreError" || u._tag === "SessionLockTimeout")

/**
 * One request's view of its session: the Effect side of the core's rules (`Changes` tracks the
 * data, `Save.plan` decides what to write and what the cookie says). Nothing touches the store
 * until a handler first reads or writes; the record is then loaded once and every later call
 * works on memory.
 */
export class SessionState implements SessionService {
  /** the ID the client sent, already checked to be well-formed */
  private readonly cookieId: string | undefined
  /** the current ID; `undefined` for a new session until it needs one */
  private currentId: string | undefined
  /** the storage key of the record this session has in the store, if any */
  private key: string | undefined
  private loaded = false
  /** a load is running */
  private loading = false
  /** the other fibers of the request waiting for the running load, once there is one */
  private waiters: Array<(exit: Exit.Exit<void, SessionStoreError>) => void> | undefined
  private fresh = true
  private changes: Changes.Changes = UNLOADED
  /** the session was read from a record that a rotation retired: read-only */
  private retired = false
  /** `regenerate` asked for a new ID: the record moves there at the next save */
  private rotation: { readonly from: string; readonly graceMillis: number } | undefined
  /** the expiry must be renewed (and the cookie re-issued) at the next save */
  private renew = false
  /** the next save must write the session even if it is empty (`invalidate` deleted its record) */
  private mustWrite = false
  private flashAged = false
  /** releases the session lock, when this request holds one */
  private lockRelease: Effect.Effect<void> | undefined
  private cookie: CookieDecision = LEAVE
  /** the response being saved, for the failure handler's "continue" */
  pendingResponse: HttpServerResponse.HttpServerResponse | undefined

  constructor(
    readonly config: Resolved,
    private readonly store: SessionStoreService,
    private readonly clock: Clock.Clock,
    private readonly method: string,
    cookieHeader: string | undefined
  ) {
    this.cookieId = Cookie.findSessionId(cookieHeader, config.cookieName)
  }

  // Printing the handle (a log line, an error, a debugger) never shows the session ID.
  toString(): string {
    return "Session(<redacted>)"
  }
  toJSON(): unknown {
    return { _id: "Session", id: "<redacted>", loaded: this.loaded }
  }
  [NodeInspectSymbol](): string {
    return this.toString()
  }

  private time(): number {
    return this.clock.currentTimeMillisUnsafe()
  }

  /** Whether the request carried a well-formed session cookie. */
  get hasCookie(): boolean {
    return this.cookieId !== undefined
  }

  // --- loading ---------------------------------------------------------------

  private startFresh(now: number = this.time()): void {
    this.currentId = undefined
    this.key = undefined
    this.fresh = true
    this.retired = false
    this.rotation = undefined
    this.renew = false
    this.mustWrite = false
    this.changes = Changes.fresh(now)
  }

  /** An unusable record (bad metadata, not an object): deleted, the session starts fresh. */
  private discard(key: string, why: string): Effect.Effect<void> {
    return Effect.logWarning(`effect-session: discarding an unusable session record (${why})`).pipe(
      Effect.andThen(Effect.ignore(Metrics.track("destroy", this.store.destroy(key))))
    )
  }

  /** Adopts what the store returned, or starts fresh. An unknown or expired ID is never adopted. */
  private settle(id: string, key: string, found: Option.Option<SessionData>): Effect.Effect<void> {
    const now = this.time()
    // Every way out but the last starts fresh; the last adopts the record.
    // A store is whatever the service holds (a user's decorator too): a read that did not answer
    // an Option (`null`, a bare record) is a corrupt record, never a defect.
    if (!Option.isOption(found)) {
      this.startFresh(now)
      return this.discard(key, "the store's read did not return an Option")
    }
    if (Option.isNone(found)) {
      // A well-formed cookie naming no session: expired, destroyed or guessed.
      Metrics.countNow(Metrics.expired)
      this.startFresh(now)
      return Effect.void
    }
    const record = found.value
    if (!StoredRecord.isRecord(record)) {
      this.startFresh(now)
      return this.discard(key, "not an object")
    }
    const read = Meta.read(record, now)
    if (read._tag === "Corrupt") {
      this.startFresh(now)
      return this.discard(key, read.reason)
    }
    const retiredUntil = StoredRecord.retiredUntil(record)
    if (retiredUntil !== undefined && now >= retiredUntil) { // its grace is over
      Metrics.countNow(Metrics.expired)
      this.startFresh(now)
      return Effect.void
    }
    if (Lifetime.isExpired(read.meta, this.config, now)) {
      // Past its absolute lifetime: never adopted, whatever the store's TTL says.
      this.startFresh(now)
      return Effect.andThen(
        Metrics.count(Metrics.expired),
        Effect.ignore(Metrics.track("destroy", this.store.destroy(key)))
      )
    }
    this.currentId = id
    this.key = key
    this.fresh = false
    this.retired = retiredUntil !== undefined
    this.rotation = undefined
    this.renew = false
    this.mustWrite = false
    this.changes = Changes.fromRecord(record, read.meta)
    return Effect.void
  }

  /**
   * The read and what follows it (a session without a cookie has nothing to read), then `then`
   * when one is given: what the caller does with the loaded session, in the load's own
   * continuation once the load has ended (loaded, waiters resumed).
   *
   * The read runs as interruptible as the caller; what follows it runs uninterruptibly, so it
   * also sees a read cut short by an interruption: every way out ends the load (its waiters go on)
   * and records the read's latency. `then` runs as interruptible as the caller again. Without
   * `then` the load is in its span (`then` is fused only where no span would be made).
   */
  private doLoad<A, E, R>(
    id: string,
    then: (() => Effect.Effect<A, E, R>) | undefined
  ): Effect.Effect<A | void, E | SessionStoreError, R> {
    const key = Id.storageKey(id)
    const read = this.store.read(key)
    const load = Effect.uninterruptibleMask((restore) => {
      /** The load succeeded: it ends, then `then` runs. */
      const end = (): Effect.Effect<A | void, E, R> => {
        this.loadEnded(Exit.void)
        if (then === undefined) return Effect.void
        const next = then()
        // An Exit has nothing left to interrupt; anything else runs as interruptible as the caller.
        return Exit.isExit(next) ? next : restore(next)
      }
      const settled = (effect: Effect.Effect<void>) => effect === Effect.void ? end() : Effect.flatMap(effect, end)
      return Metrics.trackUninterruptibleNow(
        "read",
        restore(read),
        (found) => settled(this.settle(id, key, found)),
        (cause): Effect.Effect<A | void, E | SessionStoreError, R> => {
          // A record that is not JSON (or not an object) counts as none: deleted, never a 5xx.
          const error = Cause.findErrorOption(cause)
          if (Option.isSome(error) && error.value.reason === "CorruptRecord") {
            this.startFresh()
            return settled(this.discard(key, error.value.message))
          }
          // Failed or cut short: the load ends so, and so does every fiber that waits for it.
          this.loadEnded(Exit.failCause(cause))
          return Effect.failCause(cause)
        }
      )
    })
    return then === undefined ? Metrics.span(load, "effect-session.load") : load
  }

  /** The running load ended with `exit`: loaded if it succeeded; the fibers waiting for it go on. */
  private loadEnded(exit: Exit.Exit<void, SessionStoreError>): void {
    const waiters = this.waiters
    this.waiters = undefined
    this.loading = false
    if (Exit.isSuccess(exit)) this.loaded = true
    if (waiters !== undefined) { for (const resume of waiters) resume(exit) }
  }

  /**
   * Loads the record on first use; concurrent first uses share one load (they wait for its exit).
   * Called while running (inside `Effect.suspend` or a continuation), never to build an Effect
   * for later. The waiters' list is made only when a second fiber of the request finds the load
   * running. The load's finalizer ends it, whichever way it exits (an interruption too).
   */
  private loadNow(): Effect.Effect<void, SessionStoreError> {
    return this.loaded ? Effect.void : this.loadThen(undefined)
  }

  /** `loadNow`, then `then` when one is given (fused into the load's continuation where it can be). */
  private loadThen(then: undefined): Effect.Effect<void, SessionStoreError>
  private loadThen<A, E, R>(then: () => Effect.Effect<A, E, R>): Effect.Effect<A, E | SessionStoreError, R>
  private loadThen<A, E, R>(
    then: (() => Effect.Effect<A, E, R>) | undefined
  ): Effect.Effect<A | void, E | SessionStoreError, R> {
    const id = this.cookieId
    if (id === undefined) {
      this.startFresh()
      this.loaded = true
      return then === undefined ? Effect.void : then()
    }
    if (this.loading) {
      const waiting = Effect.callback<void, SessionStoreError>((resume) => {
        ;(this.waiters ??= []).push(resume)
      })
      return then === undefined ? waiting : Effect.flatMap(waiting, then)
    }
    // Under a tracer that exports spans, the load keeps its span to itself: `then` follows it.
    const load = then === undefined
      ? this.doLoad<A, E, R>(id, undefined)
      : Metrics.spansExported()
      ? Effect.flatMap(this.doLoad<A, E, R>(id, undefined), then)
      : this.doLoad(id, then)
    this.loading = true
    return load
  }

  /** `f` once the record is loaded. Called while running, like `loadNow`. */
  private whenLoaded<A, E, R>(f: () => Effect.Effect<A, E, R>): Effect.Effect<A, E | SessionStoreError, R> {
    return this.loaded ? f() : this.loadThen(f)
  }

  private withLoaded<A, E, R>(f: () => Effect.Effect<A, E, R>): Effect.Effect<A, E | SessionStoreError, R> {
    return Effect.suspend(() => this.whenLoaded(f))
  }

  private sync<A>(f: () => A): Effect.Effect<A, SessionStoreError> {
    return this.withLoaded(() => Effect.sync(f))
  }

  // --- reading ---------------------------------------------------------------

  /** A copy of the value under `key` (`Changes.get`): a handler may change it, and put it back. */
  private lookup(key: string): unknown {
    return Changes.get(this.changes, key)
  }

  private decode(key: KeyInput, schema: AnySchema | undefined, value: unknown) {
    const s: AnySchema | undefined = typeof key === "string" ? schema : key.schema
    if (s === undefined) return Effect.succeed(value)
    const name = keyName(key)
    return Effect.mapError(
      Schema.decodeUnknownEffect(s)(value),
      (cause) =>
        valueError(name, "DecodeFailed", `session value for ${JSON.stringify(name)} does not match its schema`, cause)
    )
  }

  get id(): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => this.currentId ??= Id.generate())
  }

  get isNew(): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => this.fresh)
  }

  get all(): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() => Changes.all(this.changes))
  }

  get(key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
  get<A, I, RD, RE>(
    key: SessionKey.SessionKey<A, I, RD, RE>
  ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, RD>
  get<A, I, RD, RE>(
    key: string,
    schema: Schema.Codec<A, I, RD, RE>
  ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, RD>
  get(
    key: KeyInput,
    schema?: AnySchema
  ): Effect.Effect<unknown, SessionKeyMissing | SessionValueError | SessionStoreError, unknown> {
    return Effect.suspend(() => this.getNow(key, schema))
  }

  /**
   * `get`, for a caller that is already running (the `Session.get` accessor, which found this
   * state in the fiber's context): the same rules, without a suspension of its own. So are the
   * other `…Now` methods.
   */
  getNow(
    key: KeyInput,
    schema?: AnySchema
  ): Effect.Effect<unknown, SessionKeyMissing | SessionValueError | SessionStoreError, unknown> {
    return this.whenLoaded((): Effect.Effect<unknown, SessionKeyMissing | SessionValueError, unknown> => {
      const name = keyName(key)
      const value = this.lookup(name)
      return value === undefined ? Effect.fail(new SessionKeyMissing({ key: name })) : this.decode(key, schema, value)
    })
  }

  getOption(key: string): Effect.Effect<Option.Option<unknown>, SessionStoreError>
  getOption<A, I, RD, RE>(
    key: SessionKey.SessionKey<A, I, RD, RE>
  ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, RD>
  getOption<A, I, RD, RE>(
    key: string,
    schema: Schema.Codec<A, I, RD, RE>
  ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, RD>
  getOption(
    key: KeyInput,
    schema?: AnySchema
  ): Effect.Effect<Option.Option<unknown>, SessionValueError | SessionStoreError, unknown> {
    return Effect.suspend(() => this.getOptionNow(key, schema))
  }

  /** `getOption`, for a caller that is already running (see `getNow`). */
  getOptionNow(
    key: KeyInput,
    schema?: AnySchema
  ): Effect.Effect<Option.Option<unknown>, SessionValueError | SessionStoreError, unknown> {
    return this.whenLoaded((): Effect.Effect<Option.Option<unknown>, SessionValueError, unknown> => {
      const value = this.lookup(keyName(key))
      if (value === undefined) return Effect.succeedNone
      const s: AnySchema | undefined = typeof key === "string" ? schema : key.schema
      return s === undefined ? Effect.succeed(Option.some(value)) : Effect.asSome(this.decode(key, schema, value))
    })
  }

  getString(key: string): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => {
      const value = this.lookup(key)
      return typeof value === "string" ? value : ""
    })
  }

  has(key: string): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => Changes.hasValue(this.changes, key))
  }

  exists(key: string): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => Changes.has(this.changes, key))
  }

  missing(key: string): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => !Changes.has(this.changes, key))
  }

  only(keys: ReadonlyArray<string>): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() => Changes.only(this.changes, keys))
  }

  except(
    keys: ReadonlyArray<string>
  ): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() => Changes.except(this.changes, keys))
  }

  // --- writing ---------------------------------------------------------------

  /**
   * The copy of `value` (already encoded) to store under `name`, or why it may not be stored
   * (reserved, not plain JSON): a `SessionValueError`, which no copy can be. The value is read
   * once (`Value.copyChecked`), so what is stored is what was checked.
   */
  private copyFor(name: string, encoded: unknown): unknown {
    if (StoredRecord.isReserved(name)) return reservedKey(name)
    if (encoded === undefined) {
      return valueError(
        name,
        "Unencodable",
        `session value for ${JSON.stringify(name)}: the value is undefined: use Session.forget to remove a key`
      )
    }
    const copy = Value.copyChecked(encoded)
    return copy instanceof Value.Refusal
      ? valueError(name, "Unencodable", `session value for ${JSON.stringify(name)}: ${copy.problem}`)
      : copy
  }

  /** The copy of `value` (already encoded) to store under `name` (`copyFor`), or its error. */
  private check(name: string, encoded: unknown): Effect.Effect<readonly [string, unknown], SessionValueError> {
    const copy = this.copyFor(name, encoded)
    return copy instanceof SessionValueError ? Effect.fail(copy) : Effect.succeed([name, copy] as const)
  }

  /** `check`, after encoding `value` with the key's schema if it has one. */
  private encode(key: KeyInput, value: unknown): Effect.Effect<readonly [string, unknown], SessionValueError, unknown> {
    if (typeof key === "string") return this.check(key, value)
    const name = key.key
    if (StoredRecord.isReserved(name)) return Effect.fail(reservedKey(name))
    return Schema.encodeUnknownEffect(key.schema)(value).pipe(
      Effect.mapError((cause) =>
        valueError(name, "EncodeFailed", `session value for ${JSON.stringify(name)} does not match its schema`, cause)
      ),
      Effect.flatMap((encoded) => this.check(name, encoded)),
      // What is stored is the encoded value as JSON keeps it (a property holding `undefined` is
      // dropped), and the next request decodes that: one it cannot decode is refused here, at the
      // put, not found broken later (effect 4's `Schema.Struct` requires a key declared
      // `UndefinedOr` to be present; `optional` is the way to let it go).
      Effect.flatMap(([, stored]) => {
        return Effect.as(
          Effect.mapError(Schema.decodeUnknownEffect(key.schema)(stored), (cause) =>
            valueError(
              name,
              "EncodeFailed",
              `session value for ${JSON.stringify(name)} would not decode once stored as JSON ` +
                "(JSON drops a property whose value is undefined: declare such a field optional)",
              cause
            )),
          [name, stored] as const
        )
      })
    )
  }

  put(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
  put<A, I, RD, RE>(
    key: SessionKey.SessionKey<A, I, RD, RE>,
    value: A
  ): Effect.Effect<void, SessionValueError | SessionStoreError, RE>
  put(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return this.putAny(key, value)
  }

  /** `put`, for a caller that is already running (see `getNow`). */
  putNow(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    if (typeof key !== "string") return this.putAny(key, value)
    // As `putAny`: an invalid value fails before the load.
    const copy = this.copyFor(key, value)
    if (copy instanceof SessionValueError) return Effect.fail(copy)
    if (this.loaded) {
      Changes.setCopy(this.changes, key, copy)
      return Effect.void
    }
    return this.whenLoaded(() => {
      Changes.setCopy(this.changes, key, copy)
      return Effect.void
    })
  }

  forget(keys: string | ReadonlyArray<string>): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      for (const key of typeof keys === "string" ? [keys] : keys) Changes.remove(this.changes, key)
    })
  }

  pull(key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
  pull<A, I, RD, RE>(
    key: SessionKey.SessionKey<A, I, RD, RE>
  ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, RD>
  pull(key: KeyInput): Effect.Effect<unknown, SessionKeyMissing | SessionValueError | SessionStoreError, unknown> {
    const got = typeof key === "string" ? this.get(key) : this.get(key)
    return Effect.tap(got, () => this.forget(keyName(key)))
  }

  private adjust(key: string, by: number): Effect.Effect<number, SessionValueError | SessionStoreError> {
    return Effect.suspend(() => this.adjustNow(key, by))
  }

  /** `increment` (`by`) and `decrement` (`-by`), for a caller that is already running (see `getNow`). */
  adjustNow(key: string, by: number): Effect.Effect<number, SessionValueError | SessionStoreError> {
    return this.whenLoaded(() => {
      if (StoredRecord.isReserved(key)) return Effect.fail(reservedKey(key))
      const current = this.lookup(key) ?? 0
      if (typeof current !== "number") {
        return Effect.fail(valueError(key, "NotANumber", `session value for ${JSON.stringify(key)} is not a number`))
      }
      const next = Number.isFinite(by) ? Changes.add(this.changes, key, by) : undefined
      if (next === undefined) {
        return Effect.fail(
          valueError(key, "NotANumber", `incrementing ${JSON.stringify(key)} by ${by} does not give a finite number`)
        )
      }
      return Effect.succeed(next)
    })
  }

  increment(key: string, by = 1): Effect.Effect<number, SessionValueError | SessionStoreError> {
    return this.adjust(key, by)
  }

  decrement(key: string, by = 1): Effect.Effect<number, SessionValueError | SessionStoreError> {
    return this.adjust(key, -by)
  }

  push(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError> {
    return Effect.flatMap(this.check(key, value), ([, encoded]) =>
      this.withLoaded(() => {
        const current = this.lookup(key) ?? []
        if (!Array.isArray(current)) {
          return Effect.fail(valueError(key, "NotAnArray", `session value for ${JSON.stringify(key)} is not an array`))
        }
        Changes.setCopy(this.changes, key, [...current, encoded])
        return Effect.void
      }))
  }

  remember<E, R>(
    key: string,
    compute: Effect.Effect<unknown, E, R>
  ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, R>
  remember<A, I, RD, RE, E, R>(
    key: SessionKey.SessionKey<A, I, RD, RE>,
    compute: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | SessionValueError | SessionStoreError, R | RD | RE>
  remember<E, R>(
    key: KeyInput,
    compute: Effect.Effect<unknown, E, R>
  ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, unknown> {
    // Missing or null (as stored, before any schema sees it: a typed key's schema need not accept
    // null) means compute; anything else is decoded as `getOption` decodes it.
    return this.withLoaded((): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, unknown> => {
      const name = keyName(key)
      if (!Changes.hasValue(this.changes, name)) {
        return Effect.tap(compute, (computed) => this.putAny(key, computed))
      }
      return Effect.map(this.getOptionNow(key), Option.getOrUndefined)
    })
  }

  private putAny(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return Effect.flatMap(
      this.encode(key, value),
      ([name, copy]) => this.sync(() => Changes.setCopy(this.changes, name, copy))
    )
  }

  get flush(): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      Changes.flush(this.changes, this.time())
      this.renew = true
    })
  }

  // --- flash -----------------------------------------------------------------

  flash(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
  flash<A, I, RD, RE>(
    key: SessionKey.SessionKey<A, I, RD, RE>,
    value: A
  ): Effect.Effect<void, SessionValueError | SessionStoreError, RE>
  flash(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return Effect.tap(this.putAny(key, value), () => Effect.sync(() => Flash.flash(this.changes.meta, keyName(key))))
  }

  now(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
  now<A, I, RD, RE>(
    key: SessionKey.SessionKey<A, I, RD, RE>,
    value: A
  ): Effect.Effect<void, SessionValueError | SessionStoreError, RE>
  now(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return Effect.tap(this.putAny(key, value), () => Effect.sync(() => Flash.now(this.changes.meta, keyName(key))))
  }

  get reflash(): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => Flash.reflash(this.changes.meta))
  }

  keep(keys: string | ReadonlyArray<string>): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => Flash.keep(this.changes.meta, typeof keys === "string" ? [keys] : keys))
  }

  // --- CSRF token ------------------------------------------------------------

  get token(): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => this.changes.meta.t ??= Id.generate())
  }

  get regenerateToken(): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => this.changes.meta.t = Id.generate())
  }

  // --- lifecycle -------------------------------------------------------------

  get regenerate(): Effect.Effect<void, SessionStoreError> {
    return this.regenerateWith(this.config.regenerateGraceMillis)
  }

  /**
   * A new ID for the session. The record moves to it at the next save (the store's `rotate` when
   * it has one: only if the old record still exists, so a session destroyed meanwhile stays gone);
   * the old record is then deleted, or retired read-only for `graceMillis`.
   */
  private regenerateWith(graceMillis: number): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      const from = this.rotation?.from ?? this.key
      if (from !== undefined && !this.retired) {
        this.rotation = { from, graceMillis: Math.min(graceMillis, this.rotation?.graceMillis ?? graceMillis) }
      }
      this.currentId = Id.generate()
      this.key = undefined
      // A CSRF token seen before the privilege change must not be valid after it.
      if (this.changes.meta.t !== undefined) this.changes.meta.t = Id.generate()
    })
  }

  setLifetime(lifetime: {
    readonly ttl?: Duration.Input | undefined
    readonly absoluteTimeout?: Duration.Input | undefined
  }): Effect.Effect<void, SessionConfigError | SessionStoreError> {
    const notALifetime = CoreOptions.lifetimeArgumentProblem(lifetime)
    if (notALifetime !== undefined) {
      return Effect.fail(new SessionConfigError({ option: "lifetime", message: notALifetime }))
    }
    return this.withLoaded(() => {
      const ttl = lifetime.ttl === undefined ? undefined : decodeLifetime("ttl", lifetime.ttl)
      if (ttl !== undefined && Result.isFailure(ttl)) return Effect.fail(ttl.failure)
      const absolute = lifetime.absoluteTimeout === undefined
        ? undefined
        : decodeLifetime("absoluteTimeout", lifetime.absoluteTimeout)
      if (absolute !== undefined && Result.isFailure(absolute)) return Effect.fail(absolute.failure)
      if (ttl !== undefined) this.changes.meta.l = ttl.success
      if (absolute !== undefined) this.changes.meta.a = absolute.success || undefined
      this.renew = true
      return Effect.void
    })
  }

  /**
   * Takes the session's lock (Laravel's session blocking) for the rest of the request. A request
   * without a session cookie has nothing to lock: its session is new and nobody else holds it.
   */
  lock(options?: LockOptions): Effect.Effect<void, SessionLockTimeout | SessionConfigError | SessionStoreError> {
    if (options === undefined) return this.lockWith(undefined)
    const settings = resolveLock(options)
    return Result.isFailure(settings) ? Effect.fail(settings.failure) : this.lockWith(settings.success)
  }

  /** `lock`, with its times resolved (`undefined`: the middleware's, or Laravel's defaults). */
  lockWith(options: LockSettings | undefined): Effect.Effect<void, SessionLockTimeout | SessionStoreError> {
    return Effect.suspend(() => {
      if (this.lockRelease !== undefined || this.cookieId === undefined) return Effect.void
      const settings = options ?? this.config.lock ?? DEFAULT_LOCK
      const store = this.store
      if (store.lock === undefined) {
        return Effect.fail(
          new SessionStoreError({
            reason: "Unsupported",
            message: "session locking: this store has no lock capability"
          })
        )
      }
      // Called on the store, as a method: a store may be a class instance whose members use `this`.
      const lock = store.lock(Id.storageKey(this.cookieId), {
        ttl: Duration.millis(settings.ttlMillis),
        wait: Duration.millis(settings.waitMillis)
      })
      return Metrics.track("lock", lock).pipe(
        Effect.flatMap((release) => {
          this.lockRelease = release
          // Loaded before the lock was held? Read again, unless this request already changed it.
          // (A session the store did not hold has nothing to read again: its ID is no one's.)
          if (this.loaded && this.key !== undefined && this.unchanged()) {
            this.loaded = false
            return this.loadNow()
          }
          return Effect.void
        })
      )
    })
  }

  /**
   * Whether a save would write nothing this request did: its data as loaded (a key put back to the
   * value it had is no change, as for the save), its metadata too (a CSRF token, a lifetime, flash
   * data), and no renewal, rotation or logout pending. Only then may `lock` read the session
   * again: a re-read replaces everything the request did.
   */
  private unchanged(): boolean {
    const changes = this.changes
    return this.rotation === undefined && !this.renew && !this.mustWrite && !Changes.changed(changes)
  }

  /** Whether this request holds the session's lock. */
  get holdsLock(): boolean {
    return this.lockRelease !== undefined
  }

  /** Releases the lock, if held: the flow calls it once the response is ready. */
  get unlock(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const release = this.lockRelease
      this.lockRelease = undefined
      return release ?? Effect.void
    })
  }

  /**
   * Deletes the session's record(s) and clears the cookie — but only if the record is still this
   * session's when the request gets there (the core's `Save.cookieAfterDestroy`): one that another
   * request destroyed or regenerated away since the load is left alone, and so is the cookie, which
   * the browser may by now hold for the session that replaced it. A cookie this request already
   * cleared (an earlier `destroy` or `invalidate`) stays cleared.
   */
  get destroy(): Effect.Effect<void, SessionStoreError> {
    return this.withLoaded(() => {
      const keys = this.storedKeys()
      const wasRetired = this.retired
      this.startFresh()
      if (this.cookie._tag !== "Clear") this.cookie = LEAVE
      if (keys.length === 0) return Effect.void
      // A retired record is another session's past: it expires with its grace, untouched. As after
      // `invalidate`, the rest of the request is read-only: a write after the logout must not start
      // a session whose cookie would replace, in the browser, the session that retired this one.
      if (wasRetired) {
        this.retired = true
        this.leaveCookie()
        return Effect.void
      }
      return Effect.map(this.destroyOwn(keys, true), (deleted) => {
        if (deleted) this.cookie = CLEAR
        else this.retired = true // another request ended or moved it first: read-only, as above
      })
    })
  }

  /**
   * Logout: the session's record is deleted now, whatever `regenerateGrace` says and whatever the
   * rest of the request does (a handler that fails afterwards leaves no live session behind), by
   * `destroy`'s rule: only a record still this session's. The request goes on with an empty
   * session under a new ID, with the middleware's lifetimes; when a record was deleted, the save
   * writes that session and gives the browser its cookie (if nothing saves, as for `HEAD`, the
   * old cookie is cleared).
   */
  get invalidate(): Effect.Effect<void, SessionStoreError> {
    return this.withLoaded(() => {
      const keys = this.storedKeys()
      const wasRetired = this.retired
      const wasNew = this.fresh
      this.startFresh()
      // The same session goes on (it is not "new" unless it was), empty, under a new ID.
      this.fresh = wasNew
      this.currentId = Id.generate()
      if (keys.length === 0) return Effect.void
      // Another request ended or moved the session first (a logout, a login's regenerate): the
      // rest of this request is read-only, as on a retired record, so nothing it changes after the
      // logout (a new token, a flash) is saved or sets a cookie over the newer session's.
      if (wasRetired) {
        this.retired = true
        this.leaveCookie()
        return Effect.void
      }
      return Effect.map(this.destroyOwn(keys, false), (deleted) => {
        if (!deleted) {
          this.retired = true
          this.leaveCookie()
          return
        }
        this.cookie = CLEAR
        this.mustWrite = true
      })
    })
  }

  /**
   * No session cookie from this request after all (a cookie it already cleared stays cleared): the
   * session turned out retired or ended by another request, and a cookie an earlier save decided on
   * would name an ID the store no longer holds for it, replacing the newer session's in the browser.
   */
  private leaveCookie(): void {
    if (this.cookie._tag !== "Clear") this.cookie = LEAVE
  }

  /** The keys this session has records under: its own, and the one a pending rotation leaves. */
  private storedKeys(): ReadonlyArray<string> {
    const keys: Array<string> = []
    if (this.rotation !== undefined) keys.push(this.rotation.from)
    if (this.key !== undefined) keys.push(this.key)
    return keys
  }

  /**
   * Deletes each of `keys` whose record is still this session's, read again right before (the
   * core's `Save.cookieAfterDestroy`); whether any was. `counted`: a `destroy`, counted in
   * `effect_session_destroyed_total` once.
   */
  private destroyOwn(keys: ReadonlyArray<string>, counted: boolean): Effect.Effect<boolean, SessionStoreError> {
    let deleted = false
    return Effect.map(
      Effect.forEach(keys, (key) =>
        Effect.flatMap(Metrics.track("read", this.store.read(key)), (found) => {
          const stored = Option.isOption(found) ? Option.getOrUndefined(found) : undefined
          if (Save.cookieAfterDestroy(stored)._tag === "Leave") return Effect.void
          const first = !deleted
          deleted = true
          // counted once the deletion has succeeded: a failed one (a 503) ended nothing
          return Effect.map(Metrics.track("destroy", this.store.destroy(key)), () => {
            if (first && counted) Metrics.countNow(Metrics.destroyed)
          })
        }), { discard: true }),
      () => deleted
    )
  }

  get save(): Effect.Effect<SaveResult, SessionStoreError> {
    return Effect.suspend(() => this.commit(false))
  }

  // --- saving ----------------------------------------------------------------

  /**
   * Saves as `Save.plan` says: nothing, a new record, a rotation to the new ID, or this request's
   * changes to the record the store holds. `final` marks the automatic save after the handler,
   * which also ages flash data, and runs uninterruptibly (the flow's continuation).
   *
   * An update uses the store's atomic `patch` when it has one: only this request's changes are
   * applied, to the record as it is now, so concurrent requests changing different keys (or
   * incrementing the same one) all count, and a session destroyed or regenerated meanwhile is not
   * resurrected (`"SessionGone"`: the changes are dropped, the cookie is left alone). Stores without
   * `patch` get the whole record (last writer wins).
   */
  commit(final: boolean): Effect.Effect<SaveResult, SessionStoreError> {
    return this.commitThen(final, undefined)
  }

  /**
   * The final save (`commit(true)`), then `then`'s `onSuccess` with its result or `onFailure` with
   * its store failure, as `Effect.matchEffect` would: in the save's own continuation where it can
   * be (one continuation after the store operation instead of two). Not under a span: the save's
   * span must end with the save.
   */
  finish<B, E, R>(then: Then<B, E, R>): Effect.Effect<B, E, R> {
    return this.commitThen(true, then)
  }

  private commitThen(final: boolean, then: undefined): Effect.Effect<SaveResult, SessionStoreError>
  private commitThen<B, E, R>(final: boolean, then: Then<B, E, R>): Effect.Effect<B, E, R>
  private commitThen<B, E, R>(
    final: boolean,
    then: Then<B, E, R> | undefined
  ): Effect.Effect<SaveResult | B, SessionStoreError | E, R> {
    if (then !== undefined && Metrics.spansExported()) return Effect.matchEffect(this.commit(final), then)
    if (!this.loaded) return followedBy(unchanged, then)
    if (final && !this.flashAged) {
      this.flashAged = true
      Changes.ageFlash(this.changes)
    }
    const now = this.time()
    const rotation = this.rotation
    const persisted = this.key !== undefined
    const plan = Save.plan(
      {
        persisted,
        rotating: rotation !== undefined,
        retired: this.retired,
        changed: this.mustWrite || Changes.changed(this.changes),
        mayCreate: this.method !== "HEAD",
        renew: this.renew,
        meta: this.changes.meta
      },
      this.config,
      now
    )
    switch (plan._tag) {
      case "Skip":
        return followedBy(unchanged, then)
      case "Refused":
        this.leaveCookie()
        return followedBy(
          Effect.as(
            Effect.logDebug("effect-session: this session was regenerated by another request; changes dropped"),
            "SessionGone"
          ),
          then
        )
    }
    if (Save.renews(plan)) this.changes.meta.r = now
    this.currentId ??= Id.generate()
    const key = this.key ?? Id.storageKey(this.currentId)
    const ttl = ttlDuration(plan.ttlMillis)
    /** What follows the store operation: `applied` false when the record was gone (a patch or rotation). */
    let record: SessionData | undefined
    const after = (applied: boolean): Effect.Effect<SaveResult> => {
      this.cookie = Save.cookieAfter(plan, applied, this.cookie)
      if (!applied) {
        // Destroyed, regenerated away or expired by another request since we loaded it.
        this.startFresh()
        return Effect.as(
          Effect.logDebug("effect-session: session ended by another request; this request's changes were dropped"),
          "SessionGone"
        )
      }
      Changes.saved(this.changes, record)
      this.key = key
      this.rotation = undefined
      this.renew = false
      this.mustWrite = false
      // a record written under a new ID: a new session, or one regenerate or invalidate moved
      if (plan._tag === "Create" || plan._tag === "Rotate") Metrics.countNow(Metrics.created)
      return written
    }
    if (plan._tag === "Rotate" && rotation !== undefined) {
      record = Changes.toRecord(this.changes)
      const rotated = Effect.flatMap(this.rotate(rotation, key, ttl, now, record), after)
      return followedBy(Metrics.span(rotated, "effect-session.save", "session.plan", plan._tag), then)
    }
    const store = this.store
    /** The store operation, then `after`, then `then`: in one continuation for the final save. */
    const run = <A>(
      operation: Metrics.Operation,
      effect: Effect.Effect<A, SessionStoreError>,
      afterIt: (value: A) => Effect.Effect<SaveResult>
    ) =>
      then !== undefined && final
        ? Metrics.trackUninterruptibleNow(
          operation,
          effect,
          (value) => followedBy(afterIt(value), then),
          (cause) => Effect.matchEffect(Effect.failCause(cause), then)
        )
        : followedBy(
          Metrics.span(track(final, operation, effect, afterIt), "effect-session.save", "session.plan", plan._tag),
          then
        )
    if (plan._tag !== "Create" && store.patch !== undefined) {
      return run("patch", store.patch(key, Changes.toPatch(this.changes), ttl), after)
    }
    record = Changes.toRecord(this.changes)
    return run("write", store.write(key, record, ttl), () => after(true))
  }

  /**
   * Moves the record to its new key: the store's atomic `rotate` when it has one (nothing happens
   * if the old record is gone), else a write of the new record and the deletion (or retirement) of
   * the old one.
   */
  private rotate(
    rotation: { readonly from: string; readonly graceMillis: number },
    to: string,
    ttl: Duration.Duration,
    now: number,
    record: SessionData
  ): Effect.Effect<boolean, SessionStoreError> {
    const store = this.store
    if (store.rotate !== undefined) {
      return Metrics.trackNow(
        "rotate",
        store.rotate(rotation.from, to, { data: record, ttl, grace: Duration.millis(rotation.graceMillis) })
      )
    }
    // A store without `rotate`: the old record read, and only if it is still a live, unretired
    // record, the new one written and the old one deleted or retired (not atomic: a logout between
    // the read and the write can be undone, documented as best effort).
    return Metrics.trackNow(
      "rotate",
      Effect.flatMap(store.read(rotation.from), (found) => {
        if (!Option.isOption(found) || Option.isNone(found)) return Effect.succeed(false)
        const old = found.value
        if (!StoredRecord.isRecord(old) || StoredRecord.isRetired(old)) return Effect.succeed(false)
        const retire = rotation.graceMillis > 0
          ? store.write(
            rotation.from,
            StoredRecord.retire(old, now + rotation.graceMillis),
            Duration.millis(rotation.graceMillis)
          )
          : store.destroy(rotation.from)
        return Effect.as(Effect.andThen(store.write(to, record, ttl), retire), true)
      })
    )
  }

  /** Adds the session cookie (and `Cache-Control: no-store`) that the request's saves decided on. */
  decorate(response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse {
    const decision = this.cookie
    if (decision._tag === "Leave") return response
    const config = this.config
    const cookie = decision._tag === "Set"
      ? Cookies.makeCookieUnsafe(config.cookieName, this.currentId!, {
        ...config.cookie,
        ...(decision.maxAgeMillis === undefined
          ? {}
          : { maxAge: Duration.seconds(Cookie.maxAgeSeconds(decision.maxAgeMillis)) })
      })
      : Cookies.makeCookieUnsafe(config.cookieName, "", { ...config.cookie, maxAge: Duration.zero })
    const withCookie = HttpServerResponse.updateCookies(response, (cookies) => Cookies.setCookie(cookies, cookie))
    // A response that sets or clears a session cookie must never be kept by a shared cache, nor by
    // a CDN that obeys its own header before Cache-Control.
    let decorated = HttpServerResponse.setHeader(withCookie, "cache-control", "no-store")
    for (const name of Cookie.SHARED_CACHE_HEADERS) {
      if (decorated.headers[name] !== undefined) decorated = HttpServerResponse.setHeader(decorated, name, "no-store")
    }
    return decorated
  }

  /** For `SessionTest`'s report: reads the state without loading or changing it. */
  snapshot(): { readonly loaded: boolean; readonly isNew: boolean; readonly id: string | undefined } {
    return { loaded: this.loaded, isNew: this.fresh, id: this.currentId }
  }
}

// -----------------------------------------------------------------------------
// The flow
// -----------------------------------------------------------------------------

const unavailable = HttpServerResponse.text("Service Unavailable", {
  status: 503,
  headers: Cookie.FAILURE_HEADERS
})

const locked = HttpServerResponse.text("Locked", {
  status: 423,
  headers: Cookie.FAILURE_HEADERS
})

/** The default failure handler: 423 for a lock timeout, 503 (logged) for a store failure. */
export const defaultFailure = (
  error: SessionStoreError | SessionLockTimeout,
  context: FailureContext
): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  error._tag === "SessionLockTimeout"
    // 423 Locked: the session exists and is busy with another request; retrying later will work.
    ? Effect.succeed(locked)
    : Effect.as(
      Effect.logError(`effect-session: session store failed during ${context.phase}`, error.message).pipe(
        Effect.annotateLogs({ "effect-session": context.phase, reason: error.reason })
      ),
      unavailable
    )

type OnError<EH, RH> = (
  error: SessionStoreError | SessionLockTimeout,
  context: FailureContext
) => Effect.Effect<HttpServerResponse.HttpServerResponse, EH, RH>

/**
 * Serves one request: runs `app` (which finds `state` as its `Session`), saves the session after
 * the app produced its response (before it leaves), adds the cookie, and turns a store failure or
 * lock timeout into the failure handler's response. Changes are saved only when the app succeeds
 * — or when it fails with an error `saveOnFailure` accepts (`HttpApi`'s declared 4xx errors, which
 * the API encodes into a response after this flow): then the session is saved and its cookie added
 * to whatever response the error becomes. Any other failure keeps the stored session as it was, and
 * so does a response `saveResponse` refuses (`HttpApi`'s 5xx): it leaves without a cookie.
 * Only the app is interruptible: the save and the lock release always run to the end.
 */
export const serve = <E, R, EH, RH>(
  state: SessionState,
  request: HttpServerRequest.HttpServerRequest,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  onError: OnError<EH, RH>,
  saveOnFailure?: (error: unknown) => boolean,
  saveResponse?: (response: HttpServerResponse.HttpServerResponse) => boolean
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  Exclude<E, SessionStoreError | SessionLockTimeout> | EH,
  R | RH
> =>
  Effect.uninterruptibleMask((restore) =>
    flow(state, request, restore(withLock(state, app)), onError, saveOnFailure, saveResponse)
  )

/**
 * `serve` for a router or API middleware: reads the request and the clock from the running fiber
 * and adds `state` to the fiber's context as `session` for the app, in the step that starts the
 * flow (`Effect.provideService` would take a step and a finalizer of its own). The context is
 * restored as soon as the app exits, whichever way (the flow's continuation runs uninterruptibly).
 */
export const serveProviding = <I, E, R, EH, RH>(
  session: Context.Key<I, SessionService>,
  config: Resolved,
  store: SessionStoreService,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  onError: OnError<EH, RH>,
  saveOnFailure?: (error: unknown) => boolean,
  saveResponse?: (response: HttpServerResponse.HttpServerResponse) => boolean
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  Exclude<E, SessionStoreError | SessionLockTimeout> | EH,
  Exclude<R, I> | RH | HttpServerRequest.HttpServerRequest
> =>
  Effect.uninterruptibleMask((restore) => {
    // The mask's callback runs in the fiber's own step: `Fiber.getCurrent()` is that fiber.
    const fiber = Fiber.getCurrent()
    if (fiber === undefined) return Effect.die(new Error("effect-session: serveProviding ran outside a fiber"))
    const context = fiber.context
    const request = Context.getUnsafe(context, HttpServerRequest.HttpServerRequest)
    const state = new SessionState(config, store, fiber.getRef(Clock.Clock), request.method, request.headers.cookie)
    fiber.setContext(Context.add(context, session, state))
    return flow(
      state,
      request,
      restore(withLock(state, app)) as Effect.Effect<HttpServerResponse.HttpServerResponse, E, Exclude<R, I>>,
      onError,
      saveOnFailure,
      saveResponse,
      () => fiber.setContext(context)
    )
  })

/** The app, after the session's lock when the options ask for one and there is a session to lock. */
const withLock = <E, R>(
  state: SessionState,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E | SessionStoreError | SessionLockTimeout, R> =>
  state.config.lock !== undefined && state.hasCookie ? Effect.andThen(state.lockWith(undefined), app) : app

/** Releases the lock after `effect`, when the request holds one by then. */
const unlocking = <A, E, R>(state: SessionState, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  state.holdsLock ? Effect.ensuring(effect, state.unlock) : effect

/**
 * What follows the app (`run`, already interruptible where it should be), in one continuation:
 * `leave` (the context the app had, taken back), then the save and the cookie (unless
 * `saveResponse` refuses the response), or the failure's handling; then the lock's release, when
 * one is held.
 */
const flow = <E, R, EH, RH>(
  state: SessionState,
  request: HttpServerRequest.HttpServerRequest,
  run: Effect.Effect<HttpServerResponse.HttpServerResponse, E | SessionStoreError | SessionLockTimeout, R>,
  onError: OnError<EH, RH>,
  saveOnFailure: ((error: unknown) => boolean) | undefined,
  saveResponse?: (response: HttpServerResponse.HttpServerResponse) => boolean,
  leave?: () => void
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  Exclude<E, SessionStoreError | SessionLockTimeout> | EH,
  R | RH
> => {
  const failure = (error: SessionStoreError | SessionLockTimeout, saving: boolean) => {
    const response = state.pendingResponse
    return onError(error, {
      request,
      phase: saving || response !== undefined ? "save" : "load",
      response: Option.fromNullishOr(response)
    })
  }
  const handled = Effect.matchCauseEffect(run, {
    onSuccess: (response) => {
      leave?.()
      // A response the adapter does not save on (`HttpApi`'s 5xx): the stored session stays as it
      // was, so no cookie either (it would name a session that was never written); the lock still goes.
      if (saveResponse !== undefined && !saveResponse(response)) return unlocking(state, Effect.succeed(response))
      state.pendingResponse = response
      // The save, then the answer (or the failure's), in the save's own continuation; nothing to
      // save (the session unused, unchanged): the answer at once.
      return unlocking(
        state,
        state.finish({
          onFailure: (error) => failure(error, true),
          // One parameter, used or not: Effect wraps a continuation of any other arity in a closure.
          onSuccess: (_: SaveResult) => Effect.succeed(state.decorate(response))
        })
      )
    },
    onFailure: (cause) => {
      leave?.()
      let saving = false
      /** Saves for a failure that still becomes a response, and adds the cookie to that response. */
      const saveThenFail = (error: E) =>
        Effect.suspend(() => {
          saving = true
          return state.commit(true)
        }).pipe(
          Effect.andThen(
            HttpEffect.appendPreResponseHandler((_, response) => Effect.succeed(state.decorate(response))).pipe(
              Effect.provideService(HttpServerRequest.HttpServerRequest, request)
            )
          ),
          Effect.andThen(Effect.fail(error))
        )
      // As `Effect.matchEffect` and `Effect.catchIf` see a failure (a defect or an interruption
      // passes through both untouched).
      return unlocking(
        state,
        Effect.failCause(cause).pipe(
          Effect.matchEffect({
            onFailure: (error) =>
              saveOnFailure !== undefined && !isSessionFailure(error) && saveOnFailure(error)
                ? saveThenFail(error as E)
                : Effect.fail(error),
            onSuccess: Effect.succeed
          }),
          Effect.catchIf(
            (u: E | SessionStoreError | SessionLockTimeout): u is SessionStoreError | SessionLockTimeout =>
              isSessionFailure(u),
            (error) => failure(error, saving)
          )
        )
      )
    }
  })
  // The session failures were turned into responses above; TypeScript cannot subtract them from
  // the app's generic error type by itself.
  return handled as Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    Exclude<E, SessionStoreError | SessionLockTimeout> | EH,
    R | RH
  >
}
