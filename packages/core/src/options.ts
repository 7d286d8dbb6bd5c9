/**
 * Option checks both Effect lines share: which duration inputs an option accepts, the type of every
 * other option, and the words every configuration error uses. Each line decodes an accepted input
 * with its own `Duration` module; this module only says, before that, whether the input may be
 * decoded at all, and what to tell the user when it may not.
 *
 * A duration option accepts a `Duration`, a string such as `"2 hours"`, a `[seconds, nanos]` pair,
 * and (on effect 4, whose `Duration.Input` has them) an object such as `{ minutes: 30 }`. It
 * refuses a bare number: `Duration` reads one as milliseconds, so `ttl: 120` written by someone who
 * meant minutes (Laravel's `lifetime`) or seconds (a cookie's `Max-Age`) would silently become a
 * 120 ms session. A bare `bigint` (nanoseconds) is refused for the same reason. Zero is the
 * exception: it means "none chosen" (a browser-session cookie, the store's default TTL).
 */
import { isLifetime } from "./meta.js"

/**
 * What every duration error shows as the fix.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const hint = `use e.g. ${Options.DURATION_EXAMPLES}`
 * ```
 */
export const DURATION_EXAMPLES = "\"90 seconds\", \"30 minutes\", \"2 hours\", \"14 days\" or Duration.minutes(30)"

