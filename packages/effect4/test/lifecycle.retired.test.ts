/**
 * A session another request retired (a login's `regenerate`, within `regenerateGrace`), and the
 * lifecycle operations this request may still call on it: nothing it does after a refused save, a
 * `destroy` or an `invalidate` may set a cookie over the newer session's. Also untyped
 * `setLifetime` and `lock` arguments. (test/lifecycle.retired.test.ts is the other line's.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { Id } from "effect-session-core"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { makeJar, serveWith } from "./utils/http.js"

let step: Effect.Effect<unknown, unknown, Session | SessionStore> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const routes = (options: Session.Options = {}) =>
  Layer.mergeAll(
    HttpRouter.add(
      "*",
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
    HttpRouter.add("POST", "/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
  ).pipe(Layer.provide(Session.middleware({ insecure: true, ...options }).layer))

const withServer =
  (options: Session.Options = {}, store: Layer.Layer<SessionStore, unknown> = MemoryStore.layer()) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) => effect.pipe(Effect.provide(serveWith(routes(options), store)))

/** A browser holding one session cookie (or none). */
const browser = () => {
  const jar = makeJar()
  const send = <A, E>(
    effect: Effect.Effect<A, E, Session | SessionStore>,
    method: "POST" | "GET" | "HEAD" = "POST",
    path: "/" | "/strict" = "/"
  ) =>
    Effect.gen(function*() {
      step = effect
      outcome = undefined
      const reply = yield* jar.send(method, path)
      return { exit: outcome as Exit.Exit<A, E> | undefined, reply, setCookie: reply.setCookie }
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
      return jar.value
    },
    set cookie(v: string | undefined) {
      jar.set(v)
    }
  }
}

const stored = (id: string) => SessionStore.use((store) => store.read(Id.storageKey(id)))

describe("retired session, destroy, then put (effect 4)", () => {
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

  it.effect("refused save, then destroy, then put: no cookie over the newer session", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const { oldId, stale } = yield* setup
      const { setCookie } = yield* stale.run(Effect.gen(function*() {
        yield* Session.put("x", 1)
        yield* Session.save
        yield* Session.destroy
        yield* Session.put("y", 2)
      }))
      expect({ setCookie, staleCookie: stale.cookie === oldId }).toStrictEqual({
        setCookie: undefined,
        staleCookie: true
      })
    })))

  it.effect("retired, invalidate, then put: no cookie", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const { oldId, stale } = yield* setup
      const { setCookie } = yield* stale.run(Effect.gen(function*() {
        yield* Session.invalidate
        yield* Session.put("y", 2)
      }))
      expect({ setCookie, staleCookie: stale.cookie === oldId }).toStrictEqual({
        setCookie: undefined,
        staleCookie: true
      })
    })))
})

describe("SessionConfigError checks (effect 4)", () => {
  it.effect("Session.setLifetime(undefined) from untyped config is a SessionConfigError, not a defect", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const { exit } = yield* b.send(Session.setLifetime(undefined as never), "POST")
      const tag = exit !== undefined && Exit.isFailure(exit)
        ? Option.getOrElse(
          Option.map(Cause.findErrorOption(exit.cause), (e) => (e as { _tag: string })._tag),
          () => "defect: " + Cause.pretty(exit.cause).split("\n")[0]
        )
        : "not a failure"
      expect(tag).toBe("SessionConfigError")
    })))

  it.effect("handle lock(null) is a SessionConfigError", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("a", 1))
      const { exit } = yield* b.send(
        Effect.gen(function*() {
          const s = yield* Session
          return yield* s.lock(null as never)
        }),
        "POST"
      )
      const tag = exit !== undefined && Exit.isFailure(exit)
        ? Option.getOrElse(Option.map(Cause.findErrorOption(exit.cause), (e) => (e as { _tag: string })._tag), () =>
          "defect")
        : "not a failure"
      expect(tag).toBe("SessionConfigError")
    })))
})

import { Clock, Duration } from "effect"
import { StoredRecord } from "effect-session-core"

const retireInStore = (id: string) =>
  Effect.gen(function*() {
    const store = yield* SessionStore
    const key = Id.storageKey(id)
    const found = yield* store.read(key)
    const now = yield* Clock.currentTimeMillis
    yield* store.write(key, StoredRecord.retire(Option.getOrThrow(found) as never, now + 60_000), Duration.minutes(2))
  })

describe("a cookie decided by an earlier save survives invalidate of a session retired meanwhile (effect 4)", () => {
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
      const raw = Array.isArray(setCookie) ? setCookie.join("\n") : setCookie
      const named = raw === undefined ? undefined : /=([^;]*)/.exec(String(raw))?.[1]
      expect({
        first: (value as { first: string }).first,
        setCookieNamesNewId: named === after,
        newIdStored: Option.isSome(yield* stored(after))
      }).toStrictEqual({ first: "Written", setCookieNamesNewId: false, newIdStored: false })
    })))
})
