/**
 * Lifecycle edge cases that behave the same on both lines (packages/effect4/test/lifecycle.edges.test.ts
 * is the effect 4 twin): a logout that meets a failing handler or a second logout, new IDs for a
 * session that was never stored, `Session.blocking`'s re-read of a session the request already
 * changed, a rotation on a store without `rotate`, and the counter of cookies that named no session.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Layer, Metric, Option, TestClock } from "effect"
import { MemoryStore, Session, SessionStore } from "effect-session"
import { Id } from "effect-session-core"
import { withoutPatch } from "./utils/concurrency.js"
import { Jar, type Reply, request, serve } from "./utils/http.js"

const COOKIE = "lagodev_session"

/** What the next request's handler runs: each test sets it before sending. */
let step: Effect.Effect<unknown, unknown, Session | SessionStore> = Effect.void
let outcome: Exit.Exit<unknown, unknown> | undefined

const routes = HttpRouter.empty.pipe(
  // `step`'s exit is kept for the test; the response is 200 whatever it was
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
  // `step`'s failure is the handler's: a 500
  HttpRouter.post("/strict", Effect.suspend(() => step).pipe(Effect.as(HttpServerResponse.text("ok"))))
)

/** The memory store with only the required operations: no `patch`, `rotate` or `lock`. */
const minimal = withoutPatch.pipe(Layer.provide(MemoryStore.layer()))

const withServer =
  (options: Session.Options = {}, store: Layer.Layer<SessionStore, unknown> = MemoryStore.layer()) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(Effect.provide(serve(routes, { insecure: true, ...options }).pipe(Layer.provideMerge(store))))

const browser = () => {
  const jar = new Jar()
  const send = <A, E>(
    effect: Effect.Effect<A, E, Session | SessionStore>,
    path: "/" | "/strict" = "/",
    method: "POST" | "HEAD" = "POST"
  ) =>
    Effect.gen(function*() {
      step = effect
      outcome = undefined
      const reply: Reply = yield* request(method, path, { jar })
      const setCookie = reply.setCookies.find((c) => c.name === COOKIE)?.raw
      return { exit: outcome as Exit.Exit<A, E> | undefined, reply: { ...reply, setCookie } }
    })
  /** Runs `effect` in a request and gives its value (the test fails if it failed). */
  const run = <A, E>(effect: Effect.Effect<A, E, Session | SessionStore>) =>
    Effect.flatMap(send(effect), ({ exit, reply }) => {
      expect(reply.status).toBe(200)
      if (exit !== undefined && Exit.isSuccess(exit)) return Effect.succeed(exit.value)
      return Effect.die(new Error(`step failed: ${exit === undefined ? "no exit" : Cause.pretty(exit.cause)}`))
    })
  const cookieJar = {
    get value() {
      return jar.cookies.get(COOKIE)
    },
    set: (id: string) => jar.cookies.set(COOKIE, id)
  }
  return { jar: cookieJar, send, run }
}

const stored = (id: string) => Effect.flatMap(SessionStore, (store) => store.read(Session.storageKey(id)))

/** Logs a user in: a session holding `user`, whose ID is returned. */
const login = (b: ReturnType<typeof browser>) => b.run(Effect.andThen(Session.put("user", "ada"), Session.id))

const expiredCount = Effect.map(
  Metric.snapshot,
  (pairs) =>
    pairs.filter((p) => p.metricKey.name === "effect_session_expired_total")
      .reduce((sum, p) => sum + (p.metricState as unknown as { readonly count: number }).count, 0)
)

