/**
 * Schema-typed session keys: a key name paired with an Effect `Schema`, so that reads decode and
 * writes encode.
 *
 * @since 0.1.0
 */
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import type * as Schema from "effect/Schema"

/**
 * The brand that marks a value as a `SessionKey`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SessionKey } from "effect-session"
 *
 * const key = SessionKey.make("n", Schema.Number)
 * console.log(SessionKey.TypeId in key) // true
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("effect-session/SessionKey")

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import type { SessionKey } from "effect-session"
 *
 * type Brand = SessionKey.TypeId
 * ```
 *
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A key whose value has type `A` in handlers and is stored as the JSON form `I` of `schema`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SessionKey } from "effect-session"
 *
 * const Cart = Schema.Struct({ items: Schema.Array(Schema.String), updatedAt: Schema.Date })
 * const cartKey: SessionKey.SessionKey<typeof Cart.Type, typeof Cart.Encoded> = SessionKey.make("cart", Cart)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionKey<A, I = A, R = never> extends Pipeable {
  readonly [TypeId]: TypeId
  /** The name the value is stored under. */
  readonly key: string
  readonly schema: Schema.Schema<A, I, R>
}

const Proto = {
  [TypeId]: TypeId,
  pipe() {
    return pipeArguments(this, arguments)
  },
  toString(this: SessionKey<unknown, unknown, unknown>) {
    return `SessionKey(${this.key})`
  }
}

/**
 * Pairs a key name with a schema. `Session.get(key)` then returns `A` (failing with
 * `SessionValueError` `"DecodeFailed"` if the stored value no longer decodes, for instance after a
 * deploy changed the schema) and `Session.put(key, a)` encodes `a` before storing it, so values
 * such as `Date`, `bigint` or `Map` round-trip through every store.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Session, SessionKey } from "effect-session"
 *
 * const lastSeen = SessionKey.make("lastSeen", Schema.Date)
 *
 * const handler = Effect.gen(function*() {
 *   const previous = yield* Session.get(lastSeen) // Date
 *   yield* Session.put(lastSeen, new Date())
 *   return previous
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A, I, R>(key: string, schema: Schema.Schema<A, I, R>): SessionKey<A, I, R> => {
  const self = Object.create(Proto)
  self.key = key
  self.schema = schema
  return self
}

/**
 * Whether a value is a `SessionKey`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SessionKey } from "effect-session"
 *
 * SessionKey.isSessionKey(SessionKey.make("n", Schema.Number)) // true
 * SessionKey.isSessionKey("n") // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isSessionKey = (u: unknown): u is SessionKey<unknown, unknown, unknown> => hasProperty(u, TypeId)
