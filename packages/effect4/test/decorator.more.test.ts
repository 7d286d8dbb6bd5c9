/**
 * More on store decorators, ported from the effect 3 package's test/decorators.test.ts: a
 * decorator that replaces only some operations (the rest spread from the store it wraps) sees
 * every read, write, patch and rotation; a failing decorated read, patch or rotation is a 503 that
 * loses nothing (the browser keeps its cookie, the session its data), for each way of decorating;
 * a corrupt record logs one warning that never quotes the session ID. Over real HTTP, on the
 * memory store.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Option } from "effect"
import { MemoryStore, Session, SessionStore, SessionStoreError } from "effect-session-v4"
import type { SessionData, SessionStoreService } from "effect-session-v4/SessionStore"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { makeJar, serveWith } from "./utils/http.js"

const Routes = Layer.mergeAll(
  HttpRouter.add("POST", "/inc", Effect.map(Session.increment("n"), (n) => HttpServerResponse.text(String(n)))),
  HttpRouter.add("POST", "/login", Effect.as(Session.regenerate, HttpServerResponse.text("ok"))),
  HttpRouter.add(
    "GET",
    "/n",
    Effect.map(Session.getOption("n"), (n) => HttpServerResponse.text(String(Option.getOrElse(n, () => 0))))
  )
).pipe(Layer.provide(Session.middleware({ insecure: true }).layer))

type Op = "read" | "write" | "patch" | "rotate" | "destroy"

type Wrapped = SessionStoreService & {
  readonly patch: NonNullable<SessionStoreService["patch"]>
  readonly rotate: NonNullable<SessionStoreService["rotate"]>
}

/** Wraps a store's operations: records each call, and fails the ones named in `failing`. */
const wrapOps = (store: SessionStoreService, seen: Array<Op>, failing: Set<Op>): Wrapped => {
  const fail = (op: Op) =>
    Effect.fail(new SessionStoreError({ reason: "Unavailable", message: `decorated ${op} failed` }))
  const around = <A>(op: Op, effect: () => Effect.Effect<A, SessionStoreError>) =>
    Effect.suspend(() => {
      seen.push(op)
      return failing.has(op) ? fail(op) : effect()
    })
  return {
    ...store,
    read: (id) => around("read", () => store.read(id)),
    write: (id, data, ttl) => around("write", () => store.write(id, data, ttl)),
    destroy: (id) => around("destroy", () => store.destroy(id)),
    patch: (id, patch, ttl) => around("patch", () => store.patch!(id, patch, ttl)),
    rotate: (from, to, rotation) => around("rotate", () => store.rotate!(from, to, rotation))
  }
}

/** The three ways users decorate a store, each as `Layer.effect(SessionStore, Effect.map(SessionStore, wrap))`. */
const decorators: ReadonlyArray<
  readonly [string, (store: SessionStoreService, seen: Array<Op>, failing: Set<Op>) => SessionStoreService]
> = [
  ["a spread copy", wrapOps],
  [
    "a Proxy",
    (store, seen, failing) => {
      const wrapped = wrapOps(store, seen, failing)
      return new Proxy(store, {
        get: (target, property, receiver) =>
          typeof property === "string" && property in wrapped && property !== "lock"
            ? wrapped[property as Op]
            : Reflect.get(target, property, receiver)
      })
    }
  ],
  [
    "a spread copy replacing only read, write, patch and rotate",
    (store, seen, failing) => {
      const wrapped = wrapOps(store, seen, failing)
      return { ...store, read: wrapped.read, write: wrapped.write, patch: wrapped.patch, rotate: wrapped.rotate }
    }
  ]
]

const server = (wrap: (store: SessionStoreService) => SessionStoreService) =>
  serveWith(
    Routes,
    Layer.effect(SessionStore, Effect.map(Effect.service(SessionStore), wrap)).pipe(Layer.provide(MemoryStore.layer()))
  )

describe("a decorated store sees every operation the middleware makes (more)", () => {
  for (const [name, decorate] of decorators) {
    it.effect(`${name}: every read, write, patch and rotation goes through it`, () => {
      const seen: Array<Op> = []
      return Effect.gen(function*() {
        const jar = makeJar()
        expect((yield* jar.post("/inc")).body).toBe("1") // new session: write
        expect((yield* jar.post("/inc")).body).toBe("2") // read, patch
        const before = jar.value
        expect((yield* jar.post("/login")).status).toBe(200) // read, rotate
        expect(jar.value).not.toBe(before)
        expect((yield* jar.get("/n")).body).toBe("2") // read
        expect(seen).toEqual(["write", "read", "patch", "read", "rotate", "read"])
      }).pipe(Effect.provide(server((store) => decorate(store, seen, new Set()))))
    })

    for (const op of ["read", "patch", "rotate"] as const) {
      it.effect(`${name}: a failing decorated ${op} is a 503, and nothing is lost`, () => {
        const seen: Array<Op> = []
        const failing = new Set<Op>()
        return Effect.gen(function*() {
          const jar = makeJar()
          expect((yield* jar.post("/inc")).body).toBe("1")
          const cookie = jar.value
          expect(cookie).toBeDefined()
          failing.add(op)
          const reply = yield* jar.post(op === "rotate" ? "/login" : "/inc")
          expect(reply.status).toBe(503)
          expect(reply.setCookie).toBeUndefined()
          expect(seen).toContain(op)
          failing.clear()
          // the session is as it was, under the cookie the browser still holds
          expect(jar.value).toBe(cookie)
          expect((yield* jar.get("/n")).body).toBe("1")
          expect((yield* jar.post("/inc")).body).toBe("2")
          expect(jar.value).toBe(cookie)
        }).pipe(Effect.provide(server((store) => decorate(store, seen, failing))))
      })
    }
  }
})

describe("a read that is not a record is a corrupt record (more)", () => {
  const values: ReadonlyArray<readonly [string, unknown]> = [
    ["null", null],
    ["42", 42],
    ["\"text\"", "text"],
    ["[1, 2]", [1, 2]]
  ]
  for (const [name, value] of values) {
    it.effect(`Option.some(${name}): a fresh session, one warning without the ID, never a 5xx`, () => {
      const lines: Array<{ level: string; text: string }> = []
      const logger = Logger.make(({ logLevel, message }) => {
        const parts = Array.isArray(message) ? message : [message]
        lines.push({ level: String(logLevel), text: parts.map(String).join(" ") })
      })
      let corrupt = false
      // a third-party store's bug, which the types cannot see: hence the cast
      const foreign = (store: SessionStoreService): SessionStoreService => ({
        ...store,
        read: (id) => corrupt ? Effect.succeed(Option.some(value as SessionData)) : store.read(id)
      })
      return Effect.gen(function*() {
        const jar = makeJar()
        expect((yield* jar.post("/inc")).body).toBe("1")
        const id = jar.value!
        expect(id).toBeDefined()
        corrupt = true
        const reply = yield* jar.post("/inc")
        expect(reply.status).toBe(200)
        expect(reply.body).toBe("1") // a fresh session: the corrupt one was not adopted
        expect(jar.value).toBeDefined()
        expect(jar.value).not.toBe(id)
        const warnings = lines.filter((line) => line.level === "Warn")
        expect(warnings).toHaveLength(1)
        expect(warnings[0]!.text).toMatch(/^effect-session: discarding an unusable session record \(.+\)$/)
        for (const line of lines) expect(line.text).not.toContain(id)
      }).pipe(Effect.provide(server(foreign)), Effect.provide(Logger.layer([logger])))
    })
  }
})
