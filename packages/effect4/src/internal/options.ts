/**
 * Middleware options: validated once, when the middleware is built, with every default filled in.
 */
import { Cookie as CoreCookie, Lifetime, Options as CoreOptions } from "effect-session-core"
import * as Duration from "effect/Duration"
import * as Cookies from "effect/http/Cookies"
import * as Result from "effect/Result"
import type { FailureHandler, Options } from "../Session.js"
import { SessionConfigError } from "../SessionError.js"

/** Options after validation, with every default filled in. Durations are in milliseconds. */
export interface Resolved {
  readonly cookieName: string
  /** Idle lifetime: the record's TTL and the cookie's Max-Age. 0 = browser-session cookie, store default. */
  readonly ttlMillis: number
  /** Absolute lifetime from creation, never extended; `Infinity` when unset. */
  readonly absoluteMillis: number
  /** How long an unchanged session may go before its expiry (and cookie) are extended. */
  readonly touchAfterMillis: number
  readonly cookie: NonNullable<Cookies.Cookie["options"]>
  readonly onError: FailureHandler<unknown, unknown> | undefined
  /** lock every request that names a session (Laravel's blocking), or `undefined` */
  readonly lock: LockSettings | undefined
  /** how long a regenerated-away record stays readable; 0 = deleted at once */
  readonly regenerateGraceMillis: number
}

/** How long a session lock may be held, and how long a request waits for it. */
export interface LockSettings {
  readonly ttlMillis: number
  readonly waitMillis: number
}

const fail = (option: string, message: string): Result.Result<never, SessionConfigError> =>
  Result.fail(new SessionConfigError({ option, message }))

/** effect 4's `Duration`, as the core's option checks see it: objects such as `{ minutes: 30 }` included. */
const durationModule: CoreOptions.DurationModule = {
  isDuration: Duration.isDuration,
  format: Duration.format,
  objects: true
}

/**
 * A duration option as milliseconds: the one place every duration option is decoded (middleware
 * options, `Session.setLifetime`, lock options, every store's options). The core
 * (`Options.durationProblem`, shared with the effect 3 package) decides which inputs may be
 * decoded and words the errors: a bare number is refused (zero aside, "none chosen"), because
 * `Duration.fromInput` reads it as milliseconds and `ttl: 120` would silently become a 120 ms
 * session; so are negative, unparsable and infinite ones, and objects that name no unit.
 */
export const decodeDuration = (option: string, input: Duration.Input): Result.Result<number, SessionConfigError> => {
  const problem = CoreOptions.durationProblem(option, input, durationModule)
  if (problem !== undefined) return fail(option, problem)
  if (CoreOptions.isBareZero(input)) return Result.succeed(0)
  const decoded = Duration.fromInput(typeof input === "string" ? input.trim() as Duration.Input : input)
  if (decoded._tag === "None") return fail(option, CoreOptions.unparsable(option, input, durationModule))
  const millis = Duration.toMillis(decoded.value)
  // effect 4's Durations may be negative (`Duration.millis(-5)`, `Duration.negativeInfinity`)
  if (millis < 0) return fail(option, CoreOptions.negative(option, input, durationModule))
  // `Duration.toMillis` of an infinite Duration is Infinity: one check covers both
  return Number.isFinite(millis)
    ? Result.succeed(millis)
    : fail(option, CoreOptions.infinite(option, input, durationModule))
}

/** A store's options (`make(options)`), refused when they are not an object (untyped config's `null`). */
export const checkObject = (options: unknown): Result.Result<void, SessionConfigError> => {
  const problem = CoreOptions.notAnObject(options)
  return problem === undefined ? Result.void : fail("options", problem)
}

/**
 * A lifetime of `Session.setLifetime` (`ttl`, `absoluteTimeout`), in ms: a duration, as
 * `decodeDuration` reads it, that a session may have (at most 100 years: a longer one would be
 * stored, then read back as corrupt, and the session lost).
 */
export const decodeLifetime = (option: string, input: Duration.Input): Result.Result<number, SessionConfigError> => {
  const decoded = decodeDuration(option, input)
  if (Result.isFailure(decoded)) return decoded
  const problem = CoreOptions.lifetimeProblem(option, decoded.success)
  return problem === undefined ? decoded : fail(option, problem)
}

