/**
 * The tagged errors of effect-session-v4 (the same names, fields, `reason`s and messages as the
 * effect 3 package). Every failure the library can produce is one of these, so users
 * `Effect.catchTag` on the tag and `switch` on `reason`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * A session store could not do what was asked: the backend is down, timed out, or returned a
 * record that cannot be decoded. The middleware turns an unhandled one into a `503` (or whatever
 * the `onError` option returns); it never becomes a `200` whose data was lost.
 *
 * @example
 * ```ts
 * import { SessionStoreError } from "effect-session-v4"
 *
 * const error = new SessionStoreError({ reason: "Unavailable", message: "redis: connection refused" })
 * console.log(error._tag, error.reason) // "SessionStoreError" "Unavailable"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionStoreError extends Data.TaggedError("SessionStoreError")<{
  /**
   * - `Unavailable`: the backend could not be reached or refused the command.
   * - `Timeout`: the backend did not answer in time.
   * - `CorruptRecord`: a stored record could not be decoded (the middleware treats it as no
   *   session, deletes it and logs a warning).
   * - `Unencodable`: a value could not be encoded for the backend.
   * - `Unsupported`: the store lacks a capability that was asked for (e.g. locking).
   * - `Unknown`: anything else.
   */
  readonly reason: "Unavailable" | "Timeout" | "CorruptRecord" | "Unencodable" | "Unsupported" | "Unknown"
  readonly message?: string
  readonly cause?: unknown
}> {
  constructor(props: {
    readonly reason: SessionStoreError["reason"]
    readonly message?: string | undefined
    readonly cause?: unknown
  }) {
    super({ ...props, message: props.message ?? `session store: ${props.reason}` })
  }
}

/**
 * `Session.get(key)` was called for a key that is not set: the Go package's `ErrMissing`. Its
 * message starts with the Go package's text, `session: key not set`, and names the key.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session } from "effect-session-v4"
 *
 * const name = Session.get("name").pipe(
 *   Effect.catchTag("SessionKeyMissing", (e) => Effect.succeed(`no ${e.key}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionKeyMissing extends Data.TaggedError("SessionKeyMissing")<{
  readonly key: string
}> {
  override get message(): string {
    return `session: key not set: ${JSON.stringify(this.key)}`
  }
}

/**
 * A value could not be stored in, or read back from, the session:
 *
 * - `Unencodable`: `put` was given something that is not plain JSON data (a function, a cycle,
 *   a `bigint`, a `Date`, a class instance, `NaN`…). Use a Schema-typed key for such values.
 * - `ReservedKey`: the key is the one the library keeps its own metadata under.
 * - `NotANumber` / `NotAnArray`: `increment`/`decrement` or `push` met a value of another type.
 * - `DecodeFailed` / `EncodeFailed`: a Schema-typed key's schema rejected the value.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Session } from "effect-session-v4"
 *
 * const program = Session.put("fn", () => 1).pipe(
 *   Effect.catchTag("SessionValueError", (e) => Effect.log(e.reason)) // "Unencodable"
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionValueError extends Data.TaggedError("SessionValueError")<{
  readonly key: string
  readonly reason: "Unencodable" | "ReservedKey" | "NotANumber" | "NotAnArray" | "DecodeFailed" | "EncodeFailed"
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Invalid options given to `Session.middleware`, `MemoryStore.layer` or another constructor:
 * a negative, NaN or infinite TTL, an impossible cookie attribute combination, a bad cookie name.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemoryStore } from "effect-session-v4"
 *
 * const layer = MemoryStore.layer({ ttl: -1 }) // fails with SessionConfigError { option: "ttl" } when built
 * const program = Effect.scoped(MemoryStore.make({ ttl: -1 })).pipe(
 *   Effect.catchTag("SessionConfigError", (e) => Effect.log(e.option)) // "ttl"
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionConfigError extends Data.TaggedError("SessionConfigError")<{
  readonly option: string
  readonly message: string
}> {}

/**
 * An opt-in session lock (the `lock` option or `Session.blocking`) could not be acquired within
 * its wait time because another request on the same session held it. By default the middleware
 * answers `423 Locked` with `Retry-After: 1` (see `docs/concurrency.md`).
 *
 * @example
 * ```ts
 * import { SessionLockTimeout } from "effect-session-v4"
 *
 * const error = new SessionLockTimeout({ waitedMillis: 5000 })
 * console.log(error._tag) // "SessionLockTimeout"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionLockTimeout extends Data.TaggedError("SessionLockTimeout")<{
  readonly waitedMillis: number
}> {
  override get message(): string {
    return `session: lock not acquired within ${this.waitedMillis} ms`
  }
}
