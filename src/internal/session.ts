/**
 * The request flow, top to bottom: cookie in → (lazy) load → handler → save → cookie out.
 */
import * as Cookies from "@effect/platform/Cookies"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cookie, Id } from "effect-session-core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import { isTagged } from "effect/Predicate"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import type { FailureContext, SaveResult, Session as SessionTag, SessionService } from "../Session.js"
import * as SessionCodec from "../SessionCodec.js"
import type { SessionData } from "../SessionCodec.js"
import {
  type SessionConfigError,
  SessionKeyMissing,
  type SessionLockTimeout,
  SessionStoreError,
  SessionValueError
} from "../SessionError.js"
import * as SessionKey from "../SessionKey.js"
import { type SessionPatch, SessionStore, type SessionStoreService, type SessionStoreUnsafe } from "../SessionStore.js"
import * as Metrics from "./metrics.js"
import { decodeDuration, type LockSettings, type Resolved } from "./options.js"
import { setOwn } from "./record.js"

// -----------------------------------------------------------------------------
// Record layout
// -----------------------------------------------------------------------------

/**
 * The keys of a stored record that are not user data: the library's metadata. Keeping the record
 * flat (user keys at the top level) means any store, even a hand-written one, sees the session's
 * data as the plain `Record` it is. The metadata is split in three so that an atomic patch touches
 * only the part a request changed: a request that merely renews the session never overwrites the
 * flash bookkeeping or the CSRF token that a concurrent request just wrote.
 *
 * - `"__session"`: `{ c, r, l?, a? }` — creation and renewal times, per-session lifetimes
 * - `"__session.token"`: the CSRF token
 * - `"__session.flash"`: `{ new?: [...keys], old?: [...keys] }`
 */
export const RESERVED_KEY = "__session"
export const TOKEN_KEY = "__session.token"
export const FLASH_KEY = "__session.flash"

/** Whether `key` is one of the metadata keys (never user data). */
export const isReserved = (key: string): boolean => key === RESERVED_KEY || key === TOKEN_KEY || key === FLASH_KEY

/** Session metadata, as one object in memory (see `metaEntries` for how it is stored). */
export interface Meta {
  /** created at (ms since epoch): the absolute lifetime counts from here */
  c: number
  /** renewed at (ms): when the record's expiry and the cookie's Max-Age were last extended */
  r: number
  /** CSRF token, created on first use */
  t?: string
  /** flash keys for the next request */
  fn?: Array<string> | undefined
  /** flash keys that expire at the end of this request */
  fo?: Array<string> | undefined
  /** this session's own idle TTL in ms (`Session.setLifetime`), overriding the middleware's */
  l?: number | undefined
  /** this session's own absolute lifetime in ms, overriding the middleware's */
  a?: number | undefined
}

type LockOptions = LockSettings

/** Laravel's `block()` defaults: hold at most 10 s, wait at most 10 s. */
const DEFAULT_LOCK: LockSettings = { ttlMillis: 10_000, waitMillis: 10_000 }

const isStringArray = (u: unknown): u is Array<string> => Array.isArray(u) && u.every((s) => typeof s === "string")

/** The metadata a stored record carries, or `undefined` when it is missing or malformed. */
export const readMeta = (record: SessionData): Meta | undefined => {
  const core = record[RESERVED_KEY]
  if (typeof core !== "object" || core === null) return undefined
  const m = core as Record<string, unknown>
  if (typeof m.c !== "number" || typeof m.r !== "number") return undefined
  if (m.l !== undefined && typeof m.l !== "number") return undefined
  if (m.a !== undefined && typeof m.a !== "number") return undefined
  const meta: Meta = { c: m.c, r: m.r }
  if (m.l !== undefined) meta.l = m.l as number
  if (m.a !== undefined) meta.a = m.a as number
  const token = hasOwn(record, TOKEN_KEY) ? record[TOKEN_KEY] : undefined
  if (token !== undefined) {
    if (typeof token !== "string") return undefined
    meta.t = token
  }
  const flash = hasOwn(record, FLASH_KEY) ? record[FLASH_KEY] : undefined
  if (flash !== undefined) {
    if (typeof flash !== "object" || flash === null) return undefined
    const f = flash as Record<string, unknown>
    if (f.new !== undefined && !isStringArray(f.new)) return undefined
    if (f.old !== undefined && !isStringArray(f.old)) return undefined
    if (f.new !== undefined && f.new.length > 0) meta.fn = [...f.new]
    if (f.old !== undefined && f.old.length > 0) meta.fo = [...f.old]
  }
  return meta
}

/** The record entries that store `meta`: the core always, the token and flash lists when present. */
export const metaEntries = (meta: Meta): Array<[string, unknown]> => {
  const entries: Array<[string, unknown]> = [[RESERVED_KEY, coreOf(meta)]]
  if (meta.t !== undefined) entries.push([TOKEN_KEY, meta.t])
  if (hasFlash(meta)) entries.push([FLASH_KEY, flashOf(meta)])
  return entries
}

/** The stored form of the core metadata (`"__session"`). */
const coreOf = (meta: Meta): Record<string, number> => {
  const core: Record<string, number> = { c: meta.c, r: meta.r }
  if (meta.l !== undefined) core.l = meta.l
  if (meta.a !== undefined) core.a = meta.a
  return core
}

const hasFlash = (meta: Meta): boolean => meta.fn !== undefined || meta.fo !== undefined

/** The stored form of the flash bookkeeping (`"__session.flash"`). */
const flashOf = (meta: Meta): Record<string, Array<string>> => ({
  ...(meta.fn ? { new: meta.fn } : {}),
  ...(meta.fo ? { old: meta.fo } : {})
})

const sameMeta = (a: Meta, b: Meta | undefined): boolean =>
  b !== undefined && a.c === b.c && a.r === b.r && a.t === b.t && a.l === b.l && a.a === b.a &&
  sameList(a.fn, b.fn) && sameList(a.fo, b.fo)

const sameList = (a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined): boolean => {
  const la = a?.length ?? 0
  if (la !== (b?.length ?? 0)) return false
  for (let i = 0; i < la; i++) if (a![i] !== b![i]) return false
  return true
}