/** The string form both `Duration` modules parse: a number, a space and a unit. */
const DURATION_STRING = /^(-?\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/

/** The fields of effect 4's `Duration` objects (`DurationObject`). */
const OBJECT_UNITS: ReadonlySet<string> = new Set([
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds"
])

/** What a line's `Duration` module tells this module about its inputs. */
export interface DurationModule {
  /** whether `u` is a `Duration` */
  readonly isDuration: (u: unknown) => boolean
  /** a `Duration`, for a message */
  readonly format: (duration: never) => string
  /** whether the line's `Duration` accepts objects such as `{ minutes: 30 }` (effect 4) */
  readonly objects: boolean
}

/**
 * An option's value as a message shows it: strings quoted, `bigint`s with their `n`, arrays and
 * objects as written, `Duration`s formatted.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const module = { isDuration: () => false, format: () => "", objects: true }
 * Options.show("2 hourz", module) // "\"2 hourz\""
 * ```
 */
export const show = (input: unknown, module: DurationModule): string => {
  try {
    if (typeof input === "string") return JSON.stringify(input)
    if (typeof input === "bigint") return `${input}n`
    if (Array.isArray(input)) return `[${input.map(String).join(", ")}]`
    if (module.isDuration(input)) return module.format(input as never)
    return typeof input === "object" && input !== null ? JSON.stringify(input) : String(input)
  } catch {
    // a value neither JSON nor String can render (a null-prototype object, a cycle): its type
    return Object.prototype.toString.call(input)
  }
}

/**
 * Whether `input` is zero given as a bare number (`0` or `0n`): "none chosen", accepted though
 * other bare numbers are not.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * Options.isBareZero(0) // true
 * Options.isBareZero("0 seconds") // false: a string, decoded as any other
 * ```
 */
export const isBareZero = (input: unknown): boolean => input === 0 || input === 0n

/**
 * The message for a duration option that is negative.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const module = { isDuration: () => false, format: () => "", objects: false }
 * Options.negative("ttl", "-5 minutes", module) // "ttl must not be negative, got \"-5 minutes\"; …"
 * ```
 */
export const negative = (option: string, input: unknown, module: DurationModule): string =>
  `${option} must not be negative, got ${show(input, module)}; use e.g. ${DURATION_EXAMPLES}`

/**
 * The message for a duration option that decodes to an infinite duration.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const module = { isDuration: () => false, format: () => "", objects: false }
 * Options.infinite("ttl", [Infinity, 0], module) // "ttl must be a finite duration, got [Infinity, 0]; …"
 * ```
 */
export const infinite = (option: string, input: unknown, module: DurationModule): string =>
  `${option} must be a finite duration, got ${show(input, module)}; use e.g. ${DURATION_EXAMPLES}`

/**
 * The message for a duration option that passed `durationProblem` but that the line's `Duration`
 * still could not decode.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const module = { isDuration: () => false, format: () => "", objects: false }
 * Options.unparsable("ttl", "1e999 hours", module) // "ttl \"1e999 hours\" does not parse as a duration; …"
 * ```
 */
export const unparsable = (option: string, input: unknown, module: DurationModule): string =>
  `${option} ${show(input, module)} does not parse as a duration; use e.g. ${DURATION_EXAMPLES}`

/**
 * Why `options` (a middleware's or a store's, `undefined` when omitted) is not an options object,
 * or `undefined` when it is one: untyped config can hold `null`, which must be a configuration
 * error, never a `TypeError` from reading an option of it.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * Options.notAnObject(undefined) // undefined
 * Options.notAnObject(null) // "the options must be an object (or omitted), got null"
 * ```
 */
export const notAnObject = (options: unknown): string | undefined =>
  options === undefined || (typeof options === "object" && options !== null)
    ? undefined
    : `the options must be an object (or omitted), got ${options === null ? "null" : typeof options}`

/**
 * Why `Session.setLifetime`'s argument is not `{ ttl?, absoluteTimeout? }`, or `undefined` when it
 * is one (untyped code can pass `null` or nothing: a configuration error, never a `TypeError`).
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * Options.lifetimeArgumentProblem({ ttl: "30 days" }) // undefined
 * Options.lifetimeArgumentProblem(undefined) // "Session.setLifetime takes { ttl?, absoluteTimeout? }, got undefined"
 * ```
 */
export const lifetimeArgumentProblem = (lifetime: unknown): string | undefined =>
  typeof lifetime === "object" && lifetime !== null
    ? undefined
    : `Session.setLifetime takes { ttl?, absoluteTimeout? }, got ${lifetime === null ? "null" : typeof lifetime}`

/**
 * Why a session's own lifetime (`Session.setLifetime`'s `ttl` or `absoluteTimeout`), already
 * decoded to `millis`, cannot be stored, or `undefined` when it can: a stored lifetime outside
 * `Meta.isLifetime` would make the record read back as corrupt, and the session would be lost.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * Options.lifetimeProblem("ttl", 14 * 24 * 60 * 60 * 1000) // undefined
 * Options.lifetimeProblem("ttl", 200 * 365 * 24 * 60 * 60 * 1000) // "ttl must be at most 100 years"
 * ```
 */
export const lifetimeProblem = (option: string, millis: number): string | undefined =>
  isLifetime(millis) ? undefined : `${option} must be at most 100 years`

const objectProblem = (option: string, input: object, module: DurationModule): string | undefined => {
  const entries = Object.entries(input).filter(([, value]) => value !== undefined)
  const notAField = entries.find(([key]) => !OBJECT_UNITS.has(key))
  if (entries.length === 0 || notAField !== undefined) {
    return `${option} ${show(input, module)} is not a duration: ` +
      (notAField === undefined ? "it names no unit" : `${JSON.stringify(notAField[0])} is not a unit`) +
      `; an object's fields are weeks, days, hours, minutes, seconds, milliseconds, microseconds or nanoseconds, ` +
      `e.g. { minutes: 30 }; or use e.g. ${DURATION_EXAMPLES}`
  }
  for (const [key, value] of entries) {
    if (typeof value !== "number" || Number.isNaN(value)) {
      return `${option} ${
        show(input, module)
      } is not a duration: ${key} must be a number; use e.g. ${DURATION_EXAMPLES}`
    }
    if (value < 0) return negative(option, input, module)
    if (!Number.isFinite(value)) return infinite(option, input, module)
  }
  return undefined
}

/**
 * Why `input` may not be decoded as the duration option `option`, or `undefined` when it may. The
 * line decodes it next, and still refuses an infinite result (`infinite`); a bare zero
 * (`isBareZero`) passes, meaning "none chosen".
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const module = { isDuration: () => false, format: () => "", objects: false }
 * Options.durationProblem("ttl", 120, module) // "ttl is a bare number (120), which would be read as milliseconds: …"
 * Options.durationProblem("ttl", "2 hours", module) // undefined
 * ```
 */
export const durationProblem = (option: string, input: unknown, module: DurationModule): string | undefined => {
  if (typeof input === "number" || typeof input === "bigint") {
    if (isBareZero(input)) return undefined
    const unit = typeof input === "number" ? "milliseconds" : "nanoseconds"
    return `${option} is a bare number (${show(input, module)}), which would be read as ${unit}: use a Duration ` +
      `or a string such as "2 hours" (e.g. ${DURATION_EXAMPLES}); write Duration.millis(n) if you do mean milliseconds`
  }
  if (typeof input === "string") {
    const match = DURATION_STRING.exec(input.trim())
    if (match === null) {
      return `${option} ${show(input, module)} does not parse as a duration: write a number, a space and a unit ` +
        `(nanos, micros, millis, seconds, minutes, hours, days or weeks), e.g. ${DURATION_EXAMPLES}`
    }
    return Number(match[1]) < 0 ? negative(option, input, module) : undefined
  }
  if (Array.isArray(input)) {
    const [s, ns] = input as Array<unknown>
    if (input.length !== 2 || typeof s !== "number" || typeof ns !== "number" || Number.isNaN(s) || Number.isNaN(ns)) {
      return `${option} ${show(input, module)} is not a [seconds, nanos] pair; use e.g. ${DURATION_EXAMPLES}`
    }
    if (s < 0 || ns < 0) return negative(option, input, module)
    return Number.isFinite(s) && Number.isFinite(ns) ? undefined : infinite(option, input, module)
  }
  if (module.isDuration(input)) return undefined
  if (module.objects && typeof input === "object" && input !== null) return objectProblem(option, input, module)
  return `${option} must be a Duration or a string such as "2 hours", got ${show(input, module)}; ` +
    `use e.g. ${DURATION_EXAMPLES}`
}

/** For `show` outside durations: no value is a `Duration` there. */
const NO_DURATIONS: DurationModule = { isDuration: () => false, format: () => "", objects: false }

const isString = (u: unknown): boolean => typeof u === "string"
const isBoolean = (u: unknown): boolean => typeof u === "boolean"

/**
 * Each middleware option that is not a duration: what its value must be, and how an error says it.
 * Options often come from JSON or the environment without a schema, where `cookieName: 42`,
 * `insecure: "true"` or `lock: null` type-check as `any`; each must fail as a configuration error,
 * not as a `TypeError` (`42.startsWith`) or, worse, be silently ignored (`partitioned: "true"`).
 */
const KINDS: ReadonlyArray<readonly [option: string, accepts: (u: unknown) => boolean, expected: string]> = [
  ["cookieName", isString, "a string such as \"__Host-session\""],
  ["insecure", isBoolean, "true or false"],
  ["sameSite", (u) => u === "lax" || u === "strict" || u === "none", "\"lax\", \"strict\" or \"none\""],
  ["domain", isString, "a string such as \"example.com\""],
  ["path", isString, "a string such as \"/\" or \"/app\""],
  ["partitioned", isBoolean, "true or false"],
  ["priority", (u) => u === "low" || u === "medium" || u === "high", "\"low\", \"medium\" or \"high\""],
  ["onError", (u) => typeof u === "function", "a function (the failure handler)"],
  [
    "lock",
    (u) => typeof u === "boolean" || (typeof u === "object" && u !== null && !Array.isArray(u)),
    "true, false or { ttl, wait }"
  ]
]

/**
 * The first middleware option, durations aside (`durationProblem` checks those), whose value is
 * not of its type: the option and the message, or `undefined` when all are. `undefined` means
 * omitted; `null` does not (as for durations), so `domain: null` is refused rather than sent as
 * `Domain=null`. Both lines run it before any other check of the options, and
 * `Cookie.attributes` runs it on its own input, so no wrong type reaches a string method.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * Options.typeProblem({ cookieName: "__Host-sid", insecure: false }) // undefined
 * Options.typeProblem({ insecure: "true" })
 * // { option: "insecure", message: "insecure must be true or false, got \"true\"" }
 * ```
 */
export const typeProblem = (
  options: object
): { readonly option: string; readonly message: string } | undefined => {
  for (const [option, accepts, expected] of KINDS) {
    const value: unknown = (options as Readonly<Record<string, unknown>>)[option]
    if (value !== undefined && !accepts(value)) {
      return { option, message: `${option} must be ${expected}, got ${show(value, NO_DURATIONS)}` }
    }
  }
  return undefined
}

/**
 * What a cookie option the platform's cookie check refused says: the value, and what would be
 * accepted instead.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * Options.invalidCookie("cookieName", "InvalidName", "my session")
 * // "cookieName \"my session\" is not a valid cookie name: use letters, digits and …"
 * ```
 */
export const invalidCookie = (option: string, reason: string, value: string | undefined): string => {
  const got = JSON.stringify(value ?? "")
  switch (option) {
    case "cookieName":
      return `cookieName ${got} is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ ` +
        `only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"`
    case "domain":
      return `domain ${got} is not a valid cookie domain: give a host name such as "example.com", with no ";", spaces ` +
        `or port, in ASCII (an internationalised name in its xn-- form)`
    case "path":
      return `path ${got} is not a valid cookie path: give a path starting with "/" such as "/app", with no ";" or control characters`
    default:
      return `invalid cookie ${option}: ${reason}`
  }
}

/**
 * What the session middleware says when it runs without a `SessionStore` (only an app that was
 * not type-checked gets there), on both lines.
 *
 * @example
 * ```ts
 * import { Options } from "effect-session-core"
 *
 * const defect = new Error(Options.MISSING_STORE)
 * ```
 */
export const MISSING_STORE = "effect-session: no SessionStore in the context of Session.middleware: provide a " +
  "SessionStore layer, e.g. Layer.provide(MemoryStoreLive)"
