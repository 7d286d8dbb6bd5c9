import { Value } from "effect-session-core"
import { SessionStoreError } from "../SessionError.js"

// The plain-JSON check is the core's (`Value`); this module gives it the store's error, so the
// codec and the stores that validate values themselves share one check and one error.

/** `SessionCodec.checkValue`: why `value` is not plain JSON data, or `undefined` when it is. */
export const checkValue: (value: unknown) => string | undefined = Value.check

/**
 * A store's error for a record value it cannot keep (`undefined`, or anything `checkValue`
 * refuses), or `undefined` when the value can be stored.
 */
export const unencodableValue = (key: string, value: unknown): SessionStoreError | undefined => {
  const message = Value.unstorable(key, value)
  return message === undefined ? undefined : new SessionStoreError({ reason: "Unencodable", message })
}