const addTo = (list: Array<string> | undefined, key: string): Array<string> =>
  list === undefined ? [key] : list.includes(key) ? list : [...list, key]

const removeFrom = (list: Array<string> | undefined, keys: ReadonlyArray<string>): Array<string> | undefined => {
  if (list === undefined) return undefined
  const next = list.filter((k) => !keys.includes(k))
  return next.length === 0 ? undefined : next
}

const hasOwn = (record: SessionData, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key)

const sameValue = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b))

// -----------------------------------------------------------------------------
// Per-request state
// -----------------------------------------------------------------------------

/** Whether `effect` is an `Exit` that succeeded: a result known without running anything. */
const isSuccessExit = <A, E, R>(effect: Effect.Effect<A, E, R>): boolean =>
  Exit.isExit(effect) && Exit.isSuccess(effect)

/**
 * `Effect.flatMap`, except that an `effect` that is already an `Exit` (what the synchronous store
 * path and the common outcomes return) is continued at once, without an Effect step.
 */
const andThen = <A, E, B, E2, R>(
  effect: Effect.Effect<A, E>,
  f: (a: A) => Effect.Effect<B, E2, R>
): Effect.Effect<B, E | E2, R> => {
  if (!Exit.isExit(effect)) return Effect.flatMap(effect, f)
  const exit = effect as Exit.Exit<A, E>
  return Exit.isSuccess(exit) ? f(exit.value) : exit as Exit.Exit<never, E>
}

type KeyInput = string | SessionKey.SessionKey<any, any, any>

const missing = (key: string) => Effect.fail(new SessionKeyMissing({ key }))

const isSessionFailure = (u: unknown): u is SessionStoreError | SessionLockTimeout =>
  isTagged(u, "SessionStoreError") || isTagged(u, "SessionLockTimeout")

/** What the response must say about the session cookie. */
type CookieOut = { readonly _tag: "Set"; readonly maxAgeMillis: number | undefined } | { readonly _tag: "Delete" }

/** Each middleware's cookie options for the Max-Age it used last: nearly always its TTL. */
const lastCookieOptions = new WeakMap<
  Resolved,
  { readonly seconds: number; readonly options: Cookies.Cookie["options"] }
>()

/** The middleware's cookie options with a Max-Age of `seconds`, made once while that value repeats. */
const cookieOptions = (config: Resolved, seconds: number): Cookies.Cookie["options"] => {
  const last = lastCookieOptions.get(config)
  if (last !== undefined && last.seconds === seconds) return last.options
  const options = { ...config.cookie, maxAge: Duration.seconds(seconds) }
  lastCookieOptions.set(config, { seconds, options })
  return options
}

/**
 * One request's view of its session. Nothing touches the store until a handler first reads or
 * writes; the record is then loaded once and every later call works on memory.
 */
export class SessionState {
  /** the ID the client sent, already checked to be well-formed */
  private readonly cookieId: string | undefined
  /** the current ID; `undefined` for a new session until it needs one */
  private currentId: string | undefined
  /** the storage key of the record this session has in the store, if any */
  private key: string | undefined
  private loaded = false
  /** set while a load runs: the fibers waiting for it */
  private waiters: Array<(exit: Exit.Exit<void, SessionStoreError>) => void> | undefined
  private fresh = true
  private readonly data = new Map<string, unknown>()
  /** the record as loaded or last written: what "changed" is measured against */
  private original: SessionData | undefined
  private originalMeta: Meta | undefined
  private meta: Meta = { c: 0, r: 0 }
  /** keys changed since the last save (assigned, removed or incremented) */
  private readonly touched = new Set<string>()
  /** of those, the keys changed only by increment/decrement: saved as deltas, so concurrent increments all count */
  private readonly deltas = new Map<string, number>()
  private flushed = false
  /** the expiry must be renewed (and the cookie re-issued) at the next save, e.g. after setLifetime */
  private renew = false
  /** releases the session lock, when this request holds one */
  private lockRelease: Effect.Effect<void> | undefined
  /** set by regenerate: the data must be written under the new ID even if unchanged */
  private mustWrite = false
  private flashAged = false
  private cookieOut: CookieOut | undefined
  /** the response being saved, for the failure handler's "continue" */
  pendingResponse: HttpServerResponse.HttpServerResponse | undefined

