/**
 * The session cookie: reading the session ID from a `Cookie` header, and the decision a response
 * makes about it.
 */
import * as Id from "./id.js"
import * as Options from "./options.js"

const isCookieWhitespace = (code: number): boolean => code === 0x20 || code === 0x09

/**
 * The session ID a `Cookie` header carries under `name`, or `undefined`.
 *
 * The rule is deterministic: cookie pairs are split on `;`, each name is trimmed of ASCII space
 * and tab only (RFC 6265), and compared to `name` byte for byte, so a look-alike such as
 * `"\u00a0lagodev_session"` never matches. Of the pairs that match, the first whose value is a
 * well-formed ID wins (browsers send the cookie with the most specific `Path` first); malformed
 * values are skipped and never reach the store.
 *
 * It runs on every request through the middleware, on a header the client writes, so it reads the
 * header in time linear in its length: at most one pass for `;` and one for `=`.
 *
 * @example
 * ```ts
 * import { Cookie, Id } from "effect-session-core"
 *
 * const id = Id.generate()
 * Cookie.findSessionId(`theme=dark; sid=not-an-id; sid=${id}`, "sid") // id
 * Cookie.findSessionId("SID=x", "sid") // undefined
 * ```
 */
export const findSessionId = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined || header.length === 0) return undefined
  const length = header.length
  // The next "=" at or after `start` (`length` when there is none). Searched for again only once
  // the pairs have moved past it: a search per pair would run to the next "=" each time, beyond the
  // pair, and a header of many pairs without one ("a;a;a;…") would cost O(n²).
  let eq = -1
  let start = 0
  while (start < length) {
    let end = header.indexOf(";", start)
    if (end === -1) end = length
    if (eq < start) {
      eq = header.indexOf("=", start)
      if (eq === -1) eq = length
    }
    if (eq < end) {
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

/**
 * The cookie options a middleware takes (before defaults). Their types are checked at run time too
 * (`Options.typeProblem`): options often come from untyped configuration.
 */
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
 * The cookie-name prefixes, matched as browsers match them: ASCII case-insensitively (RFC 6265bis,
 * "Cookie Name Prefixes"), so `__HOST-sid` or `__host-sid` gets the same rules as `__Host-sid`; a name that
 * escaped the check would be silently dropped by the browser. No `u` flag: without it, `i` never
 * folds a non-ASCII letter onto an ASCII one (`ſ` is not `s`), as the RFC's ASCII match requires.
 */
const HOST_PREFIX = /^__host-/i
const SECURE_PREFIX = /^__secure-/i

/**
 * A host name, optionally with the leading dot old browsers wrote and a trailing dot (a fully
 * qualified name): labels of ASCII letters, digits, "_" and "-" (an internationalised name in its
 * `xn--` form); or an IPv6 literal in brackets, which browsers match exactly, as the host it names.
 */
const DOMAIN =
  /^(?:\[[0-9A-Fa-f:.]+\]|\.?[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?)$/

/**
 * The session cookie's attributes with the safe defaults (`HttpOnly`, `Secure` unless `insecure`,
 * `SameSite=Lax`, `Path=/`), or the option that breaks a rule: an option of the wrong type
 * (`Options.typeProblem`, so nothing here throws), a path that does not start with `/`,
 * `SameSite=None` and `Partitioned` without `Secure`, a `__Host-` cookie that is not `Secure` with
 * path `/` and no domain, a `__Secure-` cookie that is not `Secure`. The prefixes match in any
 * letter case, as in browsers. The platform's own check of the name, domain and path follows in
 * each line's middleware.
 *
 * @example
 * ```ts
 * import { Cookie } from "effect-session-core"
 *
 * Cookie.attributes({ cookieName: "__Host-sid" })
 * // { httpOnly: true, secure: true, sameSite: "lax", path: "/" }
 * Cookie.attributes({ cookieName: "__HOST-sid", insecure: true })
 * // { option: "cookieName", message: "a __Host- cookie must be Secure: remove insecure: true" }
 * ```
 */
export const attributes = (options: AttributeOptions): Attributes | OptionProblem => {
  const problem = (option: string, message: string): OptionProblem => ({ option, message })
  const typed = Options.typeProblem(options)
  if (typed !== undefined) return typed
  // typeProblem has checked it is one of the three (or omitted)
  const sameSite = (options.sameSite ?? "lax") as Attributes["sameSite"]
  const secure = options.insecure !== true
  const path = options.path ?? "/"
  // A Path that does not start with "/" is ignored by browsers (RFC 6265 5.2.4): the cookie would
  // be scoped to the request's directory instead, and the session would seem to vanish elsewhere.
  if (!path.startsWith("/")) {
    return problem("path", `path ${JSON.stringify(path)} must start with "/", e.g. "/" or "/app"`)
  }
  // The platforms' own check lets a space through ("exa mple.com"): a browser ignores such a
  // Domain, so the cookie would not reach the hosts the option names.
  if (options.domain !== undefined && !DOMAIN.test(options.domain)) {
    return problem("domain", Options.invalidCookie("domain", "InvalidDomain", options.domain))
  }
  if (!secure && sameSite === "none") {
    return problem("sameSite", "sameSite \"none\" requires a Secure cookie: browsers reject it with insecure: true")
  }
  if (!secure && options.partitioned === true) {
    return problem("partitioned", "partitioned cookies must be Secure: remove insecure: true")
  }
  const name = options.cookieName
  if (HOST_PREFIX.test(name)) {
    if (!secure) return problem("cookieName", "a __Host- cookie must be Secure: remove insecure: true")
    if (path !== "/") return problem("path", "a __Host- cookie must have path \"/\"")
    if (options.domain !== undefined) return problem("domain", "a __Host- cookie must not set a domain")
  } else if (SECURE_PREFIX.test(name) && !secure) {
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
 * The cache headers that speak to shared caches only, each of which such a cache obeys before
 * `Cache-Control` (`CDN-Cache-Control`, RFC 9213; `Surrogate-Control`, the Edge Architecture
 * specification that Fastly and Akamai follow). A response that sets or clears the session cookie
 * gets `Cache-Control: no-store` (both lines), and any of these the handler set becomes
 * `no-store` too: a CDN told `CDN-Cache-Control: max-age=600` would otherwise keep the
 * `Set-Cookie` and hand one session to every visitor.
 *
 * @example
 * ```ts
 * import { Cookie } from "effect-session-core"
 *
 * for (const name of Cookie.SHARED_CACHE_HEADERS) {
 *   if (headers[name] !== undefined) headers[name] = "no-store"
 * }
 * ```
 */
export const SHARED_CACHE_HEADERS: ReadonlyArray<"cdn-cache-control" | "surrogate-control"> = [
  "cdn-cache-control",
  "surrogate-control"
]

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
