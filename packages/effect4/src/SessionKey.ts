/**
 * Schema-typed session keys: a key name paired with an effect 4 `Schema`, so that `Session.get`
 * decodes and `Session.put` encodes (a `Date`, a branded ID, a class) through it.
 *
 * @since 0.1.0
 */
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import { hasProperty } from "effect/Predicate"
import type * as Schema from "effect/Schema"

/**
 * The runtime mark of a `SessionKey`.
 *
 * @example
 * ```ts
 * import { SessionKey } from "effect-session-v4"
 * console.log(typeof SessionKey.TypeId) // "symbol"
 * ```
 *
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("effect-session/SessionKey")

/**
 * The type of `TypeId`.
 *
 * @example
 * ```ts
 * import type { SessionKey } from "effect-session-v4"
 * type Id = SessionKey.TypeId
 * ```
 *
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * A session key with a schema: `A` is what handlers see, `I` what the store holds (plain JSON),
 * `RD` / `RE` the services decoding / encoding need.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SessionKey } from "effect-session-v4"
 *
 * const UserId: SessionKey.SessionKey<number> = SessionKey.make("userId", Schema.Number)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionKey<A, I = A, RD = never, RE = never> extends Pipeable {
  readonly [TypeId]: TypeId
  readonly key: string
  readonly schema: Schema.Codec<A, I, RD, RE>
}

const Proto = {
  [TypeId]: TypeId,
  pipe() {
    return pipeArguments(this, arguments)
  },
  toString(this: { readonly key: string }) {
    return `SessionKey(${this.key})`
  }
}

/**
 * Makes a typed key.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Session, SessionKey } from "effect-session-v4"
 *
 * const LastSeen = SessionKey.make("lastSeen", Schema.DateTimeUtcFromString)
 * const lastSeen = Session.get(LastSeen) // Effect<DateTime.Utc, …, Session>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A, I, RD, RE>(key: string, schema: Schema.Codec<A, I, RD, RE>): SessionKey<A, I, RD, RE> => {
  const self: SessionKey<A, I, RD, RE> = Object.assign(Object.create(Proto), { key, schema })
  return self
}

/**
 * Whether `u` is a `SessionKey`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SessionKey } from "effect-session-v4"
 *
 * SessionKey.isSessionKey(SessionKey.make("n", Schema.Number)) // true
 * SessionKey.isSessionKey("n") // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isSessionKey = (u: unknown): u is SessionKey<unknown, unknown, unknown, unknown> => hasProperty(u, TypeId)
