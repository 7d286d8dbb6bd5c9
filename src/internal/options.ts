import * as Cookies from "@effect/platform/Cookies"
import * as Duration from "effect/Duration"
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

const DURATION_STRING = /^(-?\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/

/**
 * `Duration.decode` maps negative numbers to zero and throws on garbage; options must reject both
 * with a typed error, so inputs are checked here first.
 */
export const decodeDuration = (
  option: string,
  input: Duration.DurationInput
): Either.Either<Duration.Duration, SessionConfigError> => {
  const invalid = () => fail(option, `${option} must be a finite, non-negative duration, got ${String(input)}`)
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) return invalid()
  } else if (typeof input === "bigint") {
    if (input < 0n) return invalid()
  } else if (typeof input === "string") {
    const match = DURATION_STRING.exec(input.trim())
    if (match === null || Number(match[1]) < 0) return invalid()
  } else if (Array.isArray(input)) {
    const [s, ns] = input as unknown as [number, number]
    if (!Number.isFinite(s) || !Number.isFinite(ns) || s < 0 || ns < 0) return invalid()
  } else if (!Duration.isDuration(input)) {
    return invalid()
  }
  let duration: Duration.Duration
  try {
    duration = Duration.decode(typeof input === "string" ? input.trim() as Duration.DurationInput : input)
  } catch {
    return invalid()
  }
  return Duration.isFinite(duration) ? Either.right(duration) : invalid()
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
  const ttl = decodeDuration("lock.ttl", options.ttl ?? "10 seconds")
  if (Either.isLeft(ttl)) return Either.left(ttl.left)
  const wait = decodeDuration("lock.wait", options.wait ?? "10 seconds")
  if (Either.isLeft(wait)) return Either.left(wait.left)
  if (Duration.toMillis(ttl.right) === 0) return fail("lock.ttl", "lock.ttl must be greater than zero")
  return Either.right({ ttlMillis: Duration.toMillis(ttl.right), waitMillis: Duration.toMillis(wait.right) })
}

const DEFAULT_TTL = Duration.hours(2)
const MAX_TOUCH_AFTER_MILLIS = 60_000

/** Validates middleware options and fills in the safe defaults. */
export const resolve = <EH = never, RH = never>(
  options: Options<EH, RH> = {}
): Either.Either<Resolved<EH, RH>, SessionConfigError> => {
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

  let touchAfterMillis = ttlMillis > 0 ? Math.min(ttlMillis / 10, MAX_TOUCH_AFTER_MILLIS) : MAX_TOUCH_AFTER_MILLIS
  if (options.touchAfter !== undefined) {
    const touchAfter = decodeDuration("touchAfter", options.touchAfter)
    if (Either.isLeft(touchAfter)) return Either.left(touchAfter.left)
    touchAfterMillis = Duration.toMillis(touchAfter.right)
    if (ttlMillis > 0 && touchAfterMillis >= ttlMillis) {
      return fail("touchAfter", "touchAfter must be shorter than ttl, or active sessions would expire")
    }
  }

  const sameSite = options.sameSite ?? "lax"
  if (sameSite !== "lax" && sameSite !== "strict" && sameSite !== "none") {
    return fail("sameSite", `sameSite must be "lax", "strict" or "none", got ${String(sameSite)}`)
  }
  const secure = options.insecure !== true
  const path = options.path ?? "/"
  if (!secure && sameSite === "none") {
    return fail("sameSite", "sameSite \"none\" requires a Secure cookie: browsers reject it with insecure: true")
  }
  if (!secure && options.partitioned === true) {
    return fail("partitioned", "partitioned cookies must be Secure: remove insecure: true")
  }
  if (cookieName.startsWith("__Host-")) {
    if (!secure) return fail("cookieName", "a __Host- cookie must be Secure: remove insecure: true")
    if (path !== "/") return fail("path", "a __Host- cookie must have path \"/\"")
    if (options.domain !== undefined) return fail("domain", "a __Host- cookie must not set a domain")
  } else if (cookieName.startsWith("__Secure-") && !secure) {
    return fail("cookieName", "a __Secure- cookie must be Secure: remove insecure: true")
  }

  const cookie: NonNullable<Cookies.Cookie["options"]> = {
    httpOnly: true,
    secure,
    sameSite,
    path,
    ...(options.domain !== undefined ? { domain: options.domain } : {}),
    ...(options.partitioned === true ? { partitioned: true } : {}),
    ...(options.priority !== undefined ? { priority: options.priority } : {})
  }
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
    return fail(option, `invalid cookie ${option}: ${probe.left.reason}`)
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
