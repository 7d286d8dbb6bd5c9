/**
 * A store is whatever the `SessionStore` service holds: a user's decorator (a spread copy, a
 * `Proxy`, `Layer.effect(SessionStore, Effect.map(SessionStore, wrap))`) sees every read, write,
 * patch, rotate and destroy the middleware makes, and its failures become 503s. A read that
 * returns something that is not a usable record is a corrupt record: a fresh session, a warning,
 * never a 5xx. Over real HTTP with a cookie jar.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Option } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError } from "effect-session-v4"
import type { SessionData, SessionStoreService } from "effect-session-v4/SessionStore"
import * as SessionStoreSuite from "effect-session-v4/SessionStoreSuite"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { makeJar, type Reply, serveWith } from "./utils/http.js"

const json = (value: unknown) => HttpServerResponse.jsonUnsafe(value)
const body = (reply: { readonly body: string }): unknown => JSON.parse(reply.body)

const Routes = Layer.mergeAll(
  HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), (views) => json({ views }))),
  HttpRouter.add(
    "POST",
    "/login",
    Effect.gen(function*() {
      yield* Session.regenerate
      yield* Session.put("user", "ada")
      return json({ ok: true })
    })
  ),
  HttpRouter.add("POST", "/logout", Effect.as(Session.destroy, json({ ok: true })))
).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

/** What a decorator saw, and a switch that makes its next calls fail. */
const makeSpy = () => {
  const seen: Array<string> = []
  let failing: string | undefined
  const around = <A>(op: string, effect: Effect.Effect<A, SessionStoreError>): Effect.Effect<A, SessionStoreError> =>
    Effect.suspend(() => {
      seen.push(op)
      return op === failing
        ? Effect.fail(new SessionStoreError({ reason: "Unavailable", message: `decorator: ${op} refused` }))
        : effect
    })
  return {
    seen,
    around,
    failOn: (op: string | undefined) => {
      failing = op
    }
  }
}

type Spy = ReturnType<typeof makeSpy>

/** A spread copy with every operation replaced. */
const spread = (spy: Spy) => (inner: SessionStoreService): SessionStoreService => ({
  ...inner,
  read: (id) => spy.around("read", inner.read(id)),
  write: (id, data, ttl) => spy.around("write", inner.write(id, data, ttl)),
  destroy: (id) => spy.around("destroy", inner.destroy(id)),
  ...(inner.patch === undefined ? {} : {
    patch: (id, patch, ttl) => spy.around("patch", inner.patch!(id, patch, ttl))
  }),
  ...(inner.rotate === undefined ? {} : {
    rotate: (from, to, rotation) => spy.around("rotate", inner.rotate!(from, to, rotation))
  })
})

/** A `Proxy` that wraps every function-valued member. */
const proxy = (spy: Spy) => (inner: SessionStoreService): SessionStoreService =>
  new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== "function" || typeof property !== "string" || property === "lock") return value
      return (...args: Array<unknown>) => spy.around(property, Reflect.apply(value, target, args))
    }
  })

const decorators = [
  ["a spread copy", spread],
  ["a Proxy", proxy]
] as const

const decorated = (wrap: (inner: SessionStoreService) => SessionStoreService) =>
  Layer.effect(SessionStore, Effect.map(Effect.service(SessionStore), wrap)).pipe(Layer.provide(MemoryStore.layer()))

describe("a store decorator sees every operation the middleware makes", () => {
  for (const [name, make] of decorators) {
    it.effect(`${name}, as Layer.effect(SessionStore, Effect.map(SessionStore, wrap))`, () => {
      const spy = makeSpy()
      return Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/count")
        expect(spy.seen).toEqual(["write"])
        expect(body(yield* jar.get("/count"))).toEqual({ views: 2 })
        expect(spy.seen).toEqual(["write", "read", "patch"])
        yield* jar.post("/login")
        expect(spy.seen).toEqual(["write", "read", "patch", "read", "rotate"])
        yield* jar.post("/logout")
        // logout reads the record again right before deleting it: only a session that is still its
        // own has its cookie cleared (another request may have replaced it since the load)
        expect(spy.seen).toEqual(["write", "read", "patch", "read", "rotate", "read", "read", "destroy"])

        // a failing wrapped operation is a 503 (never a 200 whose data was lost), whichever it is
        const failing = <E, R>(op: string, request: Effect.Effect<Reply, E, R>) =>
          Effect.gen(function*() {
            spy.failOn(op)
            const reply = yield* request
            spy.failOn(undefined)
            expect(reply.status, op).toBe(503)
            expect(reply.setCookie, op).toBeUndefined()
          })
        yield* failing("write", makeJar().get("/count"))
        yield* jar.get("/count")
        yield* failing("read", jar.get("/count"))
        yield* failing("patch", jar.get("/count"))
        yield* failing("rotate", jar.post("/login"))
        yield* failing("destroy", jar.post("/logout"))
        expect(body(yield* jar.get("/count"))).toEqual({ views: 2 })
      }).pipe(Effect.provide(serveWith(Routes, decorated(make(spy)))))
    })
  }
})

/**
 * A store written as a class: every member is a method that reaches the wrapped store through a
 * private field, so it works only when called on the instance (`store.patch(…)`), never when the
 * middleware takes the member off the store and calls it alone.
 */
