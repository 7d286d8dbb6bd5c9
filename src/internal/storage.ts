/**
 * The session's calls to its store: each one goes through the `SessionStore` service's own
 * members (so a user's decorator sees every read, write, patch and rotation) and is recorded in the
 * store metrics. Stores without an optional capability get the minimal
 * contract's fallback here.
 */
import { StoredRecord } from "effect-session-core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { SessionData } from "../SessionCodec.js"
import type { SessionStoreError } from "../SessionError.js"
import type { SessionPatch, SessionStoreService } from "../SessionStore.js"
import * as Metrics from "./metrics.js"

const traced: <A, E>(
  operation: Metrics.Operation,
  effect: Effect.Effect<A, E>,
  span?: Metrics.SpanOf
) => Effect.Effect<A, E> = Metrics.track

/** The record under `key`, as the store returned it: the caller checks that it is a record. */
export const read = (
  store: SessionStoreService,
  key: string,
  span?: Metrics.SpanOf
): Effect.Effect<unknown, SessionStoreError> => traced("read", store.read(key), span)

export const write = (
  store: SessionStoreService,
  key: string,
  record: SessionData,
  ttlMillis: number,
  span?: Metrics.SpanOf
): Effect.Effect<void, SessionStoreError> => traced("write", store.write(key, record, toDuration(ttlMillis)), span)

export const destroy = (store: SessionStoreService, key: string): Effect.Effect<void, SessionStoreError> =>
  traced("destroy", store.destroy(key))

/**
 * Applies `patch` to the record the store holds now; `false` when it is gone (or retired). A store
 * without `patch` gets the whole record (`record()`), last writer wins.
 */
export const update = (
  store: SessionStoreService,
  key: string,
  patch: () => SessionPatch,
  record: () => SessionData,
  ttlMillis: number,
  span?: Metrics.SpanOf
): Effect.Effect<boolean, SessionStoreError> =>
  store.patch !== undefined
    ? traced("patch", store.patch(key, patch(), toDuration(ttlMillis)), span)
    : Effect.as(write(store, key, record(), ttlMillis, span), true)

/**
 * Moves a session to a new key: writes `record` under `to` and retires `from` (deleted, or kept
 * read-only for `graceMillis`), if and only if `from` still exists; `false` (nothing written) when
 * it does not. Atomic in a store with `rotate`; otherwise a read, a write and a retirement in turn:
 * a concurrent destroy can fall between them (documented as best effort).
 */
export const rotate = (
  store: SessionStoreService,
  from: string,
  to: string,
  record: SessionData,
  ttlMillis: number,
  graceMillis: number,
  span?: Metrics.SpanOf
): Effect.Effect<boolean, SessionStoreError> => {
  const ttl = toDuration(ttlMillis)
  const grace = Duration.millis(graceMillis)
  if (store.rotate !== undefined) return traced("rotate", store.rotate(from, to, record, ttl, grace), span)
  return traced(
    "rotate",
    Effect.flatMap(store.read(from), (found) => {
      if (!Option.isOption(found) || Option.isNone(found)) return Effect.succeed(false)
      const old = found.value
      if (!StoredRecord.isRecord(old) || StoredRecord.isRetired(old)) return Effect.succeed(false)
      const retire = graceMillis > 0
        ? Effect.flatMap(
          Clock.currentTimeMillis,
          (now) => store.write(from, StoredRecord.retire(old, now + graceMillis), grace)
        )
        : store.destroy(from)
      return Effect.as(Effect.zipRight(store.write(to, record, ttl), retire), true)
    }),
    span
  )
}

/** A TTL in ms as the store contract takes it: `0` is `Duration.zero`, the store's default. */
const toDuration = (millis: number): Duration.Duration => millis > 0 ? Duration.millis(millis) : Duration.zero
