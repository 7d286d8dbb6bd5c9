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
import * as Either from "effect/Either"
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

/** Deep enough for any real session value; deeper input is refused rather than overflowing the stack. */
const MAX_DEPTH = 512

const describe = (value: unknown): string => {
  if (value === null) return "null"
  switch (typeof value) {
    case "function":
      return "a function"
    case "symbol":
      return "a symbol"
    case "bigint":
      return "a bigint"
    case "undefined":
      return "undefined"
    case "number":
      return String(value)
    case "object": {
      const name = (value as object).constructor?.name
      return name ? `a ${name}` : "an object with a custom prototype"
    }
    default:
      return typeof value
  }
}

const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.length === 0 ? "the value" : path.map((p) => typeof p === "number" ? `[${p}]` : `.${p}`).join("")

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
export const checkValue = (value: unknown): string | undefined =>
  isPlainJson(value, 0, undefined) ? undefined : explain(value)

/**
 * The fast answer to "is this plain JSON data?", allocating nothing for the small values sessions
 * hold (it runs on every `put` and every write). `stack` holds the objects being visited, for
 * cycles; `explain` then walks again, only for a value that failed, to say where and why.
 */
const isPlainJson = (v: unknown, depth: number, stack: Array<object> | undefined): boolean => {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(v)
    case "object": {
      if (v === null) return true
      if (depth > MAX_DEPTH || (stack !== undefined && stack.includes(v))) return false
      const inner = stack ?? []
      inner.push(v)
      let ok = true
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) ok = false
        for (let i = 0; ok && i < v.length; i++) {
          ok = v[i] !== undefined && isPlainJson(v[i], depth + 1, inner)
        }
      } else {
        const proto = Object.getPrototypeOf(v)
        if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(v).length > 0) ok = false
        else {
          for (const key in v) {
            if (!Object.prototype.hasOwnProperty.call(v, key)) continue
            const property = (v as Record<string, unknown>)[key]
            if (property !== undefined && !isPlainJson(property, depth + 1, inner)) {
              ok = false
              break
            }
          }
        }
      }
      inner.pop()
      return ok
    }
    default:
      return false
  }
}

const explain = (value: unknown): string | undefined => {
  const ancestors = new Set<object>()
  const path: Array<string | number> = []
  const visit = (v: unknown, depth: number): string | undefined => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return undefined
      case "number":
        return Number.isFinite(v) ? undefined : `${formatPath(path)} is ${v}, which JSON cannot represent`
      case "object": {
        if (v === null) return undefined
        if (depth > MAX_DEPTH) return `${formatPath(path)} is nested more than ${MAX_DEPTH} levels deep`
        if (ancestors.has(v)) return `${formatPath(path)} is a cycle back to one of its parents`
        if (Array.isArray(v)) {
          if (Object.getPrototypeOf(v) !== Array.prototype) return `${formatPath(path)} is ${describe(v)}`
          ancestors.add(v)
          for (let i = 0; i < v.length; i++) {
            const element = v[i]
            path.push(i)
            const problem = element === undefined
              ? `${formatPath(path)} is undefined (JSON would turn it into null)`
              : visit(element, depth + 1)
            path.pop()
            if (problem !== undefined) return problem
          }
          ancestors.delete(v)
          return undefined
        }
        const proto = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) {
          return `${formatPath(path)} is ${describe(v)}: store plain JSON data, or use a Schema-typed key`
        }
        if (Object.getOwnPropertySymbols(v).length > 0) return `${formatPath(path)} has symbol keys`
        ancestors.add(v)
        for (const key of Object.keys(v)) {
          const property = (v as Record<string, unknown>)[key]
          if (property === undefined) continue // omitted, as JSON does: documented
          path.push(key)
          const problem = visit(property, depth + 1)
          path.pop()
          if (problem !== undefined) return problem
        }
        ancestors.delete(v)
        return undefined
      }
      default:
        return `${formatPath(path)} is ${describe(v)}: store plain JSON data, or use a Schema-typed key`
    }
  }
  return visit(value, 0)
}

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
  for (const key of Object.keys(data)) {
    const value = data[key]
    const problem = value === undefined ? "the value is undefined" : checkValue(value)
    if (problem !== undefined) {
      return Either.left(
        new SessionStoreError({
          reason: "Unencodable",
          message: `session value for key ${JSON.stringify(key)}: ${problem}`
        })
      )
    }
  }
  return Either.right(JSON.stringify(data))
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
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    return Either.left(new SessionStoreError({ reason: "CorruptRecord", message: "session record is not JSON", cause }))
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return Either.left(
      new SessionStoreError({ reason: "CorruptRecord", message: "session record is not a JSON object" })
    )
  }
  return Either.right(parsed as SessionData)
}