  constructor(
    private readonly config: Resolved,
    private readonly store: SessionStoreService,
    private readonly clock: Clock.Clock,
    private readonly method: string,
    cookieHeader: string | undefined,
    /** the store's synchronous operations, when it has them and nothing asks for spans */
    private readonly unsafe: SessionStoreUnsafe | undefined = undefined,
    /** whether a tracer was installed when the request began: without one, no span is ever made */
    private readonly traced = true
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

  // --- loading ---------------------------------------------------------------

  private startFresh(): void {
    const now = this.currentTime()
    this.currentId = undefined
    this.key = undefined
    this.fresh = true
    this.data.clear()
    this.original = undefined
    this.meta = { c: now, r: now }
    // The baseline a new session's metadata is compared with: only a token, flash keys or a
    // lifetime of its own (or data) make a new session worth creating.
    this.originalMeta = { ...this.meta }
    this.touched.clear()
    this.deltas.clear()
    this.flushed = false
    this.mustWrite = false
  }

  private adopt(id: string, key: string, record: SessionData, meta: Meta): void {
    this.currentId = id
    this.key = key
    this.fresh = false
    this.data.clear()
    for (const k of Object.keys(record)) {
      if (!isReserved(k)) this.data.set(k, record[k])
    }
    this.original = record
    this.originalMeta = meta
    this.meta = { ...meta }
  }

  /** A record that cannot be used is deleted (best effort: it is never adopted either way). */
  private discard(key: string, why: string): Effect.Effect<void> {
    return this.store.destroy(key).pipe(
      Effect.catchAll(() => Effect.void),
      Effect.zipRight(Effect.logWarning(`effect-session: discarded a stored session record (${why})`)),
      Effect.annotateLogs("effect-session", "load")
    )
  }

  /**
   * What a read found, applied to this state. The common outcomes (adopted, or nothing there)
   * are synchronous and return `Exit.void`; a record that cannot be used is deleted.
   */
  private settle(id: string, key: string, found: Option.Option<SessionData>): Effect.Effect<void> {
    if (Option.isNone(found)) {
      this.startFresh()
      Metrics.count(Metrics.expired)
      return Exit.void
    }
    const meta = readMeta(found.value)
    if (meta === undefined) {
      this.startFresh()
      return this.discard(key, "missing or malformed metadata")
    }
    if (this.currentTime() >= meta.c + (meta.a ?? this.config.absoluteMillis)) {
      // Past its absolute lifetime: never adopted, whatever the store's TTL says.
      this.startFresh()
      Metrics.count(Metrics.expired)
      return Effect.ignore(this.store.destroy(key))
    }
    this.adopt(id, key, found.value, meta)
    return Exit.void
  }

  /** The read and what follows it, built when it is about to run (a load runs it once). */
  private doLoad(): Effect.Effect<void, SessionStoreError> {
    const id = this.cookieId
    if (id === undefined) {
      this.startFresh()
      return Effect.void
    }
    const key = Id.storageKey(id)
    const start = performance.now()
    // One step for the read's outcome: recorded, then applied (a corrupt record counts as none).
    return Effect.matchCauseEffect(this.store.read(key), {
      onFailure: (cause) => {
        Metrics.record("read", start, true)
        return this.recoverRead(key, cause) ?? Exit.failCause(cause)
      },
      onSuccess: (found) => {
        Metrics.record("read", start, false)
        return this.settle(id, key, found)
      }
    }).pipe(this.span("effect-session.load"))
  }

  /**
   * A failed read that can be recovered from: a record that is not JSON (or not an object) is
   * deleted and the session starts fresh. `undefined` for any other failure.
   */
  private recoverRead(key: string, cause: Cause.Cause<SessionStoreError>): Effect.Effect<void> | undefined {
    const error = Cause.failureOption(cause)
    if (Option.isNone(error) || error.value.reason !== "CorruptRecord") return undefined
    this.startFresh()
    return this.discard(key, error.value.message)
  }

  /**
   * The load, run synchronously on a store with `unsafe` operations: `undefined` when it cannot
   * be (no such store, or a load is already under way), else what is left to do — `Exit.void`
   * in the common case, the deletion of an unusable record, or the store's failure.
   */
  private loadNow(): Effect.Effect<void, SessionStoreError> | undefined {
    const unsafe = this.unsafe
    if (unsafe === undefined || this.waiters !== undefined) return undefined
    const id = this.cookieId
    if (id === undefined) {
      this.startFresh()
      this.loaded = true
      return Exit.void
    }
    const key = Id.storageKey(id)
    const exit = Metrics.trackNow("read", performance.now(), unsafe.read(key, this.clock))
    const rest = Exit.isSuccess(exit) ? this.settle(id, key, exit.value) : this.recoverRead(key, exit.cause)
    if (rest === undefined) return exit as Exit.Exit<never, SessionStoreError> // failed: not loaded
    this.loaded = true
    return rest
  }
  /** Whether the request carried a well-formed session cookie. */
  get hasCookie(): boolean {
    return this.cookieId !== undefined
  }

  /**
   * Loads the record on first use; concurrent first uses share one load (they wait for its exit).
   * The common case — one fiber — allocates no waiter at all: this runs on every request.
   */
  readonly load: Effect.Effect<void, SessionStoreError> = Effect.suspend(() => this.loadNext())

  /** `load`'s work, for callers already running inside a step of their own. */
  private loadNext(): Effect.Effect<void, SessionStoreError> {
    if (this.loaded) return Exit.void
    if (this.waiters !== undefined) {
      const waiters = this.waiters
      return Effect.async<void, SessionStoreError>((resume) => {
        waiters.push(resume)
      })
    }
    this.waiters = []
    const settled = (exit: Exit.Exit<void, SessionStoreError>) => {
      const waiters = this.waiters!
      this.waiters = undefined
      if (Exit.isSuccess(exit)) this.loaded = true
      for (const resume of waiters) resume(exit)
      return exit
    }
    let loading: Effect.Effect<void, SessionStoreError>
    try {
      loading = this.doLoad()
    } catch (defect) {
      loading = Effect.die(defect) // a store that throws instead of failing: the waiters still hear of it
    }
    return Effect.matchCauseEffect(loading, {
      onFailure: (cause) => settled(Exit.failCause(cause)),
      onSuccess: () => settled(Exit.void)
    })
  }

  private withLoaded<A, E = never, R = never>(
    f: () => Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | SessionStoreError, R> {
    if (this.loaded) return Effect.suspend(f)
    return Effect.suspend(() => {
      if (this.loaded) return f()
      const now = this.loadNow()
      return andThen(now ?? this.loadNext(), f)
    })
  }

  private sync<A>(f: () => A): Effect.Effect<A, SessionStoreError> {
    if (this.loaded) return Effect.sync(f)
    return Effect.suspend(() => {
      if (this.loaded) return Exit.succeed(f())
      const now = this.loadNow()
      return andThen(now ?? this.loadNext(), () => Exit.succeed(f()))
    })
  }

  // --- reading ---------------------------------------------------------------

  private lookup(key: string): unknown {
    return isReserved(key) ? undefined : this.data.get(key)
  }

  private decode(key: KeyInput, schema: Schema.Schema<any, any, any> | undefined, value: unknown) {
    const s = SessionKey.isSessionKey(key) ? key.schema : schema
    if (s === undefined) return Effect.succeed(value)
    const name = SessionKey.isSessionKey(key) ? key.key : key
    return Effect.mapError(
      Schema.decodeUnknown(s)(value),
      (cause) =>
        new SessionValueError({
          key: name,
          reason: "DecodeFailed",
          message: `session value for ${JSON.stringify(name)} does not match its schema`,
          cause
        })
    )
  }

  get id(): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => this.currentId ??= Id.generate())
  }

