/**
 * The session cookie: reading the session ID from a `Cookie` header, and the decision a response
 * makes about it.
 */
import * as Id from "./id.js"

const isCookieWhitespace = (code: number): boolean => code === 0x20 || code === 0x09

/**
 * The session ID a `Cookie` header carries under `name`, or `undefined`.
 *
 * The rule is deterministic: cookie pairs are split on `;`, each name is trimmed of ASCII space
 * and tab only (RFC 6265), and compared to `name` byte for byte, so a look-alike such as
 * `"\u00a0lagodev_session"` never matches. Of the pairs that match, the first whose value is a
 * well-formed ID wins (browsers send the cookie with the most specific `Path` first); malformed
 * values are skipped and never reach the store.
 */
export const findSessionId = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined || header.length === 0) return undefined
  const length = header.length
  let start = 0
  while (start < length) {
    let end = header.indexOf(";", start)
    if (end === -1) end = length
    const eq = header.indexOf("=", start)
    if (eq !== -1 && eq < end) {
      let nameStart = start
      let nameEnd = eq
      while (nameStart < nameEnd && isCookieWhitespace(header.charCodeAt(nameStart))) nameStart++
      while (nameEnd > nameStart && isCookieWhitespace(header.charCodeAt(nameEnd - 1))) nameEnd--
      if (nameEnd - nameStart === name.length && header.startsWith(name, nameStart)) {
        let valueStart = eq + 1
        let valueEnd = end
        while (valueStart < valueEnd && isCookieWhitespace(header.charCodeAt(valueStart))) valueStart++
        while (valueEnd > valueStart && isCookieWhitespace(header.charCodeAt(valueEnd - 1))) valueEnd--
        if (valueEnd - valueStart === 43) {
          const value = header.slice(valueStart, valueEnd)
          if (Id.isWellFormed(value)) return value
        }
      }
    }
    start = end + 1
  }
  return undefined
}

/**
 * What a response must say about the session cookie: set it (with a `Max-Age` in ms, or none for a
 * browser-session cookie), clear it (`Max-Age=0`, after `destroy`), or leave the browser's alone.
 */
export type CookieDecision =
  | { readonly _tag: "Set"; readonly maxAgeMillis: number | undefined }
  | { readonly _tag: "Clear" }
  | { readonly _tag: "Leave" }

/** The cookie's `Max-Age` in whole seconds: `Max-Age=0` means "delete", so under a second is one. */
export const maxAgeSeconds = (millis: number): number => Math.max(1, Math.floor(millis / 1000))
