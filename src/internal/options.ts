import * as Cookies from "@effect/platform/Cookies"
import { Cookie as CoreCookie, Lifetime, Options as CoreOptions } from "effect-session-core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { FailureHandler, Options } from "../Session.js"
import { SessionConfigError } from "../SessionError.js"

/** Options after validation, with every default filled in. Durations are in milliseconds. */
export interface Resolved<EH = never, RH = never> {
  readonly cookieName: string
  /** Idle lifetime: the record's TTL and the cookie's Max-Age. 0 = browser-session cookie, store default. */
  readonly ttlMillis: number
  readonly ttl: Duration.Duration
  /** Absolute lifetime from creation, never extended; `Infinity` when unset. */
  readonly absoluteMillis: number
  /** How long an unchanged session may go before its expiry (and cookie) are extended. */
  readonly touchAfterMillis: number
  readonly cookie: NonNullable<Cookies.Cookie["options"]>
  readonly onError: FailureHandler<EH, RH> | undefined
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

const fail = (option: string, message: string) => Either.left(new SessionConfigError({ option, message }))

/** effect 3's `Duration`, as the core's option checks see it: no object inputs. */
const durationModule: CoreOptions.DurationModule = {
  isDuration: Duration.isDuration,
  format: Duration.format,
  objects: false
}

/**
 * The one place every duration option is decoded: middleware options, `Session.setLifetime`,
 * lock options and every store's options all come through here.
 *
 * The core (`Options.durationProblem`, shared with the effect 4 package) decides which inputs
 * may be decoded and words the errors: a bare number is refused (zero aside, which means "none
 * chosen" / "the store's default"), because `Duration.decode` reads it as milliseconds and
 * `ttl: 120` would silently become a 120 ms session; so is a negative or unparsable one.
 * `Duration.decode` maps negative numbers to zero and throws on garbage, so inputs are checked
 * before it runs.
 */
export const decodeDuration = (
  option: string,
  input: Duration.DurationInput
): Either.Either<Duration.Duration, SessionConfigError> => {
  const problem = CoreOptions.durationProblem(option, input, durationModule)
  if (problem !== undefined) return fail(option, problem)
  if (CoreOptions.isBareZero(input)) return Either.right(Duration.zero)
  let duration: Duration.Duration
  try {
    duration = Duration.decode(typeof input === "string" ? input.trim() as Duration.DurationInput : input)
  } catch {
    return fail(option, CoreOptions.unparsable(option, input, durationModule))
  }
  return Duration.isFinite(duration)
    ? Either.right(duration)
    : fail(option, CoreOptions.infinite(option, input, durationModule))
}

/** An optional duration option: `fallback` when omitted, validated like any other otherwise. */
export const durationOr = (
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, SessionConfigError> =>
  input === undefined ? Either.right(fallback) : decodeDuration(option, input)

/** As `durationOr`, for options where zero makes no sense (intervals, timeouts). */
export const positiveDurationOr = (
  option: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, SessionConfigError> =>
  Either.flatMap(
    durationOr(option, input, fallback),
    (duration) =>
      Duration.toMillis(duration) > 0
        ? Either.right(duration)
        : Either.left(new SessionConfigError({ option, message: `${option} must be greater than zero` }))
  )

/** Lock times, with Laravel's `block()` defaults: held at most 10 s, waited for at most 10 s. */
export const resolveLock = (
  options: { readonly ttl?: Duration.DurationInput; readonly wait?: Duration.DurationInput }
): Either.Either<LockSettings, SessionConfigError> => {
  const notAnObject = CoreOptions.notAnObject(options)
  if (notAnObject !== undefined) return fail("lock", notAnObject)
  // `=== undefined`, not `??`: a null time is refused like any other non-duration, not read as omitted
  const ttl = decodeDuration("lock.ttl", options.ttl === undefined ? "10 seconds" : options.ttl)
  if (Either.isLeft(ttl)) return Either.left(ttl.left)
  const wait = decodeDuration("lock.wait", options.wait === undefined ? "10 seconds" : options.wait)
  if (Either.isLeft(wait)) return Either.left(wait.left)
  if (Duration.toMillis(ttl.right) === 0) return fail("lock.ttl", "lock.ttl must be greater than zero")
  // a store's lock expiry must fit where it is kept (a Redis PX, a BIGINT): at most 100 years, as a lifetime
  const ttlTooLong = CoreOptions.lifetimeProblem("lock.ttl", Duration.toMillis(ttl.right))
  if (ttlTooLong !== undefined) return fail("lock.ttl", ttlTooLong)
  const waitTooLong = CoreOptions.lifetimeProblem("lock.wait", Duration.toMillis(wait.right))
  if (waitTooLong !== undefined) return fail("lock.wait", waitTooLong)
  return Either.right({ ttlMillis: Duration.toMillis(ttl.right), waitMillis: Duration.toMillis(wait.right) })
}

const DEFAULT_TTL = Duration.hours(2)

/** A store's options (`make(options)`), refused when they are not an object (untyped config's `null`). */
export const checkObject = (options: unknown): Effect.Effect<void, SessionConfigError> => {
  const problem = CoreOptions.notAnObject(options)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new SessionConfigError({ option: "options", message: problem }))
}

/** Validates middleware options and fills in the safe defaults. */

export const resolve = <EH = never, RH = never>(
  options: Options<EH, RH> = {}
): Either.Either<Resolved<EH, RH>, SessionConfigError> => {
  const notAnObject = CoreOptions.notAnObject(options)
  if (notAnObject !== undefined) return fail("options", notAnObject)
  // Wrong types first (the core's, shared by both lines): untyped config can hold `cookieName: 42`
  // or `lock: null`, which must be a SessionConfigError, never a TypeError from a check below.
  const typed = CoreOptions.typeProblem(options)
  if (typed !== undefined) return fail(typed.option, typed.message)
  const cookieName = options.cookieName ?? "lagodev_session"
  if (cookieName.length === 0) return fail("cookieName", "cookieName must not be empty")

  const ttl = options.ttl === undefined ? Either.right(DEFAULT_TTL) : decodeDuration("ttl", options.ttl)
  if (Either.isLeft(ttl)) return Either.left(ttl.left)
  const ttlMillis = Duration.toMillis(ttl.right)

  let absoluteMillis = Infinity
  if (options.absoluteTimeout !== undefined) {
    const absolute = decodeDuration("absoluteTimeout", options.absoluteTimeout)
    if (Either.isLeft(absolute)) return Either.left(absolute.left)
    absoluteMillis = Duration.toMillis(absolute.right)
    if (absoluteMillis === 0) return fail("absoluteTimeout", "absoluteTimeout must be greater than zero when set")
  }

  // The touch-after default and the cookie rules are the core's (`Lifetime`, `Cookie`), shared by both lines.
  let given: number | undefined
  if (options.touchAfter !== undefined) {
    const decoded = decodeDuration("touchAfter", options.touchAfter)
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
    given = Duration.toMillis(decoded.right)
  }
  const touch = Lifetime.touchAfter(ttlMillis, given)
  if ("message" in touch) return fail("touchAfter", touch.message)
  const touchAfterMillis = touch.millis

  const attributes = CoreCookie.attributes({ ...options, cookieName })
  if (CoreCookie.isProblem(attributes)) return fail(attributes.option, attributes.message)
  const path = attributes.path
  const cookie: NonNullable<Cookies.Cookie["options"]> = attributes
  // Let the platform check the name, domain and path exactly as it will when serialising.
  const probe = Cookies.makeCookie(cookieName, "x", cookie)
  if (Either.isLeft(probe)) {
    const option = probe.left.reason === "InvalidName"
      ? "cookieName"
      : probe.left.reason === "InvalidDomain"
      ? "domain"
      : probe.left.reason === "InvalidPath"
      ? "path"
      : "cookie"
    return fail(
      option,
      CoreOptions.invalidCookie(
        option,
        probe.left.reason,
        option === "cookieName" ? cookieName : option === "domain" ? options.domain : path
      )
    )
  }

  let lock: LockSettings | undefined
  if (options.lock !== undefined && options.lock !== false) {
    const settings = resolveLock(options.lock === true ? {} : options.lock)
    if (Either.isLeft(settings)) return Either.left(settings.left)
    lock = settings.right
  }

  let regenerateGraceMillis = 0
  if (options.regenerateGrace !== undefined) {
    const grace = decodeDuration("regenerateGrace", options.regenerateGrace)
    if (Either.isLeft(grace)) return Either.left(grace.left)
    regenerateGraceMillis = Duration.toMillis(grace.right)
  }

  return Either.right({
    lock,
    regenerateGraceMillis,
    cookieName,
    ttl: ttl.right,
    ttlMillis,
    absoluteMillis,
    touchAfterMillis,
    cookie,
    onError: options.onError
  })
}
