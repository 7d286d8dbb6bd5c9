/**
 * A `SessionStore` on effect's `KeyValueStore` (`effect/persistence/KeyValueStore`), so any of its
 * backends serves sessions: `KeyValueStore.layerMemory`, `layerFileSystem`, `layerSql`,
 * `layerStorage` (browser storage), or your own.
 *
 * - One entry per session under `prefix + id`: the JSON text `{"x": expiresAt | null, "d": record}`,
 *   with `expiresAt` in milliseconds on Effect's `Clock` (so `TestClock` drives expiry, and a
 *   record is gone exactly at its TTL, as in every store).
 * - `KeyValueStore` has no TTL and no listing, so an expired entry stays in the backend until it
 *   is read (a read removes it), rewritten or destroyed. For sessions that are never seen again,
 *   give the backend its own clean-up (a cron over the SQL table, a browser's storage limits), or
 *   use `RedisStore` / `SqlStore`.
 * - Only the minimal contract (`read`, `write`, `destroy`): a key-value backend has no
 *   compare-and-set, so `patch`, `rotate` and `lock` cannot be made atomic and are not offered.
 *   Concurrent requests on one session then save whole records (last writer wins), and a
 *   regenerate is a `write` and a `destroy`; see `docs/concurrency.md`.
 * - The backend's writes must be atomic for readers: a read that sees half an entry reports it
 *   as `CorruptRecord`, and the middleware then discards the session (the user is logged out).
 *   effect's `layerFileSystem` rewrites a file in place (it empties the file, then writes), so a
 *   request that reads a session while another saves it can see a torn entry: use it for a single
 *   user (a CLI, a desktop app, tests), not for a server with concurrent requests on one session.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Result from "effect/Result"
import { checkObject, decodeDuration } from "./internal/options.js"
import { encodeRecord, expiryAt, storeError } from "./internal/storeCommon.js"
import { fromParsed, isRecord } from "./internal/storeRecord.js"
import type { SessionConfigError, SessionStoreError } from "./SessionError.js"
import { type SessionData, SessionStore, type SessionStoreService } from "./SessionStore.js"

/**
 * Options. Every field is optional.
 *
 * @example
 * ```ts
 * import type * as KeyValueSessionStore from "effect-session-v4/KeyValueSessionStore"
 *
 * const options: KeyValueSessionStore.Options = { prefix: "session:", ttl: "2 hours" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prefix of every key the store writes. Default `"session:"`. */
  readonly prefix?: string | undefined
  /** TTL for writes that pass `Duration.zero`. Default 2 hours; `0` means no expiry. */
  readonly ttl?: Duration.Input | undefined
}

const toStoreError = (operation: string) => (error: KeyValueStore.KeyValueStoreError): SessionStoreError =>
  storeError("Unavailable", `key-value ${operation}: ${error.message}`, error)

/**
 * An entry's text back into its expiry and its record, still unchecked, or `CorruptRecord` for
 * text that is not an entry (an expiry that is not `null` or a finite number: no write stores one).
 */
const decodeEntry = (
  text: string
): Result.Result<{ readonly at: number; readonly data: unknown }, SessionStoreError> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    return Result.fail(storeError("CorruptRecord", "key-value read: session entry is not JSON", cause))
  }
  if (!isRecord(parsed) || !(parsed.x === null || (typeof parsed.x === "number" && Number.isFinite(parsed.x)))) {
    return Result.fail(storeError("CorruptRecord", "key-value read: not a session entry"))
  }
  return Result.succeed({ at: parsed.x === null ? Infinity : parsed.x, data: parsed.d })
}

/**
 * A live entry's record, checked as every store checks what it reads (`StoredRecord.fromParsed`):
 * not a record, or a value no save could write back (`1e999` parses to Infinity; nesting deeper
 * than a value may be), is `CorruptRecord`, not a session that fails every save.
 */
const recordOf = (data: unknown): Result.Result<SessionData, SessionStoreError> => {
  const checked = fromParsed(data)
  return checked._tag === "Record"
    ? Result.succeed(checked.record)
    : Result.fail(storeError("CorruptRecord", `key-value read: ${checked.message}`))
}

/**
 * Builds the store on the `KeyValueStore` in context.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import * as KeyValueStore from "effect/persistence/KeyValueStore"
 * import * as KeyValueSessionStore from "effect-session-v4/KeyValueSessionStore"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* KeyValueSessionStore.make({ prefix: "s:" })
 *   yield* store.write("key", { n: 1 }, Duration.minutes(5))
 *   return yield* store.read("key")
 * }).pipe(Effect.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<SessionStoreService, SessionConfigError, KeyValueStore.KeyValueStore> =>
  Effect.gen(function*() {
    yield* Effect.fromResult(checkObject(options))
    const kv = yield* KeyValueStore.KeyValueStore
    const prefix = options.prefix ?? "session:"
    const defaultTtlMillis = yield* Effect.fromResult(decodeDuration("ttl", options.ttl ?? Duration.hours(2)))
    const key = (id: string) => prefix + id

    const destroy: SessionStoreService["destroy"] = (id) => Effect.mapError(kv.remove(key(id)), toStoreError("destroy"))

    const read: SessionStoreService["read"] = (id) =>
      Effect.flatMap(Effect.mapError(kv.get(key(id)), toStoreError("read")), (text) => {
        if (text === undefined) return Effect.succeedNone
        // Expiry first, as in every store: an expired entry is none, whatever its record holds.
        return Effect.flatMap(Effect.fromResult(decodeEntry(text)), ({ at, data }) =>
          Clock.clockWith((clock) =>
            clock.currentTimeMillisUnsafe() >= at
              ? Effect.as(Effect.ignore(destroy(id)), Option.none())
              : Effect.map(Effect.fromResult(recordOf(data)), Option.some)
          ))
      })

    const write: SessionStoreService["write"] = (id, data, ttl) =>
      Effect.flatMap(Effect.fromResult(encodeRecord(data)), (text) =>
        Clock.clockWith((clock) => {
          const at = expiryAt(clock.currentTimeMillisUnsafe(), ttl, defaultTtlMillis)
          const entry = `{"x":${at === Infinity ? "null" : at},"d":${text}}`
          return Effect.mapError(kv.set(key(id), entry), toStoreError("write"))
        }))

    return SessionStore.of({ read, write, destroy })
  })

/**
 * A `SessionStore` layer on the `KeyValueStore` in context.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as KeyValueStore from "effect/persistence/KeyValueStore"
 * import * as KeyValueSessionStore from "effect-session-v4/KeyValueSessionStore"
 *
 * const StoreLive = KeyValueSessionStore.layer({ prefix: "session:" }).pipe(
 *   Layer.provide(KeyValueStore.layerMemory)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<SessionStore, SessionConfigError, KeyValueStore.KeyValueStore> =>
  Layer.effect(SessionStore, make(options))
