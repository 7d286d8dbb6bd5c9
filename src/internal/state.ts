/**
 * One request's session: the `SessionService` that handlers reach through `Session`. Nothing
 * touches the store until a handler first reads or writes; the record is then loaded once, every
 * later call works on memory (the core's `Changes`), and `commit` saves what changed.
 *
 * In the order a request uses it: load (`load`, `settle`), read and write (the accessors),
 * lifecycle operations (`regenerate`, `invalidate`, `destroy`, `setLifetime`, `lock`), save
 * (`commit`), and the cookie the saves decided (`decorate`).
 */
import * as Cookies from "@effect/platform/Cookies"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
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
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as Schema from "effect/Schema"
import type { LockOptions, SaveResult, SessionService } from "../Session.js"
import {
  SessionConfigError,
  SessionKeyMissing,
  type SessionLockTimeout,
  SessionStoreError,
  SessionValueError
} from "../SessionError.js"
import * as SessionKey from "../SessionKey.js"
import type { SessionStoreService } from "../SessionStore.js"
import * as Metrics from "./metrics.js"
import { decodeDuration, type LockSettings, type Resolved, resolveLock } from "./options.js"
import * as Storage from "./storage.js"

/**
 * A key of any value type. `any`: `SessionKey` is invariant in its types (its schema both decodes
 * and encodes), so no other type admits every key; the public overloads give callers their types.
 */

type AnyKey = SessionKey.SessionKey<any, any, any>
type KeyInput = string | AnyKey

/** The plans that write. */
type Writing = Exclude<Save.Plan, { readonly _tag: "Skip" } | { readonly _tag: "Refused" }>

/** The spans of a load and of each kind of save (made only when a tracer exports them). */
const loadSpan: Metrics.SpanOf = { name: "effect-session.load" }
const saveSpans: Record<Writing["_tag"], Metrics.SpanOf> = {
  Create: { name: "effect-session.save", attributes: { "session.plan": "Create" } },
  Rotate: { name: "effect-session.save", attributes: { "session.plan": "Rotate" } },
  Update: { name: "effect-session.save", attributes: { "session.plan": "Update" } }
}

/** Laravel's `block()` defaults: hold at most 10 s, wait at most 10 s. */
const DEFAULT_LOCK: LockSettings = { ttlMillis: 10_000, waitMillis: 10_000 }

const nameOf = (key: KeyInput): string => typeof key === "string" ? key : key.key

const reservedKeyError = (key: string) =>
  new SessionValueError({
    key,
    reason: "ReservedKey",
    message: `session key ${JSON.stringify(key)} is reserved for the library's metadata`
  })

export class SessionState implements SessionService {
  /** the ID the client sent, already checked to be well-formed */
  private readonly cookieId: string | undefined
  /** the current ID; `undefined` for a new session until it needs one */
  private currentId: string | undefined
  /** the storage key of the record this session has in the store (`undefined`: not stored yet) */
  private key: string | undefined
  /** `regenerate` was called: the storage key the record moves away from at the next save */
  private rotateFrom: string | undefined
  /** loaded from a record that another request's rotation retired: read-only */
  private retired = false
  private loaded = false
  /** a load is running */
  private reading = false
  /** made when a second fiber of the request waits for the running load */
  private loading: Deferred.Deferred<void, SessionStoreError> | undefined
  /** created during this request (no cookie, or an unknown, expired or destroyed one) */
  private fresh = true
  /**
   * the session's data and changes, set by the load: every accessor and the save wait for it, so
   * the constructor allocates nothing that the load would throw away
   */
  private loadedChanges: Changes.Changes | undefined
  /** the expiry must be renewed (and the cookie re-issued) at the next save: `setLifetime`, `flush` */
  private renew = false
  /** the session must be written even if empty: `invalidate` deleted its record, the new ID must reach the store and the cookie */
  private mustWrite = false
  private flashAged = false
  private cookie: CookieDecision = { _tag: "Leave" }
  /** releases the session lock, when this request holds one */
  private lockRelease: Effect.Effect<void> | undefined

  constructor(
    private readonly config: Resolved<unknown, unknown>,
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
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }

  private currentTime(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  private get changes(): Changes.Changes {
    const changes = this.loadedChanges
    // Unreachable: every path that reads the changes has waited for the load.
    if (changes === undefined) throw new Error("effect-session: the session was used before it was loaded")
    return changes
  }

  /** Whether the request carried a well-formed session cookie. */
  get hasCookie(): boolean {
    return this.cookieId !== undefined
  }

  // --- loading ---------------------------------------------------------------

  private startFresh(): void {
    this.become(undefined, undefined, false, Changes.fresh(this.currentTime()))
    this.fresh = true
  }

  /** The session as loaded: `id` and `key` undefined for a new one; nothing pending to save. */
  private become(
    id: string | undefined,
    key: string | undefined,
    retired: boolean,
    changes: Changes.Changes
  ): void {
    this.currentId = id
    this.key = key
    this.rotateFrom = undefined
    this.retired = retired
    this.fresh = false
    this.loadedChanges = changes
    this.mustWrite = false
    this.renew = false
  }

  /**
   * Loads the record on first use (from inside a step of the caller's); concurrent first uses in
   * one request share one load. The `Deferred` the others wait on is made only when a second fiber
   * arrives while the first one reads.
   */
  private load(interruptible: boolean): Effect.Effect<void, SessionStoreError> {
    if (this.loaded) return Effect.void
    if (this.reading) return Deferred.await(this.loading ??= Deferred.unsafeMake(FiberId.none))
    const id = this.cookieId
    if (id === undefined) {
      this.startFresh()
      this.loadEnded(Exit.void)
      return Effect.void
    }
    this.reading = true
    const key = Id.storageKey(id)
    // The load must end (and wake any waiter) even when its fiber is interrupted: on a fiber that
    // can be, the read is masked (on one that cannot, the mask would change nothing).
    const read = (restore: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
      Effect.matchCauseEffect(restore(Storage.read(this.store, key)), {
        onSuccess: (found) => {
          const cleanup = this.settle(id, key, found)
          this.loadEnded(Exit.void)
          return cleanup
        },
        onFailure: (cause) => {
          // A record the store cannot decode is corrupt: discarded. Any other failure is the store's.
          const error = Cause.failureOption(cause)
          if (Option.isNone(error) || error.value.reason !== "CorruptRecord") {
            this.loadEnded(Exit.failCause(cause))
            return Effect.failCause(cause)
          }
          this.startFresh()
          this.loadEnded(Exit.void)
          return this.discard(key, error.value.message)
        }
      })
    // The load span holds the read and what follows it (the deletion of an unusable record), as
    // on effect 4 (observability.md).
    return Metrics.inSpan(interruptible ? Effect.uninterruptibleMask(read) : read(identity), loadSpan)
  }

  /** The load is over: the session is loaded if it succeeded, and any fiber waiting for it goes on. */
  private loadEnded(exit: Exit.Exit<void, SessionStoreError>): void {
    this.reading = false
    if (exit._tag === "Success") this.loaded = true
    const waiting = this.loading
    if (waiting === undefined) return
    this.loading = undefined
    Deferred.unsafeDone(waiting, exit)
  }

  /**
   * What a read found, applied to this state. Anything but a record whose metadata is sound and
   * whose lifetime has not ended is never adopted: the session starts fresh (no fixation). Returns
   * what is left to do: deleting a record that cannot be used.
   */
  private settle(id: string, key: string, found: unknown): Effect.Effect<void> {
    const rejected = this.adopt(id, key, found)
    if (rejected === undefined) return Effect.void
    this.startFresh()
    return rejected
  }

  /** Adopts the record `found` as session `id`; or, when it cannot be used, what is left to do. */
  private adopt(id: string, key: string, found: unknown): Effect.Effect<void> | undefined {
    if (!Option.isOption(found)) return this.discard(key, "the store's read did not return an Option")
    if (Option.isNone(found)) {
      Metrics.count(Metrics.expired)
      return Effect.void
    }
    const record = found.value
    if (!StoredRecord.isRecord(record)) return this.discard(key, "not a record")
    const now = this.currentTime()
    const meta = Meta.read(record, now)
    if (meta._tag === "Corrupt") return this.discard(key, meta.reason)
    const retiredUntil = StoredRecord.retiredUntil(record)
    if (retiredUntil !== undefined && now >= retiredUntil) {
      Metrics.count(Metrics.expired)
      return Effect.void
    }
    if (Lifetime.isExpired(meta.meta, this.config, now)) {
      // Past its absolute lifetime: never adopted, whatever the store's TTL says.
      Metrics.count(Metrics.expired)
      return Effect.ignore(Storage.destroy(this.store, key))
    }
    this.become(id, key, retiredUntil !== undefined, Changes.fromRecord(record, meta.meta))
    return undefined
  }

  /** A record that cannot be used is deleted (best effort: it is never adopted either way). */
  private discard(key: string, why: string): Effect.Effect<void> {
    return Storage.destroy(this.store, key).pipe(
      Effect.ignore,
      Effect.zipRight(Effect.logWarning(`effect-session: discarded a stored session record (${why})`)),
      Effect.annotateLogs("effect-session", "load")
    )
  }

  /** Runs `f` once the session is loaded. */
  private withLoaded<A, E = never, R = never>(
    f: () => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | SessionStoreError, R> {
    return Effect.withFiberRuntime((_, status) =>
      this.loaded ? f() : Effect.flatMap(this.load(RuntimeFlags.interruptible(status.runtimeFlags)), f)
    )
  }

  private sync<A>(f: () => A): Effect.Effect<A, SessionStoreError> {
    return this.withLoaded(() => Effect.sync(f))
  }

  // --- reading ---------------------------------------------------------------

  private decode<A, I, R>(
    name: string,
    schema: Schema.Schema<A, I, R>,
    value: unknown
  ): Effect.Effect<A, SessionValueError, R> {
    return Effect.mapError(
      Schema.decodeUnknown(schema)(value),
      (cause) =>
        new SessionValueError({
          key: name,
          reason: "DecodeFailed",
          message: `session value for ${JSON.stringify(name)} does not match its schema`,
          cause
        })
    )
  }

  /**
   * The value under `key`, decoded with the key's schema (or `schema`) when there is one: a copy
   * (`Changes.get`), which a handler may change and put back.
   */
  private lookup(
    key: KeyInput,
    schema: Schema.Schema.Any | undefined
  ): Effect.Effect<Option.Option<unknown>, SessionValueError | SessionStoreError, unknown> {
    return this.withLoaded(() => {
      const name = nameOf(key)
      const value = Changes.get(this.changes, name)
      if (value === undefined) return Effect.succeedNone
      const s = typeof key === "string" ? schema : key.schema
      return s === undefined ? Effect.succeedSome(value) : Effect.asSome(this.decode(name, s, value))
    })
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
  get<A, I, R>(key: SessionKey.SessionKey<A, I, R>): Effect.Effect<
    A,
    SessionKeyMissing | SessionValueError | SessionStoreError,
    R
  >
  get<A, I, R>(
    key: string,
    schema: Schema.Schema<A, I, R>
  ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, R>
  get(
    key: KeyInput,
    schema?: Schema.Schema.Any
  ): Effect.Effect<unknown, SessionKeyMissing | SessionValueError | SessionStoreError, unknown> {
    return Effect.flatMap(
      this.lookup(key, schema),
      Option.match({
        onNone: () => Effect.fail(new SessionKeyMissing({ key: nameOf(key) })),
        onSome: Effect.succeed
      })
    )
  }

  getOption(key: string): Effect.Effect<Option.Option<unknown>, SessionStoreError>
  getOption<A, I, R>(
    key: SessionKey.SessionKey<A, I, R>
  ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, R>
  getOption<A, I, R>(
    key: string,
    schema: Schema.Schema<A, I, R>
  ): Effect.Effect<Option.Option<A>, SessionValueError | SessionStoreError, R>
  getOption(
    key: KeyInput,
    schema?: Schema.Schema.Any
  ): Effect.Effect<Option.Option<unknown>, SessionValueError | SessionStoreError, unknown> {
    return this.lookup(key, schema)
  }

  getString(key: string): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => {
      const value = Changes.get(this.changes, key)
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

  except(keys: ReadonlyArray<string>): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() => Changes.except(this.changes, keys))
  }

  // --- writing ---------------------------------------------------------------

  /** The copy of `value` to store under the plain key `name` (`copyFor`), or its error. */
  private check(name: string, value: unknown): Effect.Effect<unknown, SessionValueError> {
    const copy = this.copyFor(name, value)
    return copy instanceof SessionValueError ? Effect.fail(copy) : Effect.succeed(copy)
  }

  /**
   * The copy of `value` to store under the plain key `name`, or why it may not be stored: a
   * `SessionValueError`, which no copy can be. The value is read once (`Value.copyChecked`), so
   * what is stored is what was checked.
   */
  private copyFor(name: string, value: unknown): unknown {
    if (StoredRecord.isReserved(name)) return reservedKeyError(name)
    const copy = value === undefined ? undefined : Value.copyChecked(value)
    if (copy !== undefined && !(copy instanceof Value.Refusal)) return copy
    const problem = copy === undefined ? "the value is undefined: use Session.forget to remove a key" : copy.problem
    return new SessionValueError({
      key: name,
      reason: "Unencodable",
      message: `session value for ${JSON.stringify(name)}: ${problem}`
    })
  }

  /** Checks that `value` may be stored under `key`, encoding it with the key's schema if it has one. */
  private encode(key: KeyInput, value: unknown): Effect.Effect<unknown, SessionValueError, unknown> {
    if (typeof key === "string") return this.check(key, value)
    if (StoredRecord.isReserved(key.key)) return Effect.fail(reservedKeyError(key.key))
    return Schema.encode(key.schema)(value).pipe(
      Effect.mapError((cause) =>
        new SessionValueError({
          key: key.key,
          reason: "EncodeFailed",
          message: `session value for ${JSON.stringify(key.key)} does not match its schema`,
          cause
        })
      ),
      Effect.flatMap((encoded) => this.check(key.key, encoded))
    )
  }

  /** Stores `value` under `key` (encoded and checked), then runs `after` with the key's name. */
  private store_(
    key: KeyInput,
    value: unknown,
    after?: (name: string) => void
  ): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    const set = (name: string, copy: unknown) =>
      this.withLoaded(() => {
        Changes.setCopy(this.changes, name, copy)
        after?.(name)
        return Effect.void
      })
    if (typeof key !== "string") return Effect.flatMap(this.encode(key, value), (copy) => set(key.key, copy))
    // A plain key is checked at the call, without a step of its own.
    const copy = this.copyFor(key, value)
    return copy instanceof SessionValueError ? Effect.fail(copy) : set(key, copy)
  }

  put(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
  put<A, I, R>(key: SessionKey.SessionKey<A, I, R>, value: A): Effect.Effect<
    void,
    SessionValueError | SessionStoreError,
    R
  >
  put(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return this.store_(key, value)
  }

  forget(keys: string | ReadonlyArray<string>): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      for (const key of typeof keys === "string" ? [keys] : keys) Changes.remove(this.changes, key)
    })
  }

  pull(key: string): Effect.Effect<unknown, SessionKeyMissing | SessionStoreError>
  pull<A, I, R>(
    key: SessionKey.SessionKey<A, I, R>
  ): Effect.Effect<A, SessionKeyMissing | SessionValueError | SessionStoreError, R>
  pull(key: KeyInput): Effect.Effect<unknown, SessionKeyMissing | SessionValueError | SessionStoreError, unknown> {
    const get: Effect.Effect<unknown, SessionKeyMissing | SessionValueError | SessionStoreError, unknown> =
      typeof key === "string" ? this.get(key) : this.get(key)
    return Effect.tap(get, () => this.forget(nameOf(key)))
  }

  private adjust(key: string, by: number): Effect.Effect<number, SessionValueError | SessionStoreError> {
    return this.withLoaded(() => {
      if (StoredRecord.isReserved(key)) return Effect.fail(reservedKeyError(key))
      const current = Changes.get(this.changes, key) ?? 0
      if (typeof current !== "number") {
        return Effect.fail(
          new SessionValueError({
            key,
            reason: "NotANumber",
            message: `session value for ${JSON.stringify(key)} is not a number`
          })
        )
      }
      const next = Number.isFinite(by) ? Changes.add(this.changes, key, by) : undefined
      if (next === undefined) {
        return Effect.fail(
          new SessionValueError({
            key,
            reason: "NotANumber",
            message: `incrementing ${JSON.stringify(key)} by ${by} does not give a finite number`
          })
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
    return Effect.flatMap(this.check(key, value), (encoded) =>
      this.withLoaded(() => {
        const current = Changes.get(this.changes, key) ?? []
        if (!Array.isArray(current)) {
          return Effect.fail(
            new SessionValueError({
              key,
              reason: "NotAnArray",
              message: `session value for ${JSON.stringify(key)} is not an array`
            })
          )
        }
        Changes.setCopy(this.changes, key, [...current, encoded])
        return Effect.void
      }))
  }

  remember<E, R>(
    key: string,
    compute: Effect.Effect<unknown, E, R>
  ): Effect.Effect<unknown, E | SessionValueError | SessionStoreError, R>
  remember<A, I, R1, E, R>(
    key: SessionKey.SessionKey<A, I, R1>,
    compute: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | SessionValueError | SessionStoreError, R | R1>
  remember(
    key: KeyInput,
    compute: Effect.Effect<unknown, unknown, unknown>
  ): Effect.Effect<unknown, unknown, unknown> {
    // Missing or null (as stored, before any schema sees it: a typed key's schema need not accept
    // null) means compute; anything else is decoded as `getOption` decodes it.
    return this.withLoaded(() => {
      const name = nameOf(key)
      if (!Changes.hasValue(this.changes, name)) {
        return Effect.tap(compute, (value) => this.store_(key, value))
      }
      return Effect.map(this.lookup(key, undefined), Option.getOrUndefined)
    })
  }

  /**
   * Removes every key, the CSRF token and flash data, and resets the session's own lifetimes and
   * creation time: nothing of the session before it decides how long the one after it lives. The
   * cookie is re-issued with the middleware's lifetime.
   */
  get flush(): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      Changes.flush(this.changes, this.currentTime())
      this.renew = true
    })
  }

  // --- flash -----------------------------------------------------------------

  flash(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
  flash<A, I, R>(key: SessionKey.SessionKey<A, I, R>, value: A): Effect.Effect<
    void,
    SessionValueError | SessionStoreError,
    R
  >
  flash(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return this.store_(key, value, (name) => Flash.flash(this.changes.meta, name))
  }

  now(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError>
  now<A, I, R>(key: SessionKey.SessionKey<A, I, R>, value: A): Effect.Effect<
    void,
    SessionValueError | SessionStoreError,
    R
  >
  now(key: KeyInput, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, unknown> {
    return this.store_(key, value, (name) => Flash.now(this.changes.meta, name))
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

  // --- lifecycle ---------------------------------------------------------------

  /**
   * A new ID for the same data. Nothing is written yet: the save moves the record to the new ID
   * and retires the old one in one store step, and only if the old record still exists (a logout
   * meanwhile wins). A session not stored yet just takes the new ID: saved, as any new session,
   * only if it holds something.
   */
  get regenerate(): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      // A retired session is another session's past: it is not moved again (its saves are refused).
      if (this.key !== undefined && !this.retired) {
        this.rotateFrom ??= this.key
        this.key = undefined
      }
      this.currentId = Id.generate()
      // A CSRF token seen before the privilege change must not be valid after it.
      if (this.changes.meta.t !== undefined) this.changes.meta.t = Id.generate()
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
      const old = this.storedKeys()
      const wasRetired = this.retired
      const wasNew = this.fresh
      this.startFresh()
      // The same session goes on (it is not "new" unless it was), empty, under a new ID.
      this.fresh = wasNew
      this.currentId = Id.generate()
      if (old.length === 0) return Effect.void
      // Another request ended or moved the session first (a logout, a login's regenerate): the
      // rest of this request is read-only, as on a retired record, so nothing it changes after the
      // logout (a new token, a flash) is saved or sets a cookie over the newer session's.
      if (wasRetired) {
        this.retired = true
        this.leaveCookie()
        return Effect.void
      }
      return Effect.map(this.destroyOwn(old, false), (deleted) => {
        if (!deleted) {
          this.retired = true
          this.leaveCookie()
          return
        }
        this.cookie = { _tag: "Clear" }
        this.mustWrite = true
      })
    })
  }

  /**
   * Deletes the session's record(s) and clears the cookie — but only if the record is still this
   * session's when the request gets there (the core's `Save.cookieAfterDestroy`, read again right
   * before deleting): one that another request destroyed or regenerated away since the load is left
   * alone, and so is the cookie, which the browser may by now hold for the session that replaced it.
   * A cookie this request already cleared (an earlier `destroy` or `invalidate`) stays cleared.
   */
  get destroy(): Effect.Effect<void, SessionStoreError> {
    return this.withLoaded(() => {
      const old = this.storedKeys()
      const wasRetired = this.retired
      this.startFresh()
      if (this.cookie._tag !== "Clear") this.cookie = { _tag: "Leave" }
      if (old.length === 0) return Effect.void
      // A retired record is another session's past: it expires with its grace, untouched. As after
      // `invalidate`, the rest of the request is read-only: a write after the logout must not start
      // a session whose cookie would replace, in the browser, the session that retired this one.
      if (wasRetired) {
        this.retired = true
        this.leaveCookie()
        return Effect.void
      }
      return Effect.map(this.destroyOwn(old, true), (deleted) => {
        if (deleted) this.cookie = { _tag: "Clear" }
        else this.retired = true // another request ended or moved it first: read-only, as above
      })
    })
  }

  /**
   * No session cookie from this request after all (a cookie it already cleared stays cleared): the
   * session turned out retired or ended by another request, and a cookie an earlier save decided on
   * would name an ID the store no longer holds for it, replacing the newer session's in the browser.
   */
  private leaveCookie(): void {
    if (this.cookie._tag !== "Clear") this.cookie = { _tag: "Leave" }
  }

  /** The keys this session has records under: its own, and the one a pending rotation leaves. */
  private storedKeys(): ReadonlyArray<string> {
    return [this.rotateFrom, this.key].filter((key): key is string => key !== undefined)
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
        Effect.flatMap(Storage.read(this.store, key), (found) => {
          const stored = Option.isOption(found) ? Option.getOrUndefined(found) : undefined
          if (Save.cookieAfterDestroy(stored)._tag === "Leave") return Effect.void
          const first = !deleted
          deleted = true
          // counted once the deletion has succeeded: a failed one (a 503) ended nothing
          return Effect.map(Storage.destroy(this.store, key), () => {
            if (first && counted) Metrics.count(Metrics.destroyed)
          })
        }), { discard: true }),
      () => deleted
    )
  }

  /** Per-session lifetimes ("remember me"): stored with the session, used for every later save. */
  setLifetime(lifetime: {
    readonly ttl?: Duration.DurationInput
    readonly absoluteTimeout?: Duration.DurationInput
  }): Effect.Effect<void, SessionConfigError | SessionStoreError> {
    const notALifetime = CoreOptions.lifetimeArgumentProblem(lifetime)
    if (notALifetime !== undefined) {
      return Effect.fail(new SessionConfigError({ option: "lifetime", message: notALifetime }))
    }
    return this.withLoaded(() => {
      const ttl = lifetimeMillis("ttl", lifetime.ttl)
      if (Either.isLeft(ttl)) return Effect.fail(ttl.left)
      const absolute = lifetimeMillis("absoluteTimeout", lifetime.absoluteTimeout)
      if (Either.isLeft(absolute)) return Effect.fail(absolute.left)
      const meta = this.changes.meta
      if (ttl.right !== undefined) meta.l = ttl.right
      if (absolute.right !== undefined) meta.a = absolute.right || undefined
      this.renew = true
      return Effect.void
    })
  }

  /**
   * Takes the session's lock (Laravel's session blocking) for the rest of the request. A request
   * without a session cookie has nothing to lock: its session is new and nobody else holds it.
   */
  lock(options?: LockOptions): Effect.Effect<void, SessionLockTimeout | SessionConfigError | SessionStoreError> {
    if (options === undefined) return this.lockWith(this.config.lock ?? DEFAULT_LOCK)
    return Effect.flatMap(resolveLock(options), (settings) => this.lockWith(settings))
  }

  /** `lock` with settings already checked. */
  lockWith(settings: LockSettings): Effect.Effect<void, SessionLockTimeout | SessionStoreError> {
    return Effect.suspend(() => {
      if (this.lockRelease !== undefined || this.cookieId === undefined) return Effect.void
      const store = this.store
      if (store.lock === undefined) {
        return Effect.fail(
          new SessionStoreError({
            reason: "Unsupported",
            message: "session locking: this store has no lock capability"
          })
        )
      }
      const options = { ttl: Duration.millis(settings.ttlMillis), wait: Duration.millis(settings.waitMillis) }
      // Called on the store, as a method: a store may be a class instance whose members use `this`.
      return Metrics.track("lock", store.lock(Id.storageKey(this.cookieId), options)).pipe(
        Effect.flatMap((release) => {
          this.lockRelease = release
          // Loaded before the lock was held? Read again, unless this request already changed it.
          // (A session the store did not hold has nothing to read again: its ID is no one's.)
          if (this.loaded && this.key !== undefined && this.unchanged()) {
            this.loaded = false
            return this.load(true)
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
    return this.rotateFrom === undefined && !this.renew && !this.mustWrite && !Changes.changed(changes)
  }

  /** Whether this request holds the session lock. */
  get holdsLock(): boolean {
    return this.lockRelease !== undefined
  }

  /** Releases the lock, if held: the lifecycle calls it once the response is ready. */
  get unlock(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const release = this.lockRelease
      this.lockRelease = undefined
      return release ?? Effect.void
    })
  }

  // --- saving ----------------------------------------------------------------

  get save(): Effect.Effect<SaveResult, SessionStoreError> {
    return this.commit(false)
  }

  /**
   * Writes the session if it changed (or its expiry is due to be renewed) and decides the cookie
   * (`Save.plan`). `final` marks the save after the handler, which also ages flash data.
   *
   * A session the store holds is saved with the store's atomic `patch` when it has one: only this
   * request's changes are applied, to the record as it is now, so concurrent requests changing
   * different keys all count, and a session destroyed, regenerated or retired meanwhile is not
   * brought back (`"SessionGone"`: the changes are dropped and the response carries no session
   * cookie). Stores without `patch` get the whole record (last writer wins).
   */
  commit(final: boolean): Effect.Effect<SaveResult, SessionStoreError> {
    return Effect.suspend(() => {
      const saving = this.commitNow(final)
      return typeof saving === "string" ? Effect.succeed(saving) : saving
    })
  }

  /**
   * `commit`, from inside a step of the caller's: the result at once when nothing has to be
   * written, else the Effect that writes.
   */
  commitNow(final: boolean): SaveResult | Effect.Effect<SaveResult, SessionStoreError> {
    if (!this.loaded) return "Unchanged"
    if (final && !this.flashAged) {
      this.flashAged = true
      Changes.ageFlash(this.changes)
    }
    const now = this.currentTime()
    const plan = Save.plan(
      {
        persisted: this.key !== undefined,
        rotating: this.rotateFrom !== undefined,
        retired: this.retired,
        changed: this.mustWrite || Changes.changed(this.changes),
        mayCreate: this.method !== "HEAD",
        renew: this.renew,
        meta: this.changes.meta
      },
      this.config,
      now
    )
    if (plan._tag === "Skip") return "Unchanged"
    if (plan._tag === "Refused") return this.refused()
    if (Save.renews(plan)) this.changes.meta.r = now
    return this.run(plan)
  }

  /** The store operation a plan names, and what follows from whether the session still existed. */
  private run(plan: Writing): Effect.Effect<SaveResult, SessionStoreError> {
    const changes = this.changes
    const span = saveSpans[plan._tag]
    switch (plan._tag) {
      case "Create": {
        this.currentId ??= Id.generate()
        const key = Id.storageKey(this.currentId)
        return Effect.map(Storage.write(this.store, key, Changes.toRecord(changes), plan.ttlMillis, span), () => {
          this.key = key
          Metrics.count(Metrics.created)
          return this.written(plan)
        })
      }
      case "Rotate": {
        const key = Id.storageKey(this.currentId!)
        const from = this.rotateFrom!
        return Effect.map(
          Storage.rotate(
            this.store,
            from,
            key,
            Changes.toRecord(changes),
            plan.ttlMillis,
            this.config.regenerateGraceMillis,
            span
          ),
          (moved) => {
            if (!moved) return this.gone(plan)
            this.key = key
            this.rotateFrom = undefined
            // a record written under a new ID (observability.md: regenerate counts)
            Metrics.count(Metrics.created)
            return this.written(plan)
          }
        )
      }
      default:
        return Effect.map(
          Storage.update(
            this.store,
            this.key!,
            () => Changes.toPatch(changes),
            () => Changes.toRecord(changes),
            plan.ttlMillis,
            span
          ),
          (applied) => applied ? this.written(plan) : this.gone(plan)
        )
    }
  }

  private written(plan: Save.Plan): SaveResult {
    Changes.saved(this.changes, undefined)
    this.cookie = Save.cookieAfter(plan, true, this.cookie)
    this.mustWrite = false
    this.renew = false
    return "Written"
  }

  /**
   * A change to a retired session (another request regenerated it): nothing is written, no cookie
   * is set, and the session stays read-only for the rest of the request, so a later write cannot
   * start a new session whose cookie would replace the newer session's in the browser.
   */
  private refused(): Effect.Effect<SaveResult> {
    this.leaveCookie()
    return Effect.as(
      Effect.logDebug("effect-session: this session was regenerated by another request; changes dropped"),
      "SessionGone"
    )
  }

  /** Destroyed, regenerated away or expired by another request since this one loaded it. */
  private gone(plan: Save.Plan): SaveResult {
    this.startFresh()
    this.cookie = Save.cookieAfter(plan, false, this.cookie)
    return "SessionGone"
  }

  /** Adds the session cookie (and `Cache-Control: no-store`) that the request's saves decided on. */
  decorate(response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse {
    const decision = this.cookie
    if (decision._tag === "Leave") return response
    const { cookie: options, cookieName } = this.config
    const cookie = decision._tag === "Set"
      ? Cookies.unsafeMakeCookie(
        cookieName,
        this.currentId!,
        decision.maxAgeMillis === undefined
          ? options
          : { ...options, maxAge: Duration.seconds(Cookie.maxAgeSeconds(decision.maxAgeMillis)) }
      )
      : Cookies.unsafeMakeCookie(cookieName, "", { ...options, maxAge: Duration.zero })
    const withCookie = HttpServerResponse.updateCookies(response, (cookies) => Cookies.setCookie(cookies, cookie))
    // A response that sets or clears a session cookie must never be kept by a shared cache, nor by
    // a CDN that obeys its own header before Cache-Control.
    let decorated = HttpServerResponse.setHeader(withCookie, "cache-control", "no-store")
    for (const name of Cookie.SHARED_CACHE_HEADERS) {
      if (decorated.headers[name] !== undefined) decorated = HttpServerResponse.setHeader(decorated, name, "no-store")
    }
    return decorated
  }

  /** Never used by the request so far: nothing to save and no cookie to set. */
  get untouched(): boolean {
    return !this.loaded && this.cookie._tag === "Leave"
  }

  /** For `SessionTest`'s report after a request: reads the state without loading or changing it. */
  snapshot(): { readonly loaded: boolean; readonly isNew: boolean } {
    return { loaded: this.loaded, isNew: this.fresh }
  }
}

/** A lifetime option of `setLifetime`, in ms: a duration no longer than a session may live. */
const lifetimeMillis = (
  option: string,
  input: Duration.DurationInput | undefined
): Either.Either<number | undefined, SessionConfigError> => {
  if (input === undefined) return Either.right(undefined)
  return Either.flatMap(decodeDuration(option, input), (duration) => {
    const millis = Duration.toMillis(duration)
    const problem = CoreOptions.lifetimeProblem(option, millis)
    return problem === undefined
      ? Either.right(millis)
      : Either.left(new SessionConfigError({ option, message: problem }))
  })
}