  get isNew(): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => this.fresh)
  }

  get all(): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() => Object.fromEntries(this.data))
  }

  get(key: KeyInput, schema?: Schema.Schema<any, any, any>): Effect.Effect<any, any, any> {
    return this.withLoaded((): Effect.Effect<unknown, SessionKeyMissing | SessionValueError, any> => {
      const name = SessionKey.isSessionKey(key) ? key.key : key
      const value = this.lookup(name)
      return value === undefined ? missing(name) : this.decode(key, schema, value)
    })
  }

  getOption(key: KeyInput, schema?: Schema.Schema<any, any, any>): Effect.Effect<Option.Option<any>, any, any> {
    if (typeof key === "string" && schema === undefined) {
      return this.sync(() => { // the common case, one step
        const value = this.lookup(key)
        return value === undefined ? Option.none() : Option.some(value)
      })
    }
    return this.withLoaded(() => {
      const name = SessionKey.isSessionKey(key) ? key.key : key
      const value = this.lookup(name)
      return value === undefined ? Effect.succeedNone : Effect.asSome(this.decode(key, schema, value))
    })
  }

  getString(key: string): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => {
      const value = this.lookup(key)
      return typeof value === "string" ? value : ""
    })
  }

  has(key: string): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => {
      const value = this.lookup(key)
      return value !== undefined && value !== null
    })
  }

  exists(key: string): Effect.Effect<boolean, SessionStoreError> {
    return this.sync(() => !isReserved(key) && this.data.has(key))
  }

  missing(key: string): Effect.Effect<boolean, SessionStoreError> {
    return Effect.map(this.exists(key), (exists) => !exists)
  }

  only(keys: ReadonlyArray<string>): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() =>
      Object.fromEntries(keys.filter((k) => !isReserved(k) && this.data.has(k)).map((k) => [k, this.data.get(k)]))
    )
  }

  except(keys: ReadonlyArray<string>): Effect.Effect<Readonly<Record<string, unknown>>, SessionStoreError> {
    return this.sync(() => Object.fromEntries([...this.data].filter(([k]) => !keys.includes(k))))
  }

  // --- writing ---------------------------------------------------------------

  private set(key: string, value: unknown): void {
    this.data.set(key, value)
    this.touched.add(key)
    this.deltas.delete(key)
  }

  /** Checks that `value` may be stored under `key`, encoding it with the key's schema if it has one. */
  private encode(key: KeyInput, value: unknown): Effect.Effect<[string, unknown], SessionValueError, any> {
    const name = SessionKey.isSessionKey(key) ? key.key : key
    if (isReserved(name)) {
      return Effect.fail(
        new SessionValueError({
          key: name,
          reason: "ReservedKey",
          message: `session key ${JSON.stringify(name)} is reserved for the library's metadata`
        })
      )
    }
    const check = (encoded: unknown): Effect.Effect<[string, unknown], SessionValueError> => {
      const problem = encoded === undefined
        ? "the value is undefined: use Session.forget to remove a key"
        : SessionCodec.checkValue(encoded)
      return problem === undefined
        ? Effect.succeed([name, encoded])
        : Effect.fail(
          new SessionValueError({
            key: name,
            reason: "Unencodable",
            message: `session value for ${JSON.stringify(name)}: ${problem}`
          })
        )
    }
    if (!SessionKey.isSessionKey(key)) return check(value)
    return Schema.encode(key.schema)(value).pipe(
      Effect.mapError((cause) =>
        new SessionValueError({
          key: name,
          reason: "EncodeFailed",
          message: `session value for ${JSON.stringify(name)} does not match its schema`,
          cause
        })
      ),
      Effect.flatMap(check)
    )
  }

  put(key: KeyInput, value: unknown): Effect.Effect<void, any, any> {
    if (
      typeof key === "string" && !isReserved(key) && value !== undefined && SessionCodec.checkValue(value) === undefined
    ) {
      return this.sync(() => this.set(key, value)) // the common case, one step
    }
    return Effect.flatMap(this.encode(key, value), ([name, encoded]) => this.sync(() => this.set(name, encoded)))
  }

  forget(keys: string | ReadonlyArray<string>): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      for (const key of typeof keys === "string" ? [keys] : keys) {
        if (!isReserved(key) && this.data.delete(key)) {
          this.touched.add(key)
          this.deltas.delete(key)
        }
      }
    })
  }

  pull(key: KeyInput, schema?: Schema.Schema<any, any, any>): Effect.Effect<any, any, any> {
    return Effect.tap(this.get(key, schema), () => this.forget(SessionKey.isSessionKey(key) ? key.key : key))
  }

  private adjust(key: string, by: number): Effect.Effect<number, SessionValueError | SessionStoreError, any> {
    return this.withLoaded(() => {
      const current = this.lookup(key) ?? 0
      if (typeof current !== "number") {
        return Effect.fail(
          new SessionValueError({
            key,
            reason: "NotANumber",
            message: `session value for ${JSON.stringify(key)} is not a number`
          })
        )
      }
      const next = current + by
      if (!Number.isFinite(next) || !Number.isFinite(by)) {
        return Effect.fail(
          new SessionValueError({
            key,
            reason: "NotANumber",
            message: `incrementing ${JSON.stringify(key)} by ${by} does not give a finite number`
          })
        )
      }
      if (isReserved(key)) return this.encode(key, next).pipe(Effect.as(next))
      this.data.set(key, next)
      if (this.flushed || (this.touched.has(key) && !this.deltas.has(key))) {
        this.touched.add(key) // already an assignment in this request: stays one
      } else {
        this.touched.add(key)
        this.deltas.set(key, (this.deltas.get(key) ?? 0) + by)
      }
      return Effect.succeed(next)
    })
  }

  increment(key: string, by = 1): Effect.Effect<number, SessionValueError | SessionStoreError, any> {
    return this.adjust(key, by)
  }

  decrement(key: string, by = 1): Effect.Effect<number, SessionValueError | SessionStoreError, any> {
    return this.adjust(key, -by)
  }

  push(key: string, value: unknown): Effect.Effect<void, SessionValueError | SessionStoreError, any> {
    return Effect.flatMap(this.encode(key, value), ([, encoded]) =>
      this.withLoaded(() => {
        const current = this.lookup(key) ?? []
        if (!Array.isArray(current)) {
          return Effect.fail(
            new SessionValueError({
              key,
              reason: "NotAnArray",
              message: `session value for ${JSON.stringify(key)} is not an array`
            })
          )
        }
        this.set(key, [...current, encoded])
        return Effect.void
      }))
  }

  remember<A, E, R>(
    key: KeyInput,
    compute: Effect.Effect<A, E, R>
  ): Effect.Effect<any, any, any> {
    return Effect.flatMap(this.getOption(key), (found) =>
      Option.isSome(found) && found.value !== null
        ? Effect.succeed(found.value)
        : Effect.tap(compute, (value) => this.put(key, value)))
  }

  get flush(): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      this.data.clear()
      this.touched.clear()
      this.deltas.clear()
      this.flushed = true
      delete this.meta.t
      delete this.meta.fn
      delete this.meta.fo
    })
  }

  // --- flash -----------------------------------------------------------------

  flash(key: KeyInput, value: unknown): Effect.Effect<void, any, any> {
    const name = SessionKey.isSessionKey(key) ? key.key : key
    return Effect.tap(this.put(key, value), () => {
      this.meta.fn = addTo(this.meta.fn, name)
      this.meta.fo = removeFrom(this.meta.fo, [name])
    })
  }

  now(key: KeyInput, value: unknown): Effect.Effect<void, any, any> {
    const name = SessionKey.isSessionKey(key) ? key.key : key
    return Effect.tap(this.put(key, value), () => {
      this.meta.fo = addTo(this.meta.fo, name)
      this.meta.fn = removeFrom(this.meta.fn, [name])
    })
  }

  get reflash(): Effect.Effect<void, SessionStoreError> {
    return this.sync(() => {
      for (const key of this.meta.fo ?? []) this.meta.fn = addTo(this.meta.fn, key)
      delete this.meta.fo
    })
  }

  keep(keys: string | ReadonlyArray<string>): Effect.Effect<void, SessionStoreError> {
    const list = typeof keys === "string" ? [keys] : keys
    return this.sync(() => {
      for (const key of list) if (this.meta.fo?.includes(key)) this.meta.fn = addTo(this.meta.fn, key)
      this.meta.fo = removeFrom(this.meta.fo, list)
    })
  }

  /** Laravel's ageFlashData: last request's flash keys go, this request's become "old". */
  private ageFlash(): void {
    if (this.flashAged) return
    this.flashAged = true
    for (const key of this.meta.fo ?? []) {
      if (this.data.delete(key)) {
        this.touched.add(key)
        this.deltas.delete(key)
      }
    }
    if (this.meta.fn !== undefined) this.meta.fo = this.meta.fn
    else delete this.meta.fo
    delete this.meta.fn
  }

  // --- CSRF token ------------------------------------------------------------

  get token(): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => this.meta.t ??= Id.generate())
  }

  get regenerateToken(): Effect.Effect<string, SessionStoreError> {
    return this.sync(() => this.meta.t = Id.generate())
  }

  // --- lifecycle ---------------------------------------------------------------

  get regenerate(): Effect.Effect<void, SessionStoreError> {
    return this.regenerateWith(this.config.regenerateGraceMillis)
  }

  private regenerateWith(grace: number): Effect.Effect<void, SessionStoreError> {
    return this.withLoaded(() => {
      const oldKey = this.key
      // With a grace period the old record lives on briefly (for requests already in flight with
      // the old cookie) as it was before this request's changes; otherwise it goes at once. Its
      // absolute lifetime is cut to the grace period, so activity on the old ID cannot extend it.
      const retire = oldKey === undefined
        ? Effect.void
        : grace > 0 && this.original !== undefined && this.originalMeta !== undefined
        ? this.store.write(oldKey, this.retired(this.original, this.originalMeta, grace), Duration.millis(grace))
        : this.store.destroy(oldKey)
      this.currentId = Id.generate()
      this.key = undefined
      this.mustWrite = true
      // A CSRF token seen before the privilege change must not be valid after it.
      if (this.meta.t !== undefined) this.meta.t = Id.generate()
      return this.instrument(grace > 0 ? "write" : "destroy", retire)
    })
  }

  /** The record a regenerated-away session leaves for the grace period: it expires when that ends. */
  private retired(record: SessionData, meta: Meta, grace: number): SessionData {
    const until = this.currentTime() + grace
    const absolute = Math.min(meta.a ?? this.config.absoluteMillis, until - meta.c)
    return { ...record, ...Object.fromEntries(metaEntries({ ...meta, a: absolute })) }
  }

  /** Per-session lifetimes ("remember me"): stored with the session, used for every later save. */
  setLifetime(lifetime: {
    readonly ttl?: Duration.DurationInput
    readonly absoluteTimeout?: Duration.DurationInput
  }): Effect.Effect<void, SessionConfigError | SessionStoreError> {
    return this.withLoaded(() => {
      const ttl = lifetime.ttl === undefined ? undefined : decodeDuration("ttl", lifetime.ttl)
      if (ttl !== undefined && Either.isLeft(ttl)) return Effect.fail(ttl.left)
      const absolute = lifetime.absoluteTimeout === undefined
        ? undefined
        : decodeDuration("absoluteTimeout", lifetime.absoluteTimeout)
      if (absolute !== undefined && Either.isLeft(absolute)) return Effect.fail(absolute.left)
      if (ttl !== undefined) this.meta.l = Duration.toMillis(ttl.right)
      if (absolute !== undefined) this.meta.a = Duration.toMillis(absolute.right) || undefined
      this.renew = true
      return Effect.void
    })
  }

  /**
   * Takes the session's lock (Laravel's session blocking) for the rest of the request. A request
   * without a session cookie has nothing to lock: its session is new and nobody else holds it.
   */
  lock(options?: LockOptions): Effect.Effect<void, SessionLockTimeout | SessionStoreError> {
    return Effect.suspend(() => {
      if (this.lockRelease !== undefined || this.cookieId === undefined) return Effect.void
      const settings = options ?? this.config.lock ?? DEFAULT_LOCK
      const lock = this.store.lock
      if (lock === undefined) {
        return Effect.fail(
          new SessionStoreError({
            reason: "Unsupported",
            message: "session locking: this store has no lock capability"
          })
        )
      }
      return lock(Id.storageKey(this.cookieId), {
        ttl: Duration.millis(settings.ttlMillis),
        wait: Duration.millis(settings.waitMillis)
      }).pipe(
        Effect.flatMap((release) => {
          this.lockRelease = release
          // Loaded before the lock was held? Read again, unless this request already changed it.
          if (this.loaded && this.touched.size === 0 && !this.flushed && !this.mustWrite) {
            this.loaded = false
            return this.load
          }
          return Effect.void
        })
      )
    })
  }

  /** Whether this request holds the session's lock. */
  get holdsLock(): boolean {
    return this.lockRelease !== undefined
  }

  /** Releases the lock, if held: the middleware calls it once the response is ready. */
  get unlock(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const release = this.lockRelease
      this.lockRelease = undefined
      return release ?? Effect.void
    })
  }

  get destroy(): Effect.Effect<void, SessionStoreError> {
    return this.withLoaded(() => {
      const oldKey = this.key
      this.startFresh()
      this.cookieOut = { _tag: "Delete" }
      if (oldKey === undefined) return Effect.void
      Metrics.count(Metrics.destroyed)
      return this.instrument("destroy", this.store.destroy(oldKey))
    })
  }

  /** Logout: the old record is deleted at once, whatever `regenerateGrace` says. */
  get invalidate(): Effect.Effect<void, SessionStoreError> {
    return Effect.zipRight(this.flush, this.regenerateWith(0))
  }

  get save(): Effect.Effect<SaveResult, SessionStoreError> {
    return Effect.suspend(() => this.commit(false))
  }

  // --- saving ----------------------------------------------------------------

  private dataChanged(): boolean {
    const original = this.original
    if (original === undefined) return this.data.size > 0
    if (this.flushed) {
      let count = 0
      for (const k of Object.keys(original)) {
        if (isReserved(k)) continue
        count++
        if (!this.data.has(k) || !sameValue(original[k], this.data.get(k))) return true
      }
      return count !== this.data.size
    }
    for (const k of this.touched) {
      const had = hasOwn(original, k)
      if (had !== this.data.has(k)) return true
      if (had && !sameValue(original[k], this.data.get(k))) return true
    }
    return false
  }

  private record(): SessionData {
    const record: Record<string, unknown> = {}
    for (const [key, value] of this.data) setOwn(record, key, value)
    const meta = this.meta
    record[RESERVED_KEY] = coreOf(meta)
    if (meta.t !== undefined) record[TOKEN_KEY] = meta.t
    if (hasFlash(meta)) record[FLASH_KEY] = flashOf(meta)
    return record
  }

  /** The changes since the last save, for a store's atomic `patch`. */
  private patch(): SessionPatch {
    if (this.flushed) return { clear: true, remove: [], set: [...this.data, ...metaEntries(this.meta)], add: [] }
    const original = this.original!
    const remove: Array<string> = []
    const set: Array<[string, unknown]> = []
    const add: Array<[string, number]> = []
    for (const k of this.touched) {
      const delta = this.deltas.get(k)
      if (delta !== undefined) {
        if (delta !== 0) add.push([k, delta])
      } else if (this.data.has(k)) {
        const value = this.data.get(k)
        if (!hasOwn(original, k) || !sameValue(original[k], value)) set.push([k, value])
      } else if (hasOwn(original, k)) {
        remove.push(k)
      }
    }
    // Only the metadata parts this request changed, so concurrent requests do not undo each other's.
    // `originalMeta` is what `original` holds, as read by `readMeta`.
    const meta = this.meta
    const was = this.originalMeta
    if (
      was === undefined || !hasOwn(original, RESERVED_KEY) ||
      meta.c !== was.c || meta.r !== was.r || meta.l !== was.l || meta.a !== was.a
    ) {
      set.push([RESERVED_KEY, coreOf(meta)])
    }
    if (meta.t !== undefined) {
      if (!hasOwn(original, TOKEN_KEY) || original[TOKEN_KEY] !== meta.t) set.push([TOKEN_KEY, meta.t])
    } else if (hasOwn(original, TOKEN_KEY)) {
      remove.push(TOKEN_KEY)
    }
    if (hasFlash(meta)) {
      if (!hasOwn(original, FLASH_KEY) || !sameList(meta.fn, was?.fn) || !sameList(meta.fo, was?.fo)) {
        set.push([FLASH_KEY, flashOf(meta)])
      }
    } else if (hasOwn(original, FLASH_KEY)) {
      remove.push(FLASH_KEY) // an empty flash list left behind: cleaned up
    }
    return { clear: false, remove, set, add }
  }

  /** Time in ms until the session must expire: the idle TTL, capped by the absolute lifetime. */
  private lifetimes(now: number): { readonly idle: number; readonly remaining: number } {
    const idle = this.meta.l ?? this.config.ttlMillis
    const absolute = this.meta.a ?? this.config.absoluteMillis
    return { idle, remaining: this.meta.c + absolute - now }
  }

  /**
   * Writes the session if it changed (or if its expiry is due to be renewed) and decides the
   * cookie. `final` marks the automatic save after the handler, which also ages flash data.
   *
   * A session the store already holds is saved with the store's atomic `patch` when it has one:
   * only this request's changes are applied, to the record as it is now, so concurrent requests
   * changing different keys (or incrementing the same one) all count, and a session destroyed or
   * regenerated meanwhile is not resurrected (`"SessionGone"`: the changes are dropped and the
   * cookie is cleared). Stores without `patch` get the whole record (last writer wins).
   */
  commit(final: boolean): Effect.Effect<SaveResult, SessionStoreError> {
    if (!this.loaded) return Effect.succeed("Unchanged")
    if (final) this.ageFlash()
    const now = this.currentTime()
    const persisted = this.key !== undefined
    const changed = this.mustWrite || this.dataChanged() || !sameMeta(this.meta, this.originalMeta)
    // A HEAD request (or one that left a new session empty) never creates a session.
    if (!persisted && (!changed || this.method === "HEAD")) return Effect.succeed("Unchanged")
    const { idle, remaining } = this.lifetimes(now)
    // Renewal is due every `touchAfter` even with `ttl: 0`: the record then takes the store's
    // default TTL, which may be finite, and an active reader must not be logged out by it.
    const touchAfter = idle > 0 ? Math.min(this.config.touchAfterMillis, idle / 2) : this.config.touchAfterMillis
    const due = this.renew || now - this.meta.r >= touchAfter
    if (persisted && !changed && !due) return Effect.succeed("Unchanged")

    let issueCookie = false
    if (!persisted) {
      this.currentId ??= Id.generate()
      this.key = Id.storageKey(this.currentId)
      this.meta.r = now
      issueCookie = true
    } else if (due) {
      this.meta.r = now
      issueCookie = idle > 0
    }
    const ttlMillis = idle > 0 ? Math.min(idle, remaining) : remaining
    const ttl = Number.isFinite(ttlMillis) ? Duration.millis(Math.max(1, ttlMillis)) : Duration.zero
    const key = this.key!
    const usePatch = persisted && this.store.patch !== undefined
    // The whole record is needed to write a new session, and as the baseline for a later save in
    // this request; after the final save there is none, so a patch then skips building it.
    const record = usePatch && final ? undefined : this.record()
    const after = (applied: boolean): Effect.Effect<SaveResult> => {
      if (!applied) {
        // Destroyed, regenerated away or expired by another request since we loaded it.
        this.startFresh()
        this.cookieOut = { _tag: "Delete" }
        return Effect.as(
          Effect.logDebug("effect-session: session ended by another request; this request's changes were dropped"),
          "SessionGone"
        )
      }
      if (record !== undefined) this.original = record
      this.originalMeta = { ...this.meta }
      this.touched.clear()
      this.deltas.clear()
      this.flushed = false
      this.mustWrite = false
      this.renew = false
      if (issueCookie) {
        this.cookieOut = { _tag: "Set", maxAgeMillis: idle > 0 ? Math.min(idle, remaining) : undefined }
      }
      if (!persisted) Metrics.count(Metrics.created)
      return Exit.succeed("Written")
    }
    const unsafe = this.unsafe
    if (unsafe !== undefined) {
      // In-process store: the save happens right here, and its result is an `Exit`.
      const saved = usePatch
        ? Metrics.trackNow("patch", performance.now(), unsafe.patch(key, this.patch(), ttl, this.clock))
        : Exit.as(Metrics.trackNow("write", performance.now(), unsafe.write(key, record!, ttl, this.clock)), true)
      return andThen(saved, after)
    }
    // One step for the save's outcome: recorded, then applied.
    const operation = usePatch ? "patch" : "write"
    const start = performance.now()
    const io: Effect.Effect<unknown, SessionStoreError> = usePatch
      ? this.store.patch!(key, this.patch(), ttl)
      : this.store.write(key, record!, ttl)
    return Effect.matchCauseEffect(io, {
      onFailure: (cause) => {
        Metrics.record(operation, start, true)
        return Exit.failCause(cause)
      },
      onSuccess: (result) => {
        Metrics.record(operation, start, false)
        return after(usePatch ? result === true : true)
      }
    }).pipe(this.span("effect-session.save", { "session.new": !persisted, "session.mode": operation }))
  }

  /** Store I/O in a span, when a tracer can receive it (otherwise as it is: no Effect step). */
  private span(
    name: string,
    attributes?: Record<string, unknown>
  ): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> {
    return this.traced ? Metrics.span(name, attributes) : identity
  }

  /** Store I/O with its latency and errors recorded (no session ID anywhere). */
  private instrument<A>(
    operation: "read" | "write" | "patch" | "destroy" | "lock",
    effect: Effect.Effect<A, SessionStoreError>
  ): Effect.Effect<A, SessionStoreError> {
    return Metrics.track(operation, effect)
  }

  /** Adds the session cookie (and `Cache-Control: no-store`) that the request's saves decided on. */
  decorate(response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse {
    const out = this.cookieOut
    if (out === undefined) return response
    const config = this.config
    // `Cookies.unsafeMakeCookie` + `setCookie`: the same cookie `HttpServerResponse.unsafeSetCookie`
    // makes, for a quarter of its cost.
    const cookie = out._tag === "Set"
      ? Cookies.unsafeMakeCookie(
        config.cookieName,
        this.currentId!,
        out.maxAgeMillis === undefined
          ? config.cookie
          // Max-Age=0 means "delete": a lifetime under a second still gets one second.
          : cookieOptions(config, Math.max(1, Math.floor(out.maxAgeMillis / 1000)))
      )
      : Cookies.unsafeMakeCookie(config.cookieName, "", { ...config.cookie, maxAge: Duration.zero })
    const withCookie = HttpServerResponse.updateCookies(response, (cookies) => Cookies.setCookie(cookies, cookie))
    // A response that sets or clears a session cookie must never be kept by a shared cache.
    return HttpServerResponse.setHeader(withCookie, "cache-control", "no-store")
  }

  // --- testing kit: read-only snapshot ---

  /** For `SessionTest`'s report after a request: reads the state without loading or changing it. */
  snapshot(): { readonly loaded: boolean; readonly isNew: boolean } {
    return { loaded: this.loaded, isNew: this.fresh }
  }
}

