/**
 * The CSRF check's rules, as plain functions: which methods are checked, where the token may be,
 * how a form body is recognised, and the constant-time comparison. Both lines' `Csrf` modules run
 * them; reading the body and answering `419` is theirs.
 */
import { createHash, timingSafeEqual } from "node:crypto"

/** Methods that must not change state (RFC 9110 §9.2.1), so they carry no token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"])

/** Whether a request with this (upper-case) method needs no token. */
export const isSafeMethod = (method: string): boolean => SAFE_METHODS.has(method)

/** The form field that carries the token by default (Laravel's). */
export const DEFAULT_FIELD = "_token"

/**
 * The headers that carry the token by default, checked in order. `X-XSRF-TOKEN` is what Axios and
 * Angular send; here it carries the plain token (there is no encrypted `XSRF-TOKEN` cookie).
 */
export const DEFAULT_HEADERS: ReadonlyArray<string> = ["x-csrf-token", "x-xsrf-token"]

/**
 * Whether `given` is `expected`, in time that depends on neither value. Both are hashed with
 * SHA-256 first: `timingSafeEqual` needs equal-length buffers, and hashing gives them that without
 * an early return that would reveal the token's length.
 */
export const tokensMatch = (expected: string, given: string): boolean =>
  timingSafeEqual(
    createHash("sha256").update(expected, "utf8").digest(),
    createHash("sha256").update(given, "utf8").digest()
  )

/** The kind of form a `Content-Type` announces, if it is one the check reads a token from. */
export const formKind = (contentType: string | undefined): "urlencoded" | "multipart" | undefined => {
  if (contentType === undefined) return undefined
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase()
  return type === "application/x-www-form-urlencoded"
    ? "urlencoded"
    : type === "multipart/form-data"
    ? "multipart"
    : undefined
}

/** A submitted token: an empty value counts as none. */
export const nonEmpty = (value: string | null | undefined): string | undefined =>
  value === undefined || value === null || value.length === 0 ? undefined : value

/**
 * A urlencoded form body's fields, as the WHATWG form parser (and effect's own `urlParamsBody`)
 * reads them: a leading "?" is data, not the query prefix `URLSearchParams` would drop, so
 * `?_token=…` names a field "?_token", not "_token", on both lines.
 *
 * @example
 * ```ts
 * import { Csrf } from "effect-session-core"
 *
 * Csrf.formFields("_token=abc&name=a").get("_token") // "abc"
 * Csrf.formFields("?_token=abc").get("_token") // null
 * ```
 */
export const formFields = (body: string): URLSearchParams => new URLSearchParams(body.replace(/^\?/, "%3F"))

/** A multipart field's token: a string, or the first of several strings (files never count). */
export const fieldToken = (value: unknown): string | undefined =>
  nonEmpty(
    typeof value === "string"
      ? value
      : Array.isArray(value) && typeof value[0] === "string"
      ? value[0]
      : undefined
  )

/**
 * What a handler's `request.multipartStream` fails with once the CSRF check has parsed the
 * multipart body for its `_token` field (both lines): the stream cannot be replayed, the parsed
 * form can, and a token in a header leaves the body unread.
 *
 * @example
 * ```ts
 * import { Csrf } from "effect-session-core"
 *
 * console.log(Csrf.MULTIPART_ALREADY_PARSED)
 * ```
 */
export const MULTIPART_ALREADY_PARSED =
  "the body was already parsed for the CSRF check: use request.multipart, or send the token in a header"
