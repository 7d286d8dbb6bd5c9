/**
 * A session another request retired (a login's `regenerate`, within `regenerateGrace`), and the
 * lifecycle operations this request may still call on it: nothing it does after a refused save, a
 * `destroy` or an `invalidate` may set a cookie over the newer session's. Also `Save.plan`'s
 * requested renewals and untyped `setLifetime` arguments. (A review of this line's lifecycle
 * changes; packages/effect4/test/lifecycle.retired.test.ts is the other line's.)
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Layer, Option } from "effect"
import { MemoryStore, Session, SessionStore } from "effect-session"
import { Id } from "effect-session-core"
import { type Reply, request, serve } from "./utils/http.js"

const COOKIE = "lagodev_session"

let step: Effect.Effect<unknown, unknown, Session | SessionStore> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const routes = HttpRouter.empty.pipe(
  HttpRouter.all(
    "/",
    Effect.suspend(() => step).pipe(
      Effect.exit,
      Effect.map((exit) => {
        outcome = exit
        return HttpServerResponse.text("ok")
      })
    )
  ),
  // `step`'s failure is the handler's (a defect is a 500)
  HttpRouter.post("/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
)

const withServer =
  (options: Session.Options = {}, store: Layer.Layer<SessionStore, unknown> = MemoryStore.layer()) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(Effect.provide(serve(routes, { insecure: true, ...options }).pipe(Layer.provideMerge(store))))

/** A browser holding one session cookie (or none). */
const browser = () => {
  let value: string | undefined
  const send = <A, E>(
    effect: Effect.Effect<A, E, Session | SessionStore>,
    method: "POST" | "GET" | "HEAD" = "POST",
    path: "/" | "/strict" = "/"
  ) =>
    Effect.gen(function*() {
      step = effect
      outcome = undefined
      const reply: Reply = yield* request(
        method,
        path,
        value === undefined ? {} : { cookie: `${COOKIE}=${value}` }
      )
      const cookie = reply.setCookies.find((c) => c.name === COOKIE)
      if (cookie !== undefined) value = cookie.attributes["max-age"] === "0" ? undefined : cookie.value
      return { exit: outcome as Exit.Exit<A, E> | undefined, reply, setCookie: cookie?.raw }
    })
  const run = <A, E>(effect: Effect.Effect<A, E, Session | SessionStore>) =>
    Effect.flatMap(send(effect), ({ exit, reply, setCookie }) => {
      expect(reply.status).toBe(200)
      if (exit !== undefined && Exit.isSuccess(exit)) return Effect.succeed({ value: exit.value, setCookie, reply })
      return Effect.die(new Error(`step failed: ${exit === undefined ? "no exit" : Cause.pretty(exit.cause)}`))
    })
  return {
    send,
    run,
    get cookie() {
      return value
    },
    set cookie(v: string | undefined) {
      value = v
    }
  }
}

const stored = (id: string) => Effect.flatMap(SessionStore, (store) => store.read(Id.storageKey(id)))

const failureTag = (exit: Exit.Exit<unknown, unknown> | undefined) =>
  exit !== undefined && Exit.isFailure(exit)
    ? Option.map(Cause.failureOption(exit.cause), (e) => (e as { _tag: string })._tag)
    : Option.none()

describe("retired session flows after a refused save (effect 3)", () => {
  const setup = Effect.gen(function*() {
    const b = browser()
    yield* b.run(Session.put("user", "ada"))
    const oldId = b.cookie!
    yield* b.run(Session.regenerate)
    const newId = b.cookie!
    const stale = browser()
    stale.cookie = oldId
    return { oldId, newId, stale }
  })

  it.effect("refused save, then destroy, then put: no cookie over the newer session", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const { newId, oldId, stale } = yield* setup
      const { setCookie, value } = yield* stale.run(Effect.gen(function*() {
        yield* Session.put("x", 1)
        const saved = yield* Session.save
        yield* Session.destroy
        yield* Session.put("y", 2)
        return saved
      }))
      expect(value).toBe("SessionGone")
      expect({ setCookie, staleCookie: stale.cookie === oldId }).toStrictEqual({
        setCookie: undefined,
        staleCookie: true
      })
      expect(Option.isSome(yield* stored(newId))).toBe(true)
    })))

  it.effect("retired (no save), destroy, then put: no cookie over the newer session", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const { oldId, stale } = yield* setup
      const { setCookie } = yield* stale.run(Effect.gen(function*() {
        yield* Session.destroy
        yield* Session.put("y", 2)
      }))
      expect({ setCookie, staleCookie: stale.cookie === oldId }).toStrictEqual({
        setCookie: undefined,
        staleCookie: true
      })
    })))

  it.effect("refused save, then regenerate: Session.id is not an ID that never exists, no cookie", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const { oldId, stale } = yield* setup
      const { setCookie, value } = yield* stale.run(Effect.gen(function*() {
        yield* Session.put("x", 1)
        yield* Session.save
        yield* Session.regenerate
        return yield* Session.id
      }))
      expect(setCookie).toBeUndefined()
      expect(stale.cookie).toBe(oldId)
      expect(typeof value).toBe("string")
    })))

  it.effect("refused save, then invalidate then token: nothing set", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const { newId, stale } = yield* setup
      const { setCookie } = yield* stale.run(Effect.gen(function*() {
        yield* Session.put("x", 1)
        yield* Session.save
        yield* Session.invalidate
        yield* Session.token
        yield* Session.put("z", 3)
      }))
      expect(setCookie).toBeUndefined()
      expect(Option.isSome(yield* stored(newId))).toBe(true)
    })))
})

