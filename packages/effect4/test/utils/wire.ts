/**
 * HTTP on the wire for the tests that assert exact cookies: every `Set-Cookie` of a response,
 * parsed, and a browser-like jar of several cookies. (`utils/http.ts`'s `makeJar` keeps one
 * session cookie; these keep them all, with their attributes.)
 */
import { Effect } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"

/** One parsed `Set-Cookie` header. */
export interface SetCookie {
  readonly raw: string
  readonly name: string
  readonly value: string
  /** attribute names lower-cased, values as sent ("" for a flag) */
  readonly attributes: Readonly<Record<string, string>>
}

export interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
  readonly setCookies: ReadonlyArray<SetCookie>
}

export const parseSetCookie = (raw: string): SetCookie => {
  const [pair = "", ...rest] = raw.split(";")
  const eq = pair.indexOf("=")
  const attributes: Record<string, string> = {}
  for (const part of rest) {
    const at = part.indexOf("=")
    const key = (at === -1 ? part : part.slice(0, at)).trim().toLowerCase()
    if (key !== "") attributes[key] = at === -1 ? "" : part.slice(at + 1).trim()
  }
  return { raw, name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes }
}

/** Every `Set-Cookie` of a response: the fetch client joins several with ", ", split where a new name=value starts. */
export const setCookiesOf = (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
): ReadonlyArray<SetCookie> => {
  const raw = headers["set-cookie"]
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : String(raw).split(/,(?=\s*[^;,=\s]+=)/)
  return (lines as ReadonlyArray<string>).map((line) => parseSetCookie(line.trim()))
}

/** A browser's cookie jar: sends every cookie it holds, keeps what it is told, forgets on Max-Age=0. */
export class Jar {
  readonly cookies = new Map<string, string>()
  /** the Set-Cookie headers of the last response */
  last: ReadonlyArray<SetCookie> = []
  header(): string | undefined {
    return this.cookies.size === 0 ? undefined : [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ")
  }
  take(setCookies: ReadonlyArray<SetCookie>): void {
    this.last = setCookies
    for (const c of setCookies) {
      if (c.attributes["max-age"] === "0" || c.value === "") this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
  }
}

export type Method = "GET" | "POST" | "PUT" | "DELETE" | "HEAD"

/** Sends a request with the jar's cookies (or an explicit Cookie header) and updates the jar. */
export const request = (
  method: Method,
  path: string,
  options: {
    readonly jar?: Jar
    readonly cookie?: string
    readonly headers?: Record<string, string>
    readonly json?: unknown
  } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let req = HttpClientRequest.make(method)(path)
    const cookie = options.cookie ?? options.jar?.header()
    if (cookie !== undefined) req = HttpClientRequest.setHeader(req, "cookie", cookie)
    for (const [k, v] of Object.entries(options.headers ?? {})) req = HttpClientRequest.setHeader(req, k, v)
    if (options.json !== undefined) req = HttpClientRequest.bodyJsonUnsafe(req, options.json)
    const response = yield* client.execute(req)
    const body = method === "HEAD" ? "" : yield* response.text
    const setCookies = setCookiesOf(response.headers)
    options.jar?.take(setCookies)
    const reply: Reply = { status: response.status, body, headers: response.headers, setCookies }
    return reply
  }).pipe(Effect.orDie) // a transport failure is the test's own bug, not a reply to assert on
