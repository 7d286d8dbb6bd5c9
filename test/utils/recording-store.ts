/**
 * Private to this repository's tests: a `SessionStore` that wraps a real `MemoryStore`, records
 * every call the middleware makes and can be told to fail. (The public testing kit is a separate
 * module; this one exists only so the core tests can assert "no store I/O", "one read", ….)
 */
import { Context, Duration, Effect, Layer, Option } from "effect"
import {
  MemoryStore,
  type SessionCodec,
  SessionStore,
  SessionStoreError,
  type SessionStoreService
} from "effect-session"

export type Op = "read" | "write" | "destroy" | "patch" | "lock"

export interface Call {
  readonly op: Op
  /** the storage key the middleware used (a hash of the session ID, never the ID) */
  readonly id: string
  readonly data?: SessionCodec.SessionData
  readonly ttl?: Duration.Duration
}

export interface Recorder {
  /** every call, in order */
  readonly calls: Array<Call>
  /** operations that fail with `SessionStoreError` ("Unavailable") until removed */
  readonly failing: Set<Op>
  /** when set, `read` fails with `CorruptRecord` (as a store whose record cannot be decoded) */
  corruptReads: boolean
  /** real milliseconds each `read` waits before answering (independent of `Clock`) */
  readDelayMillis: number
  /** the memory store underneath, for `size`, `sweep` and reads that are not recorded */
  readonly inner: MemoryStore.MemoryStore
  /** forgets the calls recorded so far */
  readonly reset: () => void
  readonly ops: (op: Op) => Array<Call>
  /** writes and patches: everything that rewrites a record */
  readonly writes: () => Array<Call>
}

export class Recording extends Context.Tag("test/Recording")<Recording, Recorder>() {}

const unavailable = (op: Op) =>
  Effect.fail(new SessionStoreError({ reason: "Unavailable", message: `injected ${op} failure` }))

const realDelay = (millis: number): Effect.Effect<void> =>
  millis <= 0 ? Effect.void : Effect.async<void>((resume) => {
    const handle = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(handle))
  })

/** Wraps `inner`, recording each call before it runs (so failed calls are recorded too). */
export const wrap = (inner: MemoryStore.MemoryStore): [SessionStoreService, Recorder] => {
  const calls: Array<Call> = []
  const recorder: Recorder = {
    calls,
    failing: new Set(),
    corruptReads: false,
    readDelayMillis: 0,
    inner,
    reset: () => {
      calls.length = 0
    },
    ops: (op) => calls.filter((c) => c.op === op),
    writes: () => calls.filter((c) => c.op === "write" || c.op === "patch")
  }
  const store: SessionStoreService = {
    read: (id) =>
      Effect.suspend(() => {
        calls.push({ op: "read", id })
        if (recorder.failing.has("read")) return unavailable("read")
        return Effect.zipRight(
          realDelay(recorder.readDelayMillis),
          recorder.corruptReads
            ? Effect.fail(new SessionStoreError({ reason: "CorruptRecord", message: "injected corrupt record" }))
            : inner.read(id)
        )
      }),
    write: (id, data, ttl) =>
      Effect.suspend(() => {
        calls.push({ op: "write", id, data, ttl })
        return recorder.failing.has("write") ? unavailable("write") : inner.write(id, data, ttl)
      }),
    destroy: (id) =>
      Effect.suspend(() => {
        calls.push({ op: "destroy", id })
        return recorder.failing.has("destroy") ? unavailable("destroy") : inner.destroy(id)
      }),
    // The optional capabilities are forwarded (and recorded) only when the inner store has them.
    ...(inner.patch === undefined ? {} : {
      patch: (id, patch, ttl) =>
        Effect.suspend(() => {
          calls.push({ op: "patch", id, ttl })
          // a failing "write" fails every kind of write
          return recorder.failing.has("write") || recorder.failing.has("patch")
            ? unavailable("patch")
            : inner.patch!(id, patch, ttl)
        })
    }),
    ...(inner.lock === undefined ? {} : {
      lock: (id, options) =>
        Effect.suspend(() => {
          calls.push({ op: "lock", id })
          return recorder.failing.has("lock") ? unavailable("lock") : inner.lock!(id, options)
        })
    })
  }
  return [store, recorder]
}

/** A recording store over a fresh `MemoryStore.make(options)`: provides `SessionStore` and `Recording`. */
export const layer = (options?: MemoryStore.Options): Layer.Layer<SessionStore | Recording> =>
  Layer.scopedContext(
    Effect.map(Effect.orDie(MemoryStore.make(options)), (memory) => {
      const [store, recorder] = wrap(memory)
      return Context.make(SessionStore, store).pipe(Context.add(Recording, recorder))
    })
  )

/** The record stored under `key`, read from the memory store directly (not recorded). */
export const peek = (key: string) =>
  Effect.flatMap(Recording, (r) => Effect.map(r.inner.read(key), Option.getOrUndefined))

/** A zero TTL, for direct store writes meaning "the store's default". */
export const storeDefault = Duration.zero