// -----------------------------------------------------------------------------
// Middleware
// -----------------------------------------------------------------------------

const defaultFailure = (error: SessionStoreError | SessionLockTimeout, context: FailureContext) =>
  error._tag === "SessionLockTimeout"
    // 423 Locked: the session exists and is busy with another request; retrying later will work.
    ? Effect.succeed(HttpServerResponse.text("Locked", {
      status: 423,
      headers: { "cache-control": "no-store", "retry-after": "1" }
    }))
    : Effect.as(
      Effect.logError(`effect-session: session store failed during ${context.phase}`, error.message).pipe(
        Effect.annotateLogs({ "effect-session": context.phase, reason: error.reason })
      ),
      HttpServerResponse.text("Service Unavailable", {
        status: 503,
        headers: { "cache-control": "no-store", "retry-after": "1" }
      })
    )

/** The failure handler's response for a store error, given what the request had reached. */
export const failureResponse = (
  config: Resolved,
  state: SessionState,
  request: HttpServerRequest.HttpServerRequest,
  error: SessionStoreError | SessionLockTimeout
) => {
  const response = state.pendingResponse
  return (config.onError ?? defaultFailure)(error, {
    request,
    phase: response === undefined ? "load" : "save",
    response: Option.fromNullable(response)
  })
}

