import { Deferred, type Duration, Effect, Layer } from "effect"
import { MemoryStore, SessionStore } from "effect-session-v4"
import { TestClock } from "effect/testing"

/**
 * A memory store that says when a second request asks for a session's lock (the first holds it),
 * so a test moves `TestClock` only once that request waits: no race with its HTTP round trip.
 */
export const makeLockWatch = Effect.map(Deferred.make<void>(), (second) => {
  let calls = 0
  const layer = Layer.effect(
    SessionStore,
    Effect.map(Effect.service(SessionStore), (store) => ({
      ...store,
      lock: (id: string, options: { readonly ttl: Duration.Duration; readonly wait: Duration.Duration }) =>
        Effect.andThen(
          Effect.suspend(() => ++calls === 2 ? Deferred.succeed(second, undefined) : Effect.void),
          store.lock!(id, options)
        )
    }))
  ).pipe(Layer.provide(MemoryStore.layer()))
  return { layer, second }
})

/** Moves `TestClock` in small steps until `done` says the waiting request has its answer. */
export const driveUntil = (done: () => boolean) =>
  Effect.gen(function*() {
    while (!done()) {
      yield* TestClock.adjust("250 millis")
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
    }
  })