describe("Save.plan renew (effect 3)", () => {
  it.effect("HEAD with flush on a stored session, ttl 0: a cookie, if any, names the same session", () =>
    withServer({ ttl: 0 })(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("a", 1))
      const id = b.cookie!
      const r = yield* b.send(Session.flush, "HEAD")
      expect(r.setCookie === undefined || r.setCookie.includes(id)).toBe(true)
    })))

  it.effect("setLifetime on a new session in HEAD: no cookie", () =>
    withServer({ ttl: 0 })(Effect.gen(function*() {
      const b = browser()
      const r = yield* b.send(Session.setLifetime({ ttl: "1 hour" }), "HEAD")
      expect(r.setCookie).toBeUndefined()
    })))

  it.effect("flush on a session another request destroyed (ttl 0): no cookie", () =>
    withServer({ ttl: 0 })(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("a", 1))
      const other = browser()
      other.cookie = b.cookie
      // load first, then another request destroys, then flush
      const r = yield* b.send(
        Effect.gen(function*() {
          yield* Session.get("a")
          yield* Effect.flatMap(SessionStore, (s) => s.destroy(Id.storageKey(b.cookie!)))
          yield* Session.flush
        }),
        "GET"
      )
      expect(r.setCookie).toBeUndefined()
    })))
})

describe("SessionConfigError checks (effect 3)", () => {
  it.effect("Session.setLifetime(undefined) from untyped config is a SessionConfigError, not a defect", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const { exit } = yield* b.send(Session.setLifetime(undefined as never), "POST")
      expect(exit !== undefined && Exit.isFailure(exit) ? Option.getOrUndefined(failureTag(exit)) : "not a failure")
        .toBe("SessionConfigError")
    })))

  it.effect("Session.setLifetime(null): the message does not offer omitting the argument", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const { exit } = yield* b.send(Session.setLifetime(null as never), "POST")
      const error = exit !== undefined && Exit.isFailure(exit)
        ? Option.getOrUndefined(Cause.failureOption(exit.cause))
        : undefined
      expect((error as { message?: string } | undefined)?.message).not.toContain("or omitted")
    })))

  it.effect("Session.blocking(effect, { wait: 0 }) and lock ttl of 99 years are accepted", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("a", 1))
      const { exit } = yield* b.send(
        Session.blocking(Effect.succeed(1), { ttl: Duration.days(365 * 99), wait: 0 }),
        "POST"
      )
      expect(exit !== undefined && Exit.isSuccess(exit)).toBe(true)
    })))
})

import { Clock } from "effect"
import { StoredRecord } from "effect-session-core"

/** Another request's regenerate, as the store sees it: the record under `id` retired for a minute. */
const retireInStore = (id: string) =>
  Effect.gen(function*() {
    const store = yield* SessionStore
    const key = Id.storageKey(id)
    const found = yield* store.read(key)
    const now = yield* Clock.currentTimeMillis
    yield* store.write(key, StoredRecord.retire(Option.getOrThrow(found) as never, now + 60_000), Duration.minutes(2))
  })

describe("a cookie decided by an earlier save survives invalidate of a session retired meanwhile (effect 3)", () => {
  it.effect("save (cookie re-issued), retired by another request, invalidate, put: no Set-Cookie naming an ID never written", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("user", "ada"))
      const id = b.cookie!
      const { setCookie, value } = yield* b.run(Effect.gen(function*() {
        yield* Session.setLifetime({ ttl: "3 hours" })
        const first = yield* Session.save
        yield* retireInStore(id)
        yield* Session.invalidate
        yield* Session.put("flash", "bye")
        return { first, idAfter: yield* Session.id }
      }))
      const after = (value as { idAfter: string }).idAfter
      const named = setCookie === undefined ? undefined : /=([^;]*)/.exec(setCookie)![1]
      // the browser must not be handed a cookie for a session that no store holds
      expect({
        first: (value as { first: string }).first,
        setCookieNamesNewId: named === after,
        newIdStored: Option.isSome(yield* stored(after))
      }).toStrictEqual({ first: "Written", setCookieNamesNewId: false, newIdStored: false })
    })))

  it.effect("same without the put (Skip): no Set-Cookie naming an ID never written", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("user", "ada"))
      const id = b.cookie!
      const { setCookie, value } = yield* b.run(Effect.gen(function*() {
        yield* Session.setLifetime({ ttl: "3 hours" })
        yield* Session.save
        yield* retireInStore(id)
        yield* Session.invalidate
        return yield* Session.id
      }))
      const named = setCookie === undefined ? undefined : /=([^;]*)/.exec(setCookie)![1]
      expect({ named: named === value, stored: Option.isSome(yield* stored(value as string)) })
        .toStrictEqual({ named: false, stored: false })
    })))
})
