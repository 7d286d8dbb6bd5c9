/**
 * The middleware as an Effect, run on fibers directly (no server): where `Session` is visible in
 * the context, and what happens when the request's fiber is interruptible or is interrupted. An
 * HTTP server runs its app uninterruptibly; these cover everything else that may run the app
 * (`HttpApp.toWebHandler`, tests, a user's own runtime).
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Tracer } from "effect"
import { MemoryStore, Session } from "effect-session"

const COOKIE = "sid"
const url = "http://127.0.0.1"

const requestWith = (path: string, cookie?: string) =>
  HttpServerRequest.fromWeb(new Request(`${url}${path}`, cookie === undefined ? {} : { headers: { cookie } }))

/** The session cookie's `name=value` pair from a response, if it sets one. */
const cookieOf = (response: HttpServerResponse.HttpServerResponse): string | undefined => {
  const cookie = response.cookies.cookies[COOKIE]
  return cookie === undefined || cookie.value === "" ? undefined : `${COOKIE}=${cookie.value}`
}

const bodyText = (response: HttpServerResponse.HttpServerResponse): string =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : `<${response.body._tag}>`

const serve = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>, path: string, cookie?: string) =>
  Effect.provideService(app, HttpServerRequest.HttpServerRequest, requestWith(path, cookie))

describe("the middleware on a fiber", () => {
  const StoreLive = MemoryStore.layer({ sweepInterval: "1 hour" })

  it.effect("Session is in the context while the app runs, and gone after it, whether the app succeeds or fails", () =>
    Effect.gen(function*() {
      const seenInside: Array<boolean> = []
      const app = HttpRouter.empty.pipe(
        HttpRouter.get(
          "/ok",
          Effect.map(Effect.serviceOption(Session), (s) => {
            seenInside.push(Option.isSome(s))
            return HttpServerResponse.text("ok")
          })
        ),
        HttpRouter.get(
          "/fail",
          Effect.flatMap(Effect.serviceOption(Session), (s) => {
            seenInside.push(Option.isSome(s))
            return Effect.fail("handler failed" as const)
          })
        ),
        Session.middleware({ cookieName: COOKIE, insecure: true })
      )
      const afterOk = yield* serve(app, "/ok").pipe(Effect.zipRight(Effect.serviceOption(Session)))
      const afterFail = yield* serve(app, "/fail").pipe(
        Effect.flip,
        Effect.zipRight(Effect.serviceOption(Session))
      )
      expect(seenInside).toEqual([true, true])
      expect(afterOk).toEqual(Option.none())
      expect(afterFail).toEqual(Option.none())
    }).pipe(Effect.provide(StoreLive)))

  it.effect("on an interruptible fiber the session is still saved, and read back by the next request", () =>
    Effect.gen(function*() {
      const app = HttpRouter.empty.pipe(
        HttpRouter.get(
          "/count",
          Effect.gen(function*() {
            const n = yield* Session.increment("n")
            return HttpServerResponse.text(String(n))
          })
        ),
        Session.middleware({ cookieName: COOKIE, insecure: true })
      )
      const first = yield* Effect.interruptible(serve(app, "/count"))
      const cookie = cookieOf(first)
      expect(cookie).toBeDefined()
      const second = yield* Effect.interruptible(serve(app, "/count", cookie))
      const third = yield* Effect.interruptible(serve(app, "/count", cookie))
      expect([first, second, third].map(bodyText)).toEqual(["1", "2", "3"])
    }).pipe(Effect.provide(StoreLive)))

  it.live("interrupting a request that holds the session lock releases the lock at once", () =>
    Effect.gen(function*() {
      const entered = yield* Deferred.make<void>()
      const never = yield* Deferred.make<void>()
      const app = HttpRouter.empty.pipe(
        HttpRouter.get("/start", Effect.as(Session.put("n", 0), HttpServerResponse.text("started"))),
        HttpRouter.get(
          "/hold",
          Effect.gen(function*() {
            yield* Session.put("n", 1)
            yield* Deferred.succeed(entered, undefined)
            yield* Deferred.await(never) // until interrupted
            return HttpServerResponse.text("unreachable")
          })
        ),
        HttpRouter.get(
          "/read",
          Effect.map(Session.getOption("n"), (n) => HttpServerResponse.text(Option.isSome(n) ? `n=${n.value}` : "none"))
        ),
        // a lock held for a minute unless released; a waiter gives up after 2 s
        Session.middleware({ cookieName: COOKIE, insecure: true, lock: { ttl: "1 minute", wait: "2 seconds" } })
      )
      const cookie = cookieOf(yield* serve(app, "/start"))
      expect(cookie).toBeDefined()
      const holder = yield* Effect.fork(Effect.interruptible(serve(app, "/hold", cookie)))
      yield* Deferred.await(entered)
      const holderExit = yield* Fiber.interrupt(holder)
      expect(Exit.isInterrupted(holderExit)).toBe(true)
      // The lock is free again: the next request gets it well within its 2 s wait (not a 423), and
      // the interrupted request's change was not saved.
      const next = yield* serve(app, "/read", cookie).pipe(Effect.timeout(Duration.seconds(1)))
      expect(next.status).toBe(200)
      expect(bodyText(next)).toBe("n=0")
    }).pipe(Effect.provide(Layer.orDie(StoreLive))))

  it.effect("with a tracer installed, the memory store is used through its Effects, which make the spans", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const native = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (name, parent, context, links, startTime, kind) => {
          names.push(name)
          return native.span(name, parent, context, links, startTime, kind)
        },
        context: (f) => f()
      })
      const app = HttpRouter.empty.pipe(
        HttpRouter.get("/count", Effect.as(Session.increment("n"), HttpServerResponse.text("ok"))),
        Session.middleware({ cookieName: COOKIE, insecure: true })
      )
      const cookie = cookieOf(yield* serve(app, "/count").pipe(Effect.withTracer(tracer)))
      yield* serve(app, "/count", cookie).pipe(Effect.withTracer(tracer))
      expect(names.filter((n) => n.startsWith("effect-session."))).toEqual([
        "effect-session.save", // the first request: a new session, nothing to load
        "effect-session.load",
        "effect-session.save"
      ])
      // and without one, none are made (the store is used synchronously)
      names.length = 0
      yield* serve(app, "/count", cookie)
      expect(names).toEqual([])
    }).pipe(Effect.provide(StoreLive)))
})