/**
 * Saves the session after the app produced `response` and returns the response with the session
 * cookie the saves decided on. Integrations (HttpLayerRouter, HttpApi) call this before the
 * response leaves; a failure is a `SessionStoreError` for `failureResponse`.
 */
export const finish = (
  state: SessionState,
  response: HttpServerResponse.HttpServerResponse
): Effect.Effect<HttpServerResponse.HttpServerResponse, SessionStoreError> => {
  state.pendingResponse = response
  return andThen(state.commit(true), () => Exit.succeed(state.decorate(response)))
}

/** A request's session state, for integrations that provide `Session` themselves. */
export const makeState = (
  config: Resolved,
  store: SessionStoreService,
  clock: Clock.Clock,
  request: HttpServerRequest.HttpServerRequest,
  tracer?: Tracer.Tracer
): SessionState =>
  new SessionState(
    config,
    store,
    clock,
    request.method,
    request.headers.cookie,
    // the store's synchronous operations, unless a tracer wants the spans its Effects make
    tracer === Metrics.nativeTracer ? store.unsafe : undefined,
    tracer !== Metrics.nativeTracer
  )

/**
 * `Session` in the fiber's context for the app's run: `enter` puts `withSession` in place of
 * `context`, `wrap` wraps the app, `exit` puts `context` back (the middleware calls it first thing
 * once the app has exited, whatever the exit).
 *
 * This is `Effect.locally(app, FiberRef.currentContext, withSession)` — what `provideService`
 * comes down to — without its acquire/use/release bracket, which on the benchmark machine costs
 * about 5 µs per request: as much as loading and saving a session. It sets the fiber ref the way
 * `FiberRef.set` does, through the running fiber's own `setFiberRef` (called on the fiber that is
 * running this code, as that method requires). Should a future `effect` not have the method, the
 * bracketed `Effect.locally` is used instead.
 */
