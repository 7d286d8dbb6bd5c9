// #region handler
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Session, SessionTest } from "effect-session"

// The handler under test: a login must regenerate the session ID (against fixation), keep what
// the guest put in the cart, and flash a greeting for the next page.
const login = (name: string) =>
  Effect.gen(function*() {
    yield* Session.regenerate
    yield* Session.put("user", name)
    yield* Session.flash("status", `Welcome, ${name}`)
  })

describe("login", () => {
  it.scoped("regenerates the ID, keeps the cart, flashes a greeting once", () =>
    Effect.gen(function*() {
      // a client that already holds a guest session with a cart
      const client = yield* SessionTest.make({ data: { cart: ["A-1"] } })

      const outcome = yield* client.run(login("ada"))
      expect(outcome.regenerated).toBe(true)
      expect(outcome.id).not.toEqual(outcome.previousId)
      expect(outcome.data).toEqual({ cart: ["A-1"], user: "ada", status: "Welcome, ada" })
      expect(outcome.flashed).toEqual(["status"])

      // the client keeps the new cookie: the next request shows the greeting, the one after does not
      const next = yield* client.run(Session.getOption("status"))
      expect(next.value).toEqual(Option.some("Welcome, ada"))
      const after = yield* client.run(Session.getOption("status"))
      expect(after.value).toEqual(Option.none())
    }))

  it.effect("one request with SessionTest.layer", () =>
    Effect.gen(function*() {
      yield* login("ada") // the handler runs as it would behind the middleware
      const outcome = yield* SessionTest.finish() // saves, then reports
      expect(outcome.data.user).toBe("ada")
      expect(outcome.calls.map((call) => call._tag)).toEqual(["read", "rotate"])
    }).pipe(Effect.provide(SessionTest.layer({ data: { cart: [] } }))))
})
// #endregion
