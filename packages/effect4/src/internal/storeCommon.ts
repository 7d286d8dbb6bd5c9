/**
 * What every store does the same way: the record's text (the codec: plain JSON), expiry times on
 * Effect's `Clock`, option checks, errors.
 */
import { Lifetime, StoredRecord } from "effect-session-core"
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import { SessionConfigError, SessionStoreError } from "../SessionError.js"
import type { SessionData } from "../SessionStore.js"

/** A `SessionStoreError` with `reason` and `message`. */
export const storeError = (reason: SessionStoreError["reason"], message: string, cause?: unknown): SessionStoreError =>
  cause === undefined ? new SessionStoreError({ reason, message }) : new SessionStoreError({ reason, message, cause })

/**
 * A record as JSON text, or `Unencodable` naming the key whose value is not plain JSON data. The
 * same text the effect 3 package's `SessionCodec.encode` writes.
 */
export const encodeRecord = (data: SessionData): Result.Result<string, SessionStoreError> => {
  const encoded = StoredRecord.toText(data)
  return encoded._tag === "Text"
    ? Result.succeed(encoded.text)
    : Result.fail(storeError("Unencodable", encoded.message))
}

/** JSON text back into a record; text that is not JSON, or JSON that is not an object, is `CorruptRecord`. */
export const decodeRecord = (backend: string, text: string): Result.Result<SessionData, SessionStoreError> => {
  const parsed = StoredRecord.fromText(text)
  return parsed._tag === "Record"
    ? Result.succeed(parsed.record)
    : Result.fail(storeError("CorruptRecord", `${backend} read: ${parsed.message}`, parsed.cause))
}

/**
 * `Duration.toMillis`, read straight from a millisecond `Duration` (what the session passes on every
 * write): `Duration.toMillis` makes a matcher object with four functions on each call.
 */
const millisOf = (duration: Duration.Duration): number => {
  const value: Duration.DurationValue | undefined = duration.value
  return value !== undefined && value._tag === "Millis" ? value.millis : Duration.toMillis(duration)
}

/** The TTL a write gets, in whole milliseconds: `ttl`, or the store's default when zero; `0`: none. */
export const ttlMillisOf = (ttl: Duration.Duration, defaultTtlMillis: number): number =>
  Lifetime.storeTtl(millisOf(ttl), defaultTtlMillis)

/** When a record written at `now` with `ttl` expires (`Infinity`: never). */
export const expiryAt = (now: number, ttl: Duration.Duration, defaultTtlMillis: number): number => {
  const millis = ttlMillisOf(ttl, defaultTtlMillis)
  return millis > 0 ? now + millis : Infinity
}

/** A positive integer option, or its default when omitted. */
export const positiveInteger = (
  option: string,
  value: number | undefined,
  fallback: number
): Result.Result<number, SessionConfigError> =>
  value === undefined
    ? Result.succeed(fallback)
    : Number.isSafeInteger(value) && value > 0
    ? Result.succeed(value)
    : Result.fail(new SessionConfigError({ option, message: `${option} must be a positive integer, got ${value}` }))

/** A positive duration option in milliseconds, or its default when omitted. */
export const positiveMillis = (
  option: string,
  value: Duration.Input | undefined,
  fallback: Duration.Duration,
  decode: (option: string, input: Duration.Input) => Result.Result<number, SessionConfigError>
): Result.Result<number, SessionConfigError> =>
  Result.flatMap(
    decode(option, value ?? fallback),
    (millis) =>
      millis > 0
        ? Result.succeed(Math.ceil(millis))
        : Result.fail(new SessionConfigError({ option, message: `${option} must be a positive duration` }))
  )
