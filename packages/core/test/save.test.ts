import { Lifetime, Save, type SessionMeta } from "effect-session-core"
import { describe, expect, it } from "vitest"

const settings: Lifetime.Settings = { ttlMillis: 3_600_000, absoluteMillis: Infinity, touchAfterMillis: 60_000 }
const meta: SessionMeta = { c: 0, r: 0 }
const base: Save.Input = {
  persisted: true,
  rotating: false,
  retired: false,
  changed: false,
  mayCreate: true,
  renew: false,
  meta
}

describe("Save", () => {
  it("an unchanged session is left alone until renewal is due, then renewed with its cookie", () => {
    expect(Save.plan(base, settings, 59_999)).toEqual({ _tag: "Skip" })
    expect(Save.plan(base, settings, 60_000)).toEqual({
      _tag: "Update",
      ttlMillis: 3_600_000,
      cookie: { _tag: "Set", maxAgeMillis: 3_600_000 },
      renews: true
    })
  })

  it("a change that is not a renewal leaves the cookie alone, and the renewal time with it", () => {
    const update = Save.plan({ ...base, changed: true }, settings, 10)
    expect(update).toMatchObject({ _tag: "Update", cookie: { _tag: "Leave" }, renews: false })
    expect(Save.renews(update)).toBe(false)
    // so a session changed on every request is still due once touchAfter has passed since the
    // last renewal, and its cookie is re-issued then
    expect(Save.plan({ ...base, changed: true }, settings, 60_000)).toMatchObject({
      _tag: "Update",
      cookie: { _tag: "Set", maxAgeMillis: 3_600_000 },
      renews: true
    })
  })

  it("only a save that sets the cookie (or is a due renewal) renews", () => {
    expect(Save.renews(Save.plan({ ...base, persisted: false, changed: true }, settings, 0))).toBe(true)
    expect(Save.renews(Save.plan({ ...base, rotating: true }, settings, 0))).toBe(true)
    expect(Save.renews(Save.plan({ ...base, renew: true }, settings, 0))).toBe(true)
    expect(Save.renews(Save.plan(base, settings, 60_000))).toBe(true)
    expect(Save.renews({ _tag: "Skip" })).toBe(false)
    expect(Save.renews({ _tag: "Refused" })).toBe(false)
  })

  it("a new session is created only when it holds something, and never by HEAD", () => {
    expect(Save.plan({ ...base, persisted: false }, settings, 0)).toEqual({ _tag: "Skip" })
    expect(Save.plan({ ...base, persisted: false, changed: true, mayCreate: false }, settings, 0)).toEqual({
      _tag: "Skip"
    })
    expect(Save.plan({ ...base, persisted: false, changed: true }, settings, 0)).toEqual({
      _tag: "Create",
      ttlMillis: 3_600_000,
      cookie: { _tag: "Set", maxAgeMillis: 3_600_000 }
    })
  })

  it("ttl 0: a browser-session cookie (no Max-Age), records at the store's default, renewals leave the cookie", () => {
    const zero = { ...settings, ttlMillis: 0 }
    expect(Save.plan({ ...base, persisted: false, changed: true }, zero, 0)).toEqual({
      _tag: "Create",
      ttlMillis: 0,
      cookie: { _tag: "Set", maxAgeMillis: undefined }
    })
    expect(Save.plan(base, zero, 60_000)).toEqual({
      _tag: "Update",
      ttlMillis: 0,
      cookie: { _tag: "Leave" },
      renews: true
    })
  })

  it("ttl 0 asked for (setLifetime, flush): the cookie is re-issued without Max-Age, so an old Max-Age does not end it", () => {
    // `setLifetime({ ttl: 0 })` on a session whose cookie carries `Max-Age=600`: the renewal the
    // request asked for must replace that cookie with a browser-session one.
    const zero = { ...settings, ttlMillis: 0 }
    expect(Save.plan({ ...base, renew: true }, zero, 1_000)).toEqual({
      _tag: "Update",
      ttlMillis: 0,
      cookie: { _tag: "Set", maxAgeMillis: undefined },
      renews: true
    })
    expect(Save.plan({ ...base, meta: { c: 0, r: 0, l: 0 }, renew: true }, settings, 1_000)).toMatchObject({
      cookie: { _tag: "Set", maxAgeMillis: undefined }
    })
  })

  it("a rotation moves the record and sets the new cookie", () => {
    expect(Save.plan({ ...base, rotating: true }, settings, 0)).toMatchObject({
      _tag: "Rotate",
      cookie: { _tag: "Set" }
    })
  })

  it("a retired session never renews, and its changes are refused", () => {
    expect(Save.plan({ ...base, retired: true }, settings, 10_000_000)).toEqual({ _tag: "Skip" })
    expect(Save.plan({ ...base, retired: true, changed: true }, settings, 0)).toEqual({ _tag: "Refused" })
    expect(Save.plan({ ...base, retired: true, rotating: true }, settings, 0)).toEqual({ _tag: "Refused" })
  })

  it("a session found gone gets no cookie at all: never cleared, never set", () => {
    const update = Save.plan({ ...base, renew: true }, settings, 0)
    expect(Save.cookieAfter(update, false, { _tag: "Set", maxAgeMillis: 1 })).toEqual({ _tag: "Leave" })
    const rotate = Save.plan({ ...base, rotating: true }, settings, 0)
    expect(Save.cookieAfter(rotate, false, { _tag: "Leave" })).toEqual({ _tag: "Leave" })
    expect(Save.cookieAfter(rotate, true, { _tag: "Leave" })).toEqual({ _tag: "Set", maxAgeMillis: 3_600_000 })
    expect(Save.cookieAfter({ _tag: "Skip" }, true, { _tag: "Clear" })).toEqual({ _tag: "Clear" })
  })
})

describe("Save.cookieAfterDestroy", () => {
  it("clears the cookie only when the destroyed record was still the session's own", () => {
    expect(Save.cookieAfterDestroy({ __session: { c: 0, r: 0 }, user: "ada" })).toEqual({ _tag: "Clear" })
    // gone (destroyed or regenerated away by another request), never stored, or not a record
    expect(Save.cookieAfterDestroy(undefined)).toEqual({ _tag: "Leave" })
    expect(Save.cookieAfterDestroy(null)).toEqual({ _tag: "Leave" })
    expect(Save.cookieAfterDestroy("text")).toEqual({ _tag: "Leave" })
    // retired by a rotation: the browser may hold the new session's cookie
    expect(Save.cookieAfterDestroy({ __session: { c: 0, r: 0 }, "__session.retired": 5 })).toEqual({ _tag: "Leave" })
  })
})
