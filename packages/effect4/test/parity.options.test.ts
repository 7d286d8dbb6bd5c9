/**
 * Parity of the two lines (effect 3 / effect 4): middleware option validation (the internal
 * `resolve` that `Session.middleware` / `Session.validateOptions` run), for the same inputs on
 * both lines. Twin: test/parity.options.test.ts (identical body).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Result } from "effect"
import { resolve } from "../src/internal/options.js"

const resolveAny = (input: unknown) => {
  const r = resolve(input as never)
  return Result.isSuccess(r) ? { ok: r.success } : { err: r.failure }
}
// ---------------------------------------------------------------------------------------------
// Everything below is identical on both lines.
// ---------------------------------------------------------------------------------------------

const show = (resolved: unknown): unknown => {
  const r = resolved as { ok?: Record<string, unknown>; err?: { option: string; message: string } }
  if (r.err !== undefined) return { err: `${r.err.option}: ${r.err.message}` }
  const c = r.ok!
  return {
    ok: {
      cookieName: c.cookieName,
      ttlMillis: c.ttlMillis,
      absoluteMillis: c.absoluteMillis,
      touchAfterMillis: c.touchAfterMillis,
      regenerateGraceMillis: c.regenerateGraceMillis,
      lock: c.lock,
      cookie: JSON.stringify(c.cookie)
    }
  }
}

const INPUTS: ReadonlyArray<readonly [string, unknown]> = [
  ["defaults", {}],
  ["ttl 0", { ttl: 0 }],
  ["ttl 0n", { ttl: 0n }],
  ["ttl '0 seconds'", { ttl: "0 seconds" }],
  ["ttl ' 2 hours '", { ttl: " 2 hours " }],
  ["ttl '1.5 seconds'", { ttl: "1.5 seconds" }],
  ["ttl '1500 micros'", { ttl: "1500 micros" }],
  ["ttl '1 nanos'", { ttl: "1 nanos" }],
  ["ttl '2 hour'", { ttl: "2 hour" }],
  ["ttl '2h'", { ttl: "2h" }],
  ["ttl '2  hours' (two spaces)", { ttl: "2  hours" }],
  ["ttl '1e3 millis'", { ttl: "1e3 millis" }],
  ["ttl '-0 seconds'", { ttl: "-0 seconds" }],
  ["ttl '-5 minutes'", { ttl: "-5 minutes" }],
  ["ttl 120", { ttl: 120 }],
  ["ttl 5n", { ttl: 5n }],
  ["ttl NaN", { ttl: NaN }],
  ["ttl [7200, 0]", { ttl: [7200, 0] }],
  ["ttl [1.5, 0]", { ttl: [1.5, 0] }],
  ["ttl [0, 1e9]", { ttl: [0, 1e9] }],
  ["ttl [Infinity, 0]", { ttl: [Infinity, 0] }],
  ["ttl [1]", { ttl: [1] }],
  ["ttl [-1, 0]", { ttl: [-1, 0] }],
  ["ttl '1e999 hours' (regex refuses)", { ttl: "1e999 hours" }],
  ["ttl '999999999999 weeks'", { ttl: "999999999999 weeks" }],
  ["ttl null", { ttl: null }],
  ["ttl true", { ttl: true }],
  ["ttl Duration.hours(1)", { ttl: Duration.hours(1) }],
  ["ttl Duration.infinity", { ttl: Duration.infinity }],
  ["ttl Duration.nanos(1500000n)", { ttl: Duration.nanos(1500000n) }],
  ["ttl Duration.zero", { ttl: Duration.zero }],
  ["ttl 1 minute, touchAfter default", { ttl: "1 minutes" }],
  ["ttl 10 seconds", { ttl: "10 seconds" }],
  ["touchAfter = ttl", { ttl: "10 minutes", touchAfter: "10 minutes" }],
  ["touchAfter 0", { ttl: "10 minutes", touchAfter: 0 }],
  ["touchAfter with ttl 0", { ttl: 0, touchAfter: "2 hours" }],
  ["absoluteTimeout 0", { absoluteTimeout: 0 }],
  ["absoluteTimeout '0 seconds'", { absoluteTimeout: "0 seconds" }],
  ["absoluteTimeout < ttl", { ttl: "2 hours", absoluteTimeout: "1 hours" }],
  ["regenerateGrace 0", { regenerateGrace: 0 }],
  ["regenerateGrace '30 seconds'", { regenerateGrace: "30 seconds" }],
  ["lock true", { lock: true }],
  ["lock false", { lock: false }],
  ["lock {}", { lock: {} }],
  ["lock { wait: 0 }", { lock: { wait: 0 } }],
  ["lock { ttl: 0 }", { lock: { ttl: 0 } }],
  ["lock { ttl: null }", { lock: { ttl: null } }],
  ["lock null", { lock: null }],
  ["lock []", { lock: [] }],
  ["cookieName ''", { cookieName: "" }],
  ["cookieName 'a b'", { cookieName: "a b" }],
  ["cookieName 'a:b'", { cookieName: "a:b" }],
  ["cookieName 'a=b'", { cookieName: "a=b" }],
  ["cookieName 'a/b'", { cookieName: "a/b" }],
  ["cookieName 'a@b'", { cookieName: "a@b" }],
  ["cookieName 'a{b'", { cookieName: "a{b" }],
  ["cookieName 'a\"b'", { cookieName: "a\"b" }],
  ["cookieName 'é'", { cookieName: "é" }],
  ["cookieName '__Host-s'", { cookieName: "__Host-s" }],
  ["cookieName '__Host-s' insecure", { cookieName: "__Host-s", insecure: true }],
  ["cookieName '__Host-s' path /app", { cookieName: "__Host-s", path: "/app" }],
  ["cookieName '__Host-s' domain", { cookieName: "__Host-s", domain: "example.com" }],
  ["cookieName '__host-s' (lower case)", { cookieName: "__host-s", insecure: true }],
  ["cookieName '__Secure-s' insecure", { cookieName: "__Secure-s", insecure: true }],
  ["cookieName 42", { cookieName: 42 }],
  ["domain 'example.com'", { domain: "example.com" }],
  ["domain '.example.com'", { domain: ".example.com" }],
  ["domain 'exa mple.com'", { domain: "exa mple.com" }],
  ["domain 'a;b'", { domain: "a;b" }],
  ["domain ''", { domain: "" }],
  ["domain 'localhost:3000'", { domain: "localhost:3000" }],
  ["domain 'ex_ample.com'", { domain: "ex_ample.com" }],
  ["domain 'xn--bcher-kva.example'", { domain: "xn--bcher-kva.example" }],
  ["domain 'bücher.example'", { domain: "bücher.example" }],
  ["path '/app'", { path: "/app" }],
  ["path 'app'", { path: "app" }],
  ["path '/a b'", { path: "/a b" }],
  ["path '/a;b'", { path: "/a;b" }],
  ["path '/é'", { path: "/é" }],
  ["path '/a\\u0001'", { path: "/a\u0001" }],
  ["sameSite none insecure", { sameSite: "none", insecure: true }],
  ["sameSite none", { sameSite: "none" }],
  ["sameSite 'Lax'", { sameSite: "Lax" }],
  ["partitioned", { partitioned: true }],
  ["partitioned insecure", { partitioned: true, insecure: true }],
  ["priority high", { priority: "high" }],
  ["priority 'High'", { priority: "High" }],
  ["insecure 'true'", { insecure: "true" }],
  ["onError 5", { onError: 5 }],
  ["options null", null],
  ["options 'x'", "x"]
]

describe("parity options: resolve() of the same inputs", () => {
  it("every input resolves to the same settings or the same SessionConfigError", () => {
    const results = INPUTS.map(([name, input]) => {
      let out: unknown
      try {
        out = show(resolveAny(input))
      } catch (e) {
        out = { threw: String(e) }
      }
      return [name, out]
    })
    expect(results).toMatchInlineSnapshot(`
      [
        [
          "defaults",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "ttl 0",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 0,
            },
          },
        ],
        [
          "ttl 0n",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 0,
            },
          },
        ],
        [
          "ttl '0 seconds'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 0,
            },
          },
        ],
        [
          "ttl ' 2 hours '",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "ttl '1.5 seconds'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 150,
              "ttlMillis": 1500,
            },
          },
        ],
        [
          "ttl '1500 micros'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 0.15,
              "ttlMillis": 1.5,
            },
          },
        ],
        [
          "ttl '1 nanos'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 1e-7,
              "ttlMillis": 0.000001,
            },
          },
        ],
        [
          "ttl '2 hour'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "ttl '2h'",
          {
            "err": "ttl: ttl "2h" does not parse as a duration: write a number, a space and a unit (nanos, micros, millis, seconds, minutes, hours, days or weeks), e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl '2  hours' (two spaces)",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "ttl '1e3 millis'",
          {
            "err": "ttl: ttl "1e3 millis" does not parse as a duration: write a number, a space and a unit (nanos, micros, millis, seconds, minutes, hours, days or weeks), e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl '-0 seconds'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 0,
            },
          },
        ],
        [
          "ttl '-5 minutes'",
          {
            "err": "ttl: ttl must not be negative, got "-5 minutes"; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl 120",
          {
            "err": "ttl: ttl is a bare number (120), which would be read as milliseconds: use a Duration or a string such as "2 hours" (e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)); write Duration.millis(n) if you do mean milliseconds",
          },
        ],
        [
          "ttl 5n",
          {
            "err": "ttl: ttl is a bare number (5n), which would be read as nanoseconds: use a Duration or a string such as "2 hours" (e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)); write Duration.millis(n) if you do mean milliseconds",
          },
        ],
        [
          "ttl NaN",
          {
            "err": "ttl: ttl is a bare number (NaN), which would be read as milliseconds: use a Duration or a string such as "2 hours" (e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)); write Duration.millis(n) if you do mean milliseconds",
          },
        ],
        [
          "ttl [7200, 0]",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "ttl [1.5, 0]",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 150,
              "ttlMillis": 1500,
            },
          },
        ],
        [
          "ttl [0, 1e9]",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 100,
              "ttlMillis": 1000,
            },
          },
        ],
        [
          "ttl [Infinity, 0]",
          {
            "err": "ttl: ttl must be a finite duration, got [Infinity, 0]; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl [1]",
          {
            "err": "ttl: ttl [1] is not a [seconds, nanos] pair; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl [-1, 0]",
          {
            "err": "ttl: ttl must not be negative, got [-1, 0]; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl '1e999 hours' (regex refuses)",
          {
            "err": "ttl: ttl "1e999 hours" does not parse as a duration: write a number, a space and a unit (nanos, micros, millis, seconds, minutes, hours, days or weeks), e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl '999999999999 weeks'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 604799999999395200000,
            },
          },
        ],
        [
          "ttl null",
          {
            "err": "ttl: ttl must be a Duration or a string such as "2 hours", got null; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl true",
          {
            "err": "ttl: ttl must be a Duration or a string such as "2 hours", got true; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl Duration.hours(1)",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 3600000,
            },
          },
        ],
        [
          "ttl Duration.infinity",
          {
            "err": "ttl: ttl must be a finite duration, got Infinity; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "ttl Duration.nanos(1500000n)",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 0.15,
              "ttlMillis": 1.5,
            },
          },
        ],
        [
          "ttl Duration.zero",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 0,
            },
          },
        ],
        [
          "ttl 1 minute, touchAfter default",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 6000,
              "ttlMillis": 60000,
            },
          },
        ],
        [
          "ttl 10 seconds",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 1000,
              "ttlMillis": 10000,
            },
          },
        ],
        [
          "touchAfter = ttl",
          {
            "err": "touchAfter: touchAfter must be shorter than ttl, or active sessions would expire",
          },
        ],
        [
          "touchAfter 0",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 0,
              "ttlMillis": 600000,
            },
          },
        ],
        [
          "touchAfter with ttl 0",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 7200000,
              "ttlMillis": 0,
            },
          },
        ],
        [
          "absoluteTimeout 0",
          {
            "err": "absoluteTimeout: absoluteTimeout must be greater than zero when set",
          },
        ],
        [
          "absoluteTimeout '0 seconds'",
          {
            "err": "absoluteTimeout: absoluteTimeout must be greater than zero when set",
          },
        ],
        [
          "absoluteTimeout < ttl",
          {
            "ok": {
              "absoluteMillis": 3600000,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "regenerateGrace 0",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "regenerateGrace '30 seconds'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 30000,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "lock true",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": {
                "ttlMillis": 10000,
                "waitMillis": 10000,
              },
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "lock false",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "lock {}",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": {
                "ttlMillis": 10000,
                "waitMillis": 10000,
              },
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "lock { wait: 0 }",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": {
                "ttlMillis": 10000,
                "waitMillis": 0,
              },
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "lock { ttl: 0 }",
          {
            "err": "lock.ttl: lock.ttl must be greater than zero",
          },
        ],
        [
          "lock { ttl: null }",
          {
            "err": "lock.ttl: lock.ttl must be a Duration or a string such as "2 hours", got null; use e.g. "90 seconds", "30 minutes", "2 hours", "14 days" or Duration.minutes(30)",
          },
        ],
        [
          "lock null",
          {
            "err": "lock: lock must be true, false or { ttl, wait }, got null",
          },
        ],
        [
          "lock []",
          {
            "err": "lock: lock must be true, false or { ttl, wait }, got []",
          },
        ],
        [
          "cookieName ''",
          {
            "err": "cookieName: cookieName must not be empty",
          },
        ],
        [
          "cookieName 'a b'",
          {
            "err": "cookieName: cookieName "a b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'a:b'",
          {
            "err": "cookieName: cookieName "a:b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'a=b'",
          {
            "err": "cookieName: cookieName "a=b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'a/b'",
          {
            "err": "cookieName: cookieName "a/b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'a@b'",
          {
            "err": "cookieName: cookieName "a@b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'a{b'",
          {
            "err": "cookieName: cookieName "a{b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'a"b'",
          {
            "err": "cookieName: cookieName "a\\"b" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName 'é'",
          {
            "err": "cookieName: cookieName "é" is not a valid cookie name: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ only (an RFC 6265 token: no spaces, no "=", ";", ",", quotes or non-ASCII), e.g. "app_session" or "__Host-session"",
          },
        ],
        [
          "cookieName '__Host-s'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/"}",
              "cookieName": "__Host-s",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "cookieName '__Host-s' insecure",
          {
            "err": "cookieName: a __Host- cookie must be Secure: remove insecure: true",
          },
        ],
        [
          "cookieName '__Host-s' path /app",
          {
            "err": "path: a __Host- cookie must have path "/"",
          },
        ],
        [
          "cookieName '__Host-s' domain",
          {
            "err": "domain: a __Host- cookie must not set a domain",
          },
        ],
        [
          "cookieName '__host-s' (lower case)",
          {
            "err": "cookieName: a __Host- cookie must be Secure: remove insecure: true",
          },
        ],
        [
          "cookieName '__Secure-s' insecure",
          {
            "err": "cookieName: a __Secure- cookie must be Secure: remove insecure: true",
          },
        ],
        [
          "cookieName 42",
          {
            "err": "cookieName: cookieName must be a string such as "__Host-session", got 42",
          },
        ],
        [
          "domain 'example.com'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/","domain":"example.com"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "domain '.example.com'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/","domain":".example.com"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "domain 'exa mple.com'",
          {
            "err": "domain: domain "exa mple.com" is not a valid cookie domain: give a host name such as "example.com", with no ";", spaces or port, in ASCII (an internationalised name in its xn-- form)",
          },
        ],
        [
          "domain 'a;b'",
          {
            "err": "domain: domain "a;b" is not a valid cookie domain: give a host name such as "example.com", with no ";", spaces or port, in ASCII (an internationalised name in its xn-- form)",
          },
        ],
        [
          "domain ''",
          {
            "err": "domain: domain "" is not a valid cookie domain: give a host name such as "example.com", with no ";", spaces or port, in ASCII (an internationalised name in its xn-- form)",
          },
        ],
        [
          "domain 'localhost:3000'",
          {
            "err": "domain: domain "localhost:3000" is not a valid cookie domain: give a host name such as "example.com", with no ";", spaces or port, in ASCII (an internationalised name in its xn-- form)",
          },
        ],
        [
          "domain 'ex_ample.com'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/","domain":"ex_ample.com"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "domain 'xn--bcher-kva.example'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/","domain":"xn--bcher-kva.example"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "domain 'bücher.example'",
          {
            "err": "domain: domain "bücher.example" is not a valid cookie domain: give a host name such as "example.com", with no ";", spaces or port, in ASCII (an internationalised name in its xn-- form)",
          },
        ],
        [
          "path '/app'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/app"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "path 'app'",
          {
            "err": "path: path "app" must start with "/", e.g. "/" or "/app"",
          },
        ],
        [
          "path '/a b'",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/a b"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "path '/a;b'",
          {
            "err": "path: path "/a;b" is not a valid cookie path: give a path starting with "/" such as "/app", with no ";" or control characters",
          },
        ],
        [
          "path '/é'",
          {
            "err": "path: path "/é" is not a valid cookie path: give a path starting with "/" such as "/app", with no ";" or control characters",
          },
        ],
        [
          "path '/a\\u0001'",
          {
            "err": "path: path "/a\\u0001" is not a valid cookie path: give a path starting with "/" such as "/app", with no ";" or control characters",
          },
        ],
        [
          "sameSite none insecure",
          {
            "err": "sameSite: sameSite "none" requires a Secure cookie: browsers reject it with insecure: true",
          },
        ],
        [
          "sameSite none",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"none","path":"/"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "sameSite 'Lax'",
          {
            "err": "sameSite: sameSite must be "lax", "strict" or "none", got "Lax"",
          },
        ],
        [
          "partitioned",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/","partitioned":true}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "partitioned insecure",
          {
            "err": "partitioned: partitioned cookies must be Secure: remove insecure: true",
          },
        ],
        [
          "priority high",
          {
            "ok": {
              "absoluteMillis": Infinity,
              "cookie": "{"httpOnly":true,"secure":true,"sameSite":"lax","path":"/","priority":"high"}",
              "cookieName": "lagodev_session",
              "lock": undefined,
              "regenerateGraceMillis": 0,
              "touchAfterMillis": 60000,
              "ttlMillis": 7200000,
            },
          },
        ],
        [
          "priority 'High'",
          {
            "err": "priority: priority must be "low", "medium" or "high", got "High"",
          },
        ],
        [
          "insecure 'true'",
          {
            "err": "insecure: insecure must be true or false, got "true"",
          },
        ],
        [
          "onError 5",
          {
            "err": "onError: onError must be a function (the failure handler), got 5",
          },
        ],
        [
          "options null",
          {
            "err": "options: the options must be an object (or omitted), got null",
          },
        ],
        [
          "options 'x'",
          {
            "err": "options: the options must be an object (or omitted), got string",
          },
        ],
      ]
    `)
  })
})
