import { Cookie, Id } from "effect-session-core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

/** ASCII space and tab only: what `findSessionId` trims (RFC 6265), never U+00A0 or other whitespace. */
const trimCookieWhitespace = (text: string): string => text.replace(/^[ \t]+/, "").replace(/[ \t]+$/, "")

/** The cookie pairs of a header as `findSessionId`'s JSDoc describes them: split on `;`, then on the first `=`. */
const pairsOf = (header: string): Array<{ readonly name: string; readonly value: string }> =>
  header.split(";").flatMap((segment) => {
    const eq = segment.indexOf("=")
    return eq === -1
      ? []
      : [{ name: trimCookieWhitespace(segment.slice(0, eq)), value: trimCookieWhitespace(segment.slice(eq + 1)) }]
  })

/** The documented rule, written out: the first pair named exactly `name` whose value is a well-formed ID. */
const expected = (header: string, name: string): string | undefined =>
  pairsOf(header).find((pair) => pair.name === name && Id.isWellFormed(pair.value))?.value

const NAMES = ["lagodev_session", "__Host-session", "s", "a=b", "x;y", " padded", ""] as const

/** A well-formed ID: 32 random bytes in unpadded base64url, as `Id.generate` makes them. */
const wellFormedId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) =>
  Buffer.from(bytes).toString("base64url")
)

const blank = fc.stringMatching(/^[ \t]{0,2}$/)

/** Near misses of a name: look-alikes, case, prefixes and suffixes, padding a trim must not remove. */
const nameVariant = (name: string) =>
  fc.oneof(
    fc.constant(name),
    fc.constant(name.toUpperCase()),
    fc.constant(`\u00a0${name}`),
    fc.constant(`${name}\u3000`),
    fc.constant(`"${name}"`),
    fc.constant(`${name}x`),
    fc.constant(name.slice(1)),
    fc.string({ unit: "grapheme", maxLength: 8 })
  )

/** Values around an ID: the ID, quoted, padded, cut short, standard base64, a wrong last character, anything. */
const valueVariant = fc.oneof(
  wellFormedId,
  wellFormedId.map((id) => `"${id}"`),
  wellFormedId.map((id) => `${id}=`),
  wellFormedId.map((id) => id.slice(1)),
  wellFormedId.map((id) => `${id}A`),
  wellFormedId.map((id) => id.replace(/-/g, "+").replace(/_/g, "/")),
  wellFormedId.map((id) => `${id.slice(0, 42)}B`),
  wellFormedId.map((id) => `${id.slice(0, 20)}\u00e9${id.slice(21)}`),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.string({ unit: "binary", maxLength: 50 })
)

/** A header whose pairs are built around `name`, with arbitrary junk segments between them. */
const headerAround = (name: string) =>
  fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.tuple(blank, nameVariant(name), blank, blank, valueVariant, blank) },
      { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
      { weight: 1, arbitrary: fc.constantFrom("", "=", "==", "\"", "; ;", name, `${name}=`) }
    ).map((part) => typeof part === "string" ? part : `${part[0]}${part[1]}${part[2]}=${part[3]}${part[4]}${part[5]}`),
    { maxLength: 8 }
  ).chain((parts) => fc.constantFrom(";", "; ", " ;", ";\t").map((sep) => parts.join(sep)))

const withName = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}$/),
  fc.string({ unit: "binary", maxLength: 16 })
).chain((name) => fc.tuple(fc.constant(name), fc.oneof(headerAround(name), fc.string({ unit: "binary" }))))

const check = (header: string, name: string): void => {
  const found = Cookie.findSessionId(header, name)
  expect(found).toBe(expected(header, name))
  if (found !== undefined) {
    expect(Id.isWellFormed(found)).toBe(true)
    expect(pairsOf(header).some((pair) => pair.name === name && pair.value === found)).toBe(true)
  }
}

