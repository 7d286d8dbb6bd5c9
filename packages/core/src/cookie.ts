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

/** A refused option: which one, and why (each line's middleware turns it into its `SessionConfigError`). */
export interface OptionProblem {
  readonly option: string
  readonly message: string
}

/** The cookie options a middleware takes (before defaults). */
export interface AttributeOptions {
  readonly cookieName: string
  readonly sameSite?: unknown
  readonly insecure?: boolean | undefined
  readonly path?: string | undefined
  readonly domain?: string | undefined
  readonly partitioned?: boolean | undefined
  readonly priority?: "low" | "medium" | "high" | undefined
}

/** The session cookie's attributes, in the shape both platforms' `Cookies` options take. */
export interface Attributes {
  readonly httpOnly: true
  readonly secure: boolean
  readonly sameSite: "lax" | "strict" | "none"
  readonly path: string
  readonly domain?: string
  readonly partitioned?: true
  readonly priority?: "low" | "medium" | "high"
}

/**
 * The session cookie's attributes with the safe defaults (`HttpOnly`, `Secure` unless `insecure`,
 * `SameSite=Lax`, `Path=/`), or the option that breaks a browser rule: `SameSite=None` and
 * `Partitioned` need `Secure`, a `__Host-` cookie is `Secure` with path `/` and no domain, a
 * `__Secure-` cookie is `Secure`. The platform's own check of the name, domain and path follows in
 * each line's middleware.
 */
export const attributes = (options: AttributeOptions): Attributes | OptionProblem => {
  const problem = (option: string, message: string): OptionProblem => ({ option, message })
  const sameSite = options.sameSite ?? "lax"
  if (sameSite !== "lax" && sameSite !== "strict" && sameSite !== "none") {
    return problem("sameSite", `sameSite must be "lax", "strict" or "none", got ${String(sameSite)}`)
  }
  const secure = options.insecure !== true
  const path = options.path ?? "/"
  // A Path that does not start with "/" is ignored by browsers (RFC 6265 5.2.4): the cookie would
  // be scoped to the request's directory instead, and the session would seem to vanish elsewhere.
  if (!path.startsWith("/")) {
    return problem("path", `path ${JSON.stringify(path)} must start with "/", e.g. "/" or "/app"`)
  }
  if (!secure && sameSite === "none") {
    return problem("sameSite", "sameSite \"none\" requires a Secure cookie: browsers reject it with insecure: true")
  }
  if (!secure && options.partitioned === true) {
    return problem("partitioned", "partitioned cookies must be Secure: remove insecure: true")
  }
  const name = options.cookieName
  if (name.startsWith("__Host-")) {
    if (!secure) return problem("cookieName", "a __Host- cookie must be Secure: remove insecure: true")
    if (path !== "/") return problem("path", "a __Host- cookie must have path \"/\"")
    if (options.domain !== undefined) return problem("domain", "a __Host- cookie must not set a domain")
  } else if (name.startsWith("__Secure-") && !secure) {
    return problem("cookieName", "a __Secure- cookie must be Secure: remove insecure: true")
  }
  return {
    httpOnly: true,
    secure,
    sameSite,
    path,
    ...(options.domain !== undefined ? { domain: options.domain } : {}),
    ...(options.partitioned === true ? { partitioned: true as const } : {}),
    ...(options.priority !== undefined ? { priority: options.priority } : {})
  }
}

/** Whether `attributes` answered with a problem. */
export const isProblem = (result: Attributes | OptionProblem): result is OptionProblem => "option" in result

/**
 * The headers every response that answers a session failure carries (a `503` for a store failure,
 * a `423` for a lock timeout), on both lines and from every middleware: no shared cache keeps it
 * (nor any cookie on it), and a retry may work.
 *
 * @example
 * ```ts
 * import { Cookie } from "effect-session-core"
 *
 * Cookie.FAILURE_HEADERS["retry-after"] // "1"
 * ```
 */
export const FAILURE_HEADERS: { readonly "cache-control": "no-store"; readonly "retry-after": "1" } = {
  "cache-control": "no-store",
  "retry-after": "1"
}
