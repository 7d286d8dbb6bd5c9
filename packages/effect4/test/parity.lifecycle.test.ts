/**
 * Parity of the two lines (effect 3 / effect 4): lifecycle scenarios run identically on both lines.
 * Twin: test/parity.lifecycle.test.ts (same describe/test names).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { Id } from "effect-session-core"
import { MemoryStore, Session, SessionStore } from "effect-session-v4"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { TestClock } from "effect/testing"
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

const failureTag = (exit: Exit.Exit<unknown, unknown> | undefined) =>
  exit !== undefined && Exit.isFailure(exit)
    ? Option.map(Cause.findErrorOption(exit.cause), (e) => (e as { _tag: string })._tag)
    : Option.none()

describe("parity: a request on a retired ID (within regenerateGrace) that saves explicitly", () => {
  it.effect("after Session.save answers SessionGone, the handle keeps the request's data and a later put sets no cookie", () =>
    withServer({ regenerateGrace: "1 minute" })(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("user", "ada"))
      const oldId = b.cookie!
      // login elsewhere (same browser): the session moves to a new ID, the old one is retired
      yield* b.run(Session.regenerate)
      const newId = b.cookie!
      expect(newId).not.toBe(oldId)
      // a slower tab still carrying the old cookie
      const stale = browser()
      stale.cookie = oldId
      const { setCookie, value } = yield* stale.run(Effect.gen(function*() {
        yield* Session.put("x", 1)
        const saved = yield* Session.save
        const x = yield* Session.getOption("x")
        const isNew = yield* Session.isNew
        yield* Session.put("y", 2)
        return { saved, x, isNew }
      }))
      // documented: a session found gone gets no cookie at all (never a cookie over the newer
      // session's); the handle stays read-only, so nothing is created under a fresh ID
      expect({ ...value, setCookie: setCookie !== undefined, staleTabKeepsOldCookie: stale.cookie === oldId })
        .toStrictEqual({
          saved: "SessionGone",
          x: Option.some(1),
          isNew: false,
          setCookie: false,
          staleTabKeepsOldCookie: true
        })
      expect(Option.isSome(yield* stored(newId))).toBe(true)
    })))
})

describe("parity: Session.setLifetime with a lifetime longer than 100 years", () => {
  for (const option of ["ttl", "absoluteTimeout"] as const) {
    it.effect(`${option}: "73200 days" fails with SessionConfigError and the session survives`, () =>
      withServer()(Effect.gen(function*() {
        const b = browser()
        yield* b.run(Session.put("user", "ada"))
        const { exit, setCookie } = yield* b.send(Session.setLifetime({ [option]: `${200 * 366} days` }))
        const next = yield* b.run(Session.getOption("user"))
        expect({
          failure: failureTag(exit),
          maxAge: /Max-Age=(\d+)/.exec(setCookie ?? "")?.[1],
          nextRequest: next.value
        }).toStrictEqual({
          failure: Option.some("SessionConfigError"),
          maxAge: undefined,
          nextRequest: Option.some("ada")
        })
      })))
  }
})

describe("parity (both lines vs docs): Session.setLifetime({ ttl: 0 }) on a session with a persistent cookie", () => {
  it.effect("the cookie is re-issued as a browser-session cookie (no Max-Age), so an active user is not logged out when the old Max-Age runs out", () =>
    withServer({ ttl: "10 minutes" })(Effect.gen(function*() {
      const b = browser()
      const first = yield* b.run(Session.put("user", "ada"))
      expect(first.setCookie).toMatch(/Max-Age=600/)
      const changed = yield* b.run(Session.setLifetime({ ttl: 0 }))
      // then the user stays active: a request every 2 minutes for 12 minutes
      const later: Array<string | undefined> = []
      for (let i = 0; i < 6; i++) {
        yield* TestClock.adjust("2 minutes")
        later.push((yield* b.run(Session.getOption("user"))).setCookie)
      }
      expect({
        // docs: "The cookie is re-issued with the new Max-Age at the end of the request"; with
        // ttl 0 that is a cookie without Max-Age (DESIGN: "no Max-Age at all when TTL is zero")
        setLifetimeResponse: changed.setCookie === undefined
          ? "no Set-Cookie"
          : /Max-Age/.test(changed.setCookie)
          ? "persistent"
          : "session cookie",
        // without it the browser still holds the Max-Age=600 cookie and drops it at t=10 min
        reissuedDuringActivity: later.filter((c) => c !== undefined).length > 0
      }).toStrictEqual({ setLifetimeResponse: "session cookie", reissuedDuringActivity: false })
    })))
})

describe("parity: a store decorator whose read answers something that is not an Option", () => {
  for (const [name, answer] of [["null", null], ["undefined", undefined], ["a bare record", { user: "x" }]] as const) {
    it.effect(`read answers ${name}: a fresh session, never a 5xx`, () =>
      withServer(
        {},
        Layer.effect(
          SessionStore,
          Effect.map(Effect.service(SessionStore), (store) => ({
            ...store,
            read: (id: string) => Effect.as(store.read(id), answer as never)
          }))
        ).pipe(Layer.provide(MemoryStore.layer()))
      )(Effect.gen(function*() {
        const b = browser()
        b.cookie = Id.generate()
        const { reply, exit } = yield* b.send(Session.getOption("user"))
        expect(reply.status).toBe(200)
        expect(exit !== undefined && Exit.isSuccess(exit) ? exit.value : `failed: ${exit && Cause.pretty(exit.cause)}`)
          .toStrictEqual(Option.none())
      })))

    it.effect(`read answers ${name}, the handler does not catch: the response is a 200`, () =>
      withServer(
        {},
        Layer.effect(
          SessionStore,
          Effect.map(Effect.service(SessionStore), (store) => ({
            ...store,
            read: (id: string) => Effect.as(store.read(id), answer as never)
          }))
        ).pipe(Layer.provide(MemoryStore.layer()))
      )(Effect.gen(function*() {
        const b = browser()
        b.cookie = Id.generate()
        const { reply } = yield* b.send(Session.getOption("user"), "POST", "/strict")
        expect(reply.status).toBe(200)
      })))
  }
})

describe("parity: clock", () => {
  it.effect("TestClock is honoured (sanity)", () =>
    withServer({ ttl: "10 minutes" })(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.put("user", "ada"))
      yield* TestClock.adjust("10 minutes")
      const { value } = yield* b.run(Session.getOption("user"))
      expect(value).toStrictEqual(Option.none())
    })))
})
