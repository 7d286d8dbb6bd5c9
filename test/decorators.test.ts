/**
 * A store is whatever the `SessionStore` service holds: a user's decorator (a spread copy, a Proxy,
 * `Layer.effect(SessionStore, Effect.map(SessionStore, wrap))`) sees every read, write, patch and
 * rotation the middleware makes, and a failing decorated operation is a 503 with nothing lost. A
 * read that returns something that is not a record is a corrupt record: no session, a warning
 * without the ID, never a 5xx. Through real HTTP, on the memory store.
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Option } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError, type SessionStoreService } from "effect-session"
import { Jar, request, serve } from "./utils/http.js"

const routes = HttpRouter.empty.pipe(
  HttpRouter.post("/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n)))),
  HttpRouter.post("/login", Effect.as(Session.regenerate, HttpServerResponse.text("ok"))),
  HttpRouter.get(
    "/n",
    Effect.map(Session.getOption("n"), (n) => HttpServerResponse.text(String(Option.getOrElse(n, () => 0))))
  )
)

type Op = "read" | "write" | "patch" | "rotate" | "destroy"

type Wrapped = SessionStoreService & {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
}

/** Wraps a store's operations: records each call, and fails the ones named in `failing`. */
const wrapOps = (store: SessionStoreService, seen: Array<Op>, failing: Set<Op>): Wrapped => {
  const fail = (op: Op) =>
    Effect.fail(new SessionStoreError({ reason: "Unavailable", message: `decorated ${op} failed` }))
  return {
    ...store,
    read: (id) => Effect.suspend(() => (seen.push("read"), failing.has("read") ? fail("read") : store.read(id))),
    write: (id, data, ttl) =>
      Effect.suspend(() => (seen.push("write"), failing.has("write") ? fail("write") : store.write(id, data, ttl))),
    destroy: (id) => Effect.suspend(() => (seen.push("destroy"), store.destroy(id))),
    patch: (id, patch, ttl) =>
      Effect.suspend(() => (seen.push("patch"), failing.has("patch") ? fail("patch") : store.patch!(id, patch, ttl))),
    rotate: (from, to, data, ttl, grace) =>
      Effect.suspend(() => (
        seen.push("rotate"), failing.has("rotate") ? fail("rotate") : store.rotate!(from, to, data, ttl, grace)
      ))
  }
}

/** The three ways users decorate a store. */
const decorators: Array<
  [string, (seen: Array<Op>, failing: Set<Op>) => Layer.Layer<SessionStore, never, SessionStore>]
> = [
  [
    "a spread copy",
    (seen, failing) => Layer.effect(SessionStore, Effect.map(SessionStore, (store) => wrapOps(store, seen, failing)))
  ],
  [
    "a Proxy",
    (seen, failing) =>
      Layer.effect(
        SessionStore,
        Effect.map(SessionStore, (store) => {
          const wrapped = wrapOps(store, seen, failing)
          return new Proxy(store, {
            get: (target, property, receiver) =>
              typeof property === "string" && property in wrapped && property !== "lock"
                ? wrapped[property as Op]
                : Reflect.get(target, property, receiver)
          })
        })
      )
  ],
  [
    "Layer.effect(SessionStore, Effect.map(SessionStore, wrap)) replacing only read and write",
    (seen, failing) =>
      Layer.effect(
        SessionStore,
        Effect.map(SessionStore, (store) => {
          const wrapped = wrapOps(store, seen, failing)
          return { ...store, read: wrapped.read, write: wrapped.write, patch: wrapped.patch, rotate: wrapped.rotate }
        })
      )
  ]
]

const server = (decorator: Layer.Layer<SessionStore, never, SessionStore>) =>
  serve(routes, { insecure: true }).pipe(Layer.provide(decorator), Layer.provide(MemoryStore.layer()))