const sessionContext = (
  fiber: unknown,
  context: Context.Context<never>,
  withSession: Context.Context<never>
): {
  readonly enter: () => void
  readonly wrap: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly exit: () => void
} => {
  const runtime = fiber as {
    readonly setFiberRef?: (ref: FiberRef.FiberRef<Context.Context<never>>, value: Context.Context<never>) => void
  }
  const setFiberRef = runtime.setFiberRef
  if (typeof setFiberRef !== "function") {
    return {
      enter: () => {},
      wrap: (effect) => Effect.locally(effect, FiberRef.currentContext, withSession),
      exit: () => {}
    }
  }
  return {
    enter: () => setFiberRef.call(runtime, FiberRef.currentContext, withSession),
    wrap: (effect) => effect,
    exit: () => setFiberRef.call(runtime, FiberRef.currentContext, context)
  }
}

/**
 * Wraps an app: provides a lazily loaded `Session`, saves it after the app returns a response
 * (before the response leaves), and turns a store failure into the failure handler's response.
 * Changes are saved only when the app succeeds: a request that fails keeps the stored session as
 * it was (records already deleted by `destroy`/`regenerate` stay deleted).
 *
 * This runs on every request, so it is written for cost: the request's services are read off the
 * fiber in one step, and with an in-process store and no tracer, loading and saving take no
 * Effect steps at all (see `SessionStoreUnsafe`).
 */
