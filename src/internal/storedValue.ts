import { checkValue } from "../SessionCodec.js"
import { SessionStoreError } from "../SessionError.js"

/**
 * A store's error for a record value it cannot keep (`undefined`, or anything `checkValue`
 * refuses), or `undefined` when the value can be stored: one check and one message for the stores
 * that validate values themselves (the memory store's patch, Redis' write and patch).
 */
export const unencodableValue = (key: string, value: unknown): SessionStoreError | undefined => {
  const problem = value === undefined ? "the value is undefined" : checkValue(value)
  return problem === undefined
    ? undefined
    : new SessionStoreError({
      reason: "Unencodable",
      message: `session value for key ${JSON.stringify(key)}: ${problem}`
    })
}