/** Lock times, with Laravel's `block()` defaults: held at most 10 s, waited for at most 10 s. */
export const resolveLock = (
  options: { readonly ttl?: Duration.Input | undefined; readonly wait?: Duration.Input | undefined }
): Result.Result<LockSettings, SessionConfigError> => {
  const notAnObject = CoreOptions.notAnObject(options)
  if (notAnObject !== undefined) return fail("lock", notAnObject)
  // `=== undefined`, not `??`: a null time is refused like any other non-duration, not read as omitted
  const ttl = decodeDuration("lock.ttl", options.ttl === undefined ? "10 seconds" : options.ttl)
  if (Result.isFailure(ttl)) return Result.fail(ttl.failure)
  const wait = decodeDuration("lock.wait", options.wait === undefined ? "10 seconds" : options.wait)
  if (Result.isFailure(wait)) return Result.fail(wait.failure)
  if (ttl.success === 0) return fail("lock.ttl", "lock.ttl must be greater than zero")
  // a store's lock expiry must fit where it is kept (a Redis PX, a BIGINT): at most 100 years, as a lifetime
  const ttlTooLong = CoreOptions.lifetimeProblem("lock.ttl", ttl.success)
  if (ttlTooLong !== undefined) return fail("lock.ttl", ttlTooLong)
  const waitTooLong = CoreOptions.lifetimeProblem("lock.wait", wait.success)
  if (waitTooLong !== undefined) return fail("lock.wait", waitTooLong)
  return Result.succeed({ ttlMillis: ttl.success, waitMillis: wait.success })
}

const DEFAULT_TTL_MILLIS = 2 * 60 * 60 * 1000

/** Validates middleware options and fills in the safe defaults. */
export const resolve = (options: Options<unknown, unknown> = {}): Result.Result<Resolved, SessionConfigError> => {
  const notAnObject = CoreOptions.notAnObject(options)
  if (notAnObject !== undefined) return fail("options", notAnObject)
  // Wrong types first (the core's, shared by both lines): untyped config can hold `cookieName: 42`
  // or `lock: null`, which must be a SessionConfigError, never a TypeError from a check below.
  const typed = CoreOptions.typeProblem(options)
  if (typed !== undefined) return fail(typed.option, typed.message)
  const cookieName = options.cookieName ?? "lagodev_session"
  if (cookieName.length === 0) return fail("cookieName", "cookieName must not be empty")

  const ttl = options.ttl === undefined ? Result.succeed(DEFAULT_TTL_MILLIS) : decodeDuration("ttl", options.ttl)
  if (Result.isFailure(ttl)) return Result.fail(ttl.failure)
  const ttlMillis = ttl.success

  let absoluteMillis = Infinity
  if (options.absoluteTimeout !== undefined) {
    const absolute = decodeDuration("absoluteTimeout", options.absoluteTimeout)
    if (Result.isFailure(absolute)) return Result.fail(absolute.failure)
    absoluteMillis = absolute.success
    if (absoluteMillis === 0) return fail("absoluteTimeout", "absoluteTimeout must be greater than zero when set")
  }

  // The touch-after default and the cookie rules are the core's (`Lifetime`, `Cookie`), shared by both lines.
  let given: number | undefined
  if (options.touchAfter !== undefined) {
    const decoded = decodeDuration("touchAfter", options.touchAfter)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    given = decoded.success
  }
  const touch = Lifetime.touchAfter(ttlMillis, given)
  if ("message" in touch) return fail("touchAfter", touch.message)
  const touchAfterMillis = touch.millis

  const attributes = CoreCookie.attributes({ ...options, cookieName })
  if (CoreCookie.isProblem(attributes)) return fail(attributes.option, attributes.message)
  const cookie: NonNullable<Cookies.Cookie["options"]> = attributes
  // Let the platform check the name, domain and path exactly as it will when serialising.
  const probe = Cookies.makeCookie(cookieName, "x", cookie)
  if (Result.isFailure(probe)) {
    const reason = probe.failure.reason._tag
    const option = reason === "InvalidCookieName"
      ? "cookieName"
      : reason === "InvalidCookieDomain"
      ? "domain"
      : reason === "InvalidCookiePath"
      ? "path"
      : "cookie"
    return fail(
      option,
      CoreOptions.invalidCookie(
        option,
        reason,
        option === "cookieName" ? cookieName : option === "domain" ? options.domain : cookie.path
      )
    )
  }

  let lock: LockSettings | undefined
  if (options.lock !== undefined && options.lock !== false) {
    const settings = resolveLock(options.lock === true ? {} : options.lock)
    if (Result.isFailure(settings)) return Result.fail(settings.failure)
    lock = settings.success
  }

  let regenerateGraceMillis = 0
  if (options.regenerateGrace !== undefined) {
    const grace = decodeDuration("regenerateGrace", options.regenerateGrace)
    if (Result.isFailure(grace)) return Result.fail(grace.failure)
    regenerateGraceMillis = grace.success
  }

  return Result.succeed({
    cookieName,
    ttlMillis,
    absoluteMillis,
    touchAfterMillis,
    cookie,
    onError: options.onError,
    lock,
    regenerateGraceMillis
  })
}
