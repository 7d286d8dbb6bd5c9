import { Lifetime } from "effect-session-core"
import { describe, expect, it } from "vitest"

const settings: Lifetime.Settings = { ttlMillis: 7_200_000, absoluteMillis: Infinity, touchAfterMillis: 60_000 }

describe("Lifetime", () => {
  it("a session's own lifetimes replace the middleware's", () => {
    expect(Lifetime.idle({ c: 0, r: 0 }, settings)).toBe(7_200_000)
    expect(Lifetime.idle({ c: 0, r: 0, l: 1000 }, settings)).toBe(1000)
    expect(Lifetime.absolute({ c: 0, r: 0, a: 5000 }, settings)).toBe(5000)
  })

  it("is expired exactly at the absolute lifetime", () => {
    const meta = { c: 1000, r: 1000, a: 5000 }
    expect(Lifetime.isExpired(meta, settings, 5999)).toBe(false)
    expect(Lifetime.isExpired(meta, settings, 6000)).toBe(true)
    expect(Lifetime.isExpired({ c: 0, r: 0 }, settings, Number.MAX_SAFE_INTEGER)).toBe(false)
  })

  it("renewal is due every touchAfter, at most half the idle TTL, and even with ttl 0", () => {
    expect(Lifetime.renewalDue({ c: 0, r: 0 }, settings, 59_999)).toBe(false)
    expect(Lifetime.renewalDue({ c: 0, r: 0 }, settings, 60_000)).toBe(true)
    expect(Lifetime.renewalDue({ c: 0, r: 0, l: 10_000 }, settings, 5_000)).toBe(true)
    expect(Lifetime.renewalDue({ c: 0, r: 0 }, { ...settings, ttlMillis: 0 }, 60_000)).toBe(true)
  })

  it("the record's TTL is the idle TTL capped by the absolute lifetime; 0 means the store's default", () => {
    expect(Lifetime.recordTtl({ c: 0, r: 0 }, settings, 0)).toBe(7_200_000)
    expect(Lifetime.recordTtl({ c: 0, r: 0, a: 1000 }, settings, 400)).toBe(600)
    expect(Lifetime.recordTtl({ c: 0, r: 0 }, { ...settings, ttlMillis: 0 }, 0)).toBe(0)
    expect(Lifetime.recordTtl({ c: 0, r: 0, a: 1000 }, { ...settings, ttlMillis: 0 }, 999.5)).toBe(1)
  })

  it("the cookie's Max-Age follows the idle TTL; none for ttl 0", () => {
    expect(Lifetime.cookieMaxAge({ c: 0, r: 0 }, settings, 0)).toBe(7_200_000)
    expect(Lifetime.cookieMaxAge({ c: 0, r: 0, a: 1000 }, settings, 400)).toBe(600)
    expect(Lifetime.cookieMaxAge({ c: 0, r: 0 }, { ...settings, ttlMillis: 0 }, 0)).toBeUndefined()
  })
})
