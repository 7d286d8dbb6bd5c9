/**
 * The one codec every store uses to turn a session record into text and back.
 *
 * Session values are **plain JSON data**: `null`, booleans, finite numbers, strings, arrays and
 * plain objects (prototype `Object.prototype` or `null`) of those. They round-trip exactly, with
 * two documented normalisations that JSON itself makes: `-0` reads back as `0`, and an object
 * property whose value is `undefined` is omitted. Everything else — functions, symbols, `bigint`,
 * `Date`, `Map`, `Set`, class instances, `NaN`/`Infinity`, cycles, `undefined` as a value or an
 * array element — is refused with a typed error at `put` time (and again at write time, for code
 * that calls a store directly), never turned into a silent `{}` or `null`. Give such values a
 * Schema-typed key (`SessionKey.make("at", Schema.Date)`): the schema encodes them to JSON.
 *
 * Keys such as `__proto__` and `constructor` are plain data: `JSON.parse` defines them as own
 * properties and the session keeps its data in a `Map`.
 *
 * @since 0.1.0
 */
import { StoredRecord } from "effect-session-core"
import * as Either from "effect/Either"
import { checkValue as internalCheckValue } from "./internal/storedValue.js"
import { SessionStoreError } from "./SessionError.js"

/**
 * A session record as stores hold it: string keys to plain JSON values.
 *
 * @example
 * ```ts
 * import type { SessionCodec } from "effect-session"
 *
 * const record: SessionCodec.SessionData = { user: "ada", cart: [1, 2] }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SessionData = Readonly<Record<string, unknown>>

/**
 * Why `value` is not plain JSON data, or `undefined` when it is. The answer names the offending
 * path, for instance `".items[2].at is a Date"`.
 *
 * @example
 * ```ts
 * import { SessionCodec } from "effect-session"
 *
 * SessionCodec.checkValue({ a: [1, "x", null] }) // undefined
 * SessionCodec.checkValue({ at: new Date() })     // ".at is a Date: ..."
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const checkValue: (value: unknown) => string | undefined = internalCheckValue

/**
 * Encodes a record to JSON text, or fails with `SessionStoreError` (`reason: "Unencodable"`)
 * naming the key whose value is not plain JSON data.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { SessionCodec } from "effect-session"
 *
 * SessionCodec.encode({ n: 1 }) // Either.right('{"n":1}')
 * Either.isLeft(SessionCodec.encode({ f: () => 1 })) // true
 * ```
 *
 * @since 0.1.0
 * @category codec
 */
export const encode = (data: SessionData): Either.Either<string, SessionStoreError> => {
  const encoded = StoredRecord.toText(data) // the core's: the same text the effect 4 stores write
  return encoded._tag === "Text"
    ? Either.right(encoded.text)
    : Either.left(new SessionStoreError({ reason: "Unencodable", message: encoded.message }))
}

/**
 * Decodes JSON text written by `encode`. Text that is not JSON, or JSON that is not an object, is
 * a `SessionStoreError` with `reason: "CorruptRecord"`; the middleware treats such a record as no
 * session, deletes it and logs a warning.
 *
 * @example
 * ```ts
 * import { SessionCodec } from "effect-session"
 *
 * SessionCodec.decode('{"n":1}') // Either.right({ n: 1 })
 * SessionCodec.decode("{oops")   // Either.left(SessionStoreError { reason: "CorruptRecord" })
 * ```
 *
 * @since 0.1.0
 * @category codec
 */
export const decode = (text: string): Either.Either<SessionData, SessionStoreError> => {
  const parsed = StoredRecord.fromText(text)
  return parsed._tag === "Record"
    ? Either.right(parsed.record)
    : Either.left(
      parsed.cause === undefined
        ? new SessionStoreError({ reason: "CorruptRecord", message: parsed.message })
        : new SessionStoreError({ reason: "CorruptRecord", message: parsed.message, cause: parsed.cause })
    )
}