export const makeMiddleware = (tag: typeof SessionTag, config: Resolved) =>
<E, R>(
  app: HttpApp.Default<E, R>
): HttpApp.Default<any, any> =>
  Effect.withFiberRuntime((fiber, status) => {
    const context = fiber.currentContext as Context.Context<HttpServerRequest.HttpServerRequest | SessionStore>
    const request = Context.unsafeGet(context, HttpServerRequest.HttpServerRequest)
    const store = Context.unsafeGet(context, SessionStore)
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const state = makeState(config, store, clock, request, fiber.currentTracer)
    const withSession = Context.add(
      context,
      tag as unknown as Context.Tag<SessionTag, SessionService>,
      state as unknown as SessionService
    )

    // With `lock` on, a request that names a session waits for it before the handler runs.
    const run = config.lock !== undefined && state.hasCookie ? Effect.zipRight(state.lock(), app) : app
    // After the app: save (or turn a store failure into the failure handler's response), then
    // release the session lock if the request took one.
    const release = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>) =>
      state.holdsLock ? Effect.ensuring(effect, state.unlock) : effect
    type Handled = Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, unknown>
    const handleFailure = (cause: Cause.Cause<unknown>): Handled => {
      const failure = Cause.failureOrCause(cause)
      return release<HttpServerResponse.HttpServerResponse, unknown, unknown>(
        Either.isLeft(failure) && isSessionFailure(failure.left)
          ? failureResponse(config, state, request, failure.left)
          : Exit.failCause(cause)
      )
    }
    const handleSuccess = (response: HttpServerResponse.HttpServerResponse): Handled => {
      const saved = finish(state, response)
      return release<HttpServerResponse.HttpServerResponse, unknown, unknown>(
        isSuccessExit(saved)
          ? saved
          : Effect.catchIf(saved, isSessionFailure, (error) => failureResponse(config, state, request, error))
      )
    }
    // `Session` is in the context while the app runs, and only then.
    const scope = sessionContext(fiber, context, withSession)
    const handle = (effect: typeof run) =>
      Effect.matchCauseEffect(scope.wrap(effect), {
        onFailure: (cause) => {
          scope.exit()
          return handleFailure(cause)
        },
        onSuccess: (response) => {
          scope.exit()
          return handleSuccess(response)
        }
      })
    // Unless the fiber is already uninterruptible (as an HTTP server runs its app), the saving
    // and the lock release must not be skipped by an interruption.
    if (RuntimeFlags.interruptible(status.runtimeFlags)) {
      return Effect.uninterruptibleMask((restore) => {
        scope.enter()
        return handle(restore(run))
      })
    }
    scope.enter()
    return handle(run)
  })
