import { Csrf } from "effect-session-core"
import { describe, expect, it } from "vitest"

describe("Csrf", () => {
  it("checks every method but the safe ones", () => {
    for (const method of ["GET", "HEAD", "OPTIONS", "TRACE"]) expect(Csrf.isSafeMethod(method)).toBe(true)
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"]) expect(Csrf.isSafeMethod(method)).toBe(false)
  })

  it("compares tokens exactly, whatever their lengths", () => {
    expect(Csrf.tokensMatch("abc", "abc")).toBe(true)
    expect(Csrf.tokensMatch("abc", "abd")).toBe(false)
    expect(Csrf.tokensMatch("abc", "ab")).toBe(false)
    expect(Csrf.tokensMatch("abc", "")).toBe(false)
  })

  it("recognises urlencoded and multipart forms, parameters and case aside", () => {
    expect(Csrf.formKind("application/x-www-form-urlencoded; charset=UTF-8")).toBe("urlencoded")
    expect(Csrf.formKind("Multipart/Form-Data; boundary=x")).toBe("multipart")
    expect(Csrf.formKind("application/json")).toBeUndefined()
    expect(Csrf.formKind(undefined)).toBeUndefined()
  })

  it("an empty token is none; a multipart field's token is its (first) string", () => {
    expect(Csrf.nonEmpty("")).toBeUndefined()
    expect(Csrf.nonEmpty(null)).toBeUndefined()
    expect(Csrf.fieldToken("t")).toBe("t")
    expect(Csrf.fieldToken(["t", "u"])).toBe("t")
    expect(Csrf.fieldToken([{ name: "file" }])).toBeUndefined()
    expect(Csrf.fieldToken("")).toBeUndefined()
  })

  it("reads a form body as a form parser does: a leading \"?\" is data, not a query prefix", () => {
    expect(Csrf.formFields("_token=abc&name=a").get("_token")).toBe("abc")
    expect(Csrf.formFields("?_token=abc").get("_token")).toBeNull()
    expect(Csrf.formFields("?_token=abc").get("?_token")).toBe("abc")
    expect(Csrf.formFields("a=1&_token=x%2By").get("_token")).toBe("x+y")
  })

  it("defaults to Laravel's field and the headers front-ends send", () => {
    expect(Csrf.DEFAULT_FIELD).toBe("_token")
    expect(Csrf.DEFAULT_HEADERS).toEqual(["x-csrf-token", "x-xsrf-token"])
  })
})
