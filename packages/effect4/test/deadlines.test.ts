/**
 * The Redis store's command deadlines (`commandTimeout`): every command fails with `Timeout` once
 * it has had no answer for that long, in real time, even while `TestClock` drives session expiry (a
 * frozen test clock must not let a hung Redis hang every request). The effect 3 package keeps these
 * in one shared timer queue (`src/internal/deadlines.ts`); the effect 4 store bounds each command
 * with effect's live clock: these tests hold either to the same behaviour.
 *
 * The store runs over a `Redis` service whose commands are answered only when the test says so.
 * Real time is vitest's fake `setTimeout` (the live clock's timers), moved by the test: no sleeps.
 * Each command runs under `TestClock`, which never moves.
 */
import { Duration, Effect, Exit, Fiber, Option } from "effect"
import type { SessionStoreError } from "effect-session-v4"
import * as RedisStore from "effect-session-v4/RedisStore"
import * as Redis from "effect/persistence/Redis"
import { TestClock } from "effect/testing"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"

/** Lets the runtime's scheduler (real `setImmediate`) run the fibers a timer or an answer woke. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** A Redis store whose commands wait for `answer`; `read` runs one read under a `TestClock`. */
const harness = (commandTimeout: Duration.Input) => {
  const waiting: Array<(reply: unknown) => void> = []
  const sent: Array<string> = []
  const redis = Redis.Redis.of({
    send: <A>(command: string) =>
      Effect.callback<A, Redis.RedisError>((resume) => {
        sent.push(command)
        waiting.push((reply) => resume(Effect.succeed(reply as A)))
      }),
    eval: () => () => Effect.die("not used by these tests"),
    subscribe: () => Effect.die("not used by these tests"),
    reserve: Effect.die("not used by these tests")
  })
  const store = Effect.runSync(
    RedisStore.make({ prefix: "deadlines:", commandTimeout }).pipe(Effect.provideService(Redis.Redis, redis))
  )
  const read = (id: string): Fiber.Fiber<Option.Option<unknown>, SessionStoreError> =>
    Effect.runFork(store.read(id).pipe(Effect.provide(TestClock.layer())))
  return {
    read,
    sent,
    /** answers the `i`th command sent so far with an empty hash: no such session */
    answer: (i: number) => waiting[i]!([])
  }
}

/** What became of a read: still waiting, a timeout, or an answer. */
const outcome = (fiber: Fiber.Fiber<Option.Option<unknown>, SessionStoreError>) => {
  const exit = fiber.pollUnsafe()
  if (exit === undefined) return "waiting"
  if (Exit.isSuccess(exit)) return Option.isNone(exit.value) ? "answered" : "found"
  if (Exit.hasInterrupts(exit)) return "interrupted"
  const error = Exit.findErrorOption(exit)
  return Option.isSome(error) ? `failed: ${error.value.reason}` : "defect"
}

describe("Redis command deadlines (real time, under TestClock)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("a command with no answer fails with Timeout once its time is up, and not before", async () => {
    const redis = harness("2 seconds")
    const read = redis.read("a")
    await turns()
    expect(redis.sent).toEqual(["HGETALL"])
    vi.advanceTimersByTime(1999)
    await turns()
    expect(outcome(read)).toBe("waiting")
    vi.advanceTimersByTime(1)
    await turns()
    expect(outcome(read)).toBe("failed: Timeout")
    const exit = read.pollUnsafe()!
    expect(Exit.isFailure(exit) && Option.getOrThrow(Exit.findErrorOption(exit)).message).toMatch(
      /redis read: no answer within 2000 ms/
    )
  })

  it("an answered command is never failed later, and leaves no timer behind", async () => {
    const redis = harness("100 millis")
    const a = redis.read("a")
    const b = redis.read("b")
    await turns()
    redis.answer(0)
    await turns()
    expect(outcome(a)).toBe("answered")
    vi.advanceTimersByTime(100)
    await turns()
    expect(outcome(a)).toBe("answered")
    expect(outcome(b)).toBe("failed: Timeout")
    // an answer that comes after the deadline changes nothing
    redis.answer(1)
    await turns()
    expect(outcome(b)).toBe("failed: Timeout")
    expect(vi.getTimerCount()).toBe(0)
  })

  it("each command gets its own timeout from when it was sent", async () => {
    const redis = harness("300 millis")
    const a = redis.read("a")
    await turns()
    vi.advanceTimersByTime(100)
    await turns()
    const b = redis.read("b")
    await turns()
    vi.advanceTimersByTime(50)
    await turns()
    const c = redis.read("c")
    await turns()
    redis.answer(1)
    vi.advanceTimersByTime(149) // 299 ms after a
    await turns()
    expect([outcome(a), outcome(b), outcome(c)]).toEqual(["waiting", "answered", "waiting"])
    vi.advanceTimersByTime(1) // 300 ms after a
    await turns()
    expect([outcome(a), outcome(c)]).toEqual(["failed: Timeout", "waiting"])
    vi.advanceTimersByTime(149) // 299 ms after c
    await turns()
    expect(outcome(c)).toBe("waiting")
    vi.advanceTimersByTime(1)
    await turns()
    expect(outcome(c)).toBe("failed: Timeout")
    expect(vi.getTimerCount()).toBe(0)
  })

  it("of many commands in flight, exactly the unanswered ones time out", async () => {
    const redis = harness("2 seconds")
    const reads = Array.from({ length: 3000 }, (_, i) => redis.read(`k${i}`))
    await turns()
    expect(redis.sent).toHaveLength(3000)
    for (let i = 0; i < 2000; i++) redis.answer(i)
    await turns()
    expect(vi.getTimerCount()).toBe(1000)
    vi.advanceTimersByTime(2000)
    await turns()
    const outcomes = reads.map(outcome)
    expect(outcomes.slice(0, 2000).every((o) => o === "answered")).toBe(true)
    expect(outcomes.slice(2000).every((o) => o === "failed: Timeout")).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it("a commandTimeout longer than setTimeout's maximum (30 days) fires on time, not at once", async () => {
    const days30 = Duration.toMillis(Duration.days(30))
    const redis = harness(Duration.days(30))
    const start = Date.now()
    const read = redis.read("a")
    await turns()
    // Node runs a longer delay after 1 ms: the live clock waits setTimeout's maximum first
    vi.advanceTimersToNextTimer()
    await turns()
    expect(Date.now() - start).toBe(2 ** 31 - 1)
    expect(outcome(read)).toBe("waiting")
    vi.advanceTimersByTime(days30 - (Date.now() - start) - 1)
    await turns()
    expect(outcome(read)).toBe("waiting")
    vi.advanceTimersByTime(1)
    await turns()
    expect(outcome(read)).toBe("failed: Timeout")
  })

  it("an interrupted command drops its deadline: no timer left running", async () => {
    const redis = harness("100 millis")
    const read = redis.read("a")
    await turns()
    expect(vi.getTimerCount()).toBe(1)
    Effect.runFork(Fiber.interrupt(read))
    await turns()
    expect(vi.getTimerCount()).toBe(0)
    expect(outcome(read)).toBe("interrupted")
  })
})