describe("logout", () => {
  it.effect("invalidate, then the handler fails: the pre-logout record is gone all the same", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const { reply } = yield* b.send(Effect.andThen(Session.invalidate, Effect.fail("audit log down")), "/strict")
      expect(reply.status).toBe(500)
      expect(yield* stored(id)).toStrictEqual(Option.none())
      // the browser still holds the old cookie: it names nothing
      expect(yield* b.run(Effect.all([Session.isNew, Session.getOption("user")]))).toStrictEqual([true, Option.none()])
    })))

  it.effect("invalidate, then destroy, in one request: the record is gone and the cookie cleared", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const { reply } = yield* b.send(Effect.andThen(Session.invalidate, Session.destroy))
      expect(reply.setCookie).toMatch(/Max-Age=0/)
      expect(yield* stored(id)).toStrictEqual(Option.none())
      expect(b.jar.value).toBeUndefined()
    })))

  it.effect("destroy twice in one request: the cookie is cleared", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const { reply } = yield* b.send(Effect.andThen(Session.destroy, Session.destroy))
      expect(reply.setCookie).toMatch(/Max-Age=0/)
      expect(yield* stored(id)).toStrictEqual(Option.none())
    })))

  it.effect("destroy, then regenerate: the cookie stays cleared and nothing is written", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const { reply } = yield* b.send(Effect.andThen(Session.destroy, Session.regenerate))
      expect(reply.setCookie).toMatch(/Max-Age=0/)
      expect(yield* stored(id)).toStrictEqual(Option.none())
    })))

  it.effect("a HEAD request that invalidates: the record is gone and, with nothing saved on HEAD, the cookie cleared", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const { reply } = yield* b.send(Session.invalidate, "/", "HEAD")
      expect(reply.setCookie).toMatch(/Max-Age=0/)
      expect(yield* stored(id)).toStrictEqual(Option.none())
    })))

  it.effect("regenerate or invalidate of a session never stored: no record, no cookie", () =>
    withServer()(Effect.gen(function*() {
      for (const [name, effect] of [["regenerate", Session.regenerate], ["invalidate", Session.invalidate]] as const) {
        const b = browser()
        const { reply } = yield* b.send(Effect.andThen(effect, Session.id))
        expect(reply.setCookie, name).toBeUndefined()
        const id = (outcome !== undefined && Exit.isSuccess(outcome) ? outcome.value : undefined) as string
        expect(yield* stored(id), name).toStrictEqual(Option.none())
      }
    })))
})

/** Another request's login meanwhile: the session moved to `newId` (a regenerate with grace). */
const loginElsewhere = (id: string, newId: string) =>
  Effect.flatMap(
    SessionStore,
    (store) =>
      store.rotate!(
        Session.storageKey(id),
        Session.storageKey(newId),
        { user: "bob" },
        Duration.hours(2),
        Duration.seconds(30)
      )
  )

describe("a logout after another request moved the session (a newer login)", () => {
  for (
    const [name, after] of [
      ["invalidate alone", Effect.void],
      ["invalidate, then regenerateToken (Laravel's logout)", Effect.asVoid(Session.regenerateToken)],
      ["invalidate, then a flash", Session.flash("status", "logged out")]
    ] as const
  ) {
    it.effect(`${name}: no cookie, and the newer session stays`, () =>
      withServer()(Effect.gen(function*() {
        const b = browser()
        const id = yield* login(b)
        const newId = Id.generate()
        const { reply } = yield* b.send(Effect.gen(function*() {
          yield* Session.get("user")
          expect(yield* loginElsewhere(id, newId)).toBe(true)
          yield* Session.invalidate
          yield* after
        }))
        expect(reply.setCookie).toBeUndefined()
        expect(b.jar.value).toBe(id)
        expect(Option.isSome(yield* stored(newId))).toBe(true)
      })))
  }
})

