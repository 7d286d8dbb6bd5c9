/**
 * The store conformance suite: the behaviours every `SessionStore` must have, as `@effect/vitest`
 * tests. `MemoryStore`, `RedisStore` and `SqlStore` (PostgreSQL, MariaDB, SQLite) all run it in
 * this repository; a store you write runs it in one line of a test file:
 *
 * ```ts
 * // test/MyStore.test.ts
 * import { MemoryStore } from "effect-session"
 * import * as SessionStoreSuite from "effect-session/SessionStoreSuite"
 *
 * // your store's layer in place of the memory store's
 * SessionStoreSuite.run("MyStore", MemoryStore.layer({ ttl: "1 hour" }), { defaultTtl: "1 hour" })
 * ```
 *
 * The optional `patch`, `rotate` and `lock` capabilities are tested when the store offers them (their tests
 * are reported as skipped, with the reason, when it does not). Import it only from test files: it
 * needs `vitest` and `@effect/vitest`.
 *
 * @since 0.1.0
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { randomBytes } from "node:crypto"
import { decodeDuration } from "./internal/options.js"
import type { SessionData } from "./SessionCodec.js"
import type { SessionStoreError } from "./SessionError.js"
import { type SessionPatch, SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * What the suite needs to know beyond the store's layer. Every field is optional; a case whose
 * input is missing is reported as skipped, with the option it needs in its name.
 *
 * @example
 * ```ts
 * import type * as SessionStoreSuite from "effect-session/SessionStoreSuite"
 * import { MemoryStore } from "effect-session"
 *
 * const options: SessionStoreSuite.Options = {
 *   defaultTtl: "2 hours",
 *   noExpiry: MemoryStore.layer({ ttl: 0 })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The TTL the store under test applies to writes with `Duration.zero` (its default). */
  readonly defaultTtl?: Duration.DurationInput | undefined
  /** The same store configured with default TTL `0`: records written with `Duration.zero` never expire. */
  readonly noExpiry?: Layer.Layer<SessionStore, unknown> | undefined
  /**
   * The same store pointed at a backend that cannot be reached (a closed port, a stopped server).
   * Building it, or its first operations, must fail with `SessionStoreError` within
   * `unavailableWithin`: never a defect, never a hang.
   */
  readonly unavailable?: Layer.Layer<SessionStore, unknown> | undefined
  /** How long the unavailable store may take to fail. Default 15 seconds. */
  readonly unavailableWithin?: Duration.DurationInput | undefined
  /** Size of the large-value case. Default 1 MiB. */
  readonly largeValueBytes?: number | undefined
  /** Per-test timeout in milliseconds. Default 30 seconds. */
  readonly timeout?: number | undefined
  /**
   * The optional capabilities to test. Named ones must be present: a store (or a wrapper around
   * one) that lost a capability it should have fails instead of skipping. Default: every
   * capability the store offers is tested, and the others are reported as skipped.
   */
  readonly capabilities?: ReadonlyArray<Capability> | undefined
}

/**
 * The optional capabilities of `SessionStoreService` the suite has cases for.
 *
 * @example
 * ```ts
 * import type * as SessionStoreSuite from "effect-session/SessionStoreSuite"
 *
 * const all: ReadonlyArray<SessionStoreSuite.Capability> = ["patch", "rotate", "lock"]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Capability = "patch" | "rotate" | "lock"

/** A fresh ID per case and run: shared backends never see two runs collide. */
const makeIds = (count: number): Array<string> => {
  const run = randomBytes(9).toString("base64url")
  return Array.from({ length: count }, (_, i) => `suite-${run}-${i}`)
}