class ClassStore implements SessionStoreService {
  readonly #inner: SessionStoreService
  readonly #seen: Array<string>
  constructor(inner: SessionStoreService, seen: Array<string>) {
    this.#inner = inner
    this.#seen = seen
  }
  #use(op: string): SessionStoreService {
    this.#seen.push(op)
    return this.#inner
  }
  read(id: string) {
    return this.#use("read").read(id)
  }
  write(...args: Parameters<SessionStoreService["write"]>) {
    return this.#use("write").write(...args)
  }
  destroy(id: string) {
    return this.#use("destroy").destroy(id)
  }
  patch(...args: Parameters<NonNullable<SessionStoreService["patch"]>>) {
    return this.#use("patch").patch!(...args)
  }
  rotate(...args: Parameters<NonNullable<SessionStoreService["rotate"]>>) {
    return this.#use("rotate").rotate!(...args)
  }
  lock(...args: Parameters<NonNullable<SessionStoreService["lock"]>>) {
    return this.#use("lock").lock!(...args)
  }
}

describe("a store written as a class", () => {
  it.effect("its methods are called on it: every capability works, the lock included", () => {
    const seen: Array<string> = []
    const Locked = Layer.mergeAll(
      HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), (views) => json({ views }))),
      HttpRouter.add("POST", "/login", Effect.as(Session.regenerate, json({ ok: true })))
    ).pipe(Layer.provide(Session.middleware({ insecure: true, lock: { wait: "1 second" } }).layer))
    const store = Layer.effect(
      SessionStore,
      Effect.map(Effect.service(SessionStore), (inner) => new ClassStore(inner, seen))
    )
      .pipe(Layer.provide(MemoryStore.layer()))
    return Effect.gen(function*() {
      const jar = makeJar()
      expect(body(yield* jar.get("/count"))).toEqual({ views: 1 }) // new session: write
      expect(body(yield* jar.get("/count"))).toEqual({ views: 2 }) // lock, read, patch
      expect((yield* jar.post("/login")).status).toBe(200) // lock, read, rotate
      expect(body(yield* jar.get("/count"))).toEqual({ views: 3 }) // lock, read, patch
      expect(seen).toEqual(["write", "lock", "read", "patch", "lock", "read", "rotate", "lock", "read", "patch"])
    }).pipe(Effect.provide(serveWith(Locked, store)))
  })
})

// The conformance suite calls every capability on the store too.
SessionStoreSuite.run(
  "a store written as a class: conformance",
  Layer.effect(SessionStore, Effect.map(Effect.service(SessionStore), (inner) => new ClassStore(inner, [])))
    .pipe(Layer.provide(MemoryStore.layer())),
  { defaultTtl: "2 hours" }
)

/** A store whose read of any key returns `value`, as a broken store or a tampered record would. */
const returning = (value: unknown) => (inner: SessionStoreService): SessionStoreService => ({
  ...inner,
  // What a broken store hands back is not a `SessionData`: the cast is the point of the test.
  read: (id) => Effect.map(inner.read(id), (found) => Option.isSome(found) ? Option.some(value as SessionData) : found)
})

const corrupt: ReadonlyArray<readonly [string, unknown]> = [
  ["null", null],
  ["a number", 42],
  ["a string", "text"],
  ["an array", [1, 2]],
  ["absurd metadata (times in the far future)", { __session: { c: 1e300, r: 1e300 }, views: 5 }],
  ["absurd metadata (negative lifetime)", { __session: { c: 0, r: 0, l: -1 }, views: 5 }]
]

describe("a corrupt record is no session: a fresh one, a warning, never a 5xx", () => {
  for (const [name, value] of corrupt) {
    it.effect(name, () => {
      const logs: Array<string> = []
      const capture = Logger.make(({ logLevel, message }) => {
        if (logLevel === "Warn") logs.push(String(message))
      })
      return Effect.gen(function*() {
        const jar = makeJar()
        yield* jar.get("/count")
        const first = jar.value
        const reply = yield* jar.get("/count")
        expect(reply.status).toBe(200)
        expect(body(reply)).toEqual({ views: 1 })
        expect(jar.value).not.toBe(first)
        expect(logs.join("\n")).toMatch(/discarding an unusable session record/)
      }).pipe(
        Effect.provide(serveWith(Routes, decorated(returning(value)))),
        Effect.provide(Logger.layer([capture]))
      )
    })
  }
})

describe("the global middleware form, over HTTP", () => {
  it.effect("serves every route of the router", () =>
    Effect.gen(function*() {
      const jar = makeJar()
      expect(body(yield* jar.get("/count"))).toEqual({ views: 1 })
      expect(jar.value).toBeDefined()
      expect(body(yield* jar.get("/count"))).toEqual({ views: 2 })
      yield* jar.post("/logout")
      expect(jar.value).toBeUndefined()
    }).pipe(
      Effect.provide(
        serveWith(
          Layer.mergeAll(
            HttpRouter.add("GET", "/count", Effect.map(Session.increment("views"), (views) => json({ views }))),
            HttpRouter.add("POST", "/logout", Effect.as(Session.destroy, json({ ok: true })))
          ).pipe(Layer.provide(Session.middleware({ insecure: true }, { global: true }))),
          MemoryStore.layer()
        )
      )
    ))
})
