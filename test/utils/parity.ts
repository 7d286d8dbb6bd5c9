/**
 * What the parity tests (test/parity.*.test.ts, the same scenarios on both lines) share: a
 * normaliser that makes two lines' outputs comparable, and a browser that keeps one session
 * cookie and records what each request showed. The twin of this file on the other line is the same
 * but for effect's own API.
 */
import { Cause, Effect, Exit, Option } from "effect"

/** The failure of a handler's step, as a value (`undefined` for a defect or an interruption). */
export const failureOf = (cause: Cause.Cause<unknown>): unknown => Option.getOrUndefined(Cause.failureOption(cause))

/** Replaces IDs and tokens (43 base64url characters) with stable names, in order of appearance. */
export const normaliser = () => {
  const names = new Map<string, string>()
  const name = (s: string) => {
    let n = names.get(s)
    if (n === undefined) names.set(s, n = `<ID${names.size + 1}>`)
    return n
  }
  const plain = (u: unknown): unknown => {
    if (typeof u === "string") return u.replace(/[A-Za-z0-9_-]{43}/g, name)
    if (u === null || typeof u !== "object") return u
    if (Option.isOption(u)) return Option.isSome(u) ? { some: plain(u.value) } : "none"
    if (Array.isArray(u)) return u.map(plain)
    if (u instanceof Error || "_tag" in u) {
      const e = u as unknown as Record<string, unknown>
      const out: Record<string, unknown> = { _tag: e._tag }
      for (const k of Object.keys(e).sort()) if (k !== "cause" && k !== "stack" && k !== "_tag") out[k] = plain(e[k])
      out.message = plain((u as { message?: unknown }).message)
      return out
    }
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(u).sort()) out[plain(k) as string] = plain((u as Record<string, unknown>)[k])
    return out
  }
  return { plain, name }
}

export type Normaliser = ReturnType<typeof normaliser>

/** One request's reply, as the parity tests compare it. */
export interface Reply {
  readonly status: number
  readonly setCookie: ReadonlyArray<string>
  readonly headers: Record<string, string | undefined>
}

export type Method = "GET" | "POST" | "HEAD"

/**
 * A browser with one session cookie, recording what each request showed. `send` makes one request
 * whose handler runs `effect`, and answers its reply and the exit of `effect`.
 */
export const browserWith = <S, R>(
  n: Normaliser,
  send: (
    effect: Effect.Effect<unknown, unknown, S>,
    method: Method,
    path: "/" | "/strict",
    cookie: string | undefined
  ) => Effect.Effect<{ readonly reply: Reply; readonly exit: Exit.Exit<unknown, unknown> | undefined }, never, R>
) => {
  let cookie: string | undefined
  const run = (effect: Effect.Effect<unknown, unknown, S>, method: Method = "POST", path: "/" | "/strict" = "/") =>
    Effect.map(send(effect, method, path, cookie), ({ exit, reply }) => {
      for (const line of reply.setCookie) {
        const value = /^[^=]+=([^;]*)/.exec(line)![1]!
        cookie = /max-age=0(;|$)/i.test(line) || value === "" ? undefined : value
      }
      const result = exit === undefined
        ? "no exit"
        : Exit.isSuccess(exit)
        ? { ok: exit.value }
        : { fail: failureOf(exit.cause) ?? "defect/interrupt" }
      return n.plain({
        status: reply.status,
        setCookie: reply.setCookie,
        cacheControl: reply.headers["cache-control"],
        retryAfter: reply.headers["retry-after"],
        result
      })
    })
  return {
    run,
    get cookie() {
      return cookie
    },
    set cookie(v: string | undefined) {
      cookie = v
    }
  }
}