describe("Cookie.findSessionId (properties)", () => {
  it("answers undefined or a well-formed ID found under exactly the given name, the first one there is", () => {
    fc.assert(fc.property(withName, ([name, header]) => check(header, name)), { numRuns: 1000 })
  })

  it("finds a well-formed ID wherever it is in the header, whatever surrounds it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMES.filter((name) => !/[;=]/.test(name) && name.trim() === name && name !== "")),
        headerAround("lagodev_session"),
        wellFormedId,
        headerAround("lagodev_session"),
        blank,
        (name, before, id, after, pad) => {
          // Junk before and after that already holds a match under `name` is fine: the first one wins.
          const header = `${before};${pad}${name}${pad}=${pad}${id}${pad};${after}`
          const found = Cookie.findSessionId(header, name)
          expect(found).toBeDefined()
          check(header, name)
        }
      ),
      { numRuns: 500 }
    )
  })

  it("never throws on huge headers, and still reads the rule", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1_000, max: 20_000 }),
        fc.boolean(),
        wellFormedId,
        (chunk, times, withId, id) => {
          const header = chunk.repeat(times) + (withId ? `; lagodev_session=${id}` : "")
          check(header, "lagodev_session")
        }
      ),
      { numRuns: 30 }
    )
  })

  it("reads no ID from an empty or missing header", () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        expect(Cookie.findSessionId(undefined, name)).toBeUndefined()
        expect(Cookie.findSessionId("", name)).toBeUndefined()
      }),
      { numRuns: 200 }
    )
  })
})

/**
 * The characters `String.prototype.indexOf` walks while `findSessionId` reads `header`: the only
 * searching it does, so the count is its work (charCodeAt trims stay inside one pair).
 */
const indexOfWork = (header: string, name: string): { readonly found: string | undefined; readonly work: number } => {
  const original = String.prototype.indexOf
  let work = 0
  String.prototype.indexOf = function(this: string, search: string, from?: number) {
    const result = original.call(this, search, from)
    if (this === header) work += (result === -1 ? this.length : result + search.length) - (from ?? 0)
    return result
  } as typeof String.prototype.indexOf
  try {
    return { found: Cookie.findSessionId(header, name), work }
  } finally {
    String.prototype.indexOf = original
  }
}

describe("Cookie.findSessionId (linear work on adversarial headers)", () => {
  const id = Id.generate()
  /** Headers a client controls, up to 16 KB, each shaped against one way a parser can go quadratic. */
  const shapes: Array<[string, (n: number) => string]> = [
    ["only \";\"", (n) => ";".repeat(n)],
    ["only \";\", then the session cookie", (n) => `${";".repeat(n)}lagodev_session=${id}`],
    ["\";\" with one \"=\" at the very end", (n) => `${";".repeat(n)}=`],
    ["only \"=\"", (n) => "=".repeat(n)],
    ["\"a;\" pairs without \"=\"", (n) => "a;".repeat(n / 2)],
    ["\"=;\" pairs", (n) => "=;".repeat(n / 2)],
    ["blank names and values", (n) => " \t= \t;".repeat(n / 6)],
    ["pairs named like the cookie, malformed values", (n) => "lagodev_session=x;".repeat(n / 18)],
    ["whitespace with no separator", (n) => " ".repeat(n)]
  ]

  for (const [shape, make] of shapes) {
    it(`${shape}: at most two passes over the header, whatever its length, and the documented answer`, () => {
      for (const n of [1_024, 4_096, 16_384]) {
        const header = make(n)
        const { found, work } = indexOfWork(header, "lagodev_session")
        expect(found).toBe(expected(header, "lagodev_session"))
        // each of ";" and "=" is searched for over disjoint stretches: one pass each
        expect(work, `${shape}, ${header.length} characters`).toBeLessThanOrEqual(2 * header.length + 2)
      }
    })
  }

  it("the count sees the parser's work: reading a header walks all of it", () => {
    // if findSessionId stops searching with indexOf, this fails, and the bound above must be re-measured
    const header = `${"a=1; ".repeat(1_000)}lagodev_session=${id}`
    const { found, work } = indexOfWork(header, "lagodev_session")
    expect(found).toBe(id)
    expect(work).toBeGreaterThanOrEqual(header.length)
  })
})
