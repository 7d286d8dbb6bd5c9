import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { SessionTest } from "effect-session-v4"
import { Cookies, HttpClient, HttpClientRequest, HttpRouter } from "effect/http"

/** Serves `routes` on a loopback port, over a fresh recording store. */
export const serve = <A, E, R>(routes: Layer.Layer<A, E, R>) =>
  HttpRouter.serve(routes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(SessionTest.layerRecording()),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

/** Serves `routes` on a loopback port over the given store layer (memory, Redis, a decorator…). */
export const serveWith = <A, E, R, S, ES, RS>(routes: Layer.Layer<A, E, R>, store: Layer.Layer<S, ES, RS>) =>
  HttpRouter.serve(routes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(store),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

export interface Reply {
  readonly status: number
  readonly body: string
  /** the raw Set-Cookie header for the session cookie, if any */
  readonly setCookie: string | undefined
  readonly headers: Readonly<Record<string, string>>
}

/** A browser's cookie jar for one cookie name: sends what it holds, keeps what it is told. */
export const makeJar = (name = "lagodev_session") => {
  let value: string | undefined
  const send = (
    method: "GET" | "POST" | "HEAD" | "DELETE",
    path: string,
    options?: { readonly headers?: Record<string, string>; readonly form?: Record<string, string> }
  ) =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      let request = HttpClientRequest.make(method)(path)
      if (value !== undefined) request = HttpClientRequest.setHeader(request, "cookie", `${name}=${value}`)
      for (const [k, v] of Object.entries(options?.headers ?? {})) request = HttpClientRequest.setHeader(request, k, v)
      if (options?.form !== undefined) request = HttpClientRequest.bodyUrlParams(request, options.form)
      const response = yield* client.execute(request)
      const body = method === "HEAD" ? "" : yield* response.text
      const raw = response.headers["set-cookie"]
      const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : String(raw).split(/,(?=\s*[^;,=\s]+=)/)
      const setCookie = lines.find((line: string) => line.trim().startsWith(`${name}=`))
      const cookie = Cookies.get(response.cookies, name)
      if (Option.isSome(cookie)) {
        const maxAge = /max-age=(\d+)/i.exec(setCookie ?? "")
        value = maxAge !== null && maxAge[1] === "0" ? undefined : cookie.value.value
      }
      const reply: Reply = { status: response.status, body, setCookie, headers: response.headers }
      return reply
    })
  return {
    send,
    get: (path: string, headers?: Record<string, string>) => send("GET", path, headers ? { headers } : undefined),
    post: (path: string, form?: Record<string, string>, headers?: Record<string, string>) =>
      send("POST", path, { ...(form ? { form } : {}), ...(headers ? { headers } : {}) }),
    get value() {
      return value
    },
    set: (v: string | undefined) => {
      value = v
    }
  }
}