/** Runs `f` with fresh IDs and destroys them afterwards (best effort). */
const withIds = <A, E, R>(
  count: number,
  f: (ids: Array<string>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | SessionStore> =>
  Effect.flatMap(SessionStore, (store) => {
    const ids = makeIds(count)
    return Effect.ensuring(
      f(ids),
      Effect.ignore(Effect.forEach(ids, (id) => store.destroy(id), { concurrency: 10, discard: true }))
    )
  })

const withId = <A, E, R>(f: (id: string) => Effect.Effect<A, E, R>) => withIds(1, ([id]) => f(id!))

/** A record with the keys JavaScript treats specially, as own, enumerable data properties. */
const specialKeys = (): SessionData => {
  const record: Record<string, unknown> = {}
  for (
    const [key, value] of [
      ["__proto__", { polluted: true }],
      ["constructor", "not a function"],
      ["hasOwnProperty", 1],
      ["toString", [1, 2]],
      ["prototype", null]
    ] as const
  ) {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return record
}

/** What a record looks like after the codec: JSON's own normalisations (`-0` → `0`, …) applied. */
const normalised = (record: SessionData): SessionData => JSON.parse(JSON.stringify(record))

const rich: SessionData = {
  user: { id: 42, name: "Ada Lovelace", roles: ["admin", "ops"] },
  empty_array: [],
  empty_object: {},
  nested: [[], {}, [[]], [{}], { a: [] }],
  nothing: null,
  yes: true,
  no: false,
  zero: 0,
  float: 0.1 + 0.2,
  negative: -1.5e-7,
  max_safe: Number.MAX_SAFE_INTEGER,
  beyond_safe: 2 ** 60,
  huge: 1e300,
  text: "",
  unicode: "ünïcödé 日本語 😀 \u2028 \u0000 \"quoted\" \\ back\\slash",
  "": "the empty key",
  "key with spaces, dots. and \"quotes\"": 1,
  "x": "a key named like the Redis store's expiry field"
}

/** Patches with their starting records: the store's `patch` must give `applyPatch`'s result. */
const patchFixtures: ReadonlyArray<readonly [name: string, record: SessionData, patch: SessionPatch]> = [
  [
    "set, remove and add together",
    { a: 1, b: "x", c: [1] },
    { clear: false, remove: ["b"], set: [["d", { e: [] }]], add: [["a", 2]] }
  ],
  [
    "empty arrays and objects keep their type",
    { a: [], b: {} },
    { clear: false, remove: [], set: [["c", []], ["d", {}], ["e", [[], {}, { f: [] }]]], add: [] }
  ],
  [
    "clear, then set and add",
    { a: 1, b: 2, c: { d: 3 } },
    { clear: true, remove: [], set: [["c", 3]], add: [["a", 1]] }
  ],
  [
    "add to missing, non-number and just-set keys",
    { s: "5", arr: [1], t: true, n: null, o: { v: 1 } },
    {
      clear: false,
      remove: ["gone"],
      set: [["k", 10]],
      add: [["s", 1], ["arr", 1], ["t", 1], ["n", 1], ["o", 1], ["missing", -2.5], ["k", 5], ["k", 0.25]]
    }
  ],
  [
    "remove then set one key; exact floats and large integers",
    { f: 0.1, big: Number.MAX_SAFE_INTEGER, neg: -0.5, keep: "kept" },
    {
      clear: false,
      remove: ["f", "never-there"],
      set: [["f", 0.2]],
      add: [["f", 0.1], ["big", 2], ["neg", 0.5], ["tiny", 1e-7], ["large", 1e21], ["third", 1 / 3]]
    }
  ],
  [
    "keys such as __proto__, constructor and hasOwnProperty",
    { constructor: 1 },
    {
      clear: false,
      remove: [],
      set: [["__proto__", { polluted: true }], ["toString", []]],
      add: [["constructor", 1], ["hasOwnProperty", 1]]
    }
  ],
  [
    "unicode keys and values",
    { "ключ": "значение" },
    { clear: false, remove: [], set: [["😀", "\u2028\u0000\"\\"]], add: [["ключ", 1]] }
  ]
]

const expectStoreError = (
  exit: Exit.Exit<unknown, unknown>,
  reasons: ReadonlyArray<SessionStoreError["reason"]>
): void => {
  expect(Exit.isFailure(exit), "expected a failure").toBe(true)
  if (Exit.isSuccess(exit)) return
  const failure = Cause.failureOption(exit.cause)
  expect(Option.isSome(failure), `expected a typed failure, got ${Cause.pretty(exit.cause)}`).toBe(true)
  const error = Option.getOrThrow(failure) as SessionStoreError
  expect(error._tag).toBe("SessionStoreError")
  expect(reasons).toContain(error.reason)
}

/** The suite's own duration options follow the library's rule: a bare number is refused. */
const suiteDuration = (option: string, input: Duration.DurationInput): Duration.Duration =>
  Either.getOrThrow(decodeDuration(option, input))

const noteSkipped = (name: string, why: string) => it.skip(`${name} (skipped: ${why})`, () => {})

/**
 * Registers the conformance suite for the store built by `layer`, as a `describe` block named
 * `name`. The layer is built once for the block (and released after it); cases that drive time use
 * `TestClock`, except those about locks, which wait in real time.
 *
 * @example
 * ```ts
 * // test/MemoryStore.conformance.test.ts
 * import { MemoryStore } from "effect-session"
 * import * as SessionStoreSuite from "effect-session/SessionStoreSuite"
 *
 * SessionStoreSuite.run("MemoryStore", MemoryStore.layer(), {
 *   defaultTtl: "2 hours",
 *   noExpiry: MemoryStore.layer({ ttl: 0 })
 * })
 * ```
 *
 * @since 0.1.0
 * @category suites
 */
export const run = (name: string, layer: Layer.Layer<SessionStore, unknown>, options: Options = {}): void => {
  const timeout = options.timeout ?? 30_000
  describe(name, async () => {
    const runtime = ManagedRuntime.make(layer)
    afterAll(() => runtime.dispose())
    const built = await runtime.runPromiseExit(SessionStore)
    if (Exit.isFailure(built)) {
      it("builds the store layer", () => {
        throw new Error(`the store layer failed to build: ${Cause.pretty(built.cause)}`)
      })
      return
    }
    const store: SessionStoreService = built.value
    const provide = Effect.provideService(SessionStore, store)
    /** The record under `id` is exactly `applyPatch(record, changes)`, keys and all. */
    const expectPatched = (id: string, record: SessionData, changes: SessionPatch) =>
      Effect.map(store.read(id), (read) => {
        const found = Option.getOrThrow(read)
        const expected = normalised(SessionStore.applyPatch(record, changes))
        expect(found).toStrictEqual(expected)
        expect(Object.keys(found).sort()).toEqual(Object.keys(expected).sort())
      })
    /** `it.effect` (with `TestClock`) on the store under test */
    const test = <E>(title: string, body: Effect.Effect<void, E, SessionStore>) =>
      it.effect(title, () => provide(body), timeout)
    /** `it.live` (real time) on the store under test */
    const live = <E>(title: string, body: Effect.Effect<void, E, SessionStore>) =>
      it.live(title, () => provide(body), timeout)

    /**
     * Registers `cases` for a capability when it is to be tested: present, or required by
     * `options.capabilities` (then a missing one is a failing case).
     */
    const capability = <K extends Capability>(
      key: K,
      title: string,
      cases: (operation: NonNullable<SessionStoreService[K]>) => void
    ) => {
      const wanted = options.capabilities === undefined || options.capabilities.includes(key)
      const operation = store[key]
      if (!wanted) return noteSkipped(key, "not among options.capabilities")
      if (operation === undefined) {
        if (options.capabilities === undefined) return noteSkipped(key, `the store has no ${key} capability`)
        return it(`has the ${key} capability (options.capabilities names it)`, () => {
          throw new Error(`the store has no ${key}, but options.capabilities names it`)
        })
      }
      describe(title, () => cases(operation as NonNullable<SessionStoreService[K]>))
    }

    describe("read, write, destroy", () => {
      test(
        "a read of an ID that was never written is none, not an error",
        withId((id) =>
          Effect.gen(function*() {
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )

      test(
        "a written record reads back exactly: nested JSON, [] and {}, floats, large numbers, unicode, odd keys",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, rich, Duration.minutes(5))
            const found = yield* store.read(id)
            expect(Option.isSome(found)).toBe(true)
            expect(Option.getOrThrow(found)).toStrictEqual(normalised(rich))
            expect(Object.keys(Option.getOrThrow(found)).sort()).toEqual(Object.keys(rich).sort())
          })
        )
      )

      test(
        "the store keeps its own copy: changing what was written or what a read returned changes nothing stored",
        withId((id) =>
          Effect.gen(function*() {
            const written = { cart: { items: ["a"] }, n: 1 }
            yield* store.write(id, written, Duration.minutes(5))
            written.cart.items.push("written later")
            written.n = 2
            const first = Option.getOrThrow(yield* store.read(id)) as typeof written
            first.cart.items.push("read later")
            first.n = 3
            const second = Option.getOrThrow(yield* store.read(id))
            expect(second).toStrictEqual({ cart: { items: ["a"] }, n: 1 })
            expect(second).not.toBe(first)
          })
        )
      )

      test(
        "an empty record is a record: it reads back as {}, not as none",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, {}, Duration.minutes(5))
            expect(yield* store.read(id)).toEqual(Option.some({}))
          })
        )
      )

      test(
        "a write replaces the whole record: keys it does not have are gone",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { a: 1, b: [1, 2], c: "old" }, Duration.minutes(5))
            yield* store.write(id, { b: [], d: { e: 1 } }, Duration.minutes(5))
            expect(yield* store.read(id)).toEqual(Option.some({ b: [], d: { e: 1 } }))
          })
        )
      )

      test(
        "destroy removes the record, and destroying a missing record succeeds",
        withIds(2, ([id, other]) =>
          Effect.gen(function*() {
            yield* store.write(id!, { a: 1 }, Duration.minutes(5))
            yield* store.write(other!, { b: 2 }, Duration.minutes(5))
            yield* store.destroy(id!)
            expect(yield* store.read(id!)).toEqual(Option.none())
            expect(yield* store.read(other!)).toEqual(Option.some({ b: 2 }))
            yield* store.destroy(id!)
            yield* store.destroy(`${id}-never-written`)
          }))
      )

      test(
        "a value of about 1 MB round-trips",
        withId((id) =>
          Effect.gen(function*() {
            const bytes = options.largeValueBytes ?? 1024 * 1024
            const record = {
              blob: "x".repeat(Math.floor(bytes * 0.75)).replace(/x{100}/g, (s, i: number) => `${i % 9}${s.slice(1)}`),
              rows: Array.from({ length: Math.floor(bytes / 4 / 32) }, (_, i) => ({ i, v: "ü".repeat(8) }))
            }
            yield* store.write(id, record, Duration.minutes(5))
            expect(yield* store.read(id)).toEqual(Option.some(record))
          })
        )
      )

      test(
        "keys such as __proto__, constructor and hasOwnProperty are plain data",
        withId((id) =>
          Effect.gen(function*() {
            const record = specialKeys()
            yield* store.write(id, record, Duration.minutes(5))
            const found = Option.getOrThrow(yield* store.read(id))
            expect(Object.keys(found).sort()).toEqual(Object.keys(record).sort())
            expect(Object.getOwnPropertyDescriptor(found, "__proto__")?.value).toEqual({ polluted: true })
            expect(found.constructor).toBe("not a function")
            expect(found.hasOwnProperty).toBe(1)
            const proto = Object.getPrototypeOf(found)
            expect(proto === Object.prototype || proto === null).toBe(true)
            expect(({} as Record<string, unknown>).polluted).toBeUndefined()
          })
        )
      )

      test(
        "100 concurrent writes to different IDs all land",
        withIds(100, (ids) =>
          Effect.gen(function*() {
            yield* Effect.forEach(ids, (id, i) => store.write(id, { i, id }, Duration.minutes(5)), {
              concurrency: "unbounded",
              discard: true
            })
            const found = yield* Effect.forEach(ids, (id) => store.read(id), { concurrency: 20 })
            expect(found).toEqual(ids.map((id, i) => Option.some({ i, id })))
          }))
      )

      test(
        "a value that is not plain JSON fails with SessionStoreError Unencodable and writes nothing",
        withId((id) =>
          Effect.gen(function*() {
            const cycle: Record<string, unknown> = {}
            cycle.self = cycle
            const refused: ReadonlyArray<unknown> = [
              () => 1,
              10n,
              new Date(0),
              new Map([["a", 1]]),
              Number.NaN,
              Infinity,
              cycle,
              [undefined],
              Symbol("s")
            ]
            for (const value of refused) {
              expectStoreError(yield* Effect.exit(store.write(id, { ok: 1, bad: value }, Duration.minutes(5))), [
                "Unencodable"
              ])
            }
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )
    })

    describe("expiry (driven by TestClock)", async () => {
      test(
        "a record is alive 1 ms before its TTL and gone exactly at it",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { a: 1 }, Duration.minutes(1))
            yield* TestClock.adjust(Duration.millis(59_999))
            expect(yield* store.read(id)).toEqual(Option.some({ a: 1 }))
            yield* TestClock.adjust(Duration.millis(1))
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )

      test(
        "a rewrite resets the TTL",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { a: 1 }, Duration.minutes(1))
            yield* TestClock.adjust(Duration.seconds(50))
            yield* store.write(id, { a: 2 }, Duration.minutes(1))
            yield* TestClock.adjust(Duration.seconds(50))
            expect(yield* store.read(id)).toEqual(Option.some({ a: 2 }))
            yield* TestClock.adjust(Duration.seconds(10))
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )

      test(
        "an expired record can be written again",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { a: 1 }, Duration.seconds(1))
            yield* TestClock.adjust(Duration.seconds(2))
            yield* store.write(id, { b: 2 }, Duration.seconds(1))
            expect(yield* store.read(id)).toEqual(Option.some({ b: 2 }))
          })
        )
      )

      if (options.defaultTtl === undefined) {
        noteSkipped("TTL zero means the store's default TTL", "no defaultTtl option")
      } else {
        const defaultTtl = suiteDuration("defaultTtl", options.defaultTtl)
        const defaultMillis = Duration.toMillis(defaultTtl)
        test(
          `TTL zero means the store's default TTL (${Duration.format(defaultTtl)})`,
          withId((id) =>
            Effect.gen(function*() {
              yield* store.write(id, { a: 1 }, Duration.zero)
              yield* TestClock.adjust(Duration.millis(defaultMillis - 1))
              expect(yield* store.read(id)).toEqual(Option.some({ a: 1 }))
              yield* TestClock.adjust(Duration.millis(1))
              expect(yield* store.read(id)).toEqual(Option.none())
            })
          )
        )
      }

      if (options.noExpiry === undefined) {
        noteSkipped("with default TTL 0, TTL zero means no expiry", "no noExpiry option")
      } else {
        // Built outside the test, on the live clock: a store's own background fibers (a sweeper on
        // a Schedule) must not run ten years of TestClock time.
        const noExpiryRuntime = ManagedRuntime.make(options.noExpiry)
        afterAll(() => noExpiryRuntime.dispose())
        const noExpiry = await noExpiryRuntime.runPromiseExit(SessionStore)
        it.effect(
          "with default TTL 0, TTL zero means no expiry (and a positive TTL still expires)",
          () =>
            Effect.gen(function*() {
              if (Exit.isFailure(noExpiry)) {
                return yield* Effect.dieMessage(`the noExpiry layer failed to build: ${Cause.pretty(noExpiry.cause)}`)
              }
              const forever = noExpiry.value
              const [id, short] = makeIds(2) as [string, string]
              yield* Effect.gen(function*() {
                yield* forever.write(id, { a: 1 }, Duration.zero)
                yield* forever.write(short, { b: 1 }, Duration.minutes(1))
                yield* TestClock.adjust(Duration.days(3650))
                expect(yield* forever.read(id)).toEqual(Option.some({ a: 1 }))
                expect(yield* forever.read(short)).toEqual(Option.none())
              }).pipe(Effect.ensuring(Effect.ignore(Effect.all([forever.destroy(id), forever.destroy(short)]))))
            }),
          timeout
        )
      }
    })

    capability("patch", "patch", (patch) => {
      for (const [title, record, changes] of patchFixtures) {
        test(
          `gives the same record as applyPatch: ${title}`,
          withId((id) =>
            Effect.gen(function*() {
              yield* store.write(id, record, Duration.minutes(5))
              expect(yield* patch(id, changes, Duration.minutes(5))).toBe(true)
              yield* expectPatched(id, record, changes)
            })
          )
        )
      }

      test(
        "a patch on a missing record returns false and writes nothing",
        withId((id) =>
          Effect.gen(function*() {
            const changes: SessionPatch = { clear: false, remove: [], set: [["a", 1]], add: [["n", 1]] }
            expect(yield* patch(id, changes, Duration.minutes(5))).toBe(false)
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )

      test(
        "a patch after destroy returns false: a destroyed session is never resurrected",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { user: "ada" }, Duration.minutes(5))
            yield* store.destroy(id)
            expect(yield* patch(id, { clear: false, remove: [], set: [["cart", [1]]], add: [] }, Duration.zero))
              .toBe(false)
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )

      test(
        "a patch on an expired record returns false and does not revive it",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { a: 1 }, Duration.minutes(1))
            yield* TestClock.adjust(Duration.minutes(1))
            expect(yield* patch(id, { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.minutes(1)))
              .toBe(false)
            expect(yield* store.read(id)).toEqual(Option.none())
          })
        )
      )

      test(
        "a patch resets the TTL (zero: the store's default)",
        withIds(2, ([id, other]) =>
          Effect.gen(function*() {
            yield* store.write(id!, { a: 1 }, Duration.minutes(1))
            yield* store.write(other!, { a: 1 }, Duration.minutes(1))
            yield* TestClock.adjust(Duration.seconds(50))
            yield* patch(id!, { clear: false, remove: [], set: [], add: [["a", 1]] }, Duration.minutes(1))
            yield* patch(other!, { clear: false, remove: [], set: [], add: [] }, Duration.zero)
            yield* TestClock.adjust(Duration.seconds(50))
            expect(yield* store.read(id!)).toEqual(Option.some({ a: 2 }))
            if (options.defaultTtl !== undefined) {
              expect(yield* store.read(other!)).toEqual(Option.some({ a: 1 }))
            }
            yield* TestClock.adjust(Duration.seconds(10))
            expect(yield* store.read(id!)).toEqual(Option.none())
          }))
      )

      test(
        "200 concurrent patches adding 1 to one key count 200",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { n: 0 }, Duration.minutes(5))
            const results = yield* Effect.all(
              Array.from({ length: 200 }, () =>
                patch(id, { clear: false, remove: [], set: [], add: [["n", 1]] }, Duration.minutes(5))),
              { concurrency: "unbounded" }
            )
            expect(results.every((applied) =>
              applied
            )).toBe(true)
            expect(yield* store.read(id)).toEqual(Option.some({ n: 200 }))
          })
        )
      )

      test(
        "50 concurrent patches setting different keys all survive",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { keep: true }, Duration.minutes(5))
            yield* Effect.all(
              Array.from(
                { length: 50 },
                (_, i) => patch(id, { clear: false, remove: [], set: [[`k${i}`, [i]]], add: [] }, Duration.minutes(5))
              ),
              { concurrency: "unbounded" }
            )
            const expected: Record<string, unknown> = { keep: true }
            for (let i = 0; i < 50; i++) expected[`k${i}`] = [i]
            expect(yield* store.read(id)).toEqual(Option.some(expected))
          })
        )
      )

      test(
        "patched records read back as JSON and stay the store's own: values the patch was given, nested or not, can change afterwards without effect",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { n: 1, nested: { deep: [1] }, gone: "x" }, Duration.minutes(5))
            // Only primitives: then reads (the second one too) are copies.
            const primitives: SessionPatch = {
              clear: false,
              remove: [],
              set: [["s", "t"], ["z", -0]],
              add: [["n", 1]]
            }
            expect(yield* patch(id, primitives, Duration.minutes(5))).toBe(true)
            const first = Option.getOrThrow(yield* store.read(id)) as { nested: { deep: Array<number> } }
            first.nested.deep.push(2)
            const given = { list: [1] }
            expect(
              yield* patch(id, { clear: false, remove: ["gone"], set: [["o", given]], add: [] }, Duration.minutes(5))
            ).toBe(true)
            given.list.push(2)
            const read = Option.getOrThrow(yield* store.read(id))
            expect(read).toStrictEqual({ n: 2, nested: { deep: [1] }, s: "t", z: 0, o: { list: [1] } })
            expect(Object.is(read.z, 0)).toBe(true) // JSON has no -0
          })
        )
      )

      test(
        "a patch with a value that is not plain JSON fails Unencodable and leaves the record as it was",
        withId((id) =>
          Effect.gen(function*() {
            yield* store.write(id, { a: 1 }, Duration.minutes(5))
            for (const value of [() => 1, 10n, new Date(0), Number.NaN]) {
              const exit = yield* Effect.exit(
                patch(id, { clear: true, remove: [], set: [["bad", value]], add: [["a", 1]] }, Duration.minutes(5))
              )
              expectStoreError(exit, ["Unencodable"])
            }
            expect(yield* store.read(id)).toEqual(Option.some({ a: 1 }))
          })
        )
      )
    })

    capability("rotate", "rotate", (rotate) => {
      const record = { user: "ada", n: 1 }
      test(
        "moves the record: the new key holds it, the old one is gone (no grace)",
        withIds(2, ([from, to]) =>
          Effect.gen(function*() {
            yield* store.write(from!, { user: "guest" }, Duration.minutes(5))
            expect(yield* rotate(from!, to!, record, Duration.minutes(5), Duration.zero)).toBe(true)
            expect(yield* store.read(to!)).toEqual(Option.some(record))
            expect(yield* store.read(from!)).toEqual(Option.none())
          }))
      )

      test(
        "a missing old record (destroyed meanwhile): returns false and writes nothing",
        withIds(2, ([from, to]) =>
          Effect.gen(function*() {
            expect(yield* rotate(from!, to!, record, Duration.minutes(5), Duration.zero)).toBe(false)
            expect(yield* store.read(to!)).toEqual(Option.none())
            expect(yield* store.read(from!)).toEqual(Option.none())
          }))
      )

      test(
        "with a grace period the old record is readable until it ends, read-only: a patch is refused",
        withIds(3, ([from, to, again]) =>
          Effect.gen(function*() {
            yield* store.write(from!, { user: "guest" }, Duration.minutes(5))
            expect(yield* rotate(from!, to!, record, Duration.minutes(5), Duration.seconds(3))).toBe(true)
            const retired = Option.getOrThrow(yield* store.read(from!))
            expect(retired.user).toBe("guest")
            expect(typeof retired["__session.retired"]).toBe("number")
            if (store.patch !== undefined) {
              const changes: SessionPatch = { clear: false, remove: [], set: [["user", "mallory"]], add: [] }
              expect(yield* store.patch(from!, changes, Duration.minutes(5))).toBe(false)
            }
            // a retired record cannot be rotated again
            expect(yield* rotate(from!, again!, record, Duration.minutes(5), Duration.zero)).toBe(false)
            expect(yield* store.read(again!)).toEqual(Option.none())
            yield* TestClock.adjust(Duration.millis(2999))
            expect(Option.map(yield* store.read(from!), (r) => r.user)).toEqual(Option.some("guest"))
            yield* TestClock.adjust(Duration.millis(1))
            expect(yield* store.read(from!)).toEqual(Option.none())
            expect(yield* store.read(to!)).toEqual(Option.some(record))
          }))
      )

      test(
        "an endless grace (Duration.infinity) of a record that never expires: retired and readable, not corrupt",
        withIds(2, ([from, to]) =>
          Effect.gen(function*() {
            yield* store.write(from!, { user: "guest" }, Duration.infinity)
            expect(yield* rotate(from!, to!, record, Duration.minutes(5), Duration.infinity)).toBe(true)
            const retired = Option.getOrThrow(yield* store.read(from!))
            expect(retired.user).toBe("guest")
            // the latest time a safe integer holds: a finite marker every store can write
            expect(retired["__session.retired"]).toBe(Number.MAX_SAFE_INTEGER)
            expect(yield* store.read(to!)).toEqual(Option.some(record))
          }))
      )

      test(
        "a grace period never extends an old record that expires sooner",
        withIds(2, ([from, to]) =>
          Effect.gen(function*() {
            yield* store.write(from!, { user: "guest" }, Duration.seconds(2))
            expect(yield* rotate(from!, to!, record, Duration.minutes(5), Duration.minutes(1))).toBe(true)
            yield* TestClock.adjust(Duration.seconds(2))
            expect(yield* store.read(from!)).toEqual(Option.none())
          }))
      )
    })

    capability("lock", "lock (real time)", (lock) => {
      const hold = { ttl: Duration.seconds(10), wait: Duration.zero }

      live(
        "a held lock makes a second lock on the same ID wait, then fail with SessionLockTimeout",
        withIds(2, ([id, other]) =>
          Effect.gen(function*() {
            const release = yield* lock(id!, hold)
            const started = Date.now()
            const second = yield* Effect.exit(lock(id!, { ttl: Duration.seconds(10), wait: Duration.millis(150) }))
            const waited = Date.now() - started
            expect(Exit.isFailure(second)).toBe(true)
            if (Exit.isFailure(second)) {
              const error = Cause.failureOption(second.cause)
              expect(Option.map(error, (e) => e._tag)).toEqual(Option.some("SessionLockTimeout"))
            }
            expect(waited).toBeGreaterThanOrEqual(140)
            // another ID is not blocked
            const releaseOther = yield* lock(other!, hold)
            yield* releaseOther
            yield* release
          }))
      )

      live(
        "a released lock can be taken again at once, and a waiter gets it when the holder releases",
        withId((id) =>
          Effect.gen(function*() {
            const release = yield* lock(id, hold)
            yield* release
            const again = yield* lock(id, hold)
            const waiter = yield* Effect.fork(lock(id, { ttl: Duration.seconds(10), wait: Duration.seconds(5) }))
            yield* Effect.sleep(Duration.millis(100))
            yield* again
            const releaseWaiter = yield* Effect.timeoutFail(Fiber.join(waiter), {
              duration: Duration.seconds(5),
              onTimeout: () => new Error("the waiter did not get the released lock")
            })
            yield* releaseWaiter
          })
        )
      )

      live(
        "a lock expires by itself after its TTL, and the stale holder's release does not free the next holder's lock",
        withId((id) =>
          Effect.gen(function*() {
            const staleRelease = yield* lock(id, { ttl: Duration.millis(300), wait: Duration.zero })
            const started = Date.now()
            const release = yield* lock(id, { ttl: Duration.seconds(10), wait: Duration.seconds(5) })
            expect(Date.now() - started).toBeGreaterThanOrEqual(200)
            yield* staleRelease
            const third = yield* Effect.exit(lock(id, { ttl: Duration.seconds(10), wait: Duration.zero }))
            expect(Exit.isFailure(third)).toBe(true)
            yield* release
            const fourth = yield* lock(id, hold)
            yield* fourth
          })
        )
      )
    })

    if (options.unavailable === undefined) {
      noteSkipped("an unreachable backend fails with SessionStoreError", "no unavailable option")
    } else {
      const unavailable = options.unavailable
      const within = suiteDuration("unavailableWithin", options.unavailableWithin ?? Duration.seconds(15))
      it.live(
        "an unreachable backend fails with SessionStoreError (Unavailable or Timeout), not a defect or a hang",
        () =>
          Effect.scoped(Effect.gen(function*() {
            const built = yield* Effect.either(buildIn(unavailable))
            if (Either.isLeft(built)) {
              expectStoreError(Exit.fail(built.left), ["Unavailable", "Timeout"])
              return
            }
            const broken = built.right
            const id = makeIds(1)[0]!
            const attempts: Array<Effect.Effect<unknown, unknown>> = [
              broken.read(id),
              broken.write(id, { a: 1 }, Duration.minutes(1)),
              broken.destroy(id)
            ]
            if (broken.patch) {
              attempts.push(broken.patch(id, { clear: false, remove: [], set: [], add: [] }, Duration.zero))
            }
            for (const attempt of attempts) expectStoreError(yield* Effect.exit(attempt), ["Unavailable", "Timeout"])
          })).pipe(
            Effect.timeoutFail({
              duration: within,
              onTimeout: () => new Error(`the unreachable store did not fail within ${Duration.format(within)}`)
            })
          ),
        timeout
      )
    }
  })
}

/** Builds a store layer in the current scope and returns its service. */
const buildIn = (
  layer: Layer.Layer<SessionStore, unknown>
): Effect.Effect<SessionStoreService, unknown, Scope.Scope> =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, SessionStore))