describe("a decorated store sees every operation the middleware makes", () => {
  for (const [name, decorate] of decorators) {
    it.effect(`${name}: every read, write, patch and rotation goes through it`, () => {
      const seen: Array<Op> = []
      return Effect.gen(function*() {
        const jar = new Jar()
        expect((yield* request("POST", "/inc", { jar })).body).toBe("1") // new session: write
        expect((yield* request("POST", "/inc", { jar })).body).toBe("2") // read, patch
        expect((yield* request("POST", "/login", { jar })).status).toBe(200) // read, rotate
        expect((yield* request("GET", "/n", { jar })).body).toBe("2") // read
        expect(seen).toEqual(["write", "read", "patch", "read", "rotate", "read"])
      }).pipe(Effect.provide(server(decorate(seen, new Set()))))
    })

    for (const op of ["read", "patch", "rotate"] as const) {
      it.effect(`${name}: a failing decorated ${op} is a 503, and nothing is lost`, () => {
        const seen: Array<Op> = []
        const failing = new Set<Op>()
        return Effect.gen(function*() {
          const jar = new Jar()
          expect((yield* request("POST", "/inc", { jar })).body).toBe("1")
          const cookie = jar.header()!
          failing.add(op)
          const reply = yield* request("POST", op === "rotate" ? "/login" : "/inc", { jar })
          expect(reply.status).toBe(503)
          expect(reply.setCookies).toEqual([])
          failing.clear()
          // the session is as it was, under the cookie the browser still holds
          expect(jar.header()).toBe(cookie)
          expect((yield* request("GET", "/n", { jar })).body).toBe("1")
          expect((yield* request("POST", "/inc", { jar })).body).toBe("2")
        }).pipe(Effect.provide(server(decorate(seen, failing))))
      })
    }
  }
})

/**
 * A store written as a class: every member is a method that reaches the wrapped store through a
 * private field, so it works only when called on the instance (`store.lock(…)`), never when the
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
    return Effect.gen(function*() {
      const jar = new Jar()
      expect((yield* request("POST", "/inc", { jar })).body).toBe("1") // new session: write
      expect((yield* request("POST", "/inc", { jar })).body).toBe("2") // lock, read, patch
      expect((yield* request("POST", "/login", { jar })).status).toBe(200) // lock, read, rotate
      expect((yield* request("GET", "/n", { jar })).body).toBe("2") // lock, read
      expect(seen).toEqual(["write", "lock", "read", "patch", "lock", "read", "rotate", "lock", "read"])
    }).pipe(
      Effect.provide(
        serve(routes, { insecure: true, lock: { wait: "1 second" } }).pipe(
          Layer.provide(Layer.effect(SessionStore, Effect.map(SessionStore, (store) => new ClassStore(store, seen)))),
          Layer.provide(MemoryStore.layer())
        )
      )
    )
  })
})

const captureLogs = () => {
  const lines: Array<{ level: string; text: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push({ level: logLevel.label, text: Array.isArray(message) ? message.join(" ") : String(message) })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

describe("a read that is not a record is a corrupt record", () => {
  const values: Array<[string, unknown]> = [["null", null], ["42", 42], ["\"text\"", "text"], ["[1, 2]", [1, 2]]]
  for (const [name, value] of values) {
    it.effect(`Option.some(${name}): a fresh session, a warning without the ID, never a 5xx`, () => {
      const logs = captureLogs()
      let corrupt = false
      const foreign = Layer.effect(
        SessionStore,
        Effect.map(SessionStore, (store) => ({
          ...store,
          // `as`: this decorator stands for a third-party store's bug, which the types cannot see
          read: (id: string) => corrupt ? Effect.succeed(Option.some(value as Record<string, unknown>)) : store.read(id)
        }))
      )
      return Effect.gen(function*() {
        const jar = new Jar()
        expect((yield* request("POST", "/inc", { jar })).body).toBe("1")
        const id = jar.cookies.get("lagodev_session")!
        corrupt = true
        const reply = yield* request("POST", "/inc", { jar })
        expect(reply.status).toBe(200)
        expect(reply.body).toBe("1") // a fresh session: the corrupt one was not adopted
        expect(jar.cookies.get("lagodev_session")).not.toBe(id)
        const warnings = logs.lines.filter((line) => line.level === "WARN")
        expect(warnings.map((line) => line.text)).toEqual([
          "effect-session: discarded a stored session record (not a record)"
        ])
        for (const line of logs.lines) expect(line.text).not.toContain(id)
      }).pipe(Effect.provide(server(foreign)), Effect.provide(logs.layer))
    })
  }
})
