/**
 * Real-HTTP test harness: a Node server on a loopback port (`NodeHttpServer.layerTest`) and a
 * client with a minimal cookie jar that keeps the raw `Set-Cookie` headers for exact assertions.
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { Session, type SessionStore } from "effect-session"

/** A route table, wrapped in the session middleware and served on a loopback port. */
export const serve = <E, R>(
  router: HttpRouter.HttpRouter<E, R>,
  options?: Session.Options<any, any>
) =>
  HttpServer.serve()(Session.middleware(options)(router) as any).pipe(
    Layer.provideMerge(NodeHttpServer.layerTest)
  ) as Layer.Layer<HttpClient.HttpClient | HttpServer.HttpServer, never, SessionStore>

/** One parsed `Set-Cookie` header. */
export interface SetCookie {
  readonly raw: string
  readonly name: string
  readonly value: string
  /** attribute names lower-cased → value ("" for flags) */
  readonly attributes: Record<string, string>
}

export const parseSetCookie = (raw: string): SetCookie => {
  const [pair, ...attrs] = raw.split(";").map((s) => s.trim())
  const eq = pair!.indexOf("=")
  const attributes: Record<string, string> = {}
  for (const attr of attrs) {
    const i = attr.indexOf("=")
    if (i === -1) attributes[attr.toLowerCase()] = ""
    else attributes[attr.slice(0, i).toLowerCase()] = attr.slice(i + 1)
  }
  return { raw, name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes }
}

export const setCookies = (response: HttpClientResponse.HttpClientResponse): Array<SetCookie> => {
  const header = response.headers["set-cookie"] as unknown
  const list = header === undefined ? [] : Array.isArray(header) ? header as Array<string> : [header as string]
  // Node's client joins several Set-Cookie headers with ", "; split where a new name=value starts
  // (a comma inside an Expires date is followed by a space and a digit, never by "name=").
  return list.flatMap((h) => h.split(/,\s*(?=[^;=\s]+=)/)).map(parseSetCookie)
}

/** A browser-like cookie jar: stores cookies from responses, drops them on Max-Age=0. */
export class Jar {
  readonly cookies = new Map<string, string>()
  last: Array<SetCookie> = []
  update(response: HttpClientResponse.HttpClientResponse): void {
    this.last = setCookies(response)
    for (const c of this.last) {
      if (c.attributes["max-age"] === "0") this.cookies.delete(c.name)
      else this.cookies.set(c.name, c.value)
    }
  }
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ")
  }
}

export interface Reply {
  readonly status: number
  readonly body: string
  readonly setCookies: Array<SetCookie>
  readonly headers: Record<string, string>
}

/** Sends a request with the jar's cookies (or an explicit Cookie header) and updates the jar. */
export const request = (
  method: "GET" | "POST" | "HEAD" | "PUT" | "DELETE",
  path: string,
  options: {
    readonly jar?: Jar
    readonly cookie?: string
    readonly headers?: Record<string, string>
    readonly body?: string
  } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let req = HttpClientRequest.make(method)(path)
    const cookie = options.cookie ?? options.jar?.header()
    if (cookie !== undefined) req = HttpClientRequest.setHeader(req, "cookie", cookie)
    if (options.headers) req = HttpClientRequest.setHeaders(req, options.headers)
    if (options.body !== undefined) {
      const type = Object.entries(options.headers ?? {}).find(([k]) => k.toLowerCase() === "content-type")?.[1]
      req = HttpClientRequest.bodyText(req, options.body, type ?? "application/x-www-form-urlencoded")
    }
    const response = yield* client.execute(req)
    const body = method === "HEAD" ? "" : yield* response.text
    options.jar?.update(response)
    return {
      status: response.status,
      body,
      setCookies: setCookies(response),
      headers: response.headers as Record<string, string>
    } satisfies Reply
  }).pipe(Effect.scoped, Effect.orDie)
