/**
 * The Redis store's command deadlines (`src/internal/deadlines.ts`): every command shares one
 * timeout, so the deadlines share one timer. Driven by vitest's fake timers: these deadlines are
 * real time by design (a command must fail on time even while `TestClock` drives session expiry),
 * so `TestClock` does not apply; the fake timers keep the tests free of sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { Deadlines } from "../src/internal/deadlines.js"

describe("Deadlines", () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })
  const make = (millis: number) => new Deadlines(millis, () => Date.now())

  it("fires a deadline that is not settled once its time is up, and not before", () => {
    const deadlines = make(2000)
    const fired: Array<string> = []
    deadlines.add(() => fired.push("a"))
    vi.advanceTimersByTime(1999)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(["a"])
    expect(deadlines.size).toBe(0)
  })

  it("never fires a settled deadline, and settling twice or late does nothing", () => {
    const deadlines = make(100)
    const fired: Array<string> = []
    const a = deadlines.add(() => fired.push("a"))
    const b = deadlines.add(() => fired.push("b"))
    deadlines.settle(a)
    deadlines.settle(a)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(["b"])
    deadlines.settle(b)
    vi.advanceTimersByTime(1000)
    expect(fired).toEqual(["b"])
  })

  it("fires each deadline its own timeout after it was added, in order, on one timer", () => {
    const deadlines = make(300)
    const fired: Array<[string, number]> = []
    const start = Date.now()
    deadlines.add(() => fired.push(["a", Date.now() - start]))
    vi.advanceTimersByTime(100)
    const b = deadlines.add(() => fired.push(["b", Date.now() - start]))
    vi.advanceTimersByTime(50)
    deadlines.add(() => fired.push(["c", Date.now() - start]))
    expect(vi.getTimerCount()).toBe(1)
    deadlines.settle(b)
    vi.advanceTimersByTime(1000)
    expect(fired).toEqual([["a", 300], ["c", 450]])
    expect(vi.getTimerCount()).toBe(0)
  })

  it("a deadline settled out of order is skipped when the timer reaches it", () => {
    const deadlines = make(100)
    const fired: Array<string> = []
    deadlines.add(() => fired.push("a"))
    const b = deadlines.add(() => fired.push("b"))
    deadlines.add(() => fired.push("c"))
    deadlines.settle(b)
    expect(deadlines.size).toBe(3) // b waits behind a, which is pending
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(["a", "c"])
    expect(deadlines.size).toBe(0)
  })

  it("settled deadlines leave at once when they come back in order: nothing is held for the timeout", () => {
    const deadlines = make(2000)
    const fired: Array<number> = []
    for (let i = 0; i < 10_000; i++) {
      const deadline = deadlines.add(() => fired.push(i))
      deadlines.settle(deadline)
    }
    expect(deadlines.size).toBe(0)
    const pending = Array.from({ length: 3000 }, (_, i) => deadlines.add(() => fired.push(i)))
    for (const deadline of pending.slice(0, 2000)) deadlines.settle(deadline)
    expect(deadlines.size).toBe(1000)
    vi.advanceTimersByTime(2000)
    expect(fired).toHaveLength(1000)
    expect(fired[0]).toBe(2000)
  })

  it("a callback may add a deadline of its own, which gets the full timeout", () => {
    const deadlines = make(100)
    const fired: Array<[string, number]> = []
    const start = Date.now()
    deadlines.add(() => {
      fired.push(["a", Date.now() - start])
      deadlines.add(() => fired.push(["retry", Date.now() - start]))
    })
    vi.advanceTimersByTime(500)
    expect(fired).toEqual([["a", 100], ["retry", 200]])
  })

  it("a timeout longer than setTimeout's maximum (30 days) fires on time, and the timer does not spin", () => {
    const days30 = 30 * 24 * 3_600_000
    const deadlines = make(days30)
    const fired: Array<number> = []
    const start = Date.now()
    deadlines.add(() => fired.push(Date.now() - start))
    // Node (and the fake timers) run a longer delay after 1 ms: the queue waits setTimeout's maximum.
    vi.advanceTimersToNextTimer()
    expect(Date.now() - start).toBe(2 ** 31 - 1)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(days30 - (Date.now() - start) - 1)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual([days30])
  })

  it("close drops every deadline without firing it and stops the timer", () => {
    const deadlines = make(100)
    const fired: Array<string> = []
    deadlines.add(() => fired.push("a"))
    deadlines.close()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(fired).toEqual([])
  })
})