describe("Session.blocking re-reads only a session the request has not changed", () => {
  /** Another request's change, made while this one runs: `key` set to `value` in the store. */
  const meanwhile = (id: string, key: string, value: unknown) =>
    Effect.flatMap(
      SessionStore,
      (store) =>
        store.patch!(Session.storageKey(id), { clear: false, remove: [], set: [[key, value]], add: [] }, Duration.zero)
    )

  it.effect("unchanged: the re-read sees what another request wrote meanwhile", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const seen = yield* b.run(Effect.gen(function*() {
        yield* Session.get("user")
        yield* meanwhile(id, "user", "grace")
        return yield* Session.blocking(Session.get("user"))
      }))
      expect(seen).toBe("grace")
    })))

  it.effect("a value put before the lock is kept", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      yield* b.run(Effect.gen(function*() {
        yield* Session.get("user")
        yield* meanwhile(id, "user", "grace")
        yield* Session.put("user", "alan")
        yield* Session.blocking(Effect.void)
      }))
      expect(yield* b.run(Session.get("user"))).toBe("alan")
    })))

  it.effect("a CSRF token made before the lock is kept", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      yield* login(b)
      const token = yield* b.run(Effect.tap(Session.token, () => Session.blocking(Effect.void)))
      expect(yield* b.run(Session.token)).toBe(token)
    })))

  it.effect("a lifetime set before the lock is kept", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      yield* login(b)
      const { reply } = yield* b.send(
        Effect.andThen(Session.setLifetime({ ttl: "30 days" }), Session.blocking(Effect.void))
      )
      expect(reply.setCookie).toMatch(/Max-Age=2592000/)
    })))

  it.effect("a reflash before the lock is kept", () =>
    withServer()(Effect.gen(function*() {
      const b = browser()
      yield* b.run(Session.flash("status", "saved"))
      yield* b.run(Effect.andThen(Session.reflash, Session.blocking(Effect.void)))
      expect(yield* b.run(Session.getOption("status"))).toStrictEqual(Option.some("saved"))
    })))
})

describe("regenerate on a store without rotate", () => {
  it.effect("moves the session: new ID, data kept, the old record gone", () =>
    withServer({}, minimal)(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const next = yield* b.run(Effect.andThen(Session.regenerate, Session.id))
      expect(next).not.toBe(id)
      expect(b.jar.value).toBe(next)
      expect(yield* stored(id)).toStrictEqual(Option.none())
      expect(yield* b.run(Session.get("user"))).toBe("ada")
    })))

  it.effect("a session revoked server-side meanwhile is not brought back: SessionGone, no cookie", () =>
    withServer({}, minimal)(Effect.gen(function*() {
      const b = browser()
      const id = yield* login(b)
      const { exit, reply } = yield* b.send(Effect.gen(function*() {
        yield* Session.get("user") // loaded
        yield* Effect.flatMap(SessionStore, (store) => store.destroy(Session.storageKey(id))) // "log out everywhere"
        yield* Session.regenerate
        return yield* Session.save
      }))
      expect(exit).toStrictEqual(Exit.succeed("SessionGone"))
      expect(reply.setCookie).toBeUndefined()
      expect(b.jar.value).toBe(id)
      expect(yield* b.run(Session.isNew)).toBe(true)
    })))
})

describe("effect_session_expired_total", () => {
  it.effect("counts a well-formed cookie naming no session, and an old ID whose regenerate grace has ended", () =>
    withServer({ regenerateGrace: "10 seconds" })(Effect.gen(function*() {
      const before = yield* expiredCount
      const guessed = browser()
      guessed.jar.set("A".repeat(43))
      expect(yield* guessed.run(Session.isNew)).toBe(true)
      expect((yield* expiredCount) - before).toBe(1)

      const b = browser()
      const id = yield* login(b)
      yield* b.run(Session.regenerate)
      const old = browser()
      old.jar.set(id)
      expect(yield* old.run(Session.isNew)).toBe(false) // within the grace: read-only, not counted
      expect((yield* expiredCount) - before).toBe(1)
      yield* TestClock.adjust("10 seconds")
      expect(yield* old.run(Session.isNew)).toBe(true)
      expect((yield* expiredCount) - before).toBe(2)
    })))
})
